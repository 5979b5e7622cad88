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
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// The app's login role (`authenticator`); it can do nothing until `begin_as` switches it.
    pub url: SecretString,
    /// The owner, used to apply migrations at start-up. Defaults to `url` when unset.
    pub owner_url: Option<SecretString>,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub migrate_on_start: bool,
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
    pub body_limit_bytes: usize,
    /// How long in-flight requests get to finish after SIGTERM.
    pub shutdown_grace: Duration,
    pub ready_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed. None by default, so the TCP peer
    /// is the client and no client can choose its address.
    pub trusted_proxies: TrustedProxies,
}

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `From` of every email (`PALISADE_MAIL_FROM`); must be set in production.
    pub from: lettre::message::Mailbox,
    /// One SMTP send (connect, dialogue, data) gives up after this.
    pub send_timeout: Duration,
}

impl MailSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>, prod: bool) -> Result<Self, ConfigError> {
        let from = match get("PALISADE_MAIL_FROM") {
            Some(v) if !v.trim().is_empty() => v,
            _ if prod => return Err(ConfigError::MissingInProduction("PALISADE_MAIL_FROM")),
            _ => "Palisade <no-reply@palisade.local>".into(),
        };
        Ok(Self {
            from: from
                .trim()
                .parse()
                .map_err(|e| invalid("PALISADE_MAIL_FROM", e))?,
            send_timeout: millis(get, "PALISADE_SMTP_TIMEOUT_MS", 10_000)?,
        })
    }
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

impl OutboxSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let at_least_one = |name: &'static str, default: u32| match number(get, name, default)? {
            0 => Err(invalid(name, "must be at least 1")),
            n => Ok(n),
        };
        Ok(Self {
            worker_enabled: number(get, "PALISADE_WORKER_ENABLED", true)?,
            poll_interval: millis(get, "PALISADE_OUTBOX_POLL_MS", 1_000)?,
            batch_size: at_least_one("PALISADE_OUTBOX_BATCH_SIZE", 10)?,
            max_attempts: at_least_one("PALISADE_OUTBOX_MAX_ATTEMPTS", 8)?,
            backoff_base: millis(get, "PALISADE_OUTBOX_BACKOFF_BASE_MS", 5_000)?,
            backoff_max: millis(get, "PALISADE_OUTBOX_BACKOFF_MAX_MS", 3_600_000)?,
        })
    }
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

/// A production secret with fewer distinct characters than this is a placeholder
/// (`000…`, `changeme…`), not 32 random characters.
const MIN_DISTINCT_SECRET_CHARS: usize = 10;

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any name → value lookup, so tests need no process-wide state.
    /// `PALISADE_ENV` unset means production: a setting left out must never be the unsafe
    /// choice, and development's relaxed checks are asked for by name.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = get("PALISADE_ENV").filter(|v| !v.trim().is_empty());
        let explicit = env.is_some();
        Self::read(env.as_deref().unwrap_or("production"), &get).map_err(|e| match e {
            e @ (ConfigError::Invalid {
                name: "PALISADE_ENV",
                ..
            }
            | ConfigError::Retired { .. }) => e,
            e if !explicit => ConfigError::ProductionByDefault(Box::new(e)),
            e => e,
        })
    }

    fn read(env: &str, get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str, default: &str| get(name).unwrap_or_else(|| default.into());
        let environment = match env.trim() {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(invalid(
                    "PALISADE_ENV",
                    format!("unknown environment {other:?} (development or production)"),
                ));
            }
        };
        if get("PALISADE_TRUST_PROXY").is_some() {
            return Err(ConfigError::Retired {
                name: "PALISADE_TRUST_PROXY",
                instead: "list your proxies' addresses/CIDRs in PALISADE_TRUSTED_PROXIES \
                          (only their X-Forwarded-For is believed; empty: none), then remove \
                          PALISADE_TRUST_PROXY",
            });
        }
        let prod = environment == Environment::Production;
        let required = |name: &'static str, dev_default: &str| match get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ if prod => Err(ConfigError::MissingInProduction(name)),
            _ => Ok(dev_default.to_string()),
        };

        let public_url = var("PALISADE_PUBLIC_URL", "http://127.0.0.1:3000")
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid(
                "PALISADE_PUBLIC_URL",
                "must start with http:// or https://",
            ));
        }
        if prod && !public_url.starts_with("https://") {
            return Err(invalid(
                "PALISADE_PUBLIC_URL",
                "must be https in production (cookies are Secure)",
            ));
        }
        let loopback_http = public_url.starts_with("http://") && is_loopback_url(&public_url);
        if environment == Environment::Development && !loopback_http {
            return Err(invalid(
                "PALISADE_PUBLIC_URL",
                "a development server serves only http on loopback (localhost, *.localhost, \
                 127.0.0.0/8, [::1]); anything else needs PALISADE_ENV=production",
            ));
        }

        let (secret, secret_generated) = match get("PALISADE_SECRET").filter(|v| !v.is_empty()) {
            Some(secret) => (secret, false),
            None if prod => return Err(ConfigError::MissingInProduction("PALISADE_SECRET")),
            None => (random_secret(), true),
        };
        if prod {
            let distinct = secret
                .chars()
                .collect::<std::collections::HashSet<_>>()
                .len();
            if secret.len() < 32 || distinct < MIN_DISTINCT_SECRET_CHARS {
                return Err(invalid(
                    "PALISADE_SECRET",
                    "needs at least 32 random characters (e.g. `openssl rand -hex 32`)",
                ));
            }
        }

        let metrics_listen = match var("PALISADE_METRICS_LISTEN", "127.0.0.1:9464").trim() {
            "off" => None,
            addr => Some(
                addr.parse()
                    .map_err(|e| invalid("PALISADE_METRICS_LISTEN", e))?,
            ),
        };
        let trusted_proxies = TrustedProxies::parse(&var("PALISADE_TRUSTED_PROXIES", ""))
            .map_err(|e| invalid("PALISADE_TRUSTED_PROXIES", e))?;

        let listen = get("PALISADE_LISTEN")
            .map(|v| v.parse().map_err(|e| invalid("PALISADE_LISTEN", e)))
            .transpose()?;
        let log_format =
            match var("PALISADE_LOG_FORMAT", if prod { "json" } else { "pretty" }).as_str() {
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                other => return Err(invalid("PALISADE_LOG_FORMAT", format!("{other:?}"))),
            };

        Ok(Self {
            environment,
            public_url,
            listen,
            database: DatabaseSettings {
                url: required(
                    "DATABASE_URL",
                    "postgres://authenticator@127.0.0.1:55432/palisade",
                )?
                .into(),
                owner_url: get("DATABASE_OWNER_URL").map(Into::into),
                max_connections: number(get, "PALISADE_DB_MAX_CONNECTIONS", 20)?,
                acquire_timeout: millis(get, "PALISADE_DB_ACQUIRE_TIMEOUT_MS", 3_000)?,
                migrate_on_start: var("PALISADE_MIGRATE_ON_START", "true") == "true",
            },
            redis: RedisSettings {
                url: required("REDIS_URL", "redis://127.0.0.1:56379")?.into(),
                pool_size: number(get, "PALISADE_REDIS_POOL_SIZE", 4)?,
                command_timeout: millis(get, "PALISADE_REDIS_TIMEOUT_MS", 500)?,
            },
            smtp_url: required("SMTP_URL", "smtp://127.0.0.1:1025")?.into(),
            mail: MailSettings::from_lookup(get, prod)?,
            outbox: OutboxSettings::from_lookup(get)?,
            secret: secret.into(),
            secret_generated,
            metrics_listen,
            http: HttpSettings {
                request_timeout: millis(get, "PALISADE_REQUEST_TIMEOUT_MS", 15_000)?,
                body_limit_bytes: number(get, "PALISADE_BODY_LIMIT_BYTES", 1024 * 1024)?,
                shutdown_grace: millis(get, "PALISADE_SHUTDOWN_GRACE_MS", 20_000)?,
                ready_timeout: millis(get, "PALISADE_READY_TIMEOUT_MS", 1_000)?,
                trusted_proxies,
            },
            sessions: SessionSettings {
                idle: hours(get, "PALISADE_SESSION_IDLE_HOURS", 7 * 24)?,
                absolute: hours(get, "PALISADE_SESSION_ABSOLUTE_HOURS", 30 * 24)?,
                access_token_ttl: {
                    let secs: u64 = number(get, "PALISADE_ACCESS_TOKEN_TTL_SECS", 900)?;
                    if !(60..=86_400).contains(&secs) {
                        return Err(invalid(
                            "PALISADE_ACCESS_TOKEN_TTL_SECS",
                            "must be between 60 and 86400",
                        ));
                    }
                    Duration::from_secs(secs)
                },
            },
            log_format,
        })
    }

    /// What the auth subsystem needs to know, with its lifetimes from the environment.
    pub fn auth_settings(&self) -> app::ssr::settings::AuthSettings {
        let mut auth = app::ssr::settings::AuthSettings::for_public_url(&self.public_url);
        auth.session_idle = self.sessions.idle;
        auth.session_absolute = self.sessions.absolute;
        auth
    }

    /// What `seed-dev` insists on: development, on this machine only.
    pub fn is_local_development(&self) -> bool {
        self.environment == Environment::Development
            && self.public_url.starts_with("http://")
            && is_loopback_url(&self.public_url)
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

/// Whether the URL's host is this machine: `localhost`, `*.localhost` (RFC 6761 keeps both on
/// loopback), 127.0.0.0/8 or `[::1]`. Anything else, including names that merely start like
/// one (`localhost.evil.example`, `127.0.0.1.nip.io`), is not.
fn is_loopback_url(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, _)) => host,
            None => return false,
        },
        None => authority.split(':').next().unwrap_or_default(),
    };
    let host = host.to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// 256 random bits, hex: a development server's signing secret when none is configured, so the
/// source holds no secret anyone could sign with.
fn random_secret() -> String {
    use rand::Rng as _;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn invalid(name: &'static str, reason: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.to_string(),
    }
}

fn number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: ToString,
{
    match get(name) {
        Some(v) => v.trim().parse().map_err(|e: T::Err| invalid(name, e)),
        None => Ok(default),
    }
}

fn millis(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    number(get, name, default).map(Duration::from_millis)
}

fn hours(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    number(get, name, default).map(|h: u64| Duration::from_secs(h * 3600))
}

#[cfg(test)]
mod tests;
