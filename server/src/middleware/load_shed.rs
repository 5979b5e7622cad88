//! A bound on requests in flight: past it, a request is answered 503 with `Retry-After` at
//! once, in its surface's error shape, instead of queueing behind the others without bound.
//! Layered around pages, server functions and `/auth/v1` only: probes, static files and the
//! metrics listener are never shed.
use std::sync::Arc;

use app::error::{AppError, UNAVAILABLE_RETRY_AFTER_SECS};
use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use tokio::sync::Semaphore;

/// The permits: one per request in flight (`PALISADE_MAX_IN_FLIGHT`).
#[derive(Clone)]
pub struct InFlight(Arc<Semaphore>);

impl InFlight {
    pub fn new(limit: usize) -> Self {
        Self(Arc::new(Semaphore::new(limit)))
    }
}

pub async fn shed(State(in_flight): State<InFlight>, request: Request, next: Next) -> Response {
    // Held until the response is built (a streamed body outlives it; bodies here are small).
    let Ok(_permit) = in_flight.0.try_acquire() else {
        metrics::counter!("http_requests_shed_total").increment(1);
        tracing::warn!("over the in-flight limit: shed");
        return busy(request.uri().path());
    };
    next.run(request).await
}

/// The fast answer: no rendering, no Redis, no Postgres.
fn busy(path: &str) -> Response {
    if path.starts_with("/auth/v1/") {
        return crate::oauth_error::app_error(AppError::Unavailable);
    }
    let mut response = if path.starts_with("/api/") {
        (StatusCode::SERVICE_UNAVAILABLE, Json(AppError::Unavailable)).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Html(BUSY_PAGE)).into_response()
    };
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const BUSY_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Busy · Palisade</title></head><body><main><p>503</p><h1>Palisade is busy</h1>\
<p>Too many requests are being served right now. Please try again in a moment.</p>\
</main></body></html>";
