//! The home page's look at the database, through the same `begin_as` door as every request.
use super::{RequestContext, db};
use crate::{domain::status::DatabaseStatus, error::AppError};

/// The database's version, role and clock, as this request's actor sees them.
pub async fn database(ctx: &RequestContext) -> Result<DatabaseStatus, AppError> {
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let status = db::status::read(&mut tx).await?;
    db::commit(tx).await?;
    Ok(status)
}
