//! Server functions of the sign-up, sign-in and recovery pages. Each answers with a redirect
//! on success, so plain form posts (before the wasm loads) land on the right page too.
use leptos::prelude::*;

use crate::{
    domain::{PasswordStrength, session::Viewer},
    error::AppError,
};

#[cfg(feature = "ssr")]
use crate::ssr::{
    admin,
    auth::flows::{recovery, signin, signup},
    serve,
};

#[server(endpoint = "auth/sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        signup::sign_up(&ctx, &email, password).await?;
        super::redirect("/signup/done");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        match signin::sign_in(&ctx, &session, &email, &password).await? {
            signin::SignInOutcome::SignedIn(_) => super::redirect_or(next.as_deref(), "/account"),
            signin::SignInOutcome::SecondFactor => {
                let next = crate::domain::redirect::local_path_or(next.as_deref(), "/account");
                super::redirect(&format!(
                    "/signin/factor?next={}",
                    crate::domain::redirect::encode_query_value(&next)
                ));
            }
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        signin::sign_out(&ctx, &session).await?;
        super::redirect("/");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/verify")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    serve(async |ctx| {
        signup::verify_with_link(&ctx, &token).await?;
        super::redirect("/signin?verified=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/verify_code")]
pub async fn verify_code(email: String, code: String) -> Result<(), AppError> {
    serve(async |ctx| {
        signup::verify_with_code(&ctx, &email, &code).await?;
        super::redirect("/signin?verified=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/resend")]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    serve(async |ctx| {
        signup::resend(&ctx, &email).await?;
        super::redirect("/verify?resent=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/forgot")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    serve(async |ctx| {
        recovery::forgot(&ctx, &email).await?;
        super::redirect("/forgot?sent=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/reset")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        recovery::reset(&ctx, &token, password).await?;
        super::redirect("/signin?reset=1");
        Ok(())
    })
    .await
}

/// The live password meter: rates a new password as sign-up, reset and password change will.
/// `context` holds what the page knows the password must not lean on (the email).
#[server(name = RatePassword, endpoint = "auth/password_strength")]
pub async fn password_strength(
    password: String,
    #[server(default)] context: Option<String>,
) -> Result<PasswordStrength, AppError> {
    serve(async |ctx| crate::ssr::auth::flows::strength::rate(&ctx, password, context).await).await
}

/// Whether the request is signed in; read from the session, no database round trip.
#[server(endpoint = "auth/whoami")]
pub async fn signed_in() -> Result<bool, AppError> {
    serve(async |ctx| Ok(ctx.actor.user_id().is_some())).await
}

#[server(name = GetViewer, endpoint = "auth/viewer")]
pub async fn viewer() -> Result<Viewer, AppError> {
    serve(async |ctx| Ok(admin::viewer(&ctx).await)).await
}
