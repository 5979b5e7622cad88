//! The Content-Security-Policy of rendered pages: only this origin's scripts, plus the inline
//! hydration scripts that carry this response's nonce.
//!
//! The header is set by the server's `security_headers` middleware, not by the page: the
//! middleware puts an empty [`PageNonce`] slot into the request, [`record_page_nonce`] fills it
//! with the nonce Leptos made for this render (as part of the render's context, before any
//! component runs), and the middleware writes the policy from it once the page is rendered.
//! Nothing a page does while rendering can lose the header any more (inserting it through
//! leptos_axum's `ResponseOptions` from `App` once came back without it; see docs/security.md).
use std::sync::{Arc, OnceLock};

/// The nonce of the page a request rendered, if it rendered one.
#[derive(Clone, Debug, Default)]
pub struct PageNonce(Arc<OnceLock<String>>);

impl PageNonce {
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// For a page served without a render (the rendered-page cache), with the nonce it put in.
    pub fn fill(&self, nonce: String) {
        let _ = self.0.set(nonce);
    }
}

/// Called in every render's context setup, right after leptos_axum made the nonce.
pub fn record_page_nonce() {
    use leptos::prelude::use_context;
    let (Some(parts), Some(nonce)) = (
        use_context::<http::request::Parts>(),
        leptos::nonce::use_nonce(),
    ) else {
        return;
    };
    if let Some(slot) = parts.extensions.get::<PageNonce>() {
        let _ = slot.0.set(nonce.to_string());
    }
}

/// A nonce for a page served without a render: 128 random bits, as Leptos makes its own.
pub fn fresh_nonce() -> String {
    use base64::Engine as _;
    use rand::Rng as _;
    let bytes: [u8; 16] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The policy of a page whose inline scripts carry `nonce`. `reload` is the websocket origin
/// `cargo leptos watch` reloads the page through, in development only.
pub fn page_policy(nonce: &str, reload: Option<&str>) -> String {
    let reload = reload.map(|r| format!(" {r}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'{reload}; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The websocket origin of `cargo leptos watch`'s reloader, when running under it.
pub fn watch_reload_origin(options: &leptos::config::LeptosOptions) -> Option<String> {
    std::env::var("LEPTOS_WATCH")
        .is_ok()
        .then(|| format!("ws://{}:{}", options.site_addr.ip(), options.reload_port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_only_its_own_nonce_and_origin() {
        let policy = page_policy("abc", None);
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("connect-src 'self';"));
        let watching = page_policy("abc", Some("ws://127.0.0.1:3001"));
        assert!(watching.contains("connect-src 'self' ws://127.0.0.1:3001;"));
    }
}
