//! Cross-cutting HTTP middleware of our own: request spans, security headers, the
//! same-origin rule for state-changing requests (CSRF defence), and who may cache a response.
use app::ssr::{auth::Actor, http_cache};
use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The span every log line of a request is written in.
pub fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        user_id = tracing::field::Empty,
    )
}

/// Headers every response carries unless the handler set its own (pages set a CSP that
/// allows their nonce-bearing hydration scripts).
pub async fn security_headers(State(https): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
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
    if https {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(
                "max-age=63072000; includeSubDomains",
            ));
    }
    response
}

/// A response rendered for a signed-in viewer (set inside the actor middleware, read by
/// [`cache_policy`] outside it).
#[derive(Clone, Copy, Debug)]
pub struct ForSignedInViewer;

/// Notes on the response whether the request's actor was a signed-in user. Sits inside the
/// session layers (which resolve the actor), so [`cache_policy`] outside them can tell.
pub async fn note_viewer(request: Request, next: Next) -> Response {
    let signed_in = request
        .extensions()
        .get::<Actor>()
        .is_some_and(|actor| actor.user_id().is_some());
    let mut response = next.run(request).await;
    if signed_in {
        response.extensions_mut().insert(ForSignedInViewer);
    }
    response
}

/// Gives every page, server function and `/auth/v1` response its `Cache-Control`, by the
/// rule documented in `app::ssr::http_cache`. Sits outside the session layer, so it sees the
/// session cookie being set.
pub async fn cache_policy(request: Request, next: Next) -> Response {
    let readable = matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = next.run(request).await;
    let personal = response.extensions().get::<ForSignedInViewer>().is_some()
        || response.headers().contains_key(header::SET_COOKIE);
    let success = response.status() == StatusCode::OK;
    let headers = response.headers_mut();
    let shareable = headers.remove(http_cache::SHAREABLE).is_some();
    let policy = if personal {
        http_cache::PRIVATE
    } else if shareable && readable && success {
        // The same URL differs for a signed-in reader (who is never served from here anyway,
        // but a cache keyed without the cookie must not hand this to them either).
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        http_cache::PUBLIC
    } else if headers.contains_key(header::CACHE_CONTROL) {
        return response;
    } else {
        http_cache::NOT_STORED
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// The app's own origin (`scheme://host[:port]`), as browsers send it in `Origin`.
#[derive(Clone, Debug)]
pub struct Origin(String);

impl Origin {
    pub fn of(public_url: &str) -> Self {
        let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
        let end = public_url[after_scheme..]
            .find('/')
            .map_or(public_url.len(), |i| after_scheme + i);
        Self(public_url[..end].to_ascii_lowercase())
    }
}

/// Refuses state-changing requests that a browser sent from another site. Browsers send
/// `Sec-Fetch-Site` (and `Origin` on every POST), so a cross-site form or fetch is caught by one
/// of them; requests without either come from non-browser clients, which carry no ambient
/// cookies to abuse.
pub async fn same_origin_only(State(own): State<Origin>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe {
        let headers = request.headers();
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let allowed = match (fetch_site, origin) {
            (Some("same-origin" | "none"), _) => true,
            (Some(_), _) => false,
            (None, Some(origin)) => origin.eq_ignore_ascii_case(&own.0),
            (None, None) => true,
        };
        if !allowed {
            tracing::warn!(?fetch_site, ?origin, "cross-origin request refused");
            return (
                StatusCode::FORBIDDEN,
                "Cross-site requests are not allowed.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::Origin;

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(
            Origin::of("http://127.0.0.1:3000").0,
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            Origin::of("https://Example.com/app/").0,
            "https://example.com"
        );
    }
}
