//! A read-only look at the database, through the same `begin_as` door as every request.
use crate::{domain::status::DatabaseStatus, error::AppError};
use leptos::prelude::*;

/// Reads the database's version, the role it runs this caller as, and its clock: anyone's
/// way to ask "who does the database take me for?".
#[server(endpoint = "check_database")]
pub async fn check_database() -> Result<DatabaseStatus, AppError> {
    use crate::ssr::{serve, status_service};
    serve(async |ctx| status_service::database(&ctx).await).await
}

/// The same look for the admin "System" page: admins only.
#[server(endpoint = "admin/system")]
pub async fn check_system() -> Result<DatabaseStatus, AppError> {
    use crate::ssr::{serve, status_service};
    serve(async |ctx| status_service::system(&ctx).await).await
}
