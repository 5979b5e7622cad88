//! Server functions of second factors: sign-in's second step, step-up, and the account page's
//! factors and recovery codes. Like the other forms', each answers with a redirect, so plain
//! form posts (before the wasm loads) land on the right page too.
use leptos::prelude::*;
use uuid::Uuid;

use crate::{
    domain::factor::{SecondFactors, TotpEnrolment},
    error::AppError,
};

#[cfg(feature = "ssr")]
use crate::ssr::{
    auth::flows::{factors, second_step},
    serve,
};

/// The second page of a sign-in: a code from the authenticator app, or a recovery code.
#[server(endpoint = "auth/second_factor")]
pub async fn second_factor(
    code: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        second_step::complete(&ctx, &session, &code).await?;
        super::redirect_or(next.as_deref(), "/account");
        Ok(())
    })
    .await
}

/// Whether this browser has a sign-in waiting for its second factor.
#[server(endpoint = "auth/second_factor_pending")]
pub async fn second_factor_pending() -> Result<bool, AppError> {
    serve(async |ctx| second_step::is_pending(&ctx, &ctx.session().await?).await).await
}

/// Step-up: proves the second factor again, then goes back to `next`.
#[server(endpoint = "auth/step_up")]
pub async fn step_up(
    code: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        factors::step_up(&ctx, &session, &code).await?;
        super::redirect_or(next.as_deref(), "/account");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/factors")]
pub async fn get_factors() -> Result<SecondFactors, AppError> {
    serve(async |ctx| factors::list(&ctx).await).await
}

#[server(endpoint = "account/factors/enrol")]
pub async fn enrol_totp(friendly_name: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let enrolment = factors::enrol_totp(&ctx, &friendly_name).await?;
        super::redirect(&format!(
            "/account/two-factor?factor={}",
            enrolment.factor_id
        ));
        Ok(())
    })
    .await
}

#[server(endpoint = "account/factors/enrolment")]
pub async fn get_enrolment(factor: Uuid) -> Result<TotpEnrolment, AppError> {
    serve(async |ctx| factors::enrolment(&ctx, factor).await).await
}

#[server(endpoint = "account/factors/confirm")]
pub async fn confirm_totp(factor: Uuid, code: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        match factors::confirm_totp(&ctx, Some(&session), factor, &code).await? {
            Some(codes) => {
                factors::hold_codes(&session, &codes).await?;
                super::redirect("/account/recovery-codes");
            }
            None => super::redirect("/account?saved=factor"),
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "account/factors/remove")]
pub async fn remove_factor(factor: Uuid) -> Result<(), AppError> {
    serve(async |ctx| {
        factors::remove(&ctx, factor).await?;
        super::redirect("/account?saved=factor-removed");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/recovery_codes/regenerate")]
pub async fn regenerate_recovery_codes() -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        let codes = factors::regenerate_recovery_codes(&ctx).await?;
        factors::hold_codes(&session, &codes).await?;
        super::redirect("/account/recovery-codes");
        Ok(())
    })
    .await
}

/// The recovery codes just made, once: a reload shows nothing.
#[server(endpoint = "account/recovery_codes/take")]
pub async fn take_recovery_codes() -> Result<Vec<String>, AppError> {
    serve(async |ctx| {
        ctx.actor.require_user()?;
        factors::take_codes(&ctx.session().await?).await
    })
    .await
}

/// An admin removes all second factors and recovery codes of user `id` (who is signed out
/// everywhere and emailed).
#[server(endpoint = "admin/reset_factors")]
pub async fn reset_user_factors(id: Uuid) -> Result<(), AppError> {
    serve(async |ctx| {
        crate::ssr::admin::factors::reset_factors(&ctx, id).await?;
        super::redirect(&format!("/admin/users/{id}?done=factors-reset"));
        Ok(())
    })
    .await
}
