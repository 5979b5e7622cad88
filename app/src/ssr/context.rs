//! The context a server function runs in, and the wrapper that turns its errors into the right
//! HTTP status.
use leptos::prelude::*;

use super::{auth::Actor, state::AppState};
use crate::error::AppError;

#[derive(Clone)]
pub struct RequestContext {
    pub state: AppState,
    pub actor: Actor,
}

impl RequestContext {
    /// Reads what the server's layers put into the request: the state, and the actor the auth
    /// layer resolved (anonymous when there is none).
    pub fn current() -> Result<Self, AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::Internal
        })?;
        let actor = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Actor>().cloned())
            .unwrap_or_default();
        Ok(Self { state, actor })
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
    if let Err(e) = &result
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        let status = http::StatusCode::from_u16(e.status_code())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
        if let AppError::RateLimited { retry_after_secs } = e {
            response.insert_header(http::header::RETRY_AFTER, (*retry_after_secs).into());
        }
    }
    result
}
