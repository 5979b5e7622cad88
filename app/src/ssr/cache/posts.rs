//! The posts cache: published post pages and the pages of the public list, per database.
use std::future::Future;

use fred::clients::Pool;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgPool;

use super::{
    aside::{Cache, Key},
    pages::PageCache,
};
use crate::{error::AppError, ssr::state::AppState};

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
pub struct PostCache(Cache, PageCache);

impl PostCache {
    /// Keys are `palisade:v1:{db}:posts…`, so deployments or test databases sharing one Redis
    /// never see each other's posts.
    pub fn new(db: &PgPool, redis: &Pool, pages: PageCache) -> Self {
        let options = db.connect_options();
        let database = options.get_database().unwrap_or("postgres");
        let cache = Cache::new(redis, "posts", format!("palisade:v1:{database}:posts"));
        Self(cache, pages)
    }

    /// The rendered pages of anonymous readers (served by the server's `page_cache` layer).
    pub fn pages(&self) -> &PageCache {
        &self.1
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
        self.0.invalidate().await;
        // After the generation: a page rendered from now on reads the new one, and one begun
        // before this line is refused by its epoch.
        self.1.invalidate();
    }
}
