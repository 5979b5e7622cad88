//! Plain axum routes, outside Leptos: probes and metrics, and the API clients' `/auth/v1`.
pub mod auth_v1;
pub mod health;
