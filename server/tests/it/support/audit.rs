//! What `auth.audit_log` says about a user.
use uuid::Uuid;

use super::app::TestApp;

/// One line of `auth.audit_log`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
}

/// The audit entries naming `user` (as actor or target), oldest first, read as `admin` (the
/// only role that may read the log; `authenticator` may switch to it, as an operator does).
pub async fn audit_of(app: &TestApp, user: Uuid) -> Vec<AuditEntry> {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("select set_config('role', 'admin', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let entries = sqlx::query_as(
        "select action, actor_id, target_id, host(ip) as ip, user_agent, details \
           from auth.audit_log where actor_id = $1 or target_id = $1 order by id",
    )
    .bind(user)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    entries
}

/// The actions of [`audit_of`], oldest first.
pub async fn actions_of(app: &TestApp, user: Uuid) -> Vec<String> {
    audit_of(app, user)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect()
}
