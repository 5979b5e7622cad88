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
    auth::flows::{email_sign_in, recovery, signin, signup},
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
        let outcome = signin::sign_in(&ctx, &session, &email, &password).await?;
        signed_in_or_second_factor(outcome, next.as_deref());
        Ok(())
    })
    .await
}

/// Where a first factor leads: to `next` (or the account page) when signed in, else to the
/// second-factor page, which goes on to `next`.
#[cfg(feature = "ssr")]
fn signed_in_or_second_factor(outcome: signin::SignInOutcome, next: Option<&str>) {
    match outcome {
        signin::SignInOutcome::SignedIn(_) => super::redirect_or(next, "/account"),
        signin::SignInOutcome::SecondFactor => {
            let next = crate::domain::redirect::local_path_or(next, "/account");
            super::redirect(&format!(
                "/signin/factor?next={}",
                crate::domain::redirect::encode_query_value(&next)
            ));
        }
    }
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

/// "Email me a sign-in link": the same answer for any address (see `flows::email_sign_in`).
#[server(endpoint = "auth/email_sign_in")]
pub async fn request_email_sign_in(email: String) -> Result<(), AppError> {
    serve(async |ctx| {
        email_sign_in::request(&ctx, &email).await?;
        super::redirect("/signin/email?sent=1");
        Ok(())
    })
    .await
}

/// The button on the page the sign-in link opens: only this POST spends the link.
#[server(endpoint = "auth/email_sign_in_link")]
pub async fn email_sign_in_link(token: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let user = email_sign_in::spend_link(&ctx, &token).await?;
        let session = ctx.session().await?;
        let outcome = email_sign_in::sign_in_browser(&ctx, &session, user, "link").await?;
        signed_in_or_second_factor(outcome, None);
        Ok(())
    })
    .await
}

/// The code from the same email, in any browser.
#[server(endpoint = "auth/email_sign_in_code")]
pub async fn email_sign_in_code(email: String, code: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let user = email_sign_in::spend_code(&ctx, &email, &code).await?;
        let session = ctx.session().await?;
        let outcome = email_sign_in::sign_in_browser(&ctx, &session, user, "code").await?;
        signed_in_or_second_factor(outcome, None);
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
