//! The context a server function runs in, and the wrapper that turns its errors into the right
//! HTTP status.
use leptos::prelude::*;

use super::{
    auth::{Actor, caller::Caller, flows::Flow},
    state::AppState,
};
use crate::error::AppError;

#[derive(Clone)]
pub struct RequestContext {
    pub state: AppState,
    pub actor: Actor,
    pub client: Caller,
}

impl RequestContext {
    /// Reads what the server's layers put into the request: the state, and the actor the auth
    /// layer resolved (anonymous when there is none).
    pub fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })?;
        let parts = use_context::<http::request::Parts>();
        let actor = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<Actor>().cloned())
            .unwrap_or_default();
        let client = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<Caller>().cloned())
            .unwrap_or_default();
        Ok(Self {
            state,
            actor,
            client,
        })
    }

    pub fn flow(&self) -> Flow<'_> {
        Flow {
            state: &self.state,
            client: &self.client,
        }
    }

    /// The browser session (tower-sessions), loaded lazily from Redis.
    pub async fn session(&self) -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "no session layer in front of a server function");
                AppError::Internal
            })
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
        answer_status(e);
    }
    result
}

/// Gives the response to the current server function call the HTTP status of `error` (server
/// functions answer 500 for any error otherwise), with `Retry-After` where it applies.
pub(crate) fn answer_status(error: &AppError) {
    // A plain form post (before the wasm loads) is answered with a redirect back to the form,
    // carrying the error in the URL; a status here would replace that redirect.
    let form_post = use_context::<http::request::Parts>().is_some_and(|p| {
        p.headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if form_post {
        return;
    }
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let status = http::StatusCode::from_u16(error.status_code())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.set_status(status);
    if let Some(secs) = error.retry_after_secs() {
        response.insert_header(http::header::RETRY_AFTER, secs.into());
    }
}
