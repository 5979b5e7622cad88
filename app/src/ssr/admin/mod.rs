//! The admin area's actions, each in one `begin_as` transaction with its audit entry; who is
//! an admin is the database's call (docs/admin.md).
pub mod audit_log;
pub mod factors;
pub mod outbox;
pub mod users;

use uuid::Uuid;

use super::{
    RequestContext,
    db::{self, DbError, Tx},
};
use crate::{domain::session::Viewer, error::AppError};

/// An open transaction the database runs as `admin`, and the admin's user id.
pub struct AdminTx {
    pub tx: Tx,
    pub admin: Uuid,
}

/// Opens the request transaction and makes sure the database made it an admin one;
/// anyone else (anonymous, a user, a banned or demoted admin) gets [`AppError::Forbidden`].
pub async fn begin_admin(ctx: &RequestContext) -> Result<AdminTx, AppError> {
    let Some(admin) = ctx.actor.user_id() else {
        return Err(AppError::Forbidden);
    };
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    if !db::is_admin(&mut tx).await? {
        return Err(AppError::Forbidden);
    }
    if lacks_required_factor(ctx, admin).await? {
        return Err(AppError::Forbidden);
    }
    Ok(AdminTx { tx, admin })
}

/// [`begin_admin`] for an action that changes something: it needs a second factor proven
/// within the step-up window too, when the admin has one (docs/mfa.md).
pub async fn begin_admin_action(ctx: &RequestContext) -> Result<AdminTx, AppError> {
    let a = begin_admin(ctx).await?;
    ctx.require_fresh_aal2().await?;
    Ok(a)
}

/// Whether admins must have a second factor and this one has none.
pub async fn lacks_required_factor(ctx: &RequestContext, user: Uuid) -> Result<bool, AppError> {
    if !ctx.settings().require_admin_second_factor {
        return Ok(false);
    }
    let mut tx = ctx.auth_tx().await?;
    let has = db::assurance::has_second_factor(&mut tx, user).await?;
    db::commit(tx).await?;
    Ok(!has)
}

impl AdminTx {
    pub async fn commit(self) -> Result<(), AppError> {
        db::commit(self.tx).await?;
        Ok(())
    }
}

/// The viewer of one request, worked out once: during a page render the header and the admin
/// area's gate both ask. The server provides a fresh one to every request's context.
#[derive(Clone, Default)]
pub struct ViewerMemo(std::sync::Arc<tokio::sync::OnceCell<Viewer>>);

/// Who is looking, for the header: signed in (from the session) and admin (from the role the
/// database gives this request, not from anything the session remembers). Never fails: a
/// database hiccup only hides the admin link.
pub async fn viewer(ctx: &RequestContext) -> Viewer {
    match leptos::prelude::use_context::<ViewerMemo>() {
        Some(memo) => *memo.0.get_or_init(|| find_viewer(ctx)).await,
        None => find_viewer(ctx).await,
    }
}

async fn find_viewer(ctx: &RequestContext) -> Viewer {
    if ctx.actor.user_id().is_none() {
        return Viewer::default();
    }
    let admin = async {
        let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
        let admin = db::is_admin(&mut tx).await?;
        db::commit(tx).await?;
        Ok::<_, DbError>(admin)
    }
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not tell whether the viewer is an admin");
        false
    });
    let admin_needs_second_factor = match ctx.actor.user_id() {
        Some(user) if admin => lacks_required_factor(ctx, user).await.unwrap_or_else(|e| {
            tracing::warn!(error = ?e, "could not tell whether the admin has a second factor");
            true
        }),
        _ => false,
    };
    Viewer {
        signed_in: true,
        admin,
        admin_needs_second_factor,
    }
}

/// A keyset cursor from the URL; a malformed one is the caller's mistake.
fn cursor<T: std::str::FromStr>(
    after: Option<&str>,
) -> Result<Option<(chrono::DateTime<chrono::Utc>, T)>, AppError> {
    match after.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(None),
        Some(a) => crate::domain::admin::decode_cursor(a)
            .map(Some)
            .ok_or_else(|| AppError::invalid("after", "That page link is not valid.")),
    }
}

/// One more row than a page is fetched, to know whether there is a next page.
fn page_limit() -> i64 {
    i64::try_from(crate::domain::admin::PAGE_SIZE).unwrap_or(25) + 1
}

/// Cuts `rows` to a page and returns the next page's cursor when there were more.
fn paginate<R>(rows: &mut Vec<R>, cursor_of: impl Fn(&R) -> String) -> Option<String> {
    let size = crate::domain::admin::PAGE_SIZE;
    if rows.len() > size {
        rows.truncate(size);
        rows.last().map(cursor_of)
    } else {
        None
    }
}
