//! `POST /token`: the password, refresh-token and PKCE grants.
use app::ssr::{RequestContext, auth::flows::api_clients};
use axum::{
    Form, Json,
    extract::{FromRequest as _, Query, Request, rejection::QueryRejection},
    http::{StatusCode, header},
    response::Response,
};
use serde::Deserialize;

use super::{no_store, unreadable_body, unreadable_query};
use crate::oauth_error::{app_error, oauth_error};

#[derive(Deserialize)]
pub(super) struct GrantQuery {
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

pub(super) async fn token(
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
