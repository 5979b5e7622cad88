//! `auth.signing_keys`: which generations of the access-token key are published and which one
//! signs (the keys are derived, see `auth::signing_keys`). Reached as `auth_service`.
use chrono::{DateTime, Utc};

use super::{DbError, Tx};

/// The published generations and their states: next, current, and the previous ones demoted
/// after `previous_since` (older ones signed only tokens that have expired).
pub async fn published(
    tx: &mut Tx,
    previous_since: DateTime<Utc>,
) -> Result<Vec<(i32, String)>, DbError> {
    let rows = sqlx::query!(
        "select generation, state from auth.signing_keys \
          where state in ('next', 'current') \
             or (state = 'previous' and demoted_at > $1) \
          order by generation",
        previous_since,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|r| (r.generation, r.state)).collect())
}

/// Moves every generation one step: the next one signs, the current one only verifies, a new
/// next one is published, and previous ones demoted before `retire_before` are retired.
/// Returns the generation that signs now.
pub async fn rotate(tx: &mut Tx, retire_before: DateTime<Utc>) -> Result<i32, DbError> {
    sqlx::query!(
        "update auth.signing_keys set state = 'retired', retired_at = now() \
          where state = 'previous' and demoted_at <= $1",
        retire_before,
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "update auth.signing_keys set state = 'previous', demoted_at = now() \
          where state = 'current'"
    )
    .execute(&mut **tx)
    .await?;
    let current = sqlx::query_scalar!(
        "update auth.signing_keys set state = 'current', activated_at = now() \
          where state = 'next' returning generation"
    )
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query!(
        "insert into auth.signing_keys (generation, state) \
         select max(generation) + 1, 'next' from auth.signing_keys"
    )
    .execute(&mut **tx)
    .await?;
    Ok(current)
}
