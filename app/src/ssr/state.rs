//! Shared, cheaply cloned handles every request needs.
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Logs in as `authenticator`; every request query goes through `db::begin_as`.
    pub db: super::db::Db,
    pub redis: fred::clients::Pool,
    pub auth: Arc<super::settings::AuthSettings>,
    pub passwords: super::auth::password::Hasher,
    /// Signs and checks API clients' access tokens.
    pub jwt: Arc<super::auth::jwt::JwtKeys>,
    /// Recognises `/auth/v1`'s API keys (never user credentials).
    pub api_keys: Arc<super::auth::api_keys::ApiKeys>,
    /// Seals TOTP secrets and hashes recovery codes (keys derived from the server secret).
    pub mfa: Arc<super::auth::mfa::MfaKeys>,
    /// Built once at start-up: the cache's loads in flight and counters are per process.
    pub posts_cache: super::cache::PostCache,
}
