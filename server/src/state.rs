//! The state of the plain (non-Leptos) routes, built by `startup` and read by `routes`; it
//! lives here so that neither imports the other.
use std::time::Duration;

use app::ssr::state::AppState;
use axum::extract::FromRef;

/// State of the plain (non-Leptos) routes.
#[derive(Clone, FromRef)]
pub struct ServerState {
    pub app: AppState,
    #[from_ref(skip)]
    pub ready_timeout: Duration,
}
