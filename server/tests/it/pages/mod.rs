//! Whole pages as browsers and shared caches see them: what user text can do to the
//! document, which responses a cache may keep (and the rendered-page cache keeps), and what a
//! page shows while a service is down.
mod cache_policy;
mod degraded;
mod injection;
mod rendered_cache;
