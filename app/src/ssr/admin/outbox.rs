//! The email outbox as admins see it: pending and dead rows, and reviving a dead one.
use serde_json::json;

use super::{begin_admin, begin_admin_action, cursor, page_limit, paginate};
use crate::{
    domain::{
        admin::{OutboxPage, OutboxView, encode_cursor},
        audit::AuditAction,
    },
    error::AppError,
    ssr::{RequestContext, db::admin as queries},
};

#[tracing::instrument(name = "admin.outbox", skip_all)]
pub async fn page(
    ctx: &RequestContext,
    view: OutboxView,
    after: Option<&str>,
) -> Result<OutboxPage, AppError> {
    let after = cursor::<i64>(after)?;
    let mut a = begin_admin(ctx).await?;
    let (pending, dead) = queries::outbox_counts(&mut a.tx).await?;
    let mut items = queries::outbox_items(&mut a.tx, view, after, page_limit()).await?;
    a.commit().await?;
    let next = paginate(&mut items, |i| match view {
        OutboxView::Pending => encode_cursor(i.next_attempt_at, i.id),
        OutboxView::Dead => encode_cursor(i.dead_at.unwrap_or(i.created_at), i.id),
    });
    Ok(OutboxPage {
        view,
        items,
        next,
        pending,
        dead,
    })
}

/// Puts a dead email back in the queue, due now with a fresh set of attempts.
#[tracing::instrument(name = "admin.retry_outbox", skip_all, fields(outbox_id = id))]
pub async fn retry(ctx: &RequestContext, id: i64) -> Result<(), AppError> {
    let mut a = begin_admin_action(ctx).await?;
    let Some(kind) = queries::retry_dead(&mut a.tx, id).await? else {
        return Err(AppError::Conflict(
            "Only a dead message can be retried: this one was sent, is still queued, does \
             not exist, or carried a one-time link that was removed when it was given up on \
             (the user can ask for a new one)."
                .into(),
        ));
    };
    ctx.audit(
        &mut a.tx,
        AuditAction::OutboxRetried,
        Some(a.admin),
        None,
        json!({ "outbox_id": id, "kind": kind }),
    )
    .await?;
    a.commit().await
}
