//! Running behind a pooler in transaction mode (PgBouncer, `pool_mode = transaction`), where
//! consecutive transactions of one pool connection may land on different server connections,
//! and one server connection serves many clients in turn.
//!
//! What breaks there, and how the app stays correct:
//! - Named prepared statements. sqlx prepares every `query!` as `sqlx_s_<n>` (numbered per
//!   client connection) and, with its statement cache on, binds it again later on whatever
//!   server connection the pooler picked ("prepared statement does not exist"). With the cache
//!   off (`statement_cache_capacity(0)`) sqlx 0.9 still names each statement (`prepare()` names
//!   it whenever the query is persistent, which `query!` with arguments always is) and never
//!   closes it, so a second client's `sqlx_s_1` collides on the same server connection
//!   ("prepared statement already exists"). So: cache off, and every transaction begins with
//!   `DEALLOCATE ALL` in the same simple query as `BEGIN` (no extra round trip). Within a
//!   transaction the pooler keeps the server connection, so Parse and Bind meet.
//! - Statements outside a transaction: Parse and Bind go in two syncs, which the pooler may
//!   route to two server connections. The app runs every query in a transaction (`begin_as`,
//!   `begin_service`) except the readiness ping, which uses the simple protocol.
//! - Session state: `set_config(…, true)` (transaction scope) only; no session advisory locks
//!   or LISTEN on the request pools. Migrations take a session advisory lock, so they run on
//!   `DATABASE_OWNER_URL`, which must point at Postgres itself, never at the pooler.
//!
//! PgBouncer 1.21+ can track prepared statements (`max_prepared_statements`); Debian 12 ships
//! 1.18, so the app does not rely on it.
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{PgPool, Postgres, Transaction, postgres::PgConnectOptions};

/// Process-wide: the pools of one process (request, outbox worker, CLI) reach Postgres the
/// same way, set once at start-up from `PALISADE_DB_POOLER`.
static TRANSACTION_POOLER: AtomicBool = AtomicBool::new(false);

/// How the app's connections reach Postgres.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pooler {
    /// Straight to Postgres (or a session-mode pooler): prepared statements are cached.
    #[default]
    None,
    /// Through a transaction-mode pooler: no statement cache, `DEALLOCATE ALL` at each BEGIN.
    Transaction,
}

impl std::str::FromStr for Pooler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "none" => Ok(Self::None),
            "transaction" => Ok(Self::Transaction),
            other => Err(format!("{other:?} (expected none or transaction)")),
        }
    }
}

impl Pooler {
    /// Records the mode for this process and adapts `options` (the statement cache) to it.
    pub fn apply(self, options: PgConnectOptions) -> PgConnectOptions {
        TRANSACTION_POOLER.store(self == Self::Transaction, Ordering::SeqCst);
        match self {
            Self::None => options,
            Self::Transaction => options.statement_cache_capacity(0),
        }
    }
}

/// Opens a transaction on `pool` the way this process's pooler mode needs: every
/// transaction of the app starts here (`db::open`, `bootstrap::begin_as_admin`).
pub(super) async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    if TRANSACTION_POOLER.load(Ordering::SeqCst) {
        pool.begin_with("BEGIN; DEALLOCATE ALL").await
    } else {
        pool.begin().await
    }
}
