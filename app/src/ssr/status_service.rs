//! A look at the database (the admin "System" page, and anyone's "who am I to the database?"),
//! through the same `begin_as` door as every request.
use super::{RequestContext, admin, db};
use crate::{domain::status::DatabaseStatus, error::AppError};

/// The database's version, role and clock, as this request's actor sees them.
pub async fn database(ctx: &RequestContext) -> Result<DatabaseStatus, AppError> {
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let status = db::status::read(&mut tx).await?;
    db::commit(tx).await?;
    Ok(status)
}

/// The same, for admins only (anyone else: [`AppError::Forbidden`]).
pub async fn system(ctx: &RequestContext) -> Result<DatabaseStatus, AppError> {
    let mut admin = admin::begin_admin(ctx).await?;
    let status = db::status::read(&mut admin.tx).await?;
    admin.commit().await?;
    Ok(status)
}
