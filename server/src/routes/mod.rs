//! Plain axum routes, outside Leptos: the probes and the API clients' `/auth/v1` (`/metrics`
//! is on a listener of its own: `crate::metrics`).
pub mod auth_v1;
pub mod health;
