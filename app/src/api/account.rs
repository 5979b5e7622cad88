//! Server functions of the account page.
use leptos::prelude::*;

use crate::{
    domain::{session::SessionInfo, user::Account},
    error::AppError,
};

#[cfg(feature = "ssr")]
use crate::ssr::{auth::flows::account, serve};

#[server(endpoint = "account/get")]
pub async fn get_account() -> Result<Account, AppError> {
    serve(async |ctx| account::load(&ctx.flow(), &ctx.actor).await).await
}

#[server(endpoint = "account/profile")]
pub async fn update_profile(
    username: String,
    #[server(default)] display_name: String,
    #[server(default)] bio: String,
) -> Result<(), AppError> {
    serve(async |ctx| {
        account::update_profile(&ctx.flow(), &ctx.actor, &username, &display_name, &bio).await?;
        super::redirect("/account?saved=profile");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        account::change_password(
            &ctx.flow(),
            &ctx.actor,
            &session,
            &current_password,
            new_password,
        )
        .await?;
        super::redirect("/account?saved=password");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/email")]
pub async fn change_email(new_email: String, password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        account::request_email_change(&ctx.flow(), &ctx.actor, &new_email, &password).await?;
        super::redirect("/account?saved=email");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/confirm_email")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    serve(async |ctx| {
        account::confirm_email_change(&ctx.flow(), &ctx.actor, &token).await?;
        super::redirect("/account?saved=email-confirmed");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    serve(async |ctx| {
        let id = account::require_live_user(&ctx.flow(), &ctx.actor).await?;
        let session = ctx.session().await?;
        let current = session.id().map(|i| i.to_string());
        crate::ssr::auth::sessions::list(&ctx.state.redis, id, current.as_deref()).await
    })
    .await
}

/// `which`: a session handle from the list, `others`, or `all`.
#[server(endpoint = "account/revoke")]
pub async fn revoke_sessions(which: String) -> Result<(), AppError> {
    serve(async |ctx| {
        use crate::{
            domain::audit::AuditAction,
            ssr::auth::{flows, sessions},
        };
        let id = account::require_live_user(&ctx.flow(), &ctx.actor).await?;
        let session = ctx.session().await?;
        let redis = &ctx.state.redis;
        let current = session.id().map(|i| i.to_string());
        match which.as_str() {
            "all" => {
                flows::sign_out_everywhere(&ctx.flow(), id, None).await?;
                sessions::end(&session, redis).await?;
                super::redirect("/signin?signed_out=1");
            }
            "others" => {
                flows::sign_out_everywhere(&ctx.flow(), id, current.as_deref()).await?;
                super::redirect("/account?saved=sessions");
            }
            handle => {
                if !sessions::revoke(redis, id, handle).await? {
                    return Err(AppError::NotFound);
                }
                super::redirect("/account?saved=sessions");
            }
        }
        ctx.flow()
            .audit_now(
                AuditAction::SessionsRevoked,
                id,
                serde_json::json!({ "which": which }),
            )
            .await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        account::delete_account(&ctx.flow(), &ctx.actor, &session, &password).await?;
        super::redirect("/?deleted=1");
        Ok(())
    })
    .await
}
