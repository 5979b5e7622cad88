//! A read-only look at the database, through the same `begin_as` door as every request.
use crate::{domain::status::DatabaseStatus, error::AppError};
use leptos::prelude::*;

/// Reads the database's version, role and clock. Used by the home page.
#[server(endpoint = "check_database")]
pub async fn check_database() -> Result<DatabaseStatus, AppError> {
    use crate::ssr::{db, serve};
    serve(async |ctx| {
        let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
        let status = db::status::read(&mut tx).await?;
        db::commit(tx).await?;
        Ok(status)
    })
    .await
}
