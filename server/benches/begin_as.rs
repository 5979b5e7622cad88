//! What `begin_as` costs: queries per second of the same SELECT run plainly on the pool and
//! through the per-request door, measured in one run against the real Postgres, printed as
//! ratios. Run with `scripts/bench`; it is a benchmark, not a test, and asserts nothing.
//!
//! Variants, each sending one small SELECT from many concurrent tasks:
//!   plain     `select` on the pool, autocommit                          1 round trip
//!   plain-tx  BEGIN; select; COMMIT                                     3 round trips
//!   begin_as  BEGIN; set role + claims; select; COMMIT                  4 round trips
mod common;

use app::ssr::{auth::Actor, db::begin_as};
use common::{MEASURE, TASKS, measure};
use sqlx::{PgPool, postgres::PgPoolOptions};

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
        token_family: None,
    };

    println!(
        "begin_as benchmark: {TASKS} tasks, {}s per variant, Postgres on {}",
        MEASURE.as_secs(),
        host(&url)
    );
    let plain = measure(
        "plain",
        "queries",
        with(&plain_pool, |pool| async move {
            sqlx::query(SELECT).fetch_optional(&pool).await.map(drop)
        }),
    )
    .await;
    let plain_tx = measure(
        "plain-tx",
        "queries",
        with(&plain_pool, |pool| async move {
            let mut tx = pool.begin().await?;
            sqlx::query(SELECT).fetch_optional(&mut *tx).await?;
            tx.commit().await
        }),
    )
    .await;
    let door = measure(
        "begin_as",
        "queries",
        with(&pool, move |pool| {
            let actor = actor.clone();
            async move {
                let mut tx = begin_as(&pool, &actor)
                    .await
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                sqlx::query(SELECT).fetch_optional(&mut *tx).await?;
                tx.commit().await
            }
        }),
    )
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

fn host(url: &str) -> &str {
    url.rsplit('@').next().unwrap_or(url)
}

/// An operation on the pool, as `measure` takes it: each call gets its own handle.
fn with<F, Fut>(pool: &PgPool, op: F) -> impl Fn() -> Fut + Clone + Send + Sync + 'static
where
    F: Fn(PgPool) -> Fut + Clone + Send + Sync + 'static,
{
    let pool = pool.clone();
    move || op(pool.clone())
}
