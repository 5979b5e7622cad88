//! `auth.users`, reached only as `auth_service` (see `begin_service`).
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbError, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRecord {
    pub fn is_banned(&self) -> bool {
        self.banned_until.is_some_and(|until| until > Utc::now())
    }
}

/// Inserts a user (the profile follows by trigger). `None` when the email is taken: the
/// caller must answer exactly as for a new account.
pub async fn insert(
    tx: &mut Tx,
    email: &str,
    password_hash: &str,
) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "insert into auth.users (email, password_hash) values ($1, $2) \
         on conflict do nothing returning id",
        email,
        password_hash,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn find_by_email(tx: &mut Tx, email: &str) -> Result<Option<UserRecord>, DbError> {
    Ok(sqlx::query_as!(
        UserRecord,
        "select id, email, password_hash, email_confirmed_at, banned_until, \
                last_sign_in_at, created_at, updated_at \
           from auth.users where lower(email) = lower($1)",
        email,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn find_by_id(tx: &mut Tx, id: Uuid) -> Result<Option<UserRecord>, DbError> {
    Ok(sqlx::query_as!(
        UserRecord,
        "select id, email, password_hash, email_confirmed_at, banned_until, \
                last_sign_in_at, created_at, updated_at \
           from auth.users where id = $1",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn confirm_email(tx: &mut Tx, id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) \
         where id = $1",
        id,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_password_hash(tx: &mut Tx, id: Uuid, hash: &str) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.users set password_hash = $2 where id = $1",
        id,
        hash,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the account to a confirmed new address; a Conflict when another account has it.
pub async fn set_email(tx: &mut Tx, id: Uuid, email: &str) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.users set email = $2, email_confirmed_at = now() where id = $1",
        id,
        email,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_sign_in(tx: &mut Tx, id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.users set last_sign_in_at = now() where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes the user; profile, posts and tokens go with it (foreign keys cascade).
pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<(), DbError> {
    sqlx::query!("delete from auth.users where id = $1", id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
