//! The outbox page: emails by state, the counts, and retrying a dead one.
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use crate::domain::admin::{OutboxItem, OutboxView};
use crate::ssr::db::{DbError, Tx};

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    kind: String,
    recipient: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    dead_at: Option<DateTime<Utc>>,
}

impl From<OutboxRow> for OutboxItem {
    fn from(r: OutboxRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            recipient: r.recipient,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            created_at: r.created_at,
            dead_at: r.dead_at,
        }
    }
}

/// Every column admin may read: all but `payload`.
const OUTBOX_SELECT: &str = "select id, kind, recipient, attempts, next_attempt_at, last_error, \
            created_at, dead_at \
       from public.outbox";

/// Pending rows soonest due first (`outbox_due_idx`), or dead rows most recently parked
/// first (`outbox_dead_idx`), from after the `after` cursor.
pub async fn outbox_items(
    tx: &mut Tx,
    view: OutboxView,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<OutboxItem>, DbError> {
    let mut q = QueryBuilder::<Postgres>::new(OUTBOX_SELECT);
    match view {
        OutboxView::Pending => {
            q.push(" where sent_at is null and dead_at is null");
            if let Some((at, id)) = after {
                q.push(" and (next_attempt_at, id) > (")
                    .push_bind(at)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            q.push(" order by next_attempt_at, id");
        }
        OutboxView::Dead => {
            q.push(" where dead_at is not null and sent_at is null");
            if let Some((at, id)) = after {
                q.push(" and (dead_at, id) < (")
                    .push_bind(at)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            q.push(" order by dead_at desc, id desc");
        }
    }
    q.push(" limit ").push_bind(limit);
    let rows: Vec<OutboxRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// How many rows are pending and how many dead.
pub async fn outbox_counts(tx: &mut Tx) -> Result<(i64, i64), DbError> {
    let row = sqlx::query!(
        r#"select (select count(*) from public.outbox
                    where sent_at is null and dead_at is null) as "pending!",
                  (select count(*) from public.outbox
                    where dead_at is not null and sent_at is null) as "dead!""#
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.pending, row.dead))
}

/// Revives a dead row: due now, with a fresh set of attempts. `last_error` is kept as the
/// reason it died until the worker overwrites or clears it. Returns the row's kind, or
/// `None` when the row is not dead (sent, pending, or unknown) or its link or code was
/// removed when it died (it could only be sent broken).
pub async fn retry_dead(tx: &mut Tx, id: i64) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar!(
        "update public.outbox set dead_at = null, attempts = 0, next_attempt_at = now() \
          where id = $1 and dead_at is not null and sent_at is null and redacted_at is null \
         returning kind",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}
