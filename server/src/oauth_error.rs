//! The error answers of the API clients' surface (`/auth/v1`, and a Bearer token refused by
//! the session middleware), never cached. One body serves both kinds of client: Supabase's
//! (`code` + `msg`, read by `@supabase/auth-js` because of the `X-Supabase-Api-Version` header)
//! and OAuth 2's (`error` + `error_description`, RFC 6749/6750). Routes and middleware both
//! answer this way, so it lives below both.
use app::error::{AppError, ErrorCode};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// The API version whose error contract these answers follow; auth-js reads `code` only when
/// an answer carries this header.
pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
pub const API_VERSION: &str = "2024-01-01";

/// The error JSON: `{"code", "msg"}` for Supabase's clients (`error_code` too, for the ones
/// older than the versioned contract) and `{"error", "error_description"}` for OAuth 2's.
pub fn oauth_error(status: StatusCode, error: &str, code: &str, description: &str) -> Response {
    answer(status, error_body(error, code, description))
}

fn error_body(error: &str, code: &str, description: &str) -> serde_json::Value {
    serde_json::json!({
        "code": code,
        "error_code": code,
        "msg": description,
        "error": error,
        "error_description": description,
    })
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::HeaderName::from_static(API_VERSION_HEADER),
                HeaderValue::from_static(API_VERSION),
            ),
        ],
        Json(body),
    )
        .into_response()
}

/// 401 for a request that needs an access token and came without one.
pub fn missing_token() -> Response {
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "no_authorization",
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
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "bad_jwt",
        description,
    );
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
        AppError::Invalid { .. } => {
            let code = e.code().unwrap_or(ErrorCode::ValidationFailed);
            // OAuth 2's name: a refused credential is `invalid_grant`, anything else a bad request.
            let error = match code {
                ErrorCode::EmailNotConfirmed => "email_not_confirmed",
                ErrorCode::ValidationFailed
                | ErrorCode::PasswordTooShort
                | ErrorCode::PasswordGuessable => "invalid_request",
                _ => "invalid_grant",
            };
            let mut body = error_body(error, code.as_str(), &description);
            // auth-js raises its AuthWeakPasswordError on these reasons.
            if let Some(reason) = code.weak_password_reason() {
                body["weak_password"] = serde_json::json!({ "reasons": [reason] });
            }
            // Supabase answers a taken address with 422, everything else here with 400.
            let status = if code == ErrorCode::EmailExists {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            answer(status, body)
        }
        AppError::Unauthorized => invalid_token("This sign-in is no longer valid. Sign in again."),
        AppError::Forbidden => oauth_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "not_admin",
            &description,
        ),
        // Supabase's name for it; the client verifies a factor (`/factors/{id}/verify`) first.
        AppError::StepUpRequired => oauth_error(
            StatusCode::FORBIDDEN,
            "insufficient_aal",
            "insufficient_aal",
            &description,
        ),
        AppError::NotFound => oauth_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "user_not_found",
            &description,
        ),
        AppError::TooLarge => oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "request_too_large",
            &description,
        ),
        AppError::RateLimited { retry_after_secs } => {
            let mut response = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "over_request_rate_limit",
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
                "service_unavailable",
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
            "unexpected_failure",
            &description,
        ),
    }
}
