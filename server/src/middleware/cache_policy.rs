//! Who may cache a response: the `Cache-Control` every page, server function and `/auth/v1`
//! answer gets, by the rule documented in `app::ssr::http_cache`.
use app::ssr::{auth::Actor, http_cache};
use axum::{
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};

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
