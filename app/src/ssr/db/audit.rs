//! `auth.audit_log`: append-only. Inserted as `auth_service` (no RETURNING: it may not read).
use std::net::IpAddr;

use uuid::Uuid;

use super::{DbError, Tx};
use crate::domain::audit::AuditAction;

pub struct Entry<'a> {
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub action: AuditAction,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub details: serde_json::Value,
}

pub async fn record(tx: &mut Tx, entry: &Entry<'_>) -> Result<(), DbError> {
    sqlx::query!(
        "insert into auth.audit_log (actor_id, target_id, action, ip, user_agent, details) \
         values ($1, $2, $3, $4::text::inet, $5, $6)",
        entry.actor_id,
        entry.target_id,
        entry.action.as_str(),
        entry.ip.map(|ip| ip.to_string()),
        entry.user_agent,
        &entry.details,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
