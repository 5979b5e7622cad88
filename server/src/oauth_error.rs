//! The error answers of the API clients' surface (`/auth/v1`, and a Bearer token refused by
//! the session middleware): OAuth 2 / RFC 6750 JSON with the status that fits, never cached.
//! Routes and middleware both answer this way, so it lives below both.
use app::error::AppError;
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// The OAuth 2 error JSON (`{"error", "error_description"}`), never cached.
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// 401 for a request that needs an access token and came without one.
pub fn missing_token() -> Response {
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Send an access token: Authorization: Bearer <token>.",
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// 401 for a Bearer token that is malformed, forged, expired, for another issuer, or whose
/// user may no longer sign in (RFC 6750).
pub fn invalid_token(description: &str) -> Response {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer error="invalid_token""#),
    );
    response
}

/// 413 for a body over the limit (see `crate::middleware::body_limit`).
pub fn too_large() -> Response {
    app_error(AppError::TooLarge)
}

/// A flow's error as an OAuth-style answer. Internal failures were logged where they happened.
pub fn app_error(e: AppError) -> Response {
    let description = e.to_string();
    match e {
        AppError::Invalid { field, .. } => {
            let code = match field.as_deref() {
                Some("unconfirmed") => "email_not_confirmed",
                Some("scope") => "invalid_request",
                _ => "invalid_grant",
            };
            oauth_error(StatusCode::BAD_REQUEST, code, &description)
        }
        AppError::Unauthorized => invalid_token("This sign-in is no longer valid. Sign in again."),
        AppError::Forbidden => oauth_error(StatusCode::FORBIDDEN, "forbidden", &description),
        AppError::NotFound => oauth_error(StatusCode::NOT_FOUND, "not_found", &description),
        AppError::TooLarge => oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            &description,
        ),
        AppError::RateLimited { retry_after_secs } => {
            let mut response = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "over_request_rate_limit",
                &description,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        AppError::Unavailable => {
            let mut response = oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                &description,
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(app::error::UNAVAILABLE_RETRY_AFTER_SECS),
            );
            response
        }
        AppError::Conflict(_) | AppError::Internal | AppError::Network => oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &description,
        ),
    }
}
