//! Users: list and search, the detail page, and what an admin can do to an account (role,
//! ban, unban, sign out everywhere, resend the verification email); see docs/admin.md.
use serde_json::json;
use uuid::Uuid;

use super::{AdminTx, begin_admin, begin_admin_action, cursor, page_limit, paginate};
use crate::{
    domain::{
        admin::{BanDuration, Role, UserDetail, UserPage, encode_cursor},
        audit::AuditAction,
    },
    error::AppError,
    ssr::{
        RequestContext,
        auth::{
            flows::{self, recovered, signup::queue_verification},
            ratelimit, sessions,
        },
        db::{self, admin as queries, admin::AuditFilter, admin::UserSearch},
    },
};

/// How many audit entries the detail page shows.
const RECENT_ENTRIES: i64 = 20;

#[tracing::instrument(name = "admin.list_users", skip_all)]
pub async fn list(
    ctx: &RequestContext,
    q: &str,
    after: Option<&str>,
) -> Result<UserPage, AppError> {
    let after = cursor::<Uuid>(after)?;
    let mut a = begin_admin(ctx).await?;
    let mut users =
        queries::list_users(&mut a.tx, &UserSearch::parse(q), after, page_limit()).await?;
    a.commit().await?;
    let next = paginate(&mut users, |u| encode_cursor(u.created_at, u.id));
    Ok(UserPage { users, next })
}

#[tracing::instrument(name = "admin.user_detail", skip_all, fields(target = %id))]
pub async fn detail(ctx: &RequestContext, id: Uuid) -> Result<UserDetail, AppError> {
    let mut a = begin_admin(ctx).await?;
    let user = queries::find_user(&mut a.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let filter = AuditFilter {
        involving: Some(id),
        ..AuditFilter::default()
    };
    let recent = queries::audit_entries(&mut a.tx, &filter, None, RECENT_ENTRIES).await?;
    let is_self = a.admin == id;
    a.commit().await?;
    let sessions = sessions::list(&ctx.state.redis, id, None).await.ok();
    Ok(UserDetail {
        user,
        recent,
        sessions,
        is_self,
    })
}

/// Refuses an admin's role change or ban of their own account: one click must not lock the
/// last admin out.
fn not_self(a: &AdminTx, target: Uuid, field: &str, what: &str) -> Result<(), AppError> {
    if a.admin == target {
        return Err(AppError::invalid(
            field,
            format!("You cannot {what} your own account. Ask another admin."),
        ));
    }
    Ok(())
}

/// Signs the target out everywhere (browser sessions and API clients' refresh tokens) after a
/// committed change the database already enforces.
async fn end_sessions_after(ctx: &RequestContext, target: Uuid, why: &str) {
    if let Err(e) = flows::sign_out_everywhere(ctx, target, None).await {
        tracing::error!(error = ?e, %target, why, "could not sign the user out everywhere");
    }
}

#[tracing::instrument(name = "admin.set_role", skip_all, fields(target = %target))]
pub async fn set_role(ctx: &RequestContext, target: Uuid, role: &str) -> Result<(), AppError> {
    let role = Role::parse(role).map_err(|m| AppError::invalid("role", m))?;
    let mut a = begin_admin_action(ctx).await?;
    not_self(&a, target, "role", "change the role of")?;
    let before = queries::set_role(&mut a.tx, target, role)
        .await?
        .ok_or(AppError::NotFound)?;
    if before == role.as_str() {
        return a.commit().await;
    }
    recovered(&mut a.tx, target).await?;
    ctx.audit(
        &mut a.tx,
        AuditAction::RoleChanged,
        Some(a.admin),
        Some(target),
        json!({ "from": before, "to": role.as_str() }),
    )
    .await?;
    a.commit().await?;
    end_sessions_after(ctx, target, "role changed").await;
    Ok(())
}

#[tracing::instrument(name = "admin.ban", skip_all, fields(target = %target))]
pub async fn ban(ctx: &RequestContext, target: Uuid, duration: &str) -> Result<(), AppError> {
    let duration = BanDuration::parse(duration).map_err(|m| AppError::invalid("duration", m))?;
    let mut a = begin_admin_action(ctx).await?;
    not_self(&a, target, "duration", "ban")?;
    let until = queries::ban(&mut a.tx, target, duration.seconds())
        .await?
        .ok_or(AppError::NotFound)?;
    recovered(&mut a.tx, target).await?;
    ctx.audit(
        &mut a.tx,
        AuditAction::UserBanned,
        Some(a.admin),
        Some(target),
        json!({ "duration": duration.as_str(), "until": until }),
    )
    .await?;
    a.commit().await?;
    end_sessions_after(ctx, target, "banned").await;
    Ok(())
}

#[tracing::instrument(name = "admin.unban", skip_all, fields(target = %target))]
pub async fn unban(ctx: &RequestContext, target: Uuid) -> Result<(), AppError> {
    let mut a = begin_admin_action(ctx).await?;
    if !queries::unban(&mut a.tx, target).await? {
        return Err(AppError::NotFound);
    }
    ctx.audit(
        &mut a.tx,
        AuditAction::UserUnbanned,
        Some(a.admin),
        Some(target),
        json!({}),
    )
    .await?;
    a.commit().await
}

/// Ends every session of the target; returns how many were live.
#[tracing::instrument(name = "admin.sign_out_everywhere", skip_all, fields(target = %target))]
pub async fn sign_out_everywhere(ctx: &RequestContext, target: Uuid) -> Result<usize, AppError> {
    let mut a = begin_admin_action(ctx).await?;
    if queries::find_user(&mut a.tx, target).await?.is_none() {
        return Err(AppError::NotFound);
    }
    // The action itself is in Redis and the auth tables; its record commits right after it.
    let ended = flows::sign_out_everywhere(ctx, target, None).await?;
    ctx.audit(
        &mut a.tx,
        AuditAction::AdminSessionsRevoked,
        Some(a.admin),
        Some(target),
        json!({ "sessions": ended }),
    )
    .await?;
    a.commit().await?;
    Ok(ended)
}

/// Sends a fresh verification email, the same one "send it again" sends, to an account that
/// has not confirmed its address. The admin transaction is the gate (a non-admin cannot read
/// the user); the token, the email and its audit entry are then written together as
/// `auth_service`, which owns tokens and the outbox.
#[tracing::instrument(name = "admin.resend_verification", skip_all, fields(target = %target))]
pub async fn resend_verification(ctx: &RequestContext, target: Uuid) -> Result<(), AppError> {
    let mut a = begin_admin_action(ctx).await?;
    let user = queries::find_user(&mut a.tx, target)
        .await?
        .ok_or(AppError::NotFound)?;
    let admin = a.admin;
    a.commit().await?;
    if user.email_confirmed_at.is_some() {
        return Err(AppError::invalid(
            "resend",
            "This address is already confirmed.",
        ));
    }
    // The same per-address limit as the public form: an admin's clicks cannot flood an inbox.
    ratelimit::hit_or_pass(
        &ctx.state.redis,
        &ratelimit::RESEND_PER_ACCOUNT,
        &user.email,
    )
    .await?;
    let mut tx = ctx.auth_tx().await?;
    queue_verification(ctx, &mut tx, target, &user.email).await?;
    ctx.audit(
        &mut tx,
        AuditAction::AdminVerificationResent,
        Some(admin),
        Some(target),
        json!({}),
    )
    .await?;
    db::commit(tx).await?;
    Ok(())
}
