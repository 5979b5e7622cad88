//! Headers every response carries unless its handler set its own, and the nonce policy of
//! every rendered page.
use std::sync::Arc;

use app::ssr::csp::{PageNonce, page_policy};
use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

#[derive(Clone)]
pub struct Policy {
    /// HSTS is sent only when the public URL is https.
    pub https: bool,
    /// `cargo leptos watch`'s reload websocket, which pages may connect to (development).
    pub reload: Option<String>,
}

/// Headers every response carries unless the handler set its own. A rendered page gets the
/// policy that allows its nonce-bearing hydration scripts (see `app::ssr::csp`); everything
/// else the strict default.
pub async fn security_headers(
    State(policy): State<Arc<Policy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = PageNonce::default();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if let Some(nonce) = nonce.get().filter(|_| is_html)
        && let Ok(value) = HeaderValue::from_str(&page_policy(nonce, policy.reload.as_deref()))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    for (name, value) in defaults {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if policy.https {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(
                "max-age=63072000; includeSubDomains",
            ));
    }
    response
}
