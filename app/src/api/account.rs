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
    serve(async |ctx| account::load(&ctx).await).await
}

#[server(endpoint = "account/profile")]
pub async fn update_profile(
    username: String,
    #[server(default)] display_name: String,
    #[server(default)] bio: String,
) -> Result<(), AppError> {
    serve(async |ctx| {
        account::update_profile(&ctx, &username, &display_name, &bio).await?;
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
        account::change_password(&ctx, &session, &current_password, new_password).await?;
        super::redirect("/account?saved=password");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/email")]
pub async fn change_email(new_email: String, password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        account::request_email_change(&ctx, &new_email, &password).await?;
        super::redirect("/account?saved=email");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/confirm_email")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    serve(async |ctx| {
        account::confirm_email_change(&ctx, &token).await?;
        super::redirect("/account?saved=email-confirmed");
        Ok(())
    })
    .await
}

#[server(endpoint = "account/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    serve(async |ctx| account::list_sessions(&ctx, &ctx.session().await?).await).await
}

/// `which`: a session handle from the list, `others`, or `all`.
#[server(endpoint = "account/revoke")]
pub async fn revoke_sessions(which: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        let revoked = account::revoke_sessions(&ctx, &session, &which).await?;
        super::redirect(match revoked {
            account::Revoked::All => "/signin?signed_out=1",
            account::Revoked::Others | account::Revoked::One => "/account?saved=sessions",
        });
        Ok(())
    })
    .await
}

#[server(endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        account::delete_account(&ctx, &session, &password).await?;
        super::redirect("/?deleted=1");
        Ok(())
    })
    .await
}
