//! Which responses a shared cache (CDN, proxy) may keep: the policies, and the mark a page sets
//! when it is the same for every anonymous reader. The rule is in docs/caching.md.
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
