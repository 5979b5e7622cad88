//! Forgotten password: ask for a link, then set a new password with it.

use super::{dead_link, requests};
use crate::{
    domain::{EmailAddress, audit::AuditAction},
    error::AppError,
    ssr::{
        RequestContext,
        auth::{ratelimit, sessions, tokens},
        db::{
            self,
            account_requests::RequestKind,
            outbox::{self, payload},
            tokens as stored,
            tokens::Purpose,
            users,
        },
    },
};

/// Queues a reset link for the address (sent only if it has an account: see
/// [`super::requests`]). Answers the same, in the same time, whatever the address.
#[tracing::instrument(name = "auth.forgot", skip_all)]
pub async fn forgot(ctx: &RequestContext, email: &str) -> Result<(), AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::FORGOT_PER_IP, &ctx.ip_key()).await?;
    ratelimit::hit(redis, &ratelimit::FORGOT_PER_ACCOUNT, email.as_ref()).await?;
    requests::queue(ctx, RequestKind::ResetPassword, email.as_ref()).await
}

/// Spends the reset token, sets the new password, confirms the address (the mailbox was just
/// proven) and signs the account out everywhere.
#[tracing::instrument(name = "auth.reset", skip_all)]
pub async fn reset(ctx: &RequestContext, token: &str, password: String) -> Result<(), AppError> {
    let token_hash = tokens::hash_token(token);
    let mut tx = ctx.auth_tx().await?;
    // Look before spending, so a refused password does not burn the link.
    let Some(user_id) = stored::owner_of(&mut tx, Purpose::ResetPassword, &token_hash).await?
    else {
        return Err(dead_link());
    };
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(dead_link)?;
    let password = super::new_password("password", password, &[user.email.as_str()])?;
    let hash = ctx.state.passwords.hash(password.expose()).await?;
    stored::spend(&mut tx, Purpose::ResetPassword, &token_hash)
        .await?
        .ok_or_else(dead_link)?;
    users::set_password_hash(&mut tx, user.id, &hash).await?;
    users::confirm_email(&mut tx, user.id).await?;
    super::recovered(&mut tx, user.id).await?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            &user.email,
            format!("password-changed:reset:{}", tokens::hex(&token_hash)),
            &payload::PasswordChanged {},
        ),
    )
    .await?;
    ctx.audit_own(&mut tx, AuditAction::PasswordReset, user.id)
        .await?;
    db::commit(tx).await?;
    sessions::revoke_all(&ctx.state.redis, user.id, None).await?;
    Ok(())
}
