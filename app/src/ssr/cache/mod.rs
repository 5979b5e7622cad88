//! Cache-aside in Redis for what an anonymous visitor may see: a generic cache (`aside`, with
//! single-flight loads in `flight`) and the posts cache on it (`posts`). See docs/caching.md.
mod aside;
mod flight;
mod posts;

pub use aside::{BYPASS_FOR, Cache, Key, READ_TIMEOUT, TTL};
pub use posts::{Entry, PostCache};
