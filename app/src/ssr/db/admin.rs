//! The admin pages' queries. They run in a transaction opened by `begin_as` for an admin, and
//! only the `admin` role has the grants and policies they need: for anyone else Postgres
//! answers `permission denied` ([`DbError::Denied`]), whatever the app checked before.
//! Over 400 lines for now, on purpose: its split (users, audit log, outbox) waits until the
//! compile-checked SQL conversion of `db/` has landed, so the two changes do not collide.
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::{DbError, Tx};
use crate::domain::admin::{AuditEntry, OutboxItem, OutboxView, Role, UserSummary};

/// The role this transaction really runs as (`anon`, `authenticated` or `admin`), as the
/// database decided it from the profile in `begin_as`.
pub async fn current_role(tx: &mut Tx) -> Result<String, DbError> {
    Ok(sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut **tx)
        .await?)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    username: String,
    display_name: Option<String>,
    role: String,
    email_confirmed_at: Option<DateTime<Utc>>,
    banned_until: Option<DateTime<Utc>>,
    banned: bool,
    last_sign_in_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for UserSummary {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            username: r.username,
            display_name: r.display_name,
            role: r.role,
            email_confirmed_at: r.email_confirmed_at,
            banned_until: r.banned_until,
            banned: r.banned,
            last_sign_in_at: r.last_sign_in_at,
            created_at: r.created_at,
        }
    }
}

const USER_SELECT: &str = "select u.id, u.email, p.username, p.display_name, p.role, \
            u.email_confirmed_at, u.banned_until, \
            coalesce(u.banned_until > now(), false) as banned, u.last_sign_in_at, u.created_at \
       from auth.users u join public.profiles p on p.id = u.id";

/// What the user list is narrowed to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum UserSearch {
    #[default]
    All,
    /// Case-insensitive substring of the email or the username (served by trigram indexes).
    Text(String),
    Id(Uuid),
}

impl UserSearch {
    /// A pasted id finds that user; any other text is searched for in emails and usernames.
    pub fn parse(q: &str) -> Self {
        let q = q.trim();
        if q.is_empty() {
            Self::All
        } else if let Ok(id) = Uuid::parse_str(q) {
            Self::Id(id)
        } else {
            Self::Text(q.to_lowercase())
        }
    }
}

/// `LIKE` pattern for "contains `text`": the wildcards `%` and `_` in it match themselves.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Users, newest first (`created_at desc, id desc`), from after the `after` cursor.
pub async fn list_users(
    tx: &mut Tx,
    search: &UserSearch,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<UserSummary>, DbError> {
    let mut q = QueryBuilder::<Postgres>::new(USER_SELECT);
    q.push(" where true");
    match search {
        UserSearch::All => {}
        UserSearch::Id(id) => {
            q.push(" and u.id = ").push_bind(*id);
        }
        UserSearch::Text(text) => {
            // A union, not an OR across the join, so each side uses its own trigram index.
            let pattern = contains_pattern(text);
            q.push(" and u.id in (select id from auth.users where lower(email) like ")
                .push_bind(pattern.clone())
                .push(" union all select id from public.profiles where lower(username) like ")
                .push_bind(pattern)
                .push(")");
        }
    }
    if let Some((at, id)) = after {
        q.push(" and (u.created_at, u.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" order by u.created_at desc, u.id desc limit ")
        .push_bind(limit);
    let rows: Vec<UserRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn find_user(tx: &mut Tx, id: Uuid) -> Result<Option<UserSummary>, DbError> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} where u.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(Into::into))
}

/// The id of the user an admin names by id, email or username (any case).
pub async fn resolve_user(tx: &mut Tx, reference: &str) -> Result<Option<Uuid>, DbError> {
    let reference = reference.trim();
    if let Ok(id) = Uuid::parse_str(reference) {
        // Audit entries outlive their users: an id is taken as it is.
        return Ok(Some(id));
    }
    let sql = if reference.contains('@') {
        "select id from auth.users where lower(email) = lower($1)"
    } else {
        "select id from public.profiles where lower(username) = lower($1)"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(reference)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Sets the profile's role; returns the role it had, or `None` when there is no such user.
/// The row stays locked until the transaction ends.
pub async fn set_role(tx: &mut Tx, id: Uuid, role: Role) -> Result<Option<String>, DbError> {
    let before: Option<String> =
        sqlx::query_scalar("select role from public.profiles where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    if before.as_deref().is_some_and(|r| r != role.as_str()) {
        sqlx::query("update public.profiles set role = $2 where id = $1")
            .bind(id)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(before)
}

/// Bans the user for `seconds` from now; returns the end of the ban, or `None` when there is
/// no such user.
pub async fn ban(tx: &mut Tx, id: Uuid, seconds: i64) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(sqlx::query_scalar(
        "update auth.users set banned_until = now() + make_interval(secs => $2) \
         where id = $1 returning banned_until",
    )
    .bind(id)
    .bind(seconds as f64)
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

/// Lifts any ban; false when there is no such user.
pub async fn unban(tx: &mut Tx, id: Uuid) -> Result<bool, DbError> {
    let done = sqlx::query("update auth.users set banned_until = null where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

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
            device: crate::ssr::auth::client::describe_device(r.user_agent.as_deref()),
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
    if let Some((at, id)) = after {
        q.push(" and (l.at, l.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" order by l.at desc, l.id desc limit ")
        .push_bind(limit);
    let rows: Vec<AuditRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

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
    Ok(sqlx::query_as(
        "select (select count(*) from public.outbox where sent_at is null and dead_at is null), \
                (select count(*) from public.outbox where dead_at is not null and sent_at is null)",
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Revives a dead row: due now, with a fresh set of attempts. `last_error` is kept as the
/// reason it died until the worker overwrites or clears it. Returns the row's kind, or
/// `None` when the row is not dead (sent, pending, or unknown) or its link or code was
/// removed when it died (it could only be sent broken).
pub async fn retry_dead(tx: &mut Tx, id: i64) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar(
        "update public.outbox set dead_at = null, attempts = 0, next_attempt_at = now() \
          where id = $1 and dead_at is not null and sent_at is null and redacted_at is null \
         returning kind",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_take_ids_or_text_and_escape_wildcards() {
        let id = Uuid::new_v4();
        assert_eq!(UserSearch::parse("  "), UserSearch::All);
        assert_eq!(UserSearch::parse(&id.to_string()), UserSearch::Id(id));
        assert_eq!(
            UserSearch::parse(" Ada@X "),
            UserSearch::Text("ada@x".into())
        );
        assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
