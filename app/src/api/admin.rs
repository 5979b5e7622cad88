//! Server functions of the admin area. Each answers 403 to anyone the database does not run
//! as `admin` (see `crate::ssr::admin`). Actions redirect back to the page they came from
//! with `done=…`, so plain form posts (before the wasm loads) land on the right page too.
use leptos::prelude::*;
use uuid::Uuid;

use crate::{
    domain::admin::{AuditPage, OutboxPage, UserDetail, UserPage},
    error::AppError,
};

#[cfg(feature = "ssr")]
use crate::ssr::{admin, serve};

#[cfg(feature = "ssr")]
fn user_page(id: Uuid, done: &str) -> String {
    format!("/admin/users/{id}?done={done}")
}

/// Users, newest first; `q` narrows to emails and usernames containing it (or one id).
#[server(endpoint = "admin/users")]
pub async fn list_users(
    #[server(default)] q: String,
    #[server(default)] after: Option<String>,
) -> Result<UserPage, AppError> {
    serve(async |ctx| admin::users::list(&ctx, &q, after.as_deref()).await).await
}

#[server(endpoint = "admin/user")]
pub async fn get_user(id: Uuid) -> Result<UserDetail, AppError> {
    serve(async |ctx| admin::users::detail(&ctx, id).await).await
}

/// `role`: `user` or `admin`. The target is signed out everywhere.
#[server(endpoint = "admin/set_role")]
pub async fn set_user_role(id: Uuid, role: String) -> Result<(), AppError> {
    serve(async |ctx| {
        admin::users::set_role(&ctx, id, &role).await?;
        super::redirect(&user_page(id, "role"));
        Ok(())
    })
    .await
}

/// `duration`: `1h`, `1d`, `7d`, `30d` or `permanent`. The target is signed out everywhere.
#[server(endpoint = "admin/ban")]
pub async fn ban_user(id: Uuid, duration: String) -> Result<(), AppError> {
    serve(async |ctx| {
        admin::users::ban(&ctx, id, &duration).await?;
        super::redirect(&user_page(id, "banned"));
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/unban")]
pub async fn unban_user(id: Uuid) -> Result<(), AppError> {
    serve(async |ctx| {
        admin::users::unban(&ctx, id).await?;
        super::redirect(&user_page(id, "unbanned"));
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/sign_out")]
pub async fn sign_out_user(id: Uuid) -> Result<(), AppError> {
    serve(async |ctx| {
        admin::users::sign_out_everywhere(&ctx, id).await?;
        super::redirect(&user_page(id, "signed-out"));
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/resend")]
pub async fn resend_user_verification(id: Uuid) -> Result<(), AppError> {
    serve(async |ctx| {
        admin::users::resend_verification(&ctx, id).await?;
        super::redirect(&user_page(id, "resent"));
        Ok(())
    })
    .await
}

/// The audit log, newest first. `actor` and `target` take an id, email or username; `from`
/// and `until` a UTC date and time (`from <= at < until`).
#[server(endpoint = "admin/audit")]
pub async fn audit_log(
    #[server(default)] actor: String,
    #[server(default)] target: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] until: String,
    #[server(default)] after: Option<String>,
) -> Result<AuditPage, AppError> {
    serve(async |ctx| {
        let query = admin::audit_log::AuditQuery {
            actor,
            target,
            action,
            from,
            until,
            after,
        };
        admin::audit_log::page(&ctx, &query).await
    })
    .await
}

/// `view`: `pending` (the default) or `dead`.
#[server(endpoint = "admin/outbox")]
pub async fn outbox(
    #[server(default)] view: String,
    #[server(default)] after: Option<String>,
) -> Result<OutboxPage, AppError> {
    let view = crate::domain::admin::OutboxView::parse(&view);
    serve(async |ctx| admin::outbox::page(&ctx, view, after.as_deref()).await).await
}

#[server(endpoint = "admin/outbox_retry")]
pub async fn retry_outbox(id: i64) -> Result<(), AppError> {
    serve(async |ctx| {
        admin::outbox::retry(&ctx, id).await?;
        super::redirect("/admin/outbox?view=dead&done=retried");
        Ok(())
    })
    .await
}
