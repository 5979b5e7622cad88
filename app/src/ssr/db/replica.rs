//! The optional read replica (`DATABASE_REPLICA_URL`): a streaming standby of the primary,
//! with a pool and a breaker of its own, used only for public reads — what an anonymous
//! visitor may see (the posts cache's loads, as `anon`). Everything else stays on the
//! primary: anything auth-adjacent, a signed-in user's reads (so they read their own writes),
//! admin reads, every write.
//!
//! A replica read must never be older than what invalidated the cache entry it fills: a stale
//! page stored under the new generation would be served until its TTL. So each write that
//! invalidates records the primary's WAL position after its commit ([`write_position`],
//! kept in Redis by the posts cache), and a replica read first checks, in its own
//! transaction, that the replica has replayed that far ([`begin_public_read`]); if not, the
//! read goes to the primary. A background monitor measures the lag
//! (`db_replica_lag_seconds`); above `PALISADE_REPLICA_MAX_LAG_MS`, or while the replica's
//! breaker is open, public reads go to the primary without asking the replica at all.
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use super::{Db, DbError, Tx, begin_as, open};
use crate::domain::actor::Actor;

/// How often the monitor measures the lag.
const MONITOR_EVERY: Duration = Duration::from_millis(500);

/// The replica's pool and breaker, and whether it is fit for reads.
#[derive(Clone, Debug)]
pub struct Replica {
    db: Db,
    max_lag: Duration,
    /// Answered the monitor's last question with a lag within `max_lag`.
    fit: Arc<AtomicBool>,
    /// Public reads it served (in this process; tests and figures).
    reads: Arc<AtomicU64>,
}

/// What `/ready` says about the replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaState {
    /// No replica configured.
    Off,
    /// Public reads go to it.
    Ok,
    /// Down, or lagging beyond the limit: public reads go to the primary.
    Degraded,
}

impl ReplicaState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Ok => "ok",
            Self::Degraded => "degraded",
        }
    }
}

impl Replica {
    /// `db`: the replica's pool behind a breaker of its own. Starts the lag monitor, which
    /// lives as long as the pool is open.
    pub fn start(db: Db, max_lag: Duration) -> Self {
        let replica = Self {
            db,
            max_lag,
            fit: Arc::new(AtomicBool::new(false)),
            reads: Arc::new(AtomicU64::new(0)),
        };
        let monitor = replica.clone();
        tokio::spawn(async move { monitor.monitor().await });
        replica
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// How many public reads it served.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }

    pub fn state(&self) -> ReplicaState {
        if self.fit.load(Ordering::SeqCst) && !self.db.breaker().is_open() {
            ReplicaState::Ok
        } else {
            ReplicaState::Degraded
        }
    }

    async fn monitor(self) {
        let mut every = tokio::time::interval(MONITOR_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.db.pool().is_closed() {
            every.tick().await;
            let lag = if self.db.breaker().is_open() {
                None // its probe is asking already
            } else {
                match lag_seconds(&self.db).await {
                    Ok(lag) => Some(lag),
                    Err(e) => {
                        tracing::debug!(error = %e, "replica lag unknown");
                        None
                    }
                }
            };
            let fit = lag.is_some_and(|lag| lag <= self.max_lag.as_secs_f64());
            if fit != self.fit.swap(fit, Ordering::SeqCst) {
                tracing::info!(?lag, max_lag = ?self.max_lag, fit, "replica fitness changed");
            }
            metrics::gauge!("db_replica_up").set(if lag.is_some() { 1.0 } else { 0.0 });
            if let Some(lag) = lag {
                metrics::gauge!("db_replica_lag_seconds").set(lag);
            }
        }
    }
}

/// Seconds the replica's replay trails the primary: 0 when it has replayed all it received
/// (an idle primary sends nothing, so the age of the last replayed commit says nothing then),
/// and 0 for a server that is not in recovery (a replica URL naming a primary).
async fn lag_seconds(db: &Db) -> Result<f64, DbError> {
    let mut tx = open(db, "replica").await?;
    let lag = sqlx::query_scalar!(
        r#"select case
             when not pg_is_in_recovery() then 0
             when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
             else coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0)
           end::float8 as "lag!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    super::commit(tx).await?;
    Ok(lag)
}

/// The primary's WAL position now, as a number: after a commit, at or past its commit record.
pub async fn write_position(primary: &Db) -> Result<i64, DbError> {
    let mut tx = open(primary, "wal_position").await?;
    let position = sqlx::query_scalar!(
        r#"select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8 as "position!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    super::commit(tx).await?;
    Ok(position)
}

/// A transaction as `anon` for a public read: on the replica when one is configured, fit, and
/// has replayed at least `position` (the last recorded write that public reads depend on;
/// `None`: unknown, so the primary); otherwise on the primary. Counted in
/// `db_public_reads_total{pool}`.
pub async fn begin_public_read(primary: &Db, position: Option<i64>) -> Result<Tx, DbError> {
    if let (Some(replica), Some(position)) = (primary.replica(), position)
        && replica.state() == ReplicaState::Ok
    {
        match replayed_to(replica.db(), position).await {
            Ok(Some(tx)) => {
                replica.reads.fetch_add(1, Ordering::SeqCst);
                metrics::counter!("db_public_reads_total", "pool" => "replica").increment(1);
                return Ok(tx);
            }
            Ok(None) => {}
            // The breaker tripped if it could not connect; either way the primary answers.
            Err(e) => tracing::debug!(error = %e, "replica read failed; reading the primary"),
        }
    }
    metrics::counter!("db_public_reads_total", "pool" => "primary").increment(1);
    begin_as(primary, &Actor::Anon).await
}

/// An `anon` transaction on the replica if it has replayed up to `position`.
async fn replayed_to(replica: &Db, position: i64) -> Result<Option<Tx>, DbError> {
    let mut tx = begin_as(replica, &Actor::Anon).await?;
    let caught_up = sqlx::query_scalar!(
        r#"select coalesce(
             (case when pg_is_in_recovery() then pg_last_wal_replay_lsn()
                   else pg_current_wal_insert_lsn() end - '0/0'::pg_lsn)::int8 >= $1,
             false) as "ok!""#,
        position,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(caught_up.then_some(tx))
}
