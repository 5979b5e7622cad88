//! `auth.refresh_tokens`: API clients' refresh tokens, stored hashed, used once, in families
//! (one per sign-in). Reached as `auth_service`.
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbError, Tx};

pub struct NewRefreshToken<'a> {
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx, token: &NewRefreshToken<'_>) -> Result<(), DbError> {
    sqlx::query!(
        "insert into auth.refresh_tokens \
           (user_id, family_id, token_hash, expires_at, ip, user_agent) \
         values ($1, $2, $3, $4, $5::text::inet, $6)",
        token.user_id,
        token.family_id,
        token.token_hash,
        token.expires_at,
        token.ip.map(|ip| ip.to_string()),
        token.user_agent,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What presenting a refresh token found.
pub enum Presented {
    /// Live: it is now used, and its family may get a successor.
    Live {
        user_id: Uuid,
        family_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    /// Used before (at `used_at`), in a family still live: a second client racing the first,
    /// or somebody holding a copy.
    Reused {
        user_id: Uuid,
        family_id: Uuid,
        used_at: DateTime<Utc>,
    },
    /// Unknown, expired or revoked.
    Dead,
}

/// Marks a live token used (only once: the `used_at is null` guard makes two concurrent
/// presentations yield one `Live`), or says why it is not live.
pub async fn present(tx: &mut Tx, token_hash: &[u8]) -> Result<Presented, DbError> {
    let live = sqlx::query!(
        "update auth.refresh_tokens set used_at = now() \
         where token_hash = $1 and used_at is null and revoked_at is null and expires_at > now() \
         returning user_id, family_id, expires_at",
        token_hash,
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(live) = live {
        return Ok(Presented::Live {
            user_id: live.user_id,
            family_id: live.family_id,
            expires_at: live.expires_at,
        });
    }
    let reused = sqlx::query!(
        "select user_id, family_id, used_at as \"used_at!\" from auth.refresh_tokens \
         where token_hash = $1 and used_at is not null and revoked_at is null \
           and expires_at > now()",
        token_hash,
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match reused {
        Some(r) => Presented::Reused {
            user_id: r.user_id,
            family_id: r.family_id,
            used_at: r.used_at,
        },
        None => Presented::Dead,
    })
}

/// When the token ends, if it is live and unused in `family`: a successor nobody has spent yet.
pub async fn unspent_until(
    tx: &mut Tx,
    token_hash: &[u8],
    family_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(sqlx::query_scalar!(
        "select expires_at from auth.refresh_tokens \
         where token_hash = $1 and family_id = $2 and used_at is null \
           and revoked_at is null and expires_at > now()",
        token_hash,
        family_id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Ends one family (a sign-out, or a reused token). Returns how many tokens it ended. Every
/// family of a user ends through `tokens::end_grants`, with the rest of a recovery.
pub async fn revoke_family(tx: &mut Tx, user_id: Uuid, family_id: Uuid) -> Result<u64, DbError> {
    let done = sqlx::query!(
        "update auth.refresh_tokens set revoked_at = now() \
         where user_id = $1 and family_id = $2 and revoked_at is null",
        user_id,
        family_id,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Ends every family of the user but `keep` (a sign-out of the other devices). Returns how
/// many tokens it ended.
pub async fn revoke_other_families(tx: &mut Tx, user_id: Uuid, keep: Uuid) -> Result<u64, DbError> {
    let done = sqlx::query!(
        "update auth.refresh_tokens set revoked_at = now() \
         where user_id = $1 and family_id <> $2 and revoked_at is null",
        user_id,
        keep,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Keeps the user's `keep` most recently used live families (a refresh adds a row, so a
/// family's newest row says when it was last used) and ends the others. Returns how many
/// tokens it ended.
pub async fn revoke_beyond(tx: &mut Tx, user_id: Uuid, keep: i64) -> Result<u64, DbError> {
    let done = sqlx::query!(
        "update auth.refresh_tokens set revoked_at = now() \
         where user_id = $1 and revoked_at is null \
           and family_id in (select family_id from auth.refresh_tokens \
                              where user_id = $1 and revoked_at is null and expires_at > now() \
                              group by family_id \
                              order by max(created_at) desc, family_id desc \
                              offset $2)",
        user_id,
        keep,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Brings back the tokens of `family` that this transaction's recovery (`tokens::end_grants`)
/// revoked: a password change ends every sign-in but the one that made it, as the browser's
/// keeps its own session. Only rows revoked at this transaction's `now()` come back, so a
/// family ended earlier stays ended.
pub async fn keep_family(tx: &mut Tx, user_id: Uuid, family_id: Uuid) -> Result<u64, DbError> {
    let done = sqlx::query!(
        "update auth.refresh_tokens set revoked_at = null \
         where user_id = $1 and family_id = $2 and revoked_at = now() and expires_at > now()",
        user_id,
        family_id,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
