//! What `begin_as` costs: queries per second of the same SELECT run plainly on the pool and
//! through the per-request door, measured in one run against the real Postgres, printed as
//! ratios. Run with `scripts/bench`; it is a benchmark, not a test, and asserts nothing.
//!
//! Variants, each sending one small SELECT from many concurrent tasks:
//!   plain     `select` on the pool, autocommit                          1 round trip
//!   plain-tx  BEGIN; select; COMMIT                                     3 round trips
//!   begin_as  BEGIN; set role + claims; select; COMMIT                  4 round trips
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use app::ssr::{auth::Actor, db::begin_as};
use sqlx::{PgPool, postgres::PgPoolOptions};

const TASKS: usize = 8;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
/// Anyone may read published posts, so the same statement runs as anon and as a user.
const SELECT: &str = "select 1::int4 from public.posts where status = 'published' limit 1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let owner_url = std::env::var("DATABASE_OWNER_URL")?;
    let url = std::env::var("DATABASE_URL")?;
    let mut owner = <sqlx::PgConnection as sqlx::Connection>::connect(&owner_url).await?;
    sqlx::migrate!("../migrations").run(&mut owner).await?;

    let pool = PgPoolOptions::new()
        .max_connections(TASKS as u32)
        .min_connections(TASKS as u32)
        .connect(&url)
        .await?;
    // The plain variants run as the owner's peer would: `authenticator` may not read tables
    // at all, so give the baseline the most favourable footing, a role switch done once per
    // connection (what a pool without RLS would look like).
    let plain_pool = PgPoolOptions::new()
        .max_connections(TASKS as u32)
        .min_connections(TASKS as u32)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("set role anon").execute(conn).await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?;

    let actor = Actor::User {
        id: uuid::Uuid::new_v4(),
        session_id: Some("bench".into()),
    };

    println!(
        "begin_as benchmark: {TASKS} tasks, {}s per variant, Postgres on {}",
        MEASURE.as_secs(),
        host(&url)
    );
    let plain = measure("plain", &plain_pool, |pool| async move {
        sqlx::query(SELECT).fetch_optional(&pool).await.map(drop)
    })
    .await;
    let plain_tx = measure("plain-tx", &plain_pool, |pool| async move {
        let mut tx = pool.begin().await?;
        sqlx::query(SELECT).fetch_optional(&mut *tx).await?;
        tx.commit().await
    })
    .await;
    let door = measure("begin_as", &pool, move |pool| {
        let actor = actor.clone();
        async move {
            let mut tx = begin_as(&pool, &actor)
                .await
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            sqlx::query(SELECT).fetch_optional(&mut *tx).await?;
            tx.commit().await
        }
    })
    .await;

    println!();
    println!(
        "begin_as / plain-tx = {:.2}  (one extra round trip of four; ≈0.75 is the ceiling)",
        door / plain_tx
    );
    println!(
        "begin_as / plain    = {:.2}  (a whole request transaction vs. one autocommit SELECT)",
        door / plain
    );
    Ok(())
}

/// Runs `op` from TASKS tasks for the warm-up and then the measured window; returns ops/s.
async fn measure<F, Fut>(name: &str, pool: &PgPool, op: F) -> f64
where
    F: Fn(PgPool) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), sqlx::Error>> + Send,
{
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (pool, op, count, stop) = (pool.clone(), op.clone(), count.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                op(pool.clone()).await.expect("benchmark query");
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let start_count = count.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let done = count.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("benchmark task");
    }
    let rate = done as f64 / elapsed;
    println!("{name:>10}: {rate:>9.0} queries/s");
    rate
}

fn host(url: &str) -> &str {
    url.rsplit('@').next().unwrap_or(url)
}
