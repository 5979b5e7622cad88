//! The one context every service runs in (`service(&ctx, args…)`): the shared state, who is
//! asking and from where; and the wrapper that gives a server function's errors their status.
use std::convert::Infallible;

use leptos::prelude::*;
use uuid::Uuid;

use super::{
    auth::{Actor, caller::Caller},
    db::{self, DbError, Tx, audit},
    settings::AuthSettings,
    state::AppState,
};
use crate::{
    domain::{assurance::Assurance, audit::AuditAction},
    error::AppError,
};

/// Built once per request, the same way for server functions ([`RequestContext::current`])
/// and the `/auth/v1` routes (the axum extractor): the actor and the caller are what the
/// server's session layer resolved, or anonymous and unknown when it resolved nothing.
#[derive(Clone)]
pub struct RequestContext {
    pub state: AppState,
    pub actor: Actor,
    pub caller: Caller,
    /// How the actor's sign-in was made (browser session or access token); empty for anon.
    pub assurance: Assurance,
}

impl RequestContext {
    pub fn new(state: AppState, actor: Actor, caller: Caller) -> Self {
        Self {
            state,
            actor,
            caller,
            assurance: Assurance::default(),
        }
    }

    /// The same context, with the sign-in's methods as the server's layers resolved them.
    pub fn with_assurance(self, assurance: Assurance) -> Self {
        Self { assurance, ..self }
    }

    /// The actor and caller the server's layers put into the request's extensions.
    pub fn from_parts(state: AppState, parts: &http::request::Parts) -> Self {
        let actor = parts.extensions.get::<Actor>().cloned().unwrap_or_default();
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default();
        let assurance = parts
            .extensions
            .get::<Assurance>()
            .cloned()
            .unwrap_or_default();
        Self::new(state, actor, caller).with_assurance(assurance)
    }

    /// The context of the server function being run.
    pub fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })?;
        Ok(match use_context::<http::request::Parts>() {
            Some(parts) => Self::from_parts(state, &parts),
            None => Self::new(state, Actor::default(), Caller::default()),
        })
    }

    /// The browser session (tower-sessions), loaded lazily from Redis. Only the flows that
    /// start, rotate, list or end browser sessions take it, always as their second argument.
    pub async fn session(&self) -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "no session layer in front of a server function");
                AppError::Internal
            })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.state.auth
    }

    /// How this request's sign-in was made.
    pub fn assurance(&self) -> &Assurance {
        &self.assurance
    }

    /// For sensitive actions (`ctx.require_fresh_aal2().await?`): passes for a user without a
    /// second factor, and for one who proved theirs within the step-up window; otherwise
    /// [`AppError::StepUpRequired`], which the pages answer with the step-up prompt. Anonymous
    /// callers get `Unauthorized`.
    pub async fn require_fresh_aal2(&self) -> Result<(), AppError> {
        let user = self.actor.require_user()?;
        let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        let window = self.settings().step_up_window.as_secs();
        if self.assurance.is_fresh_aal2(now, window) {
            return Ok(());
        }
        let mut tx = self.auth_tx().await?;
        let has_factor = db::assurance::has_second_factor(&mut tx, user).await?;
        db::commit(tx).await?;
        if has_factor {
            Err(AppError::StepUpRequired)
        } else {
            Ok(())
        }
    }

    /// A transaction as `auth_service`, the role that owns the auth tables and the outbox.
    pub async fn auth_tx(&self) -> Result<Tx, AppError> {
        Ok(db::begin_service(&self.state.db, db::ServiceRole::Auth).await?)
    }

    /// Records an audit entry from this caller, in `tx`.
    pub async fn audit(
        &self,
        tx: &mut Tx,
        action: AuditAction,
        actor: Option<Uuid>,
        target: Option<Uuid>,
        details: serde_json::Value,
    ) -> Result<(), DbError> {
        audit::record(tx, &self.caller.audit_entry(action, actor, target, details)).await
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
        self.caller.ip_key()
    }

    /// `https://host/path?token=…`
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.settings().public_url)
    }
}

/// For the plain axum routes (`/auth/v1`): never refuses, like [`RequestContext::current`].
impl axum::extract::FromRequestParts<AppState> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(state.clone(), parts))
    }
}

/// Runs a server function's body with its context, and gives a failure its HTTP status
/// (server functions answer 500 for any error otherwise).
pub async fn serve<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(RequestContext) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let result = match RequestContext::current() {
        Ok(ctx) => body(ctx).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        e.answer_status();
    }
    result
}
