//! Rate limits, kept in Redis so every instance sees the same counts.
//!
//! Fixed windows: the first hit starts a window of `window`; hits beyond `max` inside it are
//! refused with the time left until it ends. (A burst straddling two windows can reach
//! 2 × `max`; for these limits that is fine and one `INCR` is cheaper than a sliding log.)
//! Keys are `palisade:v1:rl:<name>:<sha256 of the key, lowercased>`, so no email address or IP
//! ever appears in a Redis key. Every refusal counts in `rate_limit_rejections_total{limit}`;
//! every Redis failure in `rate_limit_errors_total{limit}`.
//!
//! **When Redis fails** (an error, or no answer within `PALISADE_REDIS_TIMEOUT_MS`), each limit
//! does what its own table row says. Limits that stop *guessing* a secret fail **closed**: the
//! request is answered 503 "try again" (`AppError::Unavailable`, with `Retry-After`) before
//! any password, code or address is looked at, because an outage (or an attacker who can
//! make Redis slow) must not become a window of unlimited guesses. We chose failing closed over
//! an in-process fallback limiter: a browser sign-in needs Redis for its session anyway, so a
//! fallback would buy only API sign-ins, at the price of limits that multiply with the number
//! of instances and of a second limiter to keep bounded and correct. Limits that only ration
//! harmless or unguessable work fail **open** ([`hit_or_pass`]): a Redis blip must not stop
//! people signing up or API clients refreshing. Use [`hit`] (closed) unless the table says
//! otherwise.
//!
//! | Limit | Counts | Default | Redis down |
//! | --- | --- | --- | --- |
//! | `SIGN_IN_PER_IP` | sign-in attempts per IP (/64 for IPv6 via `ClientMeta::ip_key`), browser and API password grant, successful or not | 20 per 5 min | closed |
//! | `SIGN_IN_PER_ACCOUNT` | failed sign-ins per account, from IPs it was never signed in from | 100 per hour | closed |
//! | sign-in backoff | failed sign-ins, and wrong current passwords in the account forms, per (account, IP) | 5 free, then 2^(n−5) s between attempts, at most 15 min; forgotten 24 h after the last failure or at a success | closed (failures not recorded while down are not counted) |
//! | `PASSWORD_CHECK_PER_USER` | current-password checks of a signed-in user (change password, change email, delete), right or wrong | 10 per 15 min | closed |
//! | `PASSWORD_CHECK_PER_IP` | the same, per IP | 30 per 15 min | closed |
//! | `EMAIL_CHANGE_PER_USER` | "confirm your new address" emails per user | 3 per hour | closed |
//! | `SIGN_UP_PER_IP` | sign-ups per IP | 10 per hour | open |
//! | `FORGOT_PER_IP` | password-reset requests per IP | 10 per hour | closed |
//! | `FORGOT_PER_ACCOUNT` | password-reset requests per email address | 3 per hour | closed |
//! | `RESEND_PER_IP` | "resend the confirmation email" per IP | 10 per hour | open |
//! | `RESEND_PER_ACCOUNT` | "resend the confirmation email" per address | 3 per hour | open |
//! | `CODE_ENTRY_PER_ACCOUNT` | 6-digit code entries per account (or token) | 10 per 15 min | closed |
//! | `CODE_ENTRY_PER_IP` | 6-digit code entries per IP, whatever the account | 20 per 15 min | closed |
//! | `flows::strength::STRENGTH_PER_IP` | live password-meter ratings per IP (CPU only: the answer is a pure function of the input) | 300 per 5 min | open |
//! | `REFRESH_PER_IP` | API refresh-token grants per IP (the tokens are 256 random bits: nothing to guess) | 300 per 5 min | open |
//!
//! Sign-in is guarded three ways. Each (account, IP) pair backs off exponentially after a few
//! failures, which stops guessing from one place. The account-wide limit stops guessing spread
//! over many IPs; it is high, and it does not apply from an IP the account has signed in from
//! successfully in the last 30 days, so an attacker spraying from elsewhere cannot lock the
//! owner out of their usual place. Per-IP limits stop one IP from trying many accounts.
//!
//! A signed-in user's sensitive forms ask for the current password; a right one used to be
//! free, so one account could keep every argon2 slot busy or mail any address without end.
//! Every check now counts per user and per IP, and the email-change mail per user.
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fred::{clients::Pool, interfaces::LuaInterface as _};
use sha2::{Digest as _, Sha256};

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Part of the Redis key and the metric label: stable, snake_case.
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

const HOUR: Duration = Duration::from_secs(3600);

pub const SIGN_IN_PER_IP: Limit = Limit {
    name: "sign_in_ip",
    max: 20,
    window: Duration::from_secs(5 * 60),
};
/// Counted by [`failed_sign_in`], checked by [`check_sign_in`]; not for [`hit`].
pub const SIGN_IN_PER_ACCOUNT: Limit = Limit {
    name: "sign_in_account",
    max: 100,
    window: HOUR,
};
pub const SIGN_UP_PER_IP: Limit = Limit {
    name: "sign_up_ip",
    max: 10,
    window: HOUR,
};
pub const FORGOT_PER_IP: Limit = Limit {
    name: "forgot_ip",
    max: 10,
    window: HOUR,
};
pub const FORGOT_PER_ACCOUNT: Limit = Limit {
    name: "forgot_account",
    max: 3,
    window: HOUR,
};
pub const RESEND_PER_IP: Limit = Limit {
    name: "resend_ip",
    max: 10,
    window: HOUR,
};
pub const RESEND_PER_ACCOUNT: Limit = Limit {
    name: "resend_account",
    max: 3,
    window: HOUR,
};
/// Refresh-token grants per IP: generous (many clients may share an address), but a flood
/// of made-up tokens stops before it costs the database.
pub const REFRESH_PER_IP: Limit = Limit {
    name: "refresh_ip",
    max: 300,
    window: Duration::from_secs(5 * 60),
};
pub const CODE_ENTRY_PER_ACCOUNT: Limit = Limit {
    name: "code_entry",
    max: 10,
    window: Duration::from_secs(15 * 60),
};
/// Code entries from one address across accounts: guessing stays slow for someone spraying
/// many addresses, each of whose own count never fills.
pub const CODE_ENTRY_PER_IP: Limit = Limit {
    name: "code_entry_ip",
    max: 20,
    window: Duration::from_secs(15 * 60),
};

/// Current-password checks of a signed-in user (change password, change email, delete the
/// account), right or wrong: each costs an argon2 computation.
pub const PASSWORD_CHECK_PER_USER: Limit = Limit {
    name: "password_check_user",
    max: 10,
    window: Duration::from_secs(15 * 60),
};
pub const PASSWORD_CHECK_PER_IP: Limit = Limit {
    name: "password_check_ip",
    max: 30,
    window: Duration::from_secs(15 * 60),
};
/// "Confirm your new address" emails per user: each goes to an address of the user's choice.
pub const EMAIL_CHANGE_PER_USER: Limit = Limit {
    name: "email_change_user",
    max: 3,
    window: HOUR,
};

/// Failed sign-ins per (account, IP) that cost nothing.
pub const SIGN_IN_FREE_FAILURES: u32 = 5;
/// The longest wait the backoff asks for.
pub const SIGN_IN_MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures of an (account, IP) pair are forgotten this long after the last one.
pub const SIGN_IN_FAILURE_MEMORY: Duration = Duration::from_secs(24 * 3600);
/// An IP the account signed in from is exempt from the account-wide limit this long.
pub const SIGN_IN_KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

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
/// Redis cannot count it (fails closed: see the module docs).
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

/// KEYS: pair, account failures, known pair. ARGV: free failures, max delay ms, account max.
/// Returns the milliseconds to wait (0: go ahead).
const CHECK_SIGN_IN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local pair = redis.call('HMGET', KEYS[1], 'n', 'last')
local n = tonumber(pair[1]) or 0
local last = tonumber(pair[2]) or 0
local free = tonumber(ARGV[1])
if n > free then
  local delay = math.min((2 ^ (n - free)) * 1000, tonumber(ARGV[2]))
  wait = math.max(wait, last + delay - now)
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local fails = tonumber(redis.call('GET', KEYS[2]) or '0')
  if fails >= tonumber(ARGV[3]) then
    wait = math.max(wait, redis.call('PTTL', KEYS[2]))
  end
end
return math.floor(wait)";

/// KEYS: pair, account failures. ARGV: pair memory ms, account window ms.
const FAILED_SIGN_IN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'last', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1";

/// KEYS: pair, known pair. ARGV: known ms.
const CLEARED_SIGN_IN: &str = r"
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1";

fn sign_in_keys(account: &str, ip: &str) -> [String; 3] {
    [
        key("sign_in_backoff", &pair(account, ip)),
        key(SIGN_IN_PER_ACCOUNT.name, account),
        key("sign_in_known", &pair(account, ip)),
    ]
}

/// Before checking a password: refuses while the (account, IP) pair is backing off, or while
/// the account-wide failure limit is reached and this IP is not one the account signed in from.
/// Fails closed.
/// `account_key` is the normalised email address; `ip` is `ClientMeta::ip_key()`.
pub async fn check_sign_in(redis: &Pool, account_key: &str, ip: &str) -> Result<(), AppError> {
    let [pair_key, account, known] = sign_in_keys(account_key, ip);
    let result: Result<i64, _> = redis
        .eval(
            CHECK_SIGN_IN,
            vec![pair_key, account, known],
            vec![
                SIGN_IN_FREE_FAILURES.to_string(),
                millis(SIGN_IN_MAX_DELAY),
                SIGN_IN_PER_ACCOUNT.max.to_string(),
            ],
        )
        .await;
    match result {
        Ok(wait_ms) if wait_ms > 0 => Err(refuse("sign_in", wait_ms)),
        Ok(_) => Ok(()),
        Err(e) => Err(fail_closed("sign_in", &e)),
    }
}

/// After a wrong password (or an unknown account): one more failure for the pair and the
/// account.
pub async fn failed_sign_in(redis: &Pool, account_key: &str, ip: &str) {
    let [pair_key, account, _] = sign_in_keys(account_key, ip);
    let result: Result<i64, _> = redis
        .eval(
            FAILED_SIGN_IN,
            vec![pair_key, account],
            vec![
                millis(SIGN_IN_FAILURE_MEMORY),
                millis(SIGN_IN_PER_ACCOUNT.window),
            ],
        )
        .await;
    if let Err(e) = result {
        fail_open("sign_in", &e);
    }
}

/// After a successful sign-in: the pair's failures are forgotten and the IP becomes known to
/// the account (exempt from the account-wide limit for [`SIGN_IN_KNOWN_FOR`]).
pub async fn cleared_sign_in(redis: &Pool, account_key: &str, ip: &str) {
    let [pair_key, _, known] = sign_in_keys(account_key, ip);
    let result: Result<i64, _> = redis
        .eval(
            CLEARED_SIGN_IN,
            vec![pair_key, known],
            vec![millis(SIGN_IN_KNOWN_FOR)],
        )
        .await;
    if let Err(e) = result {
        fail_open("sign_in", &e);
    }
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
