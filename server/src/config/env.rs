//! Reading the settings from the environment: defaults, the checks production insists on, and
//! the parsers of numbers and durations.
use std::time::Duration;

use app::ssr::auth::caller::TrustedProxies;

use super::{
    ConfigError, DatabaseSettings, Environment, HttpSettings, LogFormat, MailSettings,
    OutboxSettings, RedisSettings, SessionSettings, Settings,
};

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
        let auth_cors_origins = cors_origins(&var("PALISADE_AUTH_CORS_ORIGINS", ""), &public_url)
            .map_err(|e| invalid("PALISADE_AUTH_CORS_ORIGINS", e))?;
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
                circuit_probe_interval: millis(get, "PALISADE_DB_CIRCUIT_PROBE_MS", 1_000)?,
                migrate_on_start: var("PALISADE_MIGRATE_ON_START", "true") == "true",
                pooler: var("PALISADE_DB_POOLER", "none")
                    .parse()
                    .map_err(|e| invalid("PALISADE_DB_POOLER", e))?,
                replica_url: get("DATABASE_REPLICA_URL")
                    .filter(|v| !v.is_empty())
                    .map(Into::into),
                replica_max_lag: millis(get, "PALISADE_REPLICA_MAX_LAG_MS", 1_000)?,
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
                max_in_flight: max_in_flight(get)?,
                body_limit_bytes: number(get, "PALISADE_BODY_LIMIT_BYTES", 1024 * 1024)?,
                page_cache_ttl: millis(get, "PALISADE_PAGE_CACHE_TTL_MS", 1_000)?,
                shutdown_grace: millis(get, "PALISADE_SHUTDOWN_GRACE_MS", 20_000)?,
                ready_timeout: millis(get, "PALISADE_READY_TIMEOUT_MS", 1_000)?,
                trusted_proxies,
                auth_cors_origins,
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
                step_up_window: {
                    let secs: u64 = number(get, "PALISADE_STEP_UP_WINDOW_SECS", 600)?;
                    // Zero would ask for the second factor again on every sensitive action,
                    // unusable; past a day it is no longer "fresh".
                    if !(30..=86_400).contains(&secs) {
                        return Err(invalid(
                            "PALISADE_STEP_UP_WINDOW_SECS",
                            "must be between 30 and 86400",
                        ));
                    }
                    Duration::from_secs(secs)
                },
                // Unset means required (and unset PALISADE_ENV means production); only a
                // development server relaxes it by default, so seeded local admins and the
                // browser tests reach /admin without enrolling.
                require_admin_second_factor: match var(
                    "PALISADE_ADMIN_SECOND_FACTOR",
                    if prod { "required" } else { "optional" },
                )
                .as_str()
                {
                    "required" => true,
                    "optional" => false,
                    other => {
                        return Err(invalid(
                            "PALISADE_ADMIN_SECOND_FACTOR",
                            format!("{other:?} (required or optional)"),
                        ));
                    }
                },
            },
            log_format,
        })
    }
}

/// Whether the URL's host is this machine: `localhost`, `*.localhost` (RFC 6761 keeps both on
/// loopback), 127.0.0.0/8 or `[::1]`. Anything else, including names that merely start like
/// one (`localhost.evil.example`, `127.0.0.1.nip.io`), is not.
pub(super) fn is_loopback_url(url: &str) -> bool {
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
    app::ssr::auth::tokens::hex(&bytes)
}

/// `PALISADE_MAX_IN_FLIGHT`, by default 256 per CPU: far more than the database pool serves
/// at once (the rest wait in its queue), few enough that a stalled dependency cannot pile up
/// requests without bound. Never 0 (that would refuse everything).
fn max_in_flight(get: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    const NAME: &str = "PALISADE_MAX_IN_FLIGHT";
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    match number(get, NAME, 256 * cpus)? {
        0 => Err(invalid(NAME, "must be at least 1")),
        limit => Ok(limit),
    }
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

/// The origins listed in `PALISADE_AUTH_CORS_ORIGINS`, or the public URL's alone when none are:
/// each exactly `scheme://host[:port]`, as browsers send `Origin` (no wildcard, no path).
fn cors_origins(listed: &str, public_url: &str) -> Result<Vec<String>, String> {
    let listed: Vec<&str> = listed
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .collect();
    if listed.is_empty() {
        let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
        let end = public_url[after_scheme..]
            .find('/')
            .map_or(public_url.len(), |i| after_scheme + i);
        return Ok(vec![public_url[..end].to_ascii_lowercase()]);
    }
    listed
        .into_iter()
        .map(|origin| {
            let host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .ok_or_else(|| format!("{origin:?} is not http(s)://host[:port]"))?;
            if host.is_empty() || host.contains(['/', '*', '?', '#', '@', ' ']) {
                return Err(format!("{origin:?} is not http(s)://host[:port]"));
            }
            Ok(origin.to_ascii_lowercase())
        })
        .collect()
}
