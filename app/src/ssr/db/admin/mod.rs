//! The admin pages' queries. They run in a transaction opened by `begin_as` for an admin, and
//! only the `admin` role has the grants and policies they need: for anyone else Postgres
//! answers `permission denied` ([`DbError::Denied`]), whatever the app checked before.
//!
//! The three list queries are built with `QueryBuilder`, the only SQL not checked at compile
//! time: their filters are optional and combine freely, and each combination is its own query
//! (binds only, never text from the caller). Every other query here is a `query!` macro.
mod audit_log;
mod outbox;
mod users;

pub use audit_log::*;
pub use outbox::*;
pub use users::*;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::{DbError, Tx};

/// Ends a list query with keyset pagination, newest first: only rows before the cursor
/// `(time, id)` of the last row shown, ordered by `time_col desc, id_col desc`, then the limit.
fn newest_first<Id>(
    q: &mut QueryBuilder<Postgres>,
    (time_col, id_col): (&str, &str),
    after: Option<(DateTime<Utc>, Id)>,
    limit: i64,
) where
    Id: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
{
    if let Some((at, id)) = after {
        q.push(format!(" and ({time_col}, {id_col}) < ("))
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(format!(" order by {time_col} desc, {id_col} desc limit "))
        .push_bind(limit);
}

/// The role this transaction really runs as (`anon`, `authenticated` or `admin`), as the
/// database decided it from the profile in `begin_as`.
pub async fn current_role(tx: &mut Tx) -> Result<String, DbError> {
    Ok(
        sqlx::query_scalar!(r#"select current_user::text as "role!""#)
            .fetch_one(&mut **tx)
            .await?,
    )
}
