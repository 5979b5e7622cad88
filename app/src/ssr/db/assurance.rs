//! How sign-ins were made: whether a user has a second factor (`auth.has_second_factor`), and
//! the `amr` of API sign-ins (`auth.refresh_token_families`). Reached as `auth_service`.
use uuid::Uuid;

use super::{DbError, Tx};
use crate::domain::assurance::AuthMethod;

/// Whether the user has a confirmed second factor of any kind.
pub async fn has_second_factor(tx: &mut Tx, user_id: Uuid) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar!(r#"select auth.has_second_factor($1) as "has!""#, user_id)
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Records how a new API sign-in (token family) was made.
pub async fn start_family(
    tx: &mut Tx,
    family_id: Uuid,
    user_id: Uuid,
    amr: &[AuthMethod],
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into auth.refresh_token_families (family_id, user_id, amr) values ($1, $2, $3)",
        family_id,
        user_id,
        serde_json::to_value(amr).unwrap_or_default(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the `amr` of a user's API sign-in (after a step-up); false when there is no such
/// family on record.
pub async fn set_family_amr(
    tx: &mut Tx,
    family_id: Uuid,
    user_id: Uuid,
    amr: &[AuthMethod],
) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "insert into auth.refresh_token_families (family_id, user_id, amr) values ($1, $2, $3) \
         on conflict (family_id) do update set amr = excluded.amr \
         where auth.refresh_token_families.user_id = excluded.user_id",
        family_id,
        user_id,
        serde_json::to_value(amr).unwrap_or_default(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The `amr` of an API sign-in; `None` when it was not recorded (from before the table).
pub async fn family_amr(tx: &mut Tx, family_id: Uuid) -> Result<Option<Vec<AuthMethod>>, DbError> {
    let amr = sqlx::query_scalar!(
        "select amr from auth.refresh_token_families where family_id = $1",
        family_id
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(amr.and_then(|v| {
        serde_json::from_value(v)
            .inspect_err(|e| tracing::warn!(error = %e, "unreadable amr of a token family"))
            .ok()
    }))
}
