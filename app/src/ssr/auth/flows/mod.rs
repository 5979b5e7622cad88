//! The auth flows: each is one function the server functions call, doing its rate limits,
//! its one transaction (state change + audit entry + outbox email together) and its session
//! work. Answers that could reveal whether an account exists are identical by construction.
pub mod account;
pub mod api;
pub mod recovery;
pub mod requests;
pub mod signin;
pub mod signup;
pub mod strength;

use uuid::Uuid;

use super::{client::ClientMeta, tokens};
use crate::{
    domain::audit::AuditAction,
    error::AppError,
    ssr::{
        db::{self, DbError, Tx, audit, tokens as stored, tokens::Purpose},
        settings::AuthSettings,
        state::AppState,
    },
};

/// What every flow gets from the request.
pub struct Flow<'a> {
    pub state: &'a AppState,
    pub client: &'a ClientMeta,
}

impl Flow<'_> {
    pub fn settings(&self) -> &AuthSettings {
        &self.state.auth
    }

    pub async fn auth_tx(&self) -> Result<Tx, AppError> {
        Ok(db::begin_service(&self.state.db, db::ServiceRole::Auth).await?)
    }

    pub async fn audit(
        &self,
        tx: &mut Tx,
        action: AuditAction,
        actor: Option<Uuid>,
        target: Option<Uuid>,
        details: serde_json::Value,
    ) -> Result<(), DbError> {
        audit::record(
            tx,
            &audit::Entry {
                actor_id: actor,
                target_id: target,
                action,
                ip: self.client.ip,
                user_agent: self.client.user_agent.as_deref(),
                details,
            },
        )
        .await
    }

    /// Records that `user` acted on their own account, with no details.
    pub async fn audit_own(
        &self,
        tx: &mut Tx,
        action: AuditAction,
        user: Uuid,
    ) -> Result<(), DbError> {
        self.audit(tx, action, Some(user), Some(user), serde_json::json!({}))
            .await
    }

    /// Records one audit entry in a transaction of its own (for actions with no other write).
    pub async fn audit_now(
        &self,
        action: AuditAction,
        user: Uuid,
        details: serde_json::Value,
    ) -> Result<(), AppError> {
        let mut tx = self.auth_tx().await?;
        self.audit(&mut tx, action, Some(user), Some(user), details)
            .await?;
        db::commit(tx).await?;
        Ok(())
    }

    /// Rate-limit key of the caller's address.
    pub fn ip_key(&self) -> String {
        self.client.ip_key()
    }

    /// `https://host/path?token=…`
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.settings().public_url)
    }
}

/// Mints a token for `user_id`, replacing any earlier one of the same purpose, and returns
/// the secret (for the email only).
pub async fn issue_token(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: Purpose,
    new_email: Option<&str>,
    ttl: std::time::Duration,
) -> Result<tokens::Minted, DbError> {
    let minted = tokens::mint();
    stored::replace(
        tx,
        &stored::NewToken {
            user_id,
            purpose,
            token_hash: &minted.token_hash,
            code_hash: Some(&minted.code_hash),
            new_email,
            ttl,
        },
    )
    .await?;
    Ok(minted)
}

/// A recovery happened: the password was changed or reset, the user signed out everywhere
/// (browser or API), or an admin banned them or changed their role. Whoever held the account
/// until now may hold more than a session, so this ends, in the caller's transaction (the one
/// recording the action), every outstanding grant of control: pending email changes,
/// password-reset links and API sign-ins (refresh tokens, and the access tokens of their
/// families). Every recovery path calls this one function; browser sessions live in Redis and
/// are ended by the caller after its commit.
pub async fn recovered(tx: &mut Tx, user_id: Uuid) -> Result<stored::Ended, DbError> {
    let ended = stored::end_grants(tx, user_id).await?;
    if ended.voided_links > 0 {
        tracing::info!(%user_id, links = ended.voided_links, "recovery voided outstanding links");
    }
    Ok(ended)
}

/// The one message for a link that is unknown, used or expired: which of these it was is
/// nobody's business.
pub fn dead_link() -> AppError {
    AppError::invalid(
        "token",
        "This link has expired or has already been used. Ask for a new one.",
    )
}
