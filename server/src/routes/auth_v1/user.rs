//! `GET /user`, `PUT /user` and `POST /logout`: what a signed-in client does with its token.
use app::ssr::{
    RequestContext,
    auth::{
        flows::{api_account, api_clients},
        jwt::Claims,
    },
};
use axum::{
    Extension, Json,
    extract::{Query, Request, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{json_body, no_store, unreadable_query};
use crate::oauth_error::{app_error, missing_token};

pub(super) async fn user(ctx: RequestContext, claims: Option<Extension<Claims>>) -> Response {
    if claims.is_none() {
        return missing_token();
    }
    // Read as the user: a banned or deleted user gets 401 even with an unexpired token.
    match api_clients::user(&ctx).await {
        Ok(user) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

/// `PUT /user` (auth-js `updateUser`): `data`, `password`, `email` (see `api_account`).
pub(super) async fn update(
    ctx: RequestContext,
    claims: Option<Extension<Claims>>,
    request: Request,
) -> Response {
    let Some(Extension(claims)) = claims else {
        return missing_token();
    };
    let body: api_account::UserUpdate = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    match api_account::update_user(&ctx, body, &claims.amr).await {
        Ok(user) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

/// `GET` or `POST /reauthenticate` (Bearer): mails a code for `PUT /user`'s `nonce`; `{}`.
pub(super) async fn reauthenticate(
    ctx: RequestContext,
    claims: Option<Extension<Claims>>,
) -> Response {
    if claims.is_none() {
        return missing_token();
    }
    match api_account::reauthenticate(&ctx).await {
        Ok(()) => no_store(Json(serde_json::json!({}))),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct LogoutQuery {
    scope: Option<String>,
}

pub(super) async fn logout(
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
