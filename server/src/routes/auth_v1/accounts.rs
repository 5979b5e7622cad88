//! The account endpoints a signed-out client calls: sign-up, recover, resend, settings.
use app::{
    error::AppError,
    ssr::{
        RequestContext,
        auth::flows::{api_clients, email_sign_in, recovery, signup},
    },
};
use axum::{
    Json,
    extract::Request,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{json_body, no_store, text};
use crate::oauth_error::app_error;

/// The keys the account endpoints read; Supabase's others (`data`, `gotrue_meta_security`,
/// `code_challenge`, …) are accepted and ignored.
#[derive(Deserialize)]
struct AccountBody {
    email: Option<String>,
    password: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    phone: Option<String>,
}

/// `POST /signup`: the answer is the pending user (never a session: the address must be
/// confirmed first), the same for a taken address.
pub(super) async fn sign_up(ctx: RequestContext, request: Request) -> Response {
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
pub(super) async fn recover(ctx: RequestContext, request: Request) -> Response {
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
pub(super) async fn resend(ctx: RequestContext, request: Request) -> Response {
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

/// `POST /otp` (auth-js `signInWithOtp`, email only): a sign-in email with a link and a code
/// if the address has an account; `{}` either way. `create_user` is ignored: nobody gets an
/// account here (see `flows::email_sign_in`).
pub(super) async fn otp(ctx: RequestContext, request: Request) -> Response {
    let body: AccountBody = match json_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if body.phone.is_some() && body.email.is_none() {
        return app_error(AppError::invalid("phone", "Only email sign-in is offered."));
    }
    match email_sign_in::request(&ctx, &text(body.email)).await {
        Ok(()) => no_store(Json(serde_json::json!({}))),
        Err(e) => app_error(e),
    }
}

/// `GET /settings`: what this server offers, in Supabase's shape.
pub(super) async fn settings() -> Response {
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
