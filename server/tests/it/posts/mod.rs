//! Posts against the real services: reads through the cache for every kind of reader, every
//! write path invalidating it, the stampede guard, Redis going away, bad input, XSS, and who
//! may change what (the server and the database both).
mod authoring;
mod boundaries;
mod caching;
mod permissions;

use serde_json::Value;

use crate::support::{Reader, ReadersApp};

/// The rows of "My posts" as `who` sees them.
async fn mine(world: &ReadersApp, who: &Reader) -> Vec<Value> {
    let page: Value = world.call(who, "/api/posts/mine", &[]).await.json();
    page["rows"].as_array().expect("a page of rows").clone()
}
