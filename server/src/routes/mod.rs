//! Plain axum routes, outside Leptos: probes and metrics.
pub mod health;
