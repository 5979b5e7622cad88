//! One module per page.
pub mod account;
pub mod admin;
pub mod auth;
pub mod home;
pub mod not_found;
pub mod posts;
pub mod unavailable;

/// The page shows only public content, the same for every anonymous reader, so a shared cache
/// may keep it (see `crate::ssr::http_cache` for the whole rule). Nothing in the browser.
pub(crate) fn shareable_when_anonymous() {
    #[cfg(feature = "ssr")]
    crate::ssr::http_cache::mark_shareable();
}
