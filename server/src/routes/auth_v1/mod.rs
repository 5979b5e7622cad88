//! `/auth/v1`: Supabase Auth's API for API clients (sign-up, token, user, logout, recover,
//! resend, settings); see docs/api.md.
use app::{
    error::{AppError, is_body_too_large},
    ssr::{
        RequestContext,
        auth::{
            flows::{api_clients, recovery, signup},
            jwt::Claims,
        },
        state::AppState,
    },
};
use axum::{
    Extension, Form, Json, Router,
    extract::{FromRequest as _, Query, Request, State, rejection::QueryRejection},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, de::DeserializeOwned};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::oauth_error::{API_VERSION, API_VERSION_HEADER, app_error, missing_token, oauth_error};

/// The routes; their [`RequestContext`] carries the session layers' `Caller` and `Actor` (see
/// `middleware::sessions`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/auth/v1/token", post(token))
        .route("/auth/v1/user", get(user))
        .route("/auth/v1/logout", post(logout))
        .route("/auth/v1/signup", post(sign_up))
        .route("/auth/v1/recover", post(recover))
        .route("/auth/v1/resend", post(resend))
        .route("/auth/v1/settings", get(settings))
        .route("/auth/v1/.well-known/jwks.json", get(jwks))
        .layer(middleware::from_fn_with_state(state.clone(), check_api_key))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(API_VERSION_HEADER),
            HeaderValue::from_static(API_VERSION),
        ))
        .with_state(state)
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

#[derive(Deserialize)]
struct GrantQuery {
    grant_type: Option<String>,
}

#[derive(Deserialize, Default)]
struct GrantBody {
    grant_type: Option<String>,
    #[serde(alias = "username")]
    email: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

/// The grant's body: a form when the client says so, JSON otherwise; the error answer if it
/// cannot be read.
async fn grant_body(request: Request) -> Result<GrantBody, Response> {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let refused = if form {
        match Form::<GrantBody>::from_request(request, &()).await {
            Ok(Form(body)) => return Ok(body),
            Err(e) => (e.status(), e.body_text()),
        }
    } else {
        match Json::<GrantBody>::from_request(request, &()).await {
            Ok(Json(body)) => return Ok(body),
            Err(e) => (e.status(), e.body_text()),
        }
    };
    Err(unreadable_body(refused))
}

/// A JSON body (what Supabase's clients send), or the error answer if it cannot be read.
async fn json_body<T: DeserializeOwned>(request: Request) -> Result<T, Response> {
    match Json::<T>::from_request(request, &()).await {
        Ok(Json(body)) => Ok(body),
        Err(e) => Err(unreadable_body((e.status(), e.body_text()))),
    }
}

/// The answer to a body that could not be read: 413 past the limit, else `bad_json`.
fn unreadable_body((status, text): (StatusCode, String)) -> Response {
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
fn unreadable_query(_: QueryRejection) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "validation_failed",
        "The query string could not be read.",
    )
}

async fn token(
    ctx: RequestContext,
    grant_query: Result<Query<GrantQuery>, QueryRejection>,
    request: Request,
) -> Response {
    let query = match grant_query {
        Ok(Query(q)) => q,
        Err(e) => return unreadable_query(e),
    };
    let body = match grant_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let grant_type = query.grant_type.or(body.grant_type.clone());
    let granted = match grant_type.as_deref() {
        Some("password") => {
            api_clients::password_grant(&ctx, &text(&body.email), &text(&body.password)).await
        }
        Some("refresh_token") => api_clients::refresh_grant(&ctx, &text(&body.refresh_token)).await,
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "validation_failed",
                "grant_type must be password or refresh_token.",
            );
        }
    };
    match granted {
        Ok(pair) => no_store(Json(pair)),
        Err(e) => app_error(e),
    }
}

async fn user(ctx: RequestContext, claims: Option<Extension<Claims>>) -> Response {
    if claims.is_none() {
        return missing_token();
    }
    // Read as the user: a banned or deleted user gets 401 even with an unexpired token.
    match api_clients::user(&ctx).await {
        Ok(user) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct LogoutQuery {
    scope: Option<String>,
}

async fn logout(
    ctx: RequestContext,
    logout_query: Result<Query<LogoutQuery>, QueryRejection>,
    claims: Option<Extension<Claims>>,
) -> Response {
    let Some(Extension(claims)) = claims else {
        return missing_token();
    };
    let query = match logout_query {
        Ok(Query(q)) => q,
        Err(e) => return unreadable_query(e),
    };
    let scope = match api_clients::Scope::parse(query.scope.as_deref()) {
        Ok(scope) => scope,
        Err(e) => return app_error(e),
    };
    match api_clients::sign_out(&ctx, claims.sub, claims.session_id, scope).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => app_error(e),
    }
}

fn no_store(body: impl IntoResponse) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        body,
    )
        .into_response()
}

/// The keys the account endpoints read; Supabase's others (`data`, `gotrue_meta_security`,
/// `code_challenge`, …) are accepted and ignored.
#[derive(Deserialize)]
struct AccountBody {
    email: Option<String>,
    password: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `POST /signup`: the answer is the pending user (never a session: the address must be
/// confirmed first), the same for a taken address.
async fn sign_up(ctx: RequestContext, request: Request) -> Response {
    let body: AccountBody = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let (email, password) = (text(body.email), text(body.password));
    match api_clients::sign_up(&ctx, &email, password).await {
        Ok(user) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

/// `POST /recover`: a reset link to the address if it has an account; `{}` either way.
async fn recover(ctx: RequestContext, request: Request) -> Response {
    let body: AccountBody = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    match recovery::forgot(&ctx, &text(body.email)).await {
        Ok(()) => no_store(Json(serde_json::json!({}))),
        Err(e) => app_error(e),
    }
}

/// `POST /resend` with `type: signup`: the confirmation email again, if the address waits for
/// one; `{}` either way.
async fn resend(ctx: RequestContext, request: Request) -> Response {
    let body: AccountBody = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if body.kind.as_deref() != Some("signup") {
        return app_error(AppError::invalid("type", "Only type signup can be resent."));
    }
    match signup::resend(&ctx, &text(body.email)).await {
        Ok(()) => no_store(Json(serde_json::json!({}))),
        Err(e) => app_error(e),
    }
}

/// `GET /settings`: what this server offers, in Supabase's shape.
async fn settings() -> Response {
    Json(serde_json::json!({
        "external": { "email": true, "phone": false, "anonymous_users": false },
        "disable_signup": false,
        "mailer_autoconfirm": false,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
    }))
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

fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}
