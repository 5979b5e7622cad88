//! `POST /verify` (auth-js `verifyOtp`) and `GET /verify` (an email link pointed at the API):
//! see `flows::api_verify`.
use app::{
    error::AppError,
    ssr::{
        RequestContext,
        auth::{
            flows::api_verify::{self, Proof, Verified, VerifyType},
            jwt::Claims,
        },
    },
};
use axum::{
    Extension, Json,
    extract::{Query, Request, rejection::QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{json_body, no_store, unreadable_query};
use crate::oauth_error::{app_error, missing_token};

/// What `verifyOtp` sends; `redirect_to` and `gotrue_meta_security` are accepted and ignored.
#[derive(Deserialize)]
pub(super) struct VerifyBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    token_hash: Option<String>,
    email: Option<String>,
    token: Option<String>,
}

pub(super) async fn verify(
    ctx: RequestContext,
    claims: Option<Extension<Claims>>,
    request: Request,
) -> Response {
    let body: VerifyBody = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let kind = match VerifyType::parse(body.kind.as_deref()) {
        Ok(kind) => kind,
        Err(e) => return app_error(e),
    };
    if kind == VerifyType::EmailChange && claims.is_none() {
        return missing_token();
    }
    let proof = match (&body.token_hash, &body.email, &body.token) {
        (Some(hash), _, _) if !hash.trim().is_empty() => Proof::Link(hash.trim()),
        (_, Some(email), Some(code)) => Proof::Code {
            email,
            code: code.trim(),
        },
        _ => {
            return app_error(AppError::invalid(
                "token_hash",
                "Send token_hash, or email and token.",
            ));
        }
    };
    match api_verify::verify(&ctx, kind, proof).await {
        Ok(Verified::Session(pair)) => no_store(Json(pair)),
        Ok(Verified::User(user)) => no_store(Json(user)),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct VerifyLink {
    token: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `GET /verify?token=…&type=…`: mail scanners follow links, so a GET spends nothing; it leads
/// to the browser's page for the link, whose button (a POST) does. `redirect_to` is not
/// followed: the flow ends on Palisade's own pages.
pub(super) async fn verify_link(query: Result<Query<VerifyLink>, QueryRejection>) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return unreadable_query(e),
    };
    let kind = match VerifyType::parse(query.kind.as_deref()) {
        Ok(kind) => kind,
        Err(e) => return app_error(e),
    };
    // Tokens are base64url: anything else is no token of ours, and must not reach a header.
    let token = query.token.unwrap_or_default();
    if token.is_empty()
        || token.len() > 128
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return app_error(AppError::invalid("token", "This link is not one of ours."));
    }
    let location = format!("{}?token={token}", kind.page());
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => app_error(AppError::invalid("token", "This link is not one of ours.")),
    }
}
