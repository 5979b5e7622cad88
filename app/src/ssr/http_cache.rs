//! Which responses a shared cache (CDN, proxy) may keep. The rule lives in one middleware
//! (`server/src/middleware/cache_policy.rs`); a page only says "I am the same for every
//! anonymous reader" with [`mark_shareable`], and the middleware decides:
//!
//! 1. a response for a signed-in viewer (session or Bearer token), or one that sets a cookie,
//!    is `private, no-store`, whatever else it says;
//! 2. else a successful GET of a page marked shareable gets [`PUBLIC`] and `Vary: Cookie`;
//! 3. else a policy the handler set itself stands (static files under `/pkg`);
//! 4. else `no-store`: forms, errors, drafts, server functions, anything not marked.
//!
//! So forgetting the mark costs only cacheability, never privacy.
use http::{HeaderName, HeaderValue};
use leptos::prelude::use_context;

/// Set by [`mark_shareable`], removed by the middleware before the response leaves.
pub const SHAREABLE: HeaderName = HeaderName::from_static("x-palisade-shareable");

pub const PRIVATE: &str = "private, no-store";
pub const NOT_STORED: &str = "no-store";
/// Browsers revalidate every time; shared caches keep a page a minute and may serve it a
/// minute longer while refetching. That minute is also how long an unpublished post can stay
/// visible through a CDN that is not purged.
pub const PUBLIC: &str = "public, max-age=0, s-maxage=60, stale-while-revalidate=60";

/// Marks the page being rendered as the same for every anonymous reader. Call it only once
/// the page knows it shows public content (a published post, the public list).
pub fn mark_shareable() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(SHAREABLE, HeaderValue::from_static("1"));
    }
}
