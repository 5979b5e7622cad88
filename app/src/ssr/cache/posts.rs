//! The posts cache: published post pages and the pages of the public list, per database.
use std::future::Future;

use std::time::Duration;

use fred::{clients::Pool, interfaces::KeysInterface as _, interfaces::LuaInterface as _};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgPool;
use tokio::time::timeout;

use super::{
    aside::{Cache, Key},
    pages::PageCache,
};
use crate::{
    error::AppError,
    ssr::{
        db::{Db, replica},
        state::AppState,
    },
};

/// Sets the recorded write position to ARGV[1] unless a later one is recorded already.
const RECORD_POSITION: &str = "if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) \
                               then redis.call('SET', KEYS[1], ARGV[1]) end return 1";
/// How long a read waits for the recorded position before reading the primary instead.
const POSITION_TIMEOUT: Duration = Duration::from_millis(100);

/// What is cached.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// A page of the public list, from 1.
    Page(u32),
    /// A published post, by slug.
    Post(&'a str),
}

impl Key for Entry<'_> {
    /// The `cache` label of the metrics.
    fn label(self) -> &'static str {
        match self {
            Self::Page(_) => "post_list",
            Self::Post(_) => "post",
        }
    }

    fn suffix(self) -> String {
        match self {
            Self::Page(n) => format!("page:{n}"),
            Self::Post(slug) => format!("post:{slug}"),
        }
    }
}

/// The posts cache of one database. Built once at start-up (`Application::build`) and held in
/// [`AppState`]; clones share its loads in flight and its counters. The rendered pages that
/// show posts are retired with it.
#[derive(Clone)]
pub struct PostCache(Cache, Option<Positions>, PageCache);

/// With a read replica: where the primary's WAL position after the last write is kept, so a
/// replica read can tell whether it has replayed that write (`db::replica`).
#[derive(Clone)]
struct Positions {
    primary: Db,
    redis: Pool,
    key: String,
}

impl PostCache {
    /// Keys are `palisade:v1:{db}:posts…`, so deployments or test databases sharing one Redis
    /// never see each other's posts.
    pub fn new(db: &PgPool, redis: &Pool, pages: PageCache) -> Self {
        let options = db.connect_options();
        let database = options.get_database().unwrap_or("postgres");
        Self(
            Cache::new(redis, "posts", format!("palisade:v1:{database}:posts")),
            None,
            pages,
        )
    }

    /// The rendered pages of anonymous readers (served by the server's `page_cache` layer).
    pub fn pages(&self) -> &PageCache {
        &self.2
    }

    /// When `primary` has a read replica: record each write's WAL position for its reads.
    pub fn with_write_positions(mut self, primary: &Db) -> Self {
        if primary.replica().is_some() {
            self.1 = Some(Positions {
                primary: primary.clone(),
                redis: self.0.redis().clone(),
                key: format!("{}:position", self.0.prefix()),
            });
        }
        self
    }

    /// The primary's WAL position after the last recorded write (0: none recorded); `None`
    /// without a replica, or when Redis does not answer in time (then read the primary).
    pub async fn write_position(&self) -> Option<i64> {
        let positions = self.1.as_ref()?;
        let get = positions.redis.get::<Option<i64>, _>(&positions.key);
        match timeout(POSITION_TIMEOUT, get).await {
            Ok(Ok(position)) => Some(position.unwrap_or(0)),
            _ => None,
        }
    }

    /// The application's posts cache.
    pub fn of(state: &AppState) -> &Self {
        &state.posts_cache
    }

    /// How many times this database's cache has run a loader (in this process).
    pub fn loads(&self) -> u64 {
        self.0.loads()
    }

    /// How many Redis commands of this database's cache failed or timed out (in this process).
    pub fn errors(&self) -> u64 {
        self.0.errors()
    }

    /// The key prefix, `palisade:v1:{db}:posts`.
    pub fn prefix(&self) -> &str {
        self.0.prefix()
    }

    /// The cached value of `entry`, or what `load` returns (stored for next time unless it is
    /// `None`). `load` must read only what an anonymous visitor may see.
    pub async fn get_or_load<T, F, Fut>(
        &self,
        entry: Entry<'_>,
        load: F,
    ) -> Result<Option<T>, AppError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, AppError>>,
    {
        self.0.get_or_load(entry, load).await
    }

    /// Retires every cached post and list page. Call it after the commit of any write that can
    /// change what anonymous visitors see.
    pub async fn invalidate(&self) {
        // Recorded before the generation moves: a reader that sees the new generation then
        // finds this position, and never fills it from a replica that lacks the write.
        if let Some(positions) = &self.1 {
            positions.record().await;
        }
        self.0.invalidate().await;
        // After the generation: a page rendered from now on reads the new one, and one begun
        // before this line is refused by its epoch.
        self.2.invalidate();
    }
}

impl Positions {
    async fn record(&self) {
        let position = match replica::write_position(&self.primary).await {
            Ok(position) => position,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the primary's WAL position");
                return;
            }
        };
        let script = self.redis.eval::<i64, _, _, _>(
            RECORD_POSITION,
            vec![self.key.clone()],
            vec![position.to_string()],
        );
        if !matches!(timeout(POSITION_TIMEOUT * 5, script).await, Ok(Ok(_))) {
            tracing::warn!("could not record the last post write's WAL position in Redis");
        }
    }
}
