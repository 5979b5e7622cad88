//! `auth.one_time_tokens`: stored hashed, spent once, expiring. Reached as `auth_service`.
use std::time::Duration;

use uuid::Uuid;

use super::{DbError, Tx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
    EmailSignIn,
    Reauthenticate,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
            Self::EmailSignIn => "email_sign_in",
            Self::Reauthenticate => "reauthenticate",
        }
    }
}

pub struct NewToken<'a> {
    pub user_id: Uuid,
    pub purpose: Purpose,
    pub token_hash: &'a [u8],
    pub code_hash: Option<&'a str>,
    pub new_email: Option<&'a str>,
    pub ttl: Duration,
}

/// Stores a token after spending every earlier unused one of the same purpose: only the
/// newest link works.
pub async fn replace(tx: &mut Tx, token: &NewToken<'_>) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.one_time_tokens set used_at = now() \
         where user_id = $1 and purpose = $2 and used_at is null",
        token.user_id,
        token.purpose.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into auth.one_time_tokens \
           (user_id, purpose, token_hash, code_hash, new_email, expires_at) \
         values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        token.user_id,
        token.purpose.as_str(),
        token.token_hash,
        token.code_hash,
        token.new_email,
        token.ttl.as_secs_f64(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub struct Spent {
    pub user_id: Uuid,
    pub new_email: Option<String>,
}

/// Spends a token by its hash: only once, only before it expires.
pub async fn spend(
    tx: &mut Tx,
    purpose: Purpose,
    token_hash: &[u8],
) -> Result<Option<Spent>, DbError> {
    Ok(sqlx::query_as!(
        Spent,
        "update auth.one_time_tokens set used_at = now() \
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now() \
         returning user_id, new_email",
        token_hash,
        purpose.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?)
}

#[derive(sqlx::FromRow)]
pub struct Pending {
    pub id: Uuid,
    pub token_hash: Vec<u8>,
    pub code_hash: Option<String>,
    pub attempts: i32,
    pub new_email: Option<String>,
}

/// The live token of a purpose for a user, locked for the code check.
pub async fn pending_for_user(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: Purpose,
) -> Result<Option<Pending>, DbError> {
    Ok(sqlx::query_as!(
        Pending,
        "select id, token_hash, code_hash, attempts, new_email from auth.one_time_tokens \
         where user_id = $1 and purpose = $2 and used_at is null and expires_at > now() \
         order by created_at desc limit 1 for update",
        user_id,
        purpose.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Counts a wrong code. The token stays live: when the attempts run out its code stops
/// working, never its link, so strangers typing the owner's address cannot destroy the link
/// in the owner's mailbox.
pub async fn wrong_code(tx: &mut Tx, id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.one_time_tokens set attempts = attempts + 1 where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn spend_by_id(tx: &mut Tx, id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.one_time_tokens set used_at = now() where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whose live token this is, without spending it.
pub async fn owner_of(
    tx: &mut Tx,
    purpose: Purpose,
    token_hash: &[u8],
) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select user_id from auth.one_time_tokens \
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()",
        token_hash,
        purpose.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// What [`end_grants`] ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Ended {
    /// Password-reset and email-change links voided.
    pub voided_links: i32,
    /// API refresh tokens revoked (and with their families, every access token issued in them).
    pub revoked_refresh_tokens: i32,
}

/// Ends everything outstanding that could take control of the user's account without the
/// password (`auth.end_grants`): reset and email-change links, API sign-ins. Callable as
/// `auth_service` or as `admin` (a ban or role change ends them in the admin's transaction).
pub async fn end_grants(tx: &mut Tx, user_id: Uuid) -> Result<Ended, DbError> {
    Ok(sqlx::query_as!(
        Ended,
        r#"select voided_links as "voided_links!", revoked_refresh_tokens as "revoked_refresh_tokens!"
             from auth.end_grants($1)"#,
        user_id,
    )
    .fetch_one(&mut **tx)
    .await?)
}
