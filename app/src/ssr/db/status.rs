//! The database's own view of a request: version, role and clock.
use sqlx::PgPool;

use super::{DbError, Tx};
use crate::domain::status::DatabaseStatus;

/// Whether Postgres answers at all (`/ready`). On the pool, outside any transaction: it asks
/// for a connection and one round trip, nothing a role could refuse. The simple protocol (no
/// parameters, nothing to check at compile time): a prepared statement outside a transaction
/// may be parsed and bound on two server connections behind a transaction pooler (`pooler`).
pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    sqlx::raw_sql("select 1").execute(pool).await?;
    Ok(())
}

pub async fn read(tx: &mut Tx) -> Result<DatabaseStatus, DbError> {
    let row = sqlx::query!(
        r#"select current_setting('server_version') as "server_version!",
                  current_user::text as "role!",
                  to_char(clock_timestamp() at time zone 'UTC',
                          'YYYY-MM-DD HH24:MI:SS.US "UTC"') as "database_time!""#
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(DatabaseStatus {
        server_version: row.server_version,
        role: row.role,
        database_time: row.database_time,
    })
}
