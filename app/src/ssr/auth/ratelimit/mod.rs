//! Rate limits, kept in Redis so every instance sees the same counts: fixed windows here, the
//! sign-in back-off in `sign_in`. Each limit's numbers and what it does while Redis is down
//! are in the table of docs/rate-limits.md.
mod sign_in;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fred::{clients::Pool, interfaces::LuaInterface as _};
use sha2::{Digest as _, Sha256};

pub use sign_in::{
    SIGN_IN_FAILURE_MEMORY, SIGN_IN_FREE_FAILURES, SIGN_IN_KNOWN_FOR, SIGN_IN_MAX_DELAY,
    check_sign_in, cleared_sign_in, failed_sign_in,
};

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Part of the Redis key and the metric label: stable, snake_case.
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    const fn new(name: &'static str, max: u32, window: Duration) -> Self {
        Self { name, max, window }
    }
}

const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);
const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(3600);

pub const SIGN_IN_PER_IP: Limit = Limit::new("sign_in_ip", 20, FIVE_MINUTES);
/// Counted by [`failed_sign_in`], checked by [`check_sign_in`]; not for [`hit`].
pub const SIGN_IN_PER_ACCOUNT: Limit = Limit::new("sign_in_account", 100, HOUR);
pub const SIGN_UP_PER_IP: Limit = Limit::new("sign_up_ip", 10, HOUR);
pub const FORGOT_PER_IP: Limit = Limit::new("forgot_ip", 10, HOUR);
pub const FORGOT_PER_ACCOUNT: Limit = Limit::new("forgot_account", 3, HOUR);
pub const RESEND_PER_IP: Limit = Limit::new("resend_ip", 10, HOUR);
pub const RESEND_PER_ACCOUNT: Limit = Limit::new("resend_account", 3, HOUR);
/// Refresh-token grants per IP: generous (many clients may share an address), but a flood
/// of made-up tokens stops before it costs the database.
pub const REFRESH_PER_IP: Limit = Limit::new("refresh_ip", 300, FIVE_MINUTES);
pub const CODE_ENTRY_PER_ACCOUNT: Limit = Limit::new("code_entry", 10, FIFTEEN_MINUTES);
/// Code entries from one address across accounts: guessing stays slow for someone spraying
/// many addresses, each of whose own count never fills.
pub const CODE_ENTRY_PER_IP: Limit = Limit::new("code_entry_ip", 20, FIFTEEN_MINUTES);

/// Current-password checks of a signed-in user (change password, change email, delete the
/// account), right or wrong: each costs an argon2 computation.
pub const PASSWORD_CHECK_PER_USER: Limit = Limit::new("password_check_user", 10, FIFTEEN_MINUTES);
pub const PASSWORD_CHECK_PER_IP: Limit = Limit::new("password_check_ip", 30, FIFTEEN_MINUTES);
/// Passkey ceremonies started (sign-in and registration) per address: each keeps a challenge
/// in Redis for five minutes, so a script may not pile them up.
pub const PASSKEY_CEREMONY_PER_IP: Limit = Limit::new("passkey_ceremony_ip", 60, FIVE_MINUTES);
/// "Confirm your new address" emails per user: each goes to an address of the user's choice.
pub const EMAIL_CHANGE_PER_USER: Limit = Limit::new("email_change_user", 3, HOUR);
/// Email sign-in requests: each sends a mail, so a few per address (a mailbox is not flooded
/// by strangers) and more per IP (several people behind one address).
pub const EMAIL_SIGN_IN_PER_ACCOUNT: Limit =
    Limit::new("email_sign_in_account", 3, FIFTEEN_MINUTES);
/// Reauthentication codes mailed per user (`POST /auth/v1/reauthenticate`).
pub const REAUTHENTICATE_PER_USER: Limit = Limit::new("reauthenticate_user", 5, HOUR);
pub const EMAIL_SIGN_IN_PER_IP: Limit = Limit::new("email_sign_in_ip", 10, HOUR);

/// Second-factor codes (sign-in, step-up, confirming a new factor), right or wrong. Per user:
/// with 3 codes valid at a time, 10 guesses per 15 minutes leave a guesser ~1 in 33 000 a
/// window. Per address: slows one host spraying many accounts.
pub const MFA_CODE_PER_USER: Limit = Limit::new("mfa_code_user", 10, FIFTEEN_MINUTES);
pub const MFA_CODE_PER_IP: Limit = Limit::new("mfa_code_ip", 30, FIFTEEN_MINUTES);

fn hashed(key: &str) -> String {
    let digest = Sha256::digest(key.trim().to_lowercase().as_bytes());
    super::tokens::hex(&digest[..16])
}

fn key(name: &str, key: &str) -> String {
    format!("palisade:v1:rl:{name}:{}", hashed(key))
}

fn pair(account: &str, ip: &str) -> String {
    format!("{}\n{}", account.trim(), ip.trim())
}

fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}

fn refuse(name: &'static str, wait_ms: i64) -> AppError {
    metrics::counter!("rate_limit_rejections_total", "limit" => name).increment(1);
    let retry_after_secs = u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1);
    tracing::info!(limit = name, retry_after_secs, "rate limited");
    AppError::RateLimited { retry_after_secs }
}

/// Counts a Redis failure. Logs at most once a minute, so an outage is visible without
/// flooding the logs.
fn redis_failed(name: &'static str, error: &fred::error::Error, what: &str) {
    metrics::counter!("rate_limit_errors_total", "limit" => name).increment(1);
    static LAST_WARNED: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_WARNED.load(Ordering::Relaxed);
    if now >= last + 60
        && LAST_WARNED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(limit = name, %error, "rate limits unavailable: {what}");
    }
}

/// A Redis failure on a limit that fails open: counted, and the request goes through.
fn fail_open(name: &'static str, error: &fred::error::Error) {
    redis_failed(name, error, "letting requests through");
}

/// A Redis failure on a limit that fails closed: counted, and the request is refused with the
/// one "try again" answer (503 + `Retry-After`).
fn fail_closed(name: &'static str, error: &fred::error::Error) -> AppError {
    redis_failed(name, error, "refusing guessable requests");
    AppError::Unavailable
}

/// `{count, ms left in the window}`.
const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}";

/// Counts one request against `limit` for `key` (an IP key, an email address, a user id).
/// `Err(RateLimited)` once `limit.max` is exceeded within the window; `Err(Unavailable)` when
/// Redis cannot count it (fails closed: see docs/rate-limits.md).
pub async fn hit(redis: &Pool, limit: &Limit, key_: &str) -> Result<(), AppError> {
    count(redis, limit, key_)
        .await
        .map_err(|e| fail_closed(limit.name, &e))?
}

/// [`hit`] for the limits that fail open: when Redis cannot count, the request goes through.
pub async fn hit_or_pass(redis: &Pool, limit: &Limit, key_: &str) -> Result<(), AppError> {
    count(redis, limit, key_).await.unwrap_or_else(|e| {
        fail_open(limit.name, &e);
        Ok(())
    })
}

/// The verdict, or Redis's failure.
async fn count(
    redis: &Pool,
    limit: &Limit,
    key_: &str,
) -> Result<Result<(), AppError>, fred::error::Error> {
    let counted: Vec<i64> = redis
        .eval(HIT, vec![key(limit.name, key_)], vec![millis(limit.window)])
        .await?;
    Ok(match counted.as_slice() {
        &[n, ttl_ms] if n > i64::from(limit.max) => Err(refuse(limit.name, ttl_ms)),
        _ => Ok(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_contain_the_raw_key_and_ignore_case() {
        let k = key("forgot_account", "Alice@Example.com");
        assert!(!k.to_lowercase().contains("alice"), "{k}");
        assert!(k.starts_with("palisade:v1:rl:forgot_account:"));
        assert_eq!(k, key("forgot_account", " alice@example.com"));
        assert_ne!(
            key("sign_in_backoff", &pair("a@x.io", "1.2.3.4")),
            key("sign_in_backoff", &pair("a@x.io", "1.2.3.5"))
        );
    }

    #[test]
    fn retry_after_is_rounded_up_to_whole_seconds() {
        assert_eq!(
            refuse("t", 1),
            AppError::RateLimited {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            refuse("t", 59_001),
            AppError::RateLimited {
                retry_after_secs: 60
            }
        );
    }

    #[test]
    fn windows_are_sensible() {
        for limit in [
            SIGN_IN_PER_IP,
            SIGN_IN_PER_ACCOUNT,
            SIGN_UP_PER_IP,
            FORGOT_PER_IP,
            FORGOT_PER_ACCOUNT,
            RESEND_PER_IP,
            RESEND_PER_ACCOUNT,
            CODE_ENTRY_PER_ACCOUNT,
            REFRESH_PER_IP,
            PASSWORD_CHECK_PER_USER,
            PASSWORD_CHECK_PER_IP,
            EMAIL_CHANGE_PER_USER,
            CODE_ENTRY_PER_IP,
        ] {
            assert!(
                limit.max > 0 && limit.window >= Duration::from_secs(60),
                "{limit:?}"
            );
        }
    }
}
