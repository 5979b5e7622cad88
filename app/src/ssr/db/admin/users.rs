//! The admin users page: the list with its search, one user, role and ban changes.
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::admin::{Role, UserSummary};
use crate::ssr::db::{DbError, Tx};

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
    super::newest_first(&mut q, ("u.created_at", "u.id"), after, limit);
    let rows: Vec<UserRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn find_user(tx: &mut Tx, id: Uuid) -> Result<Option<UserSummary>, DbError> {
    let row = sqlx::query_as!(
        UserRow,
        r#"select u.id, u.email, p.username, p.display_name, p.role,
                  u.email_confirmed_at, u.banned_until,
                  coalesce(u.banned_until > now(), false) as "banned!", u.last_sign_in_at,
                  u.created_at
             from auth.users u join public.profiles p on p.id = u.id
            where u.id = $1"#,
        id,
    )
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
    let found = if reference.contains('@') {
        sqlx::query_scalar!(
            "select id from auth.users where lower(email) = lower($1)",
            reference,
        )
        .fetch_optional(&mut **tx)
        .await?
    } else {
        sqlx::query_scalar!(
            "select id from public.profiles where lower(username) = lower($1)",
            reference,
        )
        .fetch_optional(&mut **tx)
        .await?
    };
    Ok(found)
}

/// Sets the profile's role; returns the role it had, or `None` when there is no such user.
/// The row stays locked until the transaction ends.
pub async fn set_role(tx: &mut Tx, id: Uuid, role: Role) -> Result<Option<String>, DbError> {
    let before = sqlx::query_scalar!(
        "select role from public.profiles where id = $1 for update",
        id
    )
    .fetch_optional(&mut **tx)
    .await?;
    if before.as_deref().is_some_and(|r| r != role.as_str()) {
        sqlx::query!(
            "update public.profiles set role = $2 where id = $1",
            id,
            role.as_str(),
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(before)
}

/// Bans the user for `seconds` from now; returns the end of the ban, or `None` when there is
/// no such user.
pub async fn ban(tx: &mut Tx, id: Uuid, seconds: i64) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(sqlx::query_scalar!(
        "update auth.users set banned_until = now() + make_interval(secs => $2) \
         where id = $1 returning banned_until",
        id,
        seconds as f64,
    )
    .fetch_optional(&mut **tx)
    .await?
    .flatten())
}

/// Lifts any ban; false when there is no such user.
pub async fn unban(tx: &mut Tx, id: Uuid) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "update auth.users set banned_until = null where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
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
