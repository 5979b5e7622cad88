//! `auth.passkeys`: the WebAuthn credentials users registered, as webauthn-rs serialises them.
//! Reached as `auth_service`; every read and write of a user's own list names the user.
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{DbError, Tx};

/// One row as the account page lists it.
pub struct PasskeyRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A credential found by its id at sign-in: whose it is and its stored state.
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub passkey: Value,
}

pub async fn insert(
    tx: &mut Tx,
    user_id: Uuid,
    credential_id: &[u8],
    passkey: &Value,
    name: &str,
) -> Result<Uuid, DbError> {
    Ok(sqlx::query_scalar!(
        "insert into auth.passkeys (user_id, credential_id, passkey, name) \
         values ($1, $2, $3, $4) returning id",
        user_id,
        credential_id,
        passkey,
        name,
    )
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn list(tx: &mut Tx, user_id: Uuid) -> Result<Vec<PasskeyRow>, DbError> {
    Ok(sqlx::query_as!(
        PasskeyRow,
        "select id, name, created_at, last_used_at from auth.passkeys \
         where user_id = $1 order by created_at, id",
        user_id,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// The user's credential ids, for the registration's exclude list (an authenticator that
/// already holds one of them says so instead of making a second).
pub async fn credential_ids(tx: &mut Tx, user_id: Uuid) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar!(
        "select credential_id from auth.passkeys where user_id = $1",
        user_id,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Locks the row: two sign-ins with one credential at once update its counter one at a time.
pub async fn find_by_credential(
    tx: &mut Tx,
    credential_id: &[u8],
) -> Result<Option<StoredPasskey>, DbError> {
    Ok(sqlx::query_as!(
        StoredPasskey,
        "select id, user_id, passkey from auth.passkeys where credential_id = $1 for update",
        credential_id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// After a sign-in: the new counter and backup state, and when.
pub async fn record_use(tx: &mut Tx, id: Uuid, passkey: &Value) -> Result<(), DbError> {
    sqlx::query!(
        "update auth.passkeys set passkey = $2, last_used_at = now() where id = $1",
        id,
        passkey,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `false` when the user has no passkey with that id.
pub async fn rename(tx: &mut Tx, user_id: Uuid, id: Uuid, name: &str) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "update auth.passkeys set name = $3 where id = $2 and user_id = $1",
        user_id,
        id,
        name,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The deleted passkey's name; `None` when the user has no passkey with that id.
pub async fn delete(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar!(
        "delete from auth.passkeys where id = $2 and user_id = $1 returning name",
        user_id,
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}
