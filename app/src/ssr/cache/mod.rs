//! Cache-aside in Redis for what an anonymous visitor may see: a generic cache (`aside`, with
//! single-flight loads in `flight`) and the posts cache on it (`posts`); and the rendered pages
//! of anonymous readers, in this process for a moment (`pages`). See docs/caching.md.
mod aside;
mod flight;
mod pages;
mod posts;

pub use aside::{BYPASS_FOR, Cache, Key, READ_TIMEOUT, TTL};
pub use pages::{CachedPage, MAX_PAGE_BYTES, PageCache};
pub use posts::{Entry, PostCache};
