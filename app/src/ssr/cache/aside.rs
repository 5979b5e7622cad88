//! A generic cache-aside over Redis, with a generation per cache, single-flight loads and a
//! bypass while Redis fails; what is cached and under which keys is its user's business.
use std::{
    future::Future,
    sync::{
        Arc,
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
use tokio::time::timeout;

use super::flight::Flights;
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

/// The generation and the entry under it, read atomically. Keys beyond `KEYS[1]` are built in
/// the script (fine for a single Redis; a cluster would need a hash tag on `{db}`).
const READ_SCRIPT: &str = "local g = redis.call('GET', KEYS[1]) or '0' \
                           return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}";

/// An entry of a cache: its `cache` metric label and its key under the cache's prefix and
/// generation.
pub trait Key: Copy {
    fn label(self) -> &'static str;
    fn suffix(self) -> String;
}

/// What one cache shares across requests in this process.
struct Shared {
    /// The cache's name, for the metrics and logs of its invalidation.
    name: &'static str,
    /// `palisade:v1:{db}:{name}`
    prefix: String,
    flights: Flights,
    /// Loader runs (database reads on behalf of the cache), for tests and the benchmark.
    loads: AtomicU64,
    /// Redis failures and timeouts, likewise.
    errors: AtomicU64,
    /// Bumped by every local invalidation, and part of every flight's key: a read that starts
    /// after a write never joins a load that started before it (matters while Redis is down).
    epoch: AtomicU64,
    /// When this cache was built: the clock of `bypass_until_ms`.
    started: Instant,
    /// Reads skip Redis until this many milliseconds after `started` (0: never set). An atomic,
    /// not a lock: every read looks at it.
    bypass_until_ms: AtomicU64,
}

impl Shared {
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn bypassing(&self) -> bool {
        let until = self.bypass_until_ms.load(Ordering::SeqCst);
        until != 0 && self.elapsed_ms() < until
    }

    fn redis_failed(&self, cache: &'static str, what: &str, error: &dyn std::fmt::Display) {
        metrics::counter!("cache_errors_total", "cache" => cache).increment(1);
        self.errors.fetch_add(1, Ordering::SeqCst);
        tracing::warn!(cache, error = %error, "cache {what} failed; reading from Postgres");
        let until = self
            .elapsed_ms()
            .saturating_add(u64::try_from(BYPASS_FOR.as_millis()).unwrap_or(u64::MAX));
        self.bypass_until_ms.store(until, Ordering::SeqCst);
    }
}

/// One cache. Built once (at start-up) and cloned: the clones share its flights and counters.
#[derive(Clone)]
pub struct Cache {
    redis: Pool,
    shared: Arc<Shared>,
}

enum Lookup {
    Hit(String),
    Miss { generation: String },
    Unavailable,
}

impl Cache {
    /// The Redis pool this cache uses.
    pub fn redis(&self) -> &Pool {
        &self.redis
    }

    pub fn new(redis: &Pool, name: &'static str, prefix: String) -> Self {
        Self {
            redis: redis.clone(),
            shared: Arc::new(Shared {
                name,
                prefix,
                flights: Flights::default(),
                loads: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                epoch: AtomicU64::new(0),
                started: Instant::now(),
                bypass_until_ms: AtomicU64::new(0),
            }),
        }
    }

    /// How many times this cache has run a loader (in this process).
    pub fn loads(&self) -> u64 {
        self.shared.loads.load(Ordering::SeqCst)
    }

    /// How many Redis commands of this cache failed or timed out (in this process).
    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::SeqCst)
    }

    /// The key prefix, `palisade:v1:{db}:{name}`.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    fn generation_key(&self) -> String {
        format!("{}:gen", self.shared.prefix)
    }

    fn key(&self, generation: &str, entry: impl Key) -> String {
        format!("{}:{generation}:{}", self.shared.prefix, entry.suffix())
    }

    /// The cached value of `entry`, or what `load` returns (stored for next time unless it is
    /// `None`). `load` must read only what an anonymous visitor may see.
    pub async fn get_or_load<K, T, F, Fut>(&self, entry: K, load: F) -> Result<Option<T>, AppError>
    where
        K: Key,
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
        let flight = self.shared.flights.join(&flight_key, generation.as_deref());
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
    async fn load<K, T, F, Fut>(
        &self,
        entry: K,
        generation: Option<&str>,
        load: F,
    ) -> Result<Option<Arc<str>>, AppError>
    where
        K: Key,
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

    async fn lookup(&self, entry: impl Key) -> Lookup {
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

    /// Retires every entry of this cache (bumps its generation). If Redis does not answer, it is
    /// retried in the background for a while; entries expire with their TTL in any case.
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
                    let name = this.shared.name;
                    tracing::info!(attempt, "{name} cache invalidated after a retry");
                    return;
                }
            }
            let name = this.shared.name;
            tracing::error!("could not invalidate the {name} cache; entries expire within {TTL:?}");
        });
    }

    async fn bump(&self) -> bool {
        let incr = self.redis.incr::<i64, _>(self.generation_key());
        match timeout(INVALIDATE_TIMEOUT, incr).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                self.shared
                    .redis_failed(self.shared.name, "invalidation", &e);
                false
            }
            Err(_) => {
                self.shared
                    .redis_failed(self.shared.name, "invalidation", &"timed out");
                false
            }
        }
    }
}
