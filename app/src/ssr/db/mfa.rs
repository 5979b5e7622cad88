//! `auth.mfa_factors` and `auth.mfa_recovery_codes`: second factors (TOTP secrets encrypted by
//! the caller) and recovery codes (hashed by the caller). Reached as `auth_service`.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{DbError, Tx};

/// A TOTP factor as stored: the secret still sealed.
pub struct Factor {
    pub id: Uuid,
    pub user_id: Uuid,
    pub friendly_name: String,
    pub secret: Vec<u8>,
    pub verified_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_factor(
    tx: &mut Tx,
    id: Uuid,
    user_id: Uuid,
    friendly_name: &str,
    secret: &[u8],
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into auth.mfa_factors (id, user_id, friendly_name, secret) values ($1, $2, $3, $4)",
        id,
        user_id,
        friendly_name,
        secret,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unconfirmed factors older than an hour are abandoned enrolments: they go, so their names
/// are free again and nothing half-made lingers.
pub async fn delete_abandoned(tx: &mut Tx, user_id: Uuid) -> Result<u64, DbError> {
    let done = sqlx::query!(
        "delete from auth.mfa_factors \
         where user_id = $1 and verified_at is null and created_at < now() - interval '1 hour'",
        user_id
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// One of the user's factors (confirmed or not).
pub async fn find_factor(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<Option<Factor>, DbError> {
    Ok(sqlx::query_as!(
        Factor,
        "select id, user_id, friendly_name, secret, verified_at, last_used_at, created_at \
         from auth.mfa_factors where user_id = $1 and id = $2",
        user_id,
        id
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// The user's factors, oldest first; confirmed ones only unless `all`.
pub async fn list_factors(tx: &mut Tx, user_id: Uuid, all: bool) -> Result<Vec<Factor>, DbError> {
    Ok(sqlx::query_as!(
        Factor,
        "select id, user_id, friendly_name, secret, verified_at, last_used_at, created_at \
         from auth.mfa_factors where user_id = $1 and ($2 or verified_at is not null) \
         order by created_at, id",
        user_id,
        all
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Accepts a code of time step `step` for the factor, once: only a step later than every step
/// accepted before passes (so a code, or an older one, can never be replayed), and the first
/// accepted code confirms an unconfirmed factor. False when the step was not later.
pub async fn accept_step(tx: &mut Tx, id: Uuid, step: i64) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "update auth.mfa_factors \
         set last_step = $2, last_used_at = now(), verified_at = coalesce(verified_at, now()) \
         where id = $1 and (last_step is null or last_step < $2)",
        id,
        step
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of the user's factors; false when there was none.
pub async fn delete_factor(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "delete from auth.mfa_factors where user_id = $1 and id = $2",
        user_id,
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes every factor and recovery code of the user (an admin's reset). Returns how many
/// factors there were.
pub async fn delete_all(tx: &mut Tx, user_id: Uuid) -> Result<u64, DbError> {
    sqlx::query!(
        "delete from auth.mfa_recovery_codes where user_id = $1",
        user_id
    )
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query!("delete from auth.mfa_factors where user_id = $1", user_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// Replaces the user's recovery codes with these (hashed) ones.
pub async fn replace_recovery_codes(
    tx: &mut Tx,
    user_id: Uuid,
    hashes: &[Vec<u8>],
) -> Result<(), DbError> {
    sqlx::query!(
        "delete from auth.mfa_recovery_codes where user_id = $1",
        user_id
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into auth.mfa_recovery_codes (user_id, code_hash) \
         select $1, h from unnest($2::bytea[]) as h",
        user_id,
        hashes
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Spends the unused recovery code with this hash; false when there is none (never issued,
/// already used, or voided by a regeneration).
pub async fn spend_recovery_code(tx: &mut Tx, user_id: Uuid, hash: &[u8]) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "update auth.mfa_recovery_codes set used_at = now() \
         where user_id = $1 and code_hash = $2 and used_at is null",
        user_id,
        hash
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes the user has.
pub async fn recovery_codes_left(tx: &mut Tx, user_id: Uuid) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!" from auth.mfa_recovery_codes where user_id = $1 and used_at is null"#,
        user_id
    )
    .fetch_one(&mut **tx)
    .await?)
}
