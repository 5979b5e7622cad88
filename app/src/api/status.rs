//! A read-only look at the database, through the same `begin_as` door as every request.
use crate::{domain::status::DatabaseStatus, error::AppError};
use leptos::prelude::*;

/// Reads the database's version, role and clock. Used by the home page.
#[server(endpoint = "check_database")]
pub async fn check_database() -> Result<DatabaseStatus, AppError> {
    use crate::ssr::{serve, status_service};
    serve(async |ctx| status_service::database(&ctx).await).await
}
