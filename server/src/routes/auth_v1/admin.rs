//! `/admin/*` with the secret key (see `flows::api_admin`). The key must come as `apikey` or
//! as the Bearer; a request carrying `Origin` is a browser's and is refused whatever it holds
//! (the secret key must never live in a browser), as are the publishable key and user tokens.
use app::{
    error::AppError,
    ssr::{
        RequestContext,
        auth::{api_keys::ApiKey, flows::api_admin},
        state::AppState,
    },
};
use axum::{
    Json,
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::Response,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{json_body, no_store};
use crate::oauth_error::{app_error, missing_token, oauth_error};

/// Lets through only a request holding the secret key and not sent by a browser.
pub(super) async fn require_secret_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let not_admin = |msg| oauth_error(StatusCode::FORBIDDEN, "forbidden", "not_admin", msg);
    if headers.contains_key(header::ORIGIN) {
        tracing::warn!("admin API called from a browser origin: refused");
        return not_admin("The admin API is not for browsers: call it from a server.");
    }
    let is_secret = |v: Option<&str>| {
        v.and_then(|k| state.api_keys.recognise(k.trim())) == Some(ApiKey::Secret)
    };
    let bearer = bearer(headers);
    let apikey = headers.get("apikey").and_then(|v| v.to_str().ok());
    if is_secret(bearer)
        || (is_secret(apikey) && bearer.is_none_or(|b| state.api_keys.recognise(b).is_some()))
    {
        return next.run(request).await;
    }
    match bearer {
        // A user's token: signed in, but not the server's key.
        Some(b) if state.api_keys.recognise(b).is_none() => {
            not_admin("The admin API needs the secret key.")
        }
        _ => missing_token(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// What `admin.createUser` sends that this server reads.
#[derive(Deserialize)]
pub(super) struct NewUser {
    email: Option<String>,
    password: Option<String>,
    #[serde(default)]
    email_confirm: bool,
}

pub(super) async fn create_user(ctx: RequestContext, request: Request) -> Response {
    let body: NewUser = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let (email, password) = (
        body.email.unwrap_or_default(),
        body.password.unwrap_or_default(),
    );
    match api_admin::create_user(&ctx, &email, password, body.email_confirm).await {
        Ok(user) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

fn user_id(raw: &str) -> Result<Uuid, AppError> {
    raw.parse()
        .map_err(|_| AppError::invalid("id", "The user id is a UUID."))
}

pub(super) async fn get_user(ctx: RequestContext, Path(id): Path<String>) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return app_error(e),
    };
    match api_admin::get_user(&ctx, id).await {
        Ok(user) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

pub(super) async fn delete_user(ctx: RequestContext, Path(id): Path<String>) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return app_error(e),
    };
    match api_admin::delete_user(&ctx, id).await {
        Ok(()) => no_store(Json(serde_json::json!({}))),
        Err(e) => app_error(e),
    }
}
