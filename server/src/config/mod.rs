//! Typed configuration: defaults, then the environment (`PALISADE_*`, `DATABASE_URL`,
//! `REDIS_URL`, `SMTP_URL`), with a `.env` file read in development by `main`. Nothing here reads
//! a global: tests build a `Settings` of their own.
use std::{net::SocketAddr, time::Duration};

use app::ssr::auth::caller::TrustedProxies;
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub environment: Environment,
    /// Where browsers reach the app; links in emails and the cookie's Secure flag follow it.
    pub public_url: String,
    /// Overrides the address cargo-leptos passes in `LEPTOS_SITE_ADDR`.
    pub listen: Option<SocketAddr>,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub smtp_url: SecretString,
    pub mail: MailSettings,
    pub outbox: OutboxSettings,
    pub secret: SecretString,
    /// Development only: no `PALISADE_SECRET` was set, so `secret` is random for this process
    /// (access tokens do not survive a restart). `main` warns about it.
    pub secret_generated: bool,
    /// Where Prometheus scrapes `/metrics`: a listener of its own, never the app's port.
    /// `None` (`PALISADE_METRICS_LISTEN=off`): not served.
    pub metrics_listen: Option<SocketAddr>,
    pub http: HttpSettings,
    pub sessions: SessionSettings,
    pub log_format: LogFormat,
}

#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// Sign-in lapses after this long without a request (rolling).
    pub idle: Duration,
    /// Sign-in lapses this long after it happened, whatever the activity (browser sessions
    /// and API clients' refresh-token families alike).
    pub absolute: Duration,
    /// API clients' access tokens (JWTs) are valid this long.
    pub access_token_ttl: Duration,
    /// A second factor proven this long ago still lets a sensitive action through (step-up).
    pub step_up_window: Duration,
    /// Admins must have a second factor to reach the admin area.
    pub require_admin_second_factor: bool,
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// The app's login role (`authenticator`); it can do nothing until `begin_as` switches it.
    pub url: SecretString,
    /// The owner, used to apply migrations at start-up. Defaults to `url` when unset.
    pub owner_url: Option<SecretString>,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// After a connection could not be had, requests answer 503 at once for this long, then
    /// one probe asks Postgres again (and again after each further interval).
    pub circuit_probe_interval: Duration,
    pub migrate_on_start: bool,
    /// `PALISADE_DB_POOLER`: `transaction` when `url` points at a transaction-mode pooler
    /// (PgBouncer); see `app::ssr::db::pooler`. Unset: straight to Postgres.
    pub pooler: app::ssr::db::pooler::Pooler,
    /// `DATABASE_REPLICA_URL`: a streaming replica for public anonymous reads (see
    /// `app::ssr::db::replica`). Unset: every read goes to `url`.
    pub replica_url: Option<SecretString>,
    /// `PALISADE_REPLICA_MAX_LAG_MS`: above this replay lag, public reads go to the primary.
    pub replica_max_lag: Duration,
}

#[derive(Clone, Debug)]
pub struct RedisSettings {
    pub url: SecretString,
    pub pool_size: usize,
    /// Every Redis command gives up after this; callers fall back or answer 503.
    pub command_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    /// Pages, server functions and `/auth/v1` requests served at once; past it, 503 at once.
    pub max_in_flight: usize,
    pub body_limit_bytes: usize,
    /// How long this process keeps an anonymous reader's rendered public page (0: never).
    pub page_cache_ttl: Duration,
    /// How long in-flight requests get to finish after SIGTERM.
    pub shutdown_grace: Duration,
    pub ready_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed. None by default, so the TCP peer
    /// is the client and no client can choose its address.
    pub trusted_proxies: TrustedProxies,
    /// Origins (`scheme://host[:port]`) whose browser apps may call `/auth/v1` across origins
    /// (`PALISADE_AUTH_CORS_ORIGINS`, comma-separated); by default only the public URL's own.
    /// Never `*`, and never with credentials: `/auth/v1` takes no cookies.
    pub auth_cors_origins: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `From` of every email (`PALISADE_MAIL_FROM`); must be set in production.
    pub from: lettre::message::Mailbox,
    /// One SMTP send (connect, dialogue, data) gives up after this.
    pub send_timeout: Duration,
}

/// The outbox delivery loop (`server::worker`).
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// Run the delivery loop in this instance; several instances may all run it.
    pub worker_enabled: bool,
    /// How long an idle worker waits before looking for due emails again.
    pub poll_interval: Duration,
    /// Emails claimed (and sent concurrently) at a time.
    pub batch_size: u32,
    /// After this many failed attempts an email is parked (`dead_at`) and never retried.
    pub max_attempts: u32,
    /// The first retry waits about this long; each further one twice as long (±20%).
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{0} must be set in production")]
    MissingInProduction(&'static str),
    #[error("{name} is no longer supported: {instead}")]
    Retired {
        name: &'static str,
        instead: &'static str,
    },
    #[error(
        "{0} (PALISADE_ENV is unset, which means production; a local development server needs \
         PALISADE_ENV=development)"
    )]
    ProductionByDefault(Box<ConfigError>),
}

impl Settings {
    /// What the auth subsystem needs to know, with its lifetimes from the environment.
    pub fn auth_settings(&self) -> app::ssr::settings::AuthSettings {
        let mut auth = app::ssr::settings::AuthSettings::for_public_url(&self.public_url);
        auth.session_idle = self.sessions.idle;
        auth.session_absolute = self.sessions.absolute;
        auth.step_up_window = self.sessions.step_up_window;
        auth.require_admin_second_factor = self.sessions.require_admin_second_factor;
        auth
    }

    /// What `seed-dev` insists on: development, on this machine only.
    pub fn is_local_development(&self) -> bool {
        self.environment == Environment::Development
            && self.public_url.starts_with("http://")
            && env::is_loopback_url(&self.public_url)
    }

    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The URL migrations run with: the owner's when configured.
    pub fn migration_url(&self) -> &str {
        self.database
            .owner_url
            .as_ref()
            .unwrap_or(&self.database.url)
            .expose_secret()
    }
}

mod env;
#[cfg(test)]
mod tests;
