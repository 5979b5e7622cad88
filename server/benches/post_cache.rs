//! What the posts cache buys: post page reads per second served from Redis (cache hits) and
//! from Postgres (what a miss does: a request transaction as `anon`, the SELECT, the markdown
//! rendered and sanitized), measured in one run, printed as a ratio. Run with `scripts/bench`
//! (Redis must be up: `scripts/services start`); it is a benchmark, not a test.
mod common;

use std::time::Duration;

use app::{
    domain::{PostBody, PostStatus, PostTitle, Slug, post::RenderedPost},
    error::AppError,
    ssr::{
        auth::Actor,
        cache::{Entry, PostCache},
        db::{self, ServiceRole, begin_service, posts},
        markdown,
    },
};
use common::{MEASURE, TASKS, measure};
use fred::prelude::{Builder, ClientLike as _, Config};
use sqlx::{PgPool, postgres::PgPoolOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let owner_url = std::env::var("DATABASE_OWNER_URL")?;
    let url = std::env::var("DATABASE_URL")?;
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379/1".into());
    let mut owner = <sqlx::PgConnection as sqlx::Connection>::connect(&owner_url).await?;
    sqlx::migrate!("../migrations").run(&mut owner).await?;

    let redis = Builder::from_config(Config::from_url(&redis_url)?)
        .with_performance_config(|p| p.default_command_timeout = Duration::from_millis(500))
        .build_pool(4)?;
    if tokio::time::timeout(Duration::from_secs(2), redis.init())
        .await
        .map_or(true, |r| r.is_err())
    {
        println!("post_cache benchmark: skipped, Redis is not reachable at {redis_url}");
        return Ok(());
    }
    let pool = PgPoolOptions::new()
        .max_connections(TASKS as u32)
        .min_connections(TASKS as u32)
        .connect(&url)
        .await?;
    let slug = seed(&pool).await?;
    let cache = PostCache::new(
        &pool,
        &redis,
        app::ssr::cache::PageCache::new(Duration::ZERO),
    );

    println!(
        "post_cache benchmark: {TASKS} tasks, {}s per variant, a {} KiB markdown post",
        MEASURE.as_secs(),
        body().len() / 1024
    );
    let uncached = measure("postgres", "post reads", {
        let (pool, slug) = (pool.clone(), slug.clone());
        move || {
            let (pool, slug) = (pool.clone(), slug.clone());
            async move { load(&pool, &slug).await.map(drop) }
        }
    })
    .await;
    let cached = measure("redis", "post reads", {
        let (pool, slug, cache) = (pool.clone(), slug.clone(), cache.clone());
        move || {
            let (pool, slug, cache) = (pool.clone(), slug.clone(), cache.clone());
            async move {
                cache
                    .get_or_load(Entry::Post(&slug), || load(&pool, &slug))
                    .await
                    .map(drop)
            }
        }
    })
    .await;
    println!();
    println!(
        "cached / uncached = {:.2}  ({} loads for the cached run: the warm-up's one miss)",
        cached / uncached,
        cache.loads()
    );
    Ok(())
}

/// What a cache miss does for a post page.
async fn load(pool: &PgPool, slug: &str) -> Result<Option<RenderedPost>, AppError> {
    let mut tx = db::begin_as(pool, &Actor::Anon).await?;
    let post = posts::published_by_slug(&mut tx, slug).await?;
    tx.commit().await.map_err(db::DbError::from)?;
    Ok(post.map(|p| RenderedPost {
        id: p.id,
        slug: p.slug.clone(),
        title: p.title.clone(),
        html: markdown::render(&p.body),
        author: p.author(),
        status: p.status(),
        published_at: p.published_at,
        updated_at: p.updated_at,
    }))
}

fn body() -> String {
    let paragraph = "Palisade renders **markdown** on the server, with [links](https://example.com), \
                     `inline code`, and *emphasis*; then ammonia cleans it.\n\n";
    let mut body = String::from("# A benchmark post\n\n");
    for i in 0..30 {
        body.push_str(&format!(
            "## Section {i}\n\n{paragraph}- one\n- two\n- three\n\n"
        ));
    }
    body
}

/// A user and one published post; returns its slug.
async fn seed(pool: &PgPool) -> anyhow::Result<String> {
    let mut tx = begin_service(pool, ServiceRole::Auth).await?;
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let id: uuid::Uuid = sqlx::query_scalar(
        "insert into auth.users (email, password_hash) values ($1, 'x') returning id",
    )
    .bind(email)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let actor = Actor::User {
        id,
        session_id: None,
        token_family: None,
    };
    let title = PostTitle::parse("A benchmark post").map_err(anyhow::Error::msg)?;
    let body = PostBody::parse(body()).map_err(anyhow::Error::msg)?;
    let mut tx = db::begin_as(pool, &actor).await?;
    let new = posts::NewPost {
        author_id: id,
        title: &title,
        body: &body,
        status: PostStatus::Published,
    };
    let (_, slug) = posts::insert(&mut tx, &new, &Slug::from_title(&title)).await?;
    tx.commit().await?;
    Ok(slug.to_string())
}
