//! An admin's way back in for a user who lost their second factor and their recovery codes:
//! remove them all. Audited, mailed to the user, and every session and API sign-in of theirs
//! ends, since whoever holds one may be who took the factor.
use serde_json::json;
use uuid::Uuid;

use super::begin_admin_action;
use crate::{
    domain::audit::AuditAction,
    error::AppError,
    ssr::{
        RequestContext,
        auth::flows::{self, factors::notify},
        db::{self, admin as queries, mfa},
    },
};

#[tracing::instrument(name = "admin.reset_factors", skip_all, fields(target = %target))]
pub async fn reset_factors(ctx: &RequestContext, target: Uuid) -> Result<u64, AppError> {
    let mut a = begin_admin_action(ctx).await?;
    if a.admin == target {
        return Err(AppError::invalid(
            "factors",
            "You cannot reset your own second factors. Ask another admin.",
        ));
    }
    if queries::find_user(&mut a.tx, target).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let admin = a.admin;
    a.commit().await?;
    let mut tx = ctx.auth_tx().await?;
    let removed = mfa::delete_all(&mut tx, target).await?;
    ctx.audit(
        &mut tx,
        AuditAction::AdminFactorsReset,
        Some(admin),
        Some(target),
        json!({ "factors": removed }),
    )
    .await?;
    notify(&mut tx, target, "factors_reset", None).await?;
    db::commit(tx).await?;
    flows::sign_out_everywhere(ctx, target, None).await?;
    Ok(removed)
}
