//! Cache-aside in Redis for what an anonymous visitor may see: published post pages and the
//! pages of the public list. Nothing per-user and no draft ever goes in: loaders read as
//! `anon` (see `ssr::posts_service`), and whatever a reader may see beyond that is fetched uncached.
//!
//! Keys (`{db}` is the database name, so deployments or test databases sharing one Redis
//! never see each other's posts):
//!
//! | Key | Value |
//! | --- | --- |
//! | `palisade:v1:{db}:posts:gen` | the generation: an integer, no TTL, `INCR`ed by every write |
//! | `palisade:v1:{db}:posts:{gen}:page:{n}` | list page `n` (JSON of `PostPage`), TTL 5 min |
//! | `palisade:v1:{db}:posts:{gen}:post:{slug}` | a published post (JSON of `RenderedPost`), TTL 5 min |
//!
//! Invalidation: every write path calls [`PostCache::invalidate`] after its commit, which
//! bumps the generation. Every key embeds it, so one `INCR` retires every list page *and*
//! every post page at once: an author's display-name change (shown on all their posts) or a
//! publish (which shifts every list page) needs no bookkeeping of which keys it touched. The
//! retired keys expire with their TTL. A read fetches the generation and its entry in one
//! atomic round trip (a small Lua script). A load that raced a write can only store under the
//! old generation, because a reader sees the new generation only after the write committed.
//!
//! No stampede: concurrent misses of one entry in this process share one load (a single-flight
//! map of `OnceCell`s, keyed by the entry and a local write counter so that no read joins a
//! load older than a write it follows). The loader asks Redis once more before going to
//! Postgres, and a finished load keeps serving readers that missed under the same generation
//! for a few seconds (their miss raced its write to Redis), so a burst costs one query.
//!
//! Redis slow or down: reads give up after [`READ_TIMEOUT`] and go to Postgres, and after a
//! failure the cache is skipped for [`BYPASS_FOR`], so a dead Redis costs nothing per request
//! and is never an error page. Readers that could not ask Redis still share loads, for a
//! second at a time, which keeps an outage from turning into a stampede on Postgres.
//!
//! Metrics: `cache_hits_total`, `cache_misses_total`, `cache_errors_total` and
//! `cache_loads_total` (database reads made for the cache), by `cache`.
use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use fred::{
    clients::Pool,
    interfaces::{KeysInterface as _, LuaInterface as _},
    types::Expiration,
};
use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgPool;
use tokio::{sync::OnceCell, time::timeout};

use super::state::AppState;
use crate::error::AppError;

/// How long an entry lives without being invalidated.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// A cache read slower than this is abandoned for Postgres (the client's own limit is 500 ms).
pub const READ_TIMEOUT: Duration = Duration::from_millis(100);
/// Filling an entry after a miss; the page is not held up longer than this for it.
const WRITE_TIMEOUT: Duration = Duration::from_millis(100);
/// Bumping the generation; retried in the background if it fails.
const INVALIDATE_TIMEOUT: Duration = Duration::from_millis(500);
/// After a Redis failure, reads go straight to Postgres for this long.
pub const BYPASS_FOR: Duration = Duration::from_secs(1);
/// A finished load is shared with readers that missed under the same generation (their miss
/// raced its write to Redis, or that write failed) for this long...
const SAME_GENERATION_REUSE: Duration = Duration::from_secs(10);
/// ...and with readers that could not reach Redis at all for this long: while Redis is down,
/// Postgres gets at most about one read per entry per second from this process.
const UNKNOWN_GENERATION_REUSE: Duration = Duration::from_secs(1);
/// Above this many flights in the map, finished ones are swept out.
const MAX_FLIGHTS: usize = 1024;

/// The generation and the entry under it, read atomically. Keys beyond `KEYS[1]` are built in
/// the script (fine for a single Redis; a cluster would need a hash tag on `{db}`).
const READ_SCRIPT: &str = "local g = redis.call('GET', KEYS[1]) or '0' \
                           return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}";

/// What is cached.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// A page of the public list, from 1.
    Page(u32),
    /// A published post, by slug.
    Post(&'a str),
}

impl Entry<'_> {
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

/// One load, shared by everybody who missed the same entry meanwhile. Holds the JSON (or
/// `None` for "nothing there", which is not stored in Redis).
struct Flight {
    /// The generation the loader saw, or `None` when Redis could not be asked.
    generation: Option<String>,
    result: OnceCell<Result<Option<Arc<str>>, AppError>>,
    finished: std::sync::OnceLock<Instant>,
}

impl Flight {
    /// Whether a reader that saw `generation` (`None`: Redis did not answer) may take this
    /// flight's result instead of loading. While it is in progress, unless it is for another
    /// generation (it may predate a write this reader has seen). Once finished, for a short
    /// while: readers of the same generation, or readers that do not know the generation.
    fn serves(&self, generation: Option<&str>, now: Instant) -> bool {
        let reuse_for = match (self.generation.as_deref(), generation) {
            (Some(mine), Some(theirs)) if mine != theirs => return false,
            (Some(_), Some(_)) => SAME_GENERATION_REUSE,
            (_, None) => UNKNOWN_GENERATION_REUSE,
            (None, Some(_)) => Duration::ZERO,
        };
        match self.finished.get() {
            None => true,
            Some(at) => {
                matches!(self.result.get(), Some(Ok(_))) && now.duration_since(*at) < reuse_for
            }
        }
    }
}

/// What the cache of one database shares across requests in this process.
struct Shared {
    /// `palisade:v1:{db}:posts`
    prefix: String,
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    /// Loader runs (database reads on behalf of the cache), for tests and the benchmark.
    loads: AtomicU64,
    /// Redis failures and timeouts, likewise.
    errors: AtomicU64,
    /// Bumped by every local invalidation, and part of every flight's key: a read that starts
    /// after a write never joins a load that started before it (matters while Redis is down).
    epoch: AtomicU64,
    bypass_until: Mutex<Option<Instant>>,
}

impl Shared {
    fn new(database: &str) -> Self {
        Self {
            prefix: format!("palisade:v1:{database}:posts"),
            flights: Mutex::default(),
            loads: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            bypass_until: Mutex::default(),
        }
    }

    fn bypassing(&self) -> bool {
        let until = self.bypass_until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|t| Instant::now() < t)
    }

    fn redis_failed(&self, cache: &'static str, what: &str, error: &dyn std::fmt::Display) {
        metrics::counter!("cache_errors_total", "cache" => cache).increment(1);
        self.errors.fetch_add(1, Ordering::SeqCst);
        tracing::warn!(cache, error = %error, "cache {what} failed; reading from Postgres");
        *self.bypass_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + BYPASS_FOR);
    }

    /// The flight a reader that saw `generation` joins for `key`: the one in progress (or
    /// just finished) if it serves this reader, else a new one.
    fn join(&self, key: &str, generation: Option<&str>) -> Arc<Flight> {
        let now = Instant::now();
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flight) = flights.get(key)
            && flight.serves(generation, now)
        {
            return flight.clone();
        }
        if flights.len() >= MAX_FLIGHTS {
            flights.retain(|_, f| {
                f.finished
                    .get()
                    .is_none_or(|at| now.duration_since(*at) < SAME_GENERATION_REUSE)
            });
        }
        let flight = Arc::new(Flight {
            generation: generation.map(str::to_owned),
            result: OnceCell::new(),
            finished: std::sync::OnceLock::new(),
        });
        flights.insert(key.to_string(), flight.clone());
        flight
    }
}

/// One per database, for the life of the process.
static REGISTRY: LazyLock<Mutex<HashMap<String, Arc<Shared>>>> = LazyLock::new(Mutex::default);

/// The posts cache of one database. Cheap to build per request.
#[derive(Clone)]
pub struct PostCache {
    redis: Pool,
    shared: Arc<Shared>,
}

enum Lookup {
    Hit(String),
    Miss { generation: String },
    Unavailable,
}

impl PostCache {
    pub fn new(db: &PgPool, redis: &Pool) -> Self {
        let options = db.connect_options();
        let database = options.get_database().unwrap_or("postgres");
        let shared = REGISTRY
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(database.to_string())
            .or_insert_with(|| Arc::new(Shared::new(database)))
            .clone();
        Self {
            redis: redis.clone(),
            shared,
        }
    }

    pub fn of(state: &AppState) -> Self {
        Self::new(&state.db, &state.redis)
    }

    /// How many times this database's cache has run a loader (in this process).
    pub fn loads(&self) -> u64 {
        self.shared.loads.load(Ordering::SeqCst)
    }

    /// How many Redis commands of this database's cache failed or timed out (in this process).
    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::SeqCst)
    }

    /// The key prefix, `palisade:v1:{db}:posts`.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    fn generation_key(&self) -> String {
        format!("{}:gen", self.shared.prefix)
    }

    fn key(&self, generation: &str, entry: Entry<'_>) -> String {
        format!("{}:{generation}:{}", self.shared.prefix, entry.suffix())
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
        let cache = entry.label();
        let generation = match self.lookup(entry).await {
            Lookup::Hit(json) => match serde_json::from_str(&json) {
                Ok(value) => {
                    metrics::counter!("cache_hits_total", "cache" => cache).increment(1);
                    return Ok(Some(value));
                }
                Err(e) => {
                    // Another version of the app wrote it; overwrite it.
                    metrics::counter!("cache_errors_total", "cache" => cache).increment(1);
                    tracing::warn!(cache, error = %e, "unreadable cache entry");
                    None
                }
            },
            Lookup::Miss { generation } => Some(generation),
            Lookup::Unavailable => None,
        };
        metrics::counter!("cache_misses_total", "cache" => cache).increment(1);

        let epoch = self.shared.epoch.load(Ordering::SeqCst);
        let flight_key = format!("{epoch}/{}", entry.suffix());
        let flight = self.shared.join(&flight_key, generation.as_deref());
        let outcome = flight
            .result
            .get_or_init(|| async {
                let result = self.load(entry, flight.generation.as_deref(), load).await;
                let _ = flight.finished.set(Instant::now());
                result
            })
            .await
            .clone();
        match outcome? {
            Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| {
                tracing::error!(error = %e, "cannot read back a cache entry");
                AppError::Internal
            }),
            None => Ok(None),
        }
    }

    /// Runs the loader for a flight and stores what it got. Redis is asked once more first: a
    /// flight that finished between this reader's miss and its joining has filled the entry.
    async fn load<T, F, Fut>(
        &self,
        entry: Entry<'_>,
        generation: Option<&str>,
        load: F,
    ) -> Result<Option<Arc<str>>, AppError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, AppError>>,
    {
        let generation = match generation {
            Some(_) => match self.lookup(entry).await {
                Lookup::Hit(json) => return Ok(Some(json.into())),
                Lookup::Miss { generation } => Some(generation),
                Lookup::Unavailable => None,
            },
            None => None,
        };
        let cache = entry.label();
        self.shared.loads.fetch_add(1, Ordering::SeqCst);
        metrics::counter!("cache_loads_total", "cache" => cache).increment(1);
        let json: Option<Arc<str>> = match load().await? {
            Some(value) => Some(
                serde_json::to_string(&value)
                    .map_err(|e| {
                        tracing::error!(error = %e, "cannot serialize a cache entry");
                        AppError::Internal
                    })?
                    .into(),
            ),
            None => None,
        };
        if let (Some(generation), Some(json)) = (&generation, &json) {
            self.store(&self.key(generation, entry), json, cache).await;
        }
        Ok(json)
    }

    async fn lookup(&self, entry: Entry<'_>) -> Lookup {
        if self.shared.bypassing() {
            return Lookup::Unavailable;
        }
        let read = self.redis.eval::<Vec<Option<String>>, _, _, _>(
            READ_SCRIPT,
            self.generation_key(),
            vec![
                format!("{}:", self.shared.prefix),
                format!(":{}", entry.suffix()),
            ],
        );
        match timeout(READ_TIMEOUT, read).await {
            Ok(Ok(reply)) => {
                let mut reply = reply.into_iter();
                let generation = reply.next().flatten().unwrap_or_else(|| "0".into());
                match reply.next().flatten() {
                    Some(json) => Lookup::Hit(json),
                    None => Lookup::Miss { generation },
                }
            }
            Ok(Err(e)) => {
                self.shared.redis_failed(entry.label(), "read", &e);
                Lookup::Unavailable
            }
            Err(_) => {
                self.shared
                    .redis_failed(entry.label(), "read", &"timed out");
                Lookup::Unavailable
            }
        }
    }

    async fn store(&self, key: &str, json: &str, cache: &'static str) {
        let ttl = Expiration::EX(TTL.as_secs() as i64);
        let write = self
            .redis
            .set::<(), _, _>(key, json, Some(ttl), None, false);
        match timeout(WRITE_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.shared.redis_failed(cache, "write", &e),
            Err(_) => self.shared.redis_failed(cache, "write", &"timed out"),
        }
    }

    /// Retires every cached post and list page. Call it after the commit of any write that can
    /// change what anonymous visitors see. If Redis does not answer, it is retried in the
    /// background for a while; entries expire with their TTL in any case.
    pub async fn invalidate(&self) {
        self.shared.epoch.fetch_add(1, Ordering::SeqCst);
        if self.bump().await {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            for attempt in 1..=5u32 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                if this.bump().await {
                    tracing::info!(attempt, "posts cache invalidated after a retry");
                    return;
                }
            }
            tracing::error!("could not invalidate the posts cache; entries expire within {TTL:?}");
        });
    }

    async fn bump(&self) -> bool {
        let incr = self.redis.incr::<i64, _>(self.generation_key());
        match timeout(INVALIDATE_TIMEOUT, incr).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                self.shared.redis_failed("posts", "invalidation", &e);
                false
            }
            Err(_) => {
                self.shared
                    .redis_failed("posts", "invalidation", &"timed out");
                false
            }
        }
    }
}
