//! The policy matrix of cases.txt: parsing it, running each case as its actor in a rolled-back
//! transaction, and naming the outcome in the file's vocabulary.
use std::fmt;

use app::ssr::db::{ServiceRole, Tx, begin_as, begin_service};
use sqlx::{PgPool, Row, postgres::PgRow};

use super::fixture::Fixture;

const CASES: &str = include_str!("cases.txt");

/// What the coverage check demands: every table, for every request actor, under every verb.
pub const TABLES: [&str; 7] = [
    "public.profiles",
    "public.posts",
    "auth.users",
    "auth.one_time_tokens",
    "auth.audit_log",
    "public.outbox",
    "auth.account_requests",
];
pub const REQUEST_ACTORS: [&str; 4] = ["anon", "A", "B", "admin"];
pub const VERBS: [&str; 4] = ["select", "insert", "update", "delete"];

pub struct Case {
    pub line: usize,
    pub actor: &'static str,
    pub expected: &'static str,
    pub sql: &'static str,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cases.txt:{} as {}: {}", self.line, self.actor, self.sql)
    }
}

pub fn cases() -> Vec<Case> {
    CASES
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            let mut parts = line.splitn(3, " @@ ").map(str::trim);
            let (Some(actor), Some(expected), Some(sql)) =
                (parts.next(), parts.next(), parts.next())
            else {
                panic!(
                    "cases.txt:{}: not `actor @@ expected @@ sql`: {line}",
                    i + 1
                );
            };
            Case {
                line: i + 1,
                actor,
                expected,
                sql,
            }
        })
        .collect()
}

impl Case {
    /// The statement's verb and the table it acts on: the first known table named after
    /// FROM, INTO or UPDATE (so `select count(*) from (select ... from posts) s` is on posts).
    pub fn target(&self) -> Option<(String, &'static str)> {
        let mut words = self
            .sql
            .split(|c: char| c.is_whitespace() || "(),".contains(c))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase);
        let verb = words.next()?;
        let mut previous = verb.clone();
        for word in words {
            if matches!(previous.as_str(), "from" | "into" | "update") {
                let name = if word.contains('.') {
                    word.clone()
                } else {
                    format!("public.{word}")
                };
                if let Some(table) = TABLES.iter().find(|t| **t == name) {
                    return Some((verb, table));
                }
            }
            previous = word;
        }
        None
    }
}

/// The (table, actor, verb) combinations no case covers.
pub fn uncovered(cases: &[Case]) -> Vec<String> {
    let covered: Vec<(&str, String, &str)> = cases
        .iter()
        .filter_map(|c| c.target().map(|(verb, table)| (c.actor, verb, table)))
        .collect();
    let mut missing = Vec::new();
    for table in TABLES {
        for actor in REQUEST_ACTORS {
            for verb in VERBS {
                if !covered
                    .iter()
                    .any(|(a, v, t)| *a == actor && v == verb && *t == table)
                {
                    missing.push(format!("{actor} {verb} {table}"));
                }
            }
        }
    }
    missing
}

/// One pool per way of reaching the database. The owner and the superuser connect directly;
/// everyone else goes through the app's authenticator pool, as requests do.
pub struct Actors {
    pub app: PgPool,
    pub owner: PgPool,
    pub superuser: PgPool,
    pub fixture: Fixture,
}

impl Actors {
    async fn begin(&self, actor: &str) -> Tx {
        if let Some(request_actor) = self.fixture.request_actor(actor) {
            return begin_as(&self.app, &request_actor).await.unwrap();
        }
        match actor {
            "auth_service" => begin_service(&self.app, ServiceRole::Auth).await.unwrap(),
            "outbox_worker" => begin_service(&self.app, ServiceRole::OutboxWorker)
                .await
                .unwrap(),
            "authenticator" => self.app.begin().await.unwrap(),
            "owner" => self.owner.begin().await.unwrap(),
            "superuser" => self.superuser.begin().await.unwrap(),
            other => panic!("unknown actor `{other}` in cases.txt"),
        }
    }

    /// Runs the case in its own transaction and rolls it back, so the next case sees the
    /// same fixture.
    pub async fn run(&self, case: &Case) -> String {
        let mut tx = self.begin(case.actor).await;
        let got = outcome(&mut tx, case.sql).await;
        tx.rollback().await.unwrap();
        got
    }
}

async fn outcome(tx: &mut Tx, sql: &'static str) -> String {
    let result = if sql.to_lowercase().starts_with("select") {
        sqlx::query(sql)
            .fetch_optional(&mut **tx)
            .await
            .map(|row| describe_row(row.as_ref()))
    } else {
        sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .map(|done| match done.rows_affected() {
                1 => "1 row affected".to_owned(),
                n => format!("{n} rows affected"),
            })
    };
    result.unwrap_or_else(|e| describe_error(&e))
}

/// A count becomes `rows visible: N`; text (current_user, set_config) is reported as is.
fn describe_row(row: Option<&PgRow>) -> String {
    let Some(row) = row else {
        return "no rows".into();
    };
    if let Ok(n) = row.try_get::<i64, _>(0) {
        return format!("rows visible: {n}");
    }
    row.try_get::<String, _>(0)
        .unwrap_or_else(|e| format!("undecodable first column: {e}"))
}

/// Names a failure in the vocabulary of cases.txt. Grant denials and WITH CHECK failures share
/// SQLSTATE 42501, so the message tells them apart.
pub fn describe_error(e: &sqlx::Error) -> String {
    let Some(db) = e.as_database_error() else {
        return format!("error: {e}");
    };
    let message = db.message();
    let named = match db.code().as_deref() {
        Some("42501") if message.contains("new row violates row-level security policy") => {
            "new row violates policy"
        }
        Some("42501") if message.contains("is append-only") => "append-only error",
        Some("42501") if message.starts_with("must be owner") => "must be owner",
        Some("42501") if message.contains("permission denied") => "permission denied",
        Some("23505") => "unique violation",
        Some("23514") => "check violation",
        code => return format!("error {}: {message}", code.unwrap_or_default()),
    };
    named.to_owned()
}
