//! "Forgot password" and "send the confirmation again": the same queued row for any address,
//! resolved later by the outbox worker (why: docs/account-requests.md).
use serde_json::json;
use sqlx::PgPool;

use super::issue_token;
use crate::{
    domain::audit::AuditAction,
    error::AppError,
    ssr::{
        RequestContext,
        auth::Caller,
        db::{
            self, DbError, ServiceRole, Tx,
            account_requests::{self, AccountRequest, RequestKind},
            audit,
            outbox::{self, payload},
            tokens::Purpose,
            users,
        },
        settings::AuthSettings,
    },
};

/// Queues the request: one insert, the same for any address.
pub async fn queue(ctx: &RequestContext, kind: RequestKind, email: &str) -> Result<(), AppError> {
    let mut tx = ctx.auth_tx().await?;
    account_requests::enqueue(
        &mut tx,
        kind,
        email,
        ctx.caller.ip,
        ctx.caller.user_agent.as_deref(),
    )
    .await?;
    db::commit(tx).await?;
    Ok(())
}

/// Resolves up to `limit` queued requests, oldest first, in one `auth_service` transaction:
/// tokens, emails (into the outbox, delivered by the same worker) and audit entries for the
/// addresses that have an account; nothing for the others. A request that fails on its own is
/// logged and dropped (whoever asked can ask again); a failure of the transaction leaves every
/// request queued for the next round. Returns how many were taken.
pub async fn process_due(
    pool: &PgPool,
    settings: &AuthSettings,
    limit: i64,
) -> Result<usize, DbError> {
    let mut tx = db::begin_service(pool, ServiceRole::Auth).await?;
    let taken = account_requests::take(&mut tx, limit).await?;
    for request in &taken {
        account_requests::savepoint(&mut tx).await?;
        match resolve(&mut tx, settings, request).await {
            Ok(()) => account_requests::release_savepoint(&mut tx).await?,
            Err(e) => {
                tracing::error!(
                    request_id = request.id,
                    kind = %request.kind,
                    error = %e,
                    "an account request failed; dropped"
                );
                account_requests::rollback_to_savepoint(&mut tx).await?;
            }
        }
    }
    db::commit(tx).await?;
    Ok(taken.len())
}

async fn resolve(
    tx: &mut Tx,
    settings: &AuthSettings,
    request: &AccountRequest,
) -> Result<(), DbError> {
    let Some(kind) = RequestKind::parse(&request.kind) else {
        tracing::warn!(kind = %request.kind, "unknown account request kind; dropped");
        return Ok(());
    };
    let Some(user) = users::find_by_email(tx, &request.email).await? else {
        return Ok(());
    };
    let action = match kind {
        RequestKind::ResetPassword => {
            queue_reset(tx, settings, user.id, &user.email).await?;
            AuditAction::ResetRequested
        }
        RequestKind::ResendVerification if user.email_confirmed_at.is_none() => {
            super::queue_verification_with(settings, tx, user.id, &user.email).await?;
            AuditAction::VerificationResent
        }
        RequestKind::ResendVerification => return Ok(()),
        RequestKind::EmailSignIn if user.is_banned() => return Ok(()),
        RequestKind::EmailSignIn => {
            super::email_sign_in::queue_link(tx, settings, user.id, &user.email).await?;
            AuditAction::EmailSignInRequested
        }
    };
    // Recorded as coming from whoever asked, as the request's own audit entries are.
    let caller = Caller {
        ip: request.ip.as_deref().and_then(|ip| ip.parse().ok()),
        user_agent: request.user_agent.clone(),
    };
    audit::record(
        tx,
        &caller.audit_entry(action, None, Some(user.id), json!({})),
    )
    .await
}

/// Mints a reset token (voiding earlier ones) and queues the email with its link.
async fn queue_reset(
    tx: &mut Tx,
    settings: &AuthSettings,
    user_id: uuid::Uuid,
    email: &str,
) -> Result<(), DbError> {
    let ttl = settings.reset_password_ttl;
    let minted = issue_token(tx, user_id, Purpose::ResetPassword, None, ttl).await?;
    outbox::enqueue(
        tx,
        &outbox::OutboxEmail::new(
            email,
            format!(
                "reset:{}",
                crate::ssr::auth::tokens::hex(&minted.token_hash)
            ),
            &payload::ResetPassword {
                link: format!("{}/reset?token={}", settings.public_url, minted.token),
                expires_in_minutes: (ttl.as_secs() / 60) as u32,
            },
        ),
    )
    .await
}
