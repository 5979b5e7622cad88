//! Rendered pages for anonymous readers, kept in this process for a moment: a cached public
//! page costs a map lookup instead of a render (see docs/caching.md, "Rendered pages").
//!
//! Only what the `page_cache` middleware judges shareable comes in (a page marked the same for
//! every anonymous reader, answered 200 to a request without cookies or credentials), keyed by
//! path and query. Every write that retires the posts cache retires these too, at once in this
//! process; other instances see it when their copy lapses (`ttl`, a second by default). Each
//! serve gets a fresh CSP nonce, so no two readers share one.
use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Pages above this size are served but not kept.
pub const MAX_PAGE_BYTES: usize = 512 * 1024;
/// Entries kept at most; past it, lapsed entries are dropped, and if none lapsed, nothing new
/// is stored until some do (a crawler walking every post cannot grow the map without bound).
pub const MAX_PAGES: usize = 2_000;

/// One rendered page: its headers and body, and the nonce its inline scripts carry.
pub struct CachedPage {
    pub headers: http::HeaderMap,
    body: String,
    nonce: String,
    epoch: u64,
    until: Instant,
}

impl CachedPage {
    /// The body with this serve's nonce in place of the one it was rendered with.
    pub fn body_with_nonce(&self, nonce: &str) -> String {
        self.body.replace(&self.nonce, nonce)
    }
}

#[derive(Default)]
struct Inner {
    pages: RwLock<HashMap<String, Arc<CachedPage>>>,
    /// Bumped by every write: an entry from an older epoch is never served.
    epoch: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The rendered-page cache of one process. Clones share it.
#[derive(Clone)]
pub struct PageCache {
    inner: Arc<Inner>,
    ttl: Duration,
}

impl PageCache {
    /// A cache keeping pages for `ttl`; `Duration::ZERO` turns it off.
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The write epoch; take it before rendering and hand it to [`Self::put`].
    pub fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedPage>> {
        let found = self
            .inner
            .pages
            .read()
            .ok()
            .and_then(|pages| pages.get(key).cloned())
            .filter(|page| page.epoch == self.epoch() && page.until > Instant::now());
        let (counter, metric) = match found {
            Some(_) => (&self.inner.hits, "cache_hits_total"),
            None => (&self.inner.misses, "cache_misses_total"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(metric, "cache" => "page").increment(1);
        found
    }

    /// Keeps a page rendered from what was current at `epoch`, unless a write came since (it
    /// may show what the write changed, or not) or the page is too big.
    pub fn put(
        &self,
        key: String,
        headers: http::HeaderMap,
        body: String,
        nonce: String,
        epoch: u64,
    ) {
        if body.len() > MAX_PAGE_BYTES || nonce.is_empty() {
            return;
        }
        let Ok(mut pages) = self.inner.pages.write() else {
            return;
        };
        // Checked under the lock `invalidate` takes too: no page of an old epoch gets in after
        // the map was cleared.
        if epoch != self.epoch() {
            return;
        }
        let now = Instant::now();
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, page| page.until > now);
            if pages.len() >= MAX_PAGES {
                return;
            }
        }
        let page = CachedPage {
            headers,
            body,
            nonce,
            epoch,
            until: now + self.ttl,
        };
        pages.insert(key, Arc::new(page));
    }

    /// Retires every page at once (after a write's commit).
    pub fn invalidate(&self) {
        if let Ok(mut pages) = self.inner.pages.write() {
            self.inner.epoch.fetch_add(1, Ordering::AcqRel);
            pages.clear();
        }
    }

    /// Pages served from here (in this process).
    pub fn hits(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// Cacheable requests that were rendered (in this process).
    pub fn misses(&self) -> u64 {
        self.inner.misses.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(cache: &PageCache, key: &str, body: &str, epoch: u64) {
        let headers = http::HeaderMap::new();
        cache.put(key.into(), headers, body.into(), "N0NCE".into(), epoch);
    }

    #[test]
    fn a_kept_page_is_served_with_a_fresh_nonce_until_a_write() {
        let cache = PageCache::new(Duration::from_secs(60));
        put(
            &cache,
            "/posts",
            r#"<script nonce="N0NCE">1</script>"#,
            cache.epoch(),
        );
        let page = cache.get("/posts").expect("kept");
        assert_eq!(
            page.body_with_nonce("fresh"),
            r#"<script nonce="fresh">1</script>"#
        );
        cache.invalidate();
        assert!(cache.get("/posts").is_none(), "a write retires it");
        assert_eq!((cache.hits(), cache.misses()), (1, 1));
    }

    #[test]
    fn a_page_rendered_before_a_write_is_not_kept() {
        let cache = PageCache::new(Duration::from_secs(60));
        let epoch = cache.epoch();
        cache.invalidate();
        put(&cache, "/posts", "old", epoch);
        assert!(cache.get("/posts").is_none());
    }

    #[test]
    fn pages_lapse_and_a_zero_ttl_keeps_nothing() {
        let cache = PageCache::new(Duration::from_millis(1));
        put(&cache, "/posts", "x", cache.epoch());
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get("/posts").is_none(), "lapsed");
        assert!(!PageCache::new(Duration::ZERO).enabled());
    }

    #[test]
    fn the_map_never_grows_past_its_bound() {
        let cache = PageCache::new(Duration::from_secs(60));
        for i in 0..MAX_PAGES + 10 {
            put(&cache, &format!("/posts/{i}"), "x", cache.epoch());
        }
        assert_eq!(cache.inner.pages.read().unwrap().len(), MAX_PAGES);
        let big = "x".repeat(MAX_PAGE_BYTES + 1);
        cache.invalidate();
        put(&cache, "/big", &big, cache.epoch());
        assert!(cache.get("/big").is_none(), "too big to keep");
    }
}
