//! Sign-up, email verification (link or code) and resending the verification email.
use serde_json::json;
use uuid::Uuid;

use super::dead_link;
use crate::{
    domain::{EmailAddress, audit::AuditAction},
    error::AppError,
    ssr::{
        RequestContext,
        auth::{ratelimit, tokens},
        db::{
            self, DbError, Tx,
            account_requests::RequestKind,
            outbox::{self, payload},
            tokens as stored,
            tokens::Purpose,
            users,
        },
    },
};

/// Creates the account and sends the verification email. A taken address answers exactly
/// the same, and its owner gets a "someone tried to sign up" email instead. Returns the new
/// account's id, or for a taken address a random one: the two cannot be told apart.
#[tracing::instrument(name = "auth.sign_up", skip_all)]
pub async fn sign_up(
    ctx: &RequestContext,
    email: &str,
    password: String,
) -> Result<Uuid, AppError> {
    ratelimit::hit_or_pass(&ctx.state.redis, &ratelimit::SIGN_UP_PER_IP, &ctx.ip_key()).await?;
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let password = super::new_password("password", password, &[email.as_ref()])?;
    // Hash before looking: a taken address must cost the same time as a free one.
    let hash = ctx.state.passwords.hash(password.expose()).await?;

    let mut tx = ctx.auth_tx().await?;
    let answered = match users::insert(&mut tx, email.as_ref(), &hash).await? {
        Some(user_id) => {
            queue_verification(ctx, &mut tx, user_id, email.as_ref()).await?;
            ctx.audit_own(&mut tx, AuditAction::SignedUp, user_id)
                .await?;
            user_id
        }
        None => {
            let existing = users::find_by_email(&mut tx, email.as_ref()).await?;
            if let Some(user) = existing {
                // One notice per account per hour, however often someone tries.
                let hour = chrono::Utc::now().timestamp() / 3600;
                outbox::enqueue(
                    &mut tx,
                    &outbox::OutboxEmail::new(
                        &user.email,
                        format!("signup-attempt:{}:{hour}", user.id),
                        &payload::SignupAttempt {
                            signin_link: format!("{}/signin", ctx.settings().public_url),
                            forgot_link: format!("{}/forgot", ctx.settings().public_url),
                        },
                    ),
                )
                .await?;
                ctx.audit(
                    &mut tx,
                    AuditAction::SignUpAttemptExisting,
                    None,
                    Some(user.id),
                    json!({}),
                )
                .await?;
            }
            Uuid::new_v4()
        }
    };
    db::commit(tx).await?;
    Ok(answered)
}

/// Spends the link's token and confirms the address; returns whose it was.
#[tracing::instrument(name = "auth.verify_email", skip_all)]
pub async fn verify_with_link(ctx: &RequestContext, token: &str) -> Result<Uuid, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let spent = stored::spend(&mut tx, Purpose::VerifyEmail, &tokens::hash_token(token))
        .await?
        .ok_or_else(dead_link)?;
    confirm_and_commit(ctx, tx, spent.user_id, "link").await
}

/// Confirms the address, records how, and commits: the end of both verification paths.
/// Returns whose address it was.
async fn confirm_and_commit(
    ctx: &RequestContext,
    mut tx: crate::ssr::db::Tx,
    user_id: uuid::Uuid,
    via: &str,
) -> Result<Uuid, AppError> {
    users::confirm_email(&mut tx, user_id).await?;
    ctx.audit(
        &mut tx,
        AuditAction::EmailVerified,
        Some(user_id),
        Some(user_id),
        json!({ "via": via }),
    )
    .await?;
    db::commit(tx).await?;
    Ok(user_id)
}

/// The 6-digit code from the same email, entered with the address it was sent to. Entries are
/// limited per address (IP) and per account in Redis; wrong codes count against the token, and
/// after a few its code stops working, but not its link (anyone can type the owner's address).
#[tracing::instrument(name = "auth.verify_code", skip_all)]
pub async fn verify_with_code(
    ctx: &RequestContext,
    email: &str,
    code: &str,
) -> Result<Uuid, AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let key = email.to_string();
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::CODE_ENTRY_PER_IP, &ctx.ip_key()).await?;
    ratelimit::hit(redis, &ratelimit::CODE_ENTRY_PER_ACCOUNT, &key).await?;
    let wrong = || AppError::invalid("code", "That code is not right, or it has expired.");
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::invalid(
            "code",
            "Enter the 6 digits from the email.",
        ));
    }

    let mut tx = ctx.auth_tx().await?;
    let Some(user) = users::find_by_email(&mut tx, email.as_ref()).await? else {
        return Err(wrong());
    };
    let Some(pending) = stored::pending_for_user(&mut tx, user.id, Purpose::VerifyEmail).await?
    else {
        return Err(wrong());
    };
    if pending.attempts >= ctx.settings().code_attempts {
        return Err(wrong());
    }
    let expected = pending.code_hash.as_deref().unwrap_or_default();
    let given = tokens::hash_code(&tokens::code_salt(&pending.token_hash), code);
    if !tokens::same_digest(expected, &given) {
        stored::wrong_code(&mut tx, pending.id).await?;
        db::commit(tx).await?;
        return Err(wrong());
    }
    stored::spend_by_id(&mut tx, pending.id).await?;
    confirm_and_commit(ctx, tx, user.id, "code").await
}

/// Queues a new verification email for the address (sent only if it belongs to an unconfirmed
/// account: see [`super::requests`]); answers the same, in the same time, whatever the case.
#[tracing::instrument(name = "auth.resend_verification", skip_all)]
pub async fn resend(ctx: &RequestContext, email: &str) -> Result<(), AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let redis = &ctx.state.redis;
    ratelimit::hit_or_pass(redis, &ratelimit::RESEND_PER_IP, &ctx.ip_key()).await?;
    ratelimit::hit_or_pass(redis, &ratelimit::RESEND_PER_ACCOUNT, email.as_ref()).await?;
    super::requests::queue(ctx, RequestKind::ResendVerification, email.as_ref()).await
}

/// Mints a new verification token for the user (spending any earlier one) and queues the
/// email carrying its link and code, in the caller's `auth_service` transaction. Used by
/// sign-up, the public "send it again", and an admin's resend.
pub(crate) async fn queue_verification(
    ctx: &RequestContext,
    tx: &mut Tx,
    user_id: Uuid,
    email: &str,
) -> Result<(), DbError> {
    super::queue_verification_with(ctx.settings(), tx, user_id, email).await
}
