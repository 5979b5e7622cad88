//! Whole pages as browsers and shared caches see them: what user text can do to the
//! document, and which responses a cache may keep.
mod cache_policy;
mod injection;
