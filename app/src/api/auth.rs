//! Server functions of the sign-up, sign-in and recovery pages. Each answers with a redirect
//! on success, so plain form posts (before the wasm loads) land on the right page too.
use leptos::prelude::*;

use crate::error::AppError;

#[cfg(feature = "ssr")]
use crate::ssr::serve;

/// A local path to continue to after signing in; anything else (other hosts, `//evil`) is
/// replaced by the account page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/account".into(),
    }
}

#[server(endpoint = "auth/sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::auth::flows::signup::sign_up(&ctx.flow(), &email, password).await?;
        leptos_axum::redirect("/signup/done");
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
        crate::ssr::auth::flows::signin::sign_in(&ctx.flow(), &session, &email, &password).await?;
        leptos_axum::redirect(&safe_next(next.as_deref()));
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        crate::ssr::auth::flows::signin::sign_out(&ctx.flow(), &session, ctx.actor.user_id())
            .await?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/verify")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::auth::flows::signup::verify_with_link(&ctx.flow(), &token).await?;
        leptos_axum::redirect("/signin?verified=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/verify_code")]
pub async fn verify_code(email: String, code: String) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::auth::flows::signup::verify_with_code(&ctx.flow(), &email, &code).await?;
        leptos_axum::redirect("/signin?verified=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/resend")]
pub async fn resend_verification(email: String) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::auth::flows::signup::resend(&ctx.flow(), &email).await?;
        leptos_axum::redirect("/verify?resent=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/forgot")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::auth::flows::recovery::forgot(&ctx.flow(), &email).await?;
        leptos_axum::redirect("/forgot?sent=1");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/reset")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::auth::flows::recovery::reset(&ctx.flow(), &token, password).await?;
        leptos_axum::redirect("/signin?reset=1");
        Ok(())
    })
    .await
}

/// Whether the request is signed in; read from the session, no database round trip.
#[server(endpoint = "auth/whoami")]
pub async fn signed_in() -> Result<bool, AppError> {
    serve(async |ctx| Ok(ctx.actor.user_id().is_some())).await
}

/// Who is looking, for the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Viewer {
    /// From the session: no database round trip.
    pub signed_in: bool,
    /// From the role the database gives this request (the profile's role, unless banned), so a
    /// demotion hides the admin link on the very next request.
    pub admin: bool,
}

#[server(name = GetViewer, endpoint = "auth/viewer")]
pub async fn viewer() -> Result<Viewer, AppError> {
    serve(async |ctx| Ok(crate::ssr::admin::viewer(&ctx.state, &ctx.actor).await)).await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(safe_next(Some("/posts/new?x=1")), "/posts/new?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "account",
        ] {
            assert_eq!(safe_next(Some(bad)), "/account", "{bad}");
        }
        assert_eq!(safe_next(None), "/account");
    }
}
