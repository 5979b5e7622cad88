//! Serves anonymous readers' public pages from this process's rendered-page cache
//! (`app::ssr::cache::PageCache`; the rule is in docs/caching.md, "Rendered pages").
use app::ssr::{
    cache::{MAX_PAGE_BYTES, PageCache, PostCache},
    csp::{PageNonce, fresh_nonce},
    http_cache,
};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};

/// Outside the cache-policy layer, so it keeps exactly what a shared cache in front may keep
/// (`Cache-Control` = `http_cache::PUBLIC`), and only for requests that carry no cookie and no
/// credential: whoever sends one is rendered for, every time.
pub async fn page_cache(State(posts): State<PostCache>, request: Request, next: Next) -> Response {
    let pages = posts.pages();
    let nonce_slot = request.extensions().get::<PageNonce>().cloned();
    let (true, Some(nonce_slot)) = (
        pages.enabled() && is_anonymous_page_read(&request),
        nonce_slot,
    ) else {
        return next.run(request).await;
    };
    let key = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |pq| pq.as_str().to_owned(),
    );
    if let Some(page) = pages.get(&key) {
        let nonce = fresh_nonce();
        let body = page.body_with_nonce(&nonce);
        nonce_slot.fill(nonce);
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = page.headers.clone();
        return response;
    }
    let epoch = pages.epoch();
    let response = next.run(request).await;
    match nonce_slot.get() {
        Some(nonce) if is_shareable_page(&response) => {
            let nonce = nonce.to_owned();
            keep(pages, key, response, nonce, epoch).await
        }
        _ => response,
    }
}

fn is_anonymous_page_read(request: &Request) -> bool {
    let headers = request.headers();
    let path = request.uri().path();
    request.method() == Method::GET
        && !headers.contains_key(header::COOKIE)
        && !headers.contains_key(header::AUTHORIZATION)
        && !path.starts_with("/api/")
        && !path.starts_with("/auth/")
}

fn is_shareable_page(response: &Response) -> bool {
    let headers = response.headers();
    response.status() == StatusCode::OK
        && !headers.contains_key(header::SET_COOKIE)
        && headers
            .get(header::CACHE_CONTROL)
            .is_some_and(|v| v == http_cache::PUBLIC)
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
}

/// Reads the rendered body (whole: an async render is in memory already), keeps it, and
/// answers with it.
async fn keep(
    pages: &PageCache,
    key: String,
    response: Response,
    nonce: String,
    epoch: u64,
) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "could not read a rendered page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if bytes.len() <= MAX_PAGE_BYTES
        && let Ok(text) = std::str::from_utf8(&bytes)
    {
        pages.put(key, parts.headers.clone(), text.to_owned(), nonce, epoch);
    }
    Response::from_parts(parts, Body::from(bytes))
}
