//! The audit log page: entries filtered by action, actor or target, newest first.
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::admin::AuditEntry;
use crate::ssr::db::{DbError, Tx};

/// What the audit log is narrowed to. Times are a half-open range: `from <= at < until`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<Uuid>,
    pub target: Option<Uuid>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Entries where this user is the actor or the target (the user detail page).
    pub involving: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    action: String,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    target_id: Option<Uuid>,
    target_name: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    details: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            action: r.action,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            target_id: r.target_id,
            target_name: r.target_name,
            ip: r.ip,
            device: crate::domain::device::describe_device(r.user_agent.as_deref()),
            user_agent: r.user_agent,
            details: r.details,
        }
    }
}

/// Audit entries, newest first (`at desc, id desc`), from after the `after` cursor. Each
/// filter lands on one of the log's `(column, at desc)` indexes.
pub async fn audit_entries(
    tx: &mut Tx,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    let mut q = QueryBuilder::<Postgres>::new(
        "select l.id, l.at, l.action, l.actor_id, a.username as actor_name, \
                l.target_id, t.username as target_name, host(l.ip) as ip, l.user_agent, \
                l.details::text as details \
           from auth.audit_log l \
           left join public.profiles a on a.id = l.actor_id \
           left join public.profiles t on t.id = l.target_id \
          where true",
    );
    if let Some(actor) = filter.actor {
        q.push(" and l.actor_id = ").push_bind(actor);
    }
    if let Some(target) = filter.target {
        q.push(" and l.target_id = ").push_bind(target);
    }
    if let Some(user) = filter.involving {
        q.push(" and (l.actor_id = ")
            .push_bind(user)
            .push(" or l.target_id = ")
            .push_bind(user)
            .push(")");
    }
    if let Some(action) = &filter.action {
        q.push(" and l.action = ").push_bind(action.clone());
    }
    if let Some(from) = filter.from {
        q.push(" and l.at >= ").push_bind(from);
    }
    if let Some(until) = filter.until {
        q.push(" and l.at < ").push_bind(until);
    }
    super::newest_first(&mut q, ("l.at", "l.id"), after, limit);
    let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
