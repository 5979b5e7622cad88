//! `/auth/v1`: Supabase Auth's API for API clients (sign-up, token, user, logout, recover,
//! resend, settings); see docs/api.md.
mod accounts;
mod admin;
mod token;
mod user;
mod verify;

use app::{
    error::{AppError, is_body_too_large},
    ssr::state::AppState,
};
use axum::{
    Json, Router,
    extract::{FromRequest as _, Request, State, rejection::QueryRejection},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::de::DeserializeOwned;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
};

use crate::oauth_error::{API_VERSION, API_VERSION_HEADER, app_error, oauth_error};

/// The routes; their [`RequestContext`] carries the session layers' `Caller` and `Actor` (see
/// `middleware::sessions`).
pub fn router(state: AppState, cors_origins: &[String]) -> Router {
    let admin = Router::new()
        .route("/auth/v1/admin/users", post(admin::create_user))
        .route(
            "/auth/v1/admin/users/{id}",
            get(admin::get_user).delete(admin::delete_user),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            admin::require_secret_key,
        ));
    Router::new()
        .merge(admin)
        .route("/auth/v1/token", post(token::token))
        .route("/auth/v1/user", get(user::user).put(user::update))
        .route("/auth/v1/logout", post(user::logout))
        // GET as auth-js sends it (and Supabase serves it); POST as the issue names it. Both
        // need the Bearer token, so no cookie can make a browser send it.
        .route(
            "/auth/v1/reauthenticate",
            get(user::reauthenticate).post(user::reauthenticate),
        )
        .route("/auth/v1/signup", post(accounts::sign_up))
        .route("/auth/v1/recover", post(accounts::recover))
        .route("/auth/v1/resend", post(accounts::resend))
        .route("/auth/v1/otp", post(accounts::otp))
        .route(
            "/auth/v1/verify",
            get(verify::verify_link).post(verify::verify),
        )
        .route("/auth/v1/settings", get(accounts::settings))
        .route("/auth/v1/.well-known/jwks.json", get(jwks))
        .layer(middleware::from_fn_with_state(state.clone(), check_api_key))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(API_VERSION_HEADER),
            HeaderValue::from_static(API_VERSION),
        ))
        // Outermost: a preflight is answered before the API key is looked at.
        .layer(cors(cors_origins))
        .with_state(state)
}

/// Browser apps on the listed origins may call `/auth/v1` (auth-js from another origin); never
/// with credentials, since nothing here reads a cookie.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("apikey"),
            HeaderName::from_static("x-client-info"),
            HeaderName::from_static(API_VERSION_HEADER),
        ])
        .expose_headers([
            HeaderName::from_static(API_VERSION_HEADER),
            header::RETRY_AFTER,
        ])
        .allow_credentials(false)
        .max_age(std::time::Duration::from_secs(600))
}

/// An `apikey` header that is not one of the project's keys is refused before anything else;
/// none at all is fine (the publishable key is public: requiring it would protect nothing).
async fn check_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(presented) = request.headers().get("apikey") {
        let known = presented
            .to_str()
            .ok()
            .and_then(|key| state.api_keys.recognise(key.trim()));
        if known.is_none() {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "invalid_api_key",
                "Invalid API key.",
            );
        }
    }
    next.run(request).await
}

/// A JSON body (what Supabase's clients send), or the error answer if it cannot be read.
pub(super) async fn json_body<T: DeserializeOwned>(request: Request) -> Result<T, Response> {
    match Json::<T>::from_request(request, &()).await {
        Ok(Json(body)) => Ok(body),
        Err(e) => Err(unreadable_body((e.status(), e.body_text()))),
    }
}

/// The answer to a body that could not be read: 413 past the limit, else `bad_json`.
pub(super) fn unreadable_body((status, text): (StatusCode, String)) -> Response {
    // A chunked body that grows past the limit surfaces here, as a read error.
    if status == StatusCode::PAYLOAD_TOO_LARGE || is_body_too_large(&text) {
        return app_error(AppError::TooLarge);
    }
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "bad_json",
        "Send a JSON body (Content-Type: application/json) or a form.",
    )
}

/// The OAuth-style 400 for a query string that cannot be read (e.g. a repeated key).
pub(super) fn unreadable_query(_: QueryRejection) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "validation_failed",
        "The query string could not be read.",
    )
}

pub(super) fn no_store(body: impl IntoResponse) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        body,
    )
        .into_response()
}

/// `GET /.well-known/jwks.json`: the public keys access tokens are signed with (the next
/// generation's too, so clients have it before it signs). auth-js caches it for 10 minutes.
async fn jwks(State(state): State<AppState>) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        )],
        Json(state.jwt.jwks()),
    )
        .into_response()
}

pub(super) fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}
