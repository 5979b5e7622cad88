//! The circuit breaker in front of the request pool: after a connection could not be had,
//! requests fail at once (503) instead of each waiting out the acquire timeout, while one
//! background probe asks Postgres again every interval; it closes when Postgres answers.
use std::{
    ops::Deref,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use sqlx::PgPool;

/// The request pool and its breaker; derefs to the pool for everything but opening a
/// transaction (`db::begin_as` and `db::begin_service` ask the breaker first).
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    breaker: Breaker,
    /// The read replica for public reads, if configured (`super::replica`).
    replica: Option<Arc<super::replica::Replica>>,
}

impl Db {
    /// `probe_interval`: how long the breaker stays open before each probe.
    pub fn new(pool: PgPool, probe_interval: Duration) -> Self {
        Self::named(pool, probe_interval, "Postgres", "db_circuit_open")
    }

    /// A replica's pool and breaker: its own gauge, `db_replica_circuit_open`.
    pub fn new_replica(pool: PgPool, probe_interval: Duration) -> Self {
        Self::named(pool, probe_interval, "replica", "db_replica_circuit_open")
    }

    fn named(
        pool: PgPool,
        probe_interval: Duration,
        name: &'static str,
        gauge: &'static str,
    ) -> Self {
        Self {
            pool,
            breaker: Breaker(Arc::new(Inner {
                name,
                gauge,
                open: AtomicBool::new(false),
                probe_interval,
                attempts: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            })),
            replica: None,
        }
    }

    /// This (primary) pool with a replica for public reads.
    pub fn with_replica(mut self, replica: super::replica::Replica) -> Self {
        self.replica = Some(Arc::new(replica));
        self
    }

    pub fn replica(&self) -> Option<&super::replica::Replica> {
        self.replica.as_deref()
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }
}

impl Deref for Db {
    type Target = PgPool;

    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

/// Where a transaction's connection comes from: the request pool behind its breaker, or a
/// plain pool (the outbox worker's own, the CLI's), which waits out its acquire timeout.
pub trait Connections {
    fn pool(&self) -> &PgPool;
    fn breaker(&self) -> Option<&Breaker>;
}

impl Connections for PgPool {
    fn pool(&self) -> &PgPool {
        self
    }
    fn breaker(&self) -> Option<&Breaker> {
        None
    }
}

impl Connections for Db {
    fn pool(&self) -> &PgPool {
        &self.pool
    }
    fn breaker(&self) -> Option<&Breaker> {
        Some(&self.breaker)
    }
}

#[derive(Clone, Debug)]
pub struct Breaker(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// For the log lines: "Postgres" (the primary) or "replica".
    name: &'static str,
    /// The gauge that is 1 while open.
    gauge: &'static str,
    open: AtomicBool,
    probe_interval: Duration,
    /// Connections asked of the pool through this breaker (counted for tests and figures).
    attempts: AtomicU64,
    /// Requests refused at once while open.
    rejected: AtomicU64,
}

impl Breaker {
    pub fn is_open(&self) -> bool {
        self.0.open.load(Ordering::SeqCst)
    }

    /// How many times a connection was asked of the pool through this breaker.
    pub fn attempts(&self) -> u64 {
        self.0.attempts.load(Ordering::SeqCst)
    }

    /// How many requests were refused without asking the pool.
    pub fn rejected(&self) -> u64 {
        self.0.rejected.load(Ordering::SeqCst)
    }

    /// Whether a request may ask the pool; counts the answer either way.
    pub(super) fn admit(&self) -> bool {
        if self.is_open() {
            self.0.rejected.fetch_add(1, Ordering::SeqCst);
            false
        } else {
            self.0.attempts.fetch_add(1, Ordering::SeqCst);
            true
        }
    }

    /// A connection could not be had: open, and start the one probe (a second failure while
    /// it runs changes nothing).
    pub(super) fn trip(&self, pool: &PgPool) {
        if self.0.open.swap(true, Ordering::SeqCst) {
            return;
        }
        let (name, gauge) = (self.0.name, self.0.gauge);
        tracing::warn!(
            probe_every = ?self.0.probe_interval,
            "{name} unreachable: circuit open, requests that need it answer 503 at once"
        );
        metrics::gauge!(gauge).set(1.0);
        let (breaker, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(breaker.0.probe_interval).await;
                match super::status::ping(&pool).await {
                    Ok(()) => break,
                    Err(e) => tracing::debug!(error = %e, "Postgres probe failed"),
                }
            }
            breaker.0.open.store(false, Ordering::SeqCst);
            metrics::gauge!(gauge).set(0.0);
            tracing::info!("{name} answers again: circuit closed");
        });
    }
}
