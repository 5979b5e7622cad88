//! The answer to a request body over the limit, in the error shape of the surface it was sent to.
//!
//! tower-http's `RequestBodyLimit` refuses a body whose declared length is over the limit with a
//! plain-text 413 before any handler runs. A chunked body that grows past the limit is refused
//! where it is read instead: the error conversions turn that into the same 413 (see
//! `app::error::is_body_too_large`).
use app::error::AppError;
use axum::{
    Json,
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Goes just outside `RequestBodyLimitLayer`: rewrites its plain-text 413 only.
pub async fn in_error_shape(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/auth/v1/");
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || !plain {
        return response;
    }
    tracing::info!("refused a request body over the limit");
    if api {
        crate::oauth_error::too_large()
    } else {
        (StatusCode::PAYLOAD_TOO_LARGE, Json(AppError::TooLarge)).into_response()
    }
}
