//! Forgotten password: ask for a link, then set a new password with it.
use serde_json::json;

use super::{Flow, dead_link, issue_token, signup::hex_of};
use crate::{
    domain::{EmailAddress, Password},
    error::AppError,
    ssr::{
        auth::{ratelimit, sessions, tokens},
        db::{DbError, outbox, tokens as stored, tokens::Purpose, users},
    },
};

/// Sends a reset link when the address has an account. Always answers the same.
#[tracing::instrument(name = "auth.forgot", skip_all)]
pub async fn forgot(flow: &Flow<'_>, email: &str) -> Result<(), AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let redis = &flow.state.redis;
    ratelimit::hit(redis, &ratelimit::FORGOT_PER_IP, &flow.ip_key()).await?;
    ratelimit::hit(redis, &ratelimit::FORGOT_PER_ACCOUNT, email.as_ref()).await?;

    let mut tx = flow.auth_tx().await?;
    if let Some(user) = users::find_by_email(&mut tx, email.as_ref()).await? {
        let ttl = flow.settings().reset_password_ttl;
        let minted = issue_token(&mut tx, user.id, Purpose::ResetPassword, None, ttl).await?;
        outbox::enqueue(
            &mut tx,
            &outbox::OutboxEmail {
                kind: outbox::EmailKind::ResetPassword,
                recipient: user.email.clone(),
                payload: json!({
                    "link": flow.link("/reset", &minted.token),
                    "expires_in_minutes": ttl.as_secs() / 60,
                }),
                idempotency_key: format!("reset:{}", hex_of(&minted.token_hash)),
            },
        )
        .await?;
        flow.audit(
            &mut tx,
            "user.reset_requested",
            None,
            Some(user.id),
            json!({}),
        )
        .await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Spends the reset token, sets the new password, confirms the address (the mailbox was just
/// proven) and signs the account out everywhere.
#[tracing::instrument(name = "auth.reset", skip_all)]
pub async fn reset(flow: &Flow<'_>, token: &str, password: String) -> Result<(), AppError> {
    let token_hash = tokens::hash_token(token);
    let mut tx = flow.auth_tx().await?;
    // Look before spending, so a refused password does not burn the link.
    let Some(user_id) = stored::owner_of(&mut tx, Purpose::ResetPassword, &token_hash).await?
    else {
        return Err(dead_link());
    };
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(dead_link)?;
    let password = Password::parse(password, &[user.email.as_str()])
        .map_err(|m| AppError::invalid("password", m))?;
    let hash = flow.state.passwords.hash(password.expose()).await?;
    stored::spend(&mut tx, Purpose::ResetPassword, &token_hash)
        .await?
        .ok_or_else(dead_link)?;
    users::set_password_hash(&mut tx, user.id, &hash).await?;
    users::confirm_email(&mut tx, user.id).await?;
    super::recovered(&mut tx, user.id).await?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail {
            kind: outbox::EmailKind::PasswordChanged,
            recipient: user.email.clone(),
            payload: json!({}),
            idempotency_key: format!("password-changed:reset:{}", hex_of(&token_hash)),
        },
    )
    .await?;
    flow.audit(
        &mut tx,
        "user.password_reset",
        Some(user.id),
        Some(user.id),
        json!({}),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    sessions::revoke_all(&flow.state.redis, user.id, None).await?;
    Ok(())
}
