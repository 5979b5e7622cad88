//! The data layer. Every request query runs in a transaction opened by [`begin_as`], which sets
//! the Postgres role and the actor's claims for that transaction only, so Row Level Security
//! decides what the query may see and change. Data functions take the transaction, never the
//! pool. All the SQL of `app` and `server` lives here, as `sqlx::query!` macros checked at
//! compile time against `.sqlx/` (README, "Queries"); only the admin lists use `QueryBuilder`.
pub mod account_requests;
pub mod admin;
pub mod assurance;
pub mod audit;
pub mod bootstrap;
pub mod breaker;
pub mod mfa;
pub mod outbox;
pub mod passkeys;
pub mod pooler;
pub mod posts;
pub mod profiles;
pub mod refresh_tokens;
pub mod replica;
pub mod signing_keys;
pub mod status;
pub mod tokens;
pub mod users;

use std::time::Instant;

use sqlx::{Postgres, Transaction};

use crate::domain::actor::Actor;
use crate::error::AppError;
pub use breaker::{Breaker, Connections, Db};

pub type Tx = Transaction<'static, Postgres>;

/// How long one statement of a request may run before Postgres cancels it.
const STATEMENT_TIMEOUT: &str = "5s";

/// Opens a request transaction as `actor`. One round trip after BEGIN sets, with transaction
/// scope (so it is safe behind PgBouncer in transaction mode): the claims, the role the database
/// derives from the user's profile (admin, authenticated, or anon when banned or deleted), and a
/// statement timeout. For an API client's access token, the same statement checks that the
/// token's sign-in (refresh-token family) is still live (`auth.request_role`): a token whose
/// sign-in ended gets [`DbError::Revoked`], on every instance, with no extra round trip.
#[tracing::instrument(name = "db.begin_as", skip_all, fields(user_id = ?actor.user_id()))]
pub async fn begin_as(pool: &(impl Connections + ?Sized), actor: &Actor) -> Result<Tx, DbError> {
    let mut tx = open(pool, "request").await?;
    sqlx::query!(
        "select set_config('request.jwt.claims', $1, true) as claims, \
                set_config('role', auth.request_role($2, $4), true) as role, \
                set_config('statement_timeout', $3, true) as statement_timeout",
        actor.claims().to_string(),
        actor.user_id(),
        STATEMENT_TIMEOUT,
        actor.token_family(),
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(tx)
}

/// Whether this transaction runs as `admin`, as the database derived it from the profile in
/// [`begin_as`] (`auth.is_admin()`, the same test the policies use).
pub async fn is_admin(tx: &mut Tx) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar!(r#"select auth.is_admin() as "is_admin!""#)
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Commits `tx`; the one way every caller ends a transaction, so a commit failure is sorted
/// like any other database error.
pub async fn commit(tx: Tx) -> Result<(), DbError> {
    Ok(tx.commit().await?)
}

/// A connection from the pool and its BEGIN, unless the pool's breaker is open (then at once
/// [`DbError::CircuitOpen`]). The time it took is `db_begin_duration_seconds` (by `kind`:
/// `request`, or the service role): it grows when the pool runs dry, the first sign that
/// Postgres connections, not the app, are the limit.
async fn open(db: &(impl Connections + ?Sized), kind: &'static str) -> Result<Tx, DbError> {
    let breaker = db.breaker();
    if breaker.is_some_and(|b| !b.admit()) {
        return Err(DbError::CircuitOpen);
    }
    let started = Instant::now();
    let tx = pooler::begin(db.pool()).await;
    metrics::histogram!("db_begin_duration_seconds", "kind" => kind)
        .record(started.elapsed().as_secs_f64());
    // No connection to be had, however it failed (refused, cut during the handshake, timed
    // out): Postgres is unavailable to this request, never a 500.
    tx.map_err(|e| {
        if let Some(breaker) = breaker {
            breaker.trip(db.pool());
        }
        DbError::Unavailable(e)
    })
}

/// The narrow roles of the server's own subsystems, which act for no particular user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceRole {
    /// Owns the auth tables: sign-up, sign-in, tokens, audit entries, outbox inserts.
    Auth,
    /// Claims and marks outbox rows; nothing else.
    OutboxWorker,
}

impl ServiceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth_service",
            Self::OutboxWorker => "outbox_worker",
        }
    }
}

/// Opens a transaction as one of the service roles, with no user claims. Used by the auth
/// subsystem and the outbox worker; never for serving a user's data.
#[tracing::instrument(name = "db.begin_service", skip(pool))]
pub async fn begin_service(
    pool: &(impl Connections + ?Sized),
    role: ServiceRole,
) -> Result<Tx, DbError> {
    let mut tx = open(pool, role.as_str()).await?;
    sqlx::query!(
        "select set_config('role', $1, true) as role, \
                set_config('statement_timeout', $2, true) as statement_timeout",
        role.as_str(),
        STATEMENT_TIMEOUT,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(tx)
}

/// A database failure, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not hand out a connection in time, or the server went away.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A unique or exclusion constraint refused the write; carries the constraint name.
    #[error("conflict on {0}")]
    Conflict(String),
    /// Grants or a Row Level Security policy refused the statement.
    #[error("denied by the database")]
    Denied(#[source] sqlx::Error),
    /// Postgres failed moments ago and has not answered the breaker's probe since: refused
    /// without asking the pool.
    #[error("database circuit open")]
    CircuitOpen,
    /// The access token's sign-in has ended (sign-out, recovery, ban): the request is refused.
    #[error("access token revoked")]
    Revoked,
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e)
            }
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // unique_violation, exclusion_violation
                Some("23505" | "23P01") => Self::Conflict(db.constraint().unwrap_or("").into()),
                // insufficient_privilege (grants and RLS WITH CHECK both raise it)
                Some("42501") => Self::Denied(e),
                // raised by auth.request_role for an access token whose sign-in ended
                Some("PT401") => Self::Revoked,
                // admin_shutdown, cannot_connect_now
                Some("57P01" | "57P03") => Self::Unavailable(e),
                _ => Self::Other(e),
            },
            _ => Self::Other(e),
        }
    }
}

impl From<DbError> for AppError {
    /// The one place a database failure is logged; the browser gets only the public message.
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                AppError::Unavailable
            }
            // Logged once when the circuit opened, not once per refused request.
            DbError::CircuitOpen => AppError::Unavailable,
            DbError::Conflict(constraint) => {
                AppError::Conflict(format!("That conflicts with existing data ({constraint})."))
            }
            DbError::Denied(source) => {
                tracing::info!(error = %source, "denied by the database");
                AppError::Forbidden
            }
            DbError::Revoked => {
                tracing::info!("access token of an ended sign-in refused");
                AppError::Unauthorized
            }
            DbError::Other(source) => {
                tracing::error!(error = ?source, "database error");
                AppError::Internal
            }
        }
    }
}
