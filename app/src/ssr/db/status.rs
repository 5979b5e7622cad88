//! The database's own view of a request: version, role and clock.
use super::{DbError, Tx};
use crate::domain::status::DatabaseStatus;

pub async fn read(tx: &mut Tx) -> Result<DatabaseStatus, DbError> {
    let (server_version, role, database_time): (String, String, String) = sqlx::query_as(
        "select current_setting('server_version'), current_user::text, \
                to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US \"UTC\"')",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(DatabaseStatus {
        server_version,
        role,
        database_time,
    })
}
