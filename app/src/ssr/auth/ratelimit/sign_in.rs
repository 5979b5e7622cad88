//! Sign-in's guard: exponential back-off per (account, IP) and the account-wide failure limit,
//! which an IP the account signed in from recently is exempt from.
use std::time::Duration;

use fred::{clients::Pool, interfaces::LuaInterface as _};

use super::{SIGN_IN_PER_ACCOUNT, fail_closed, fail_open, key, millis, pair, refuse};
use crate::error::AppError;

/// Failed sign-ins per (account, IP) that cost nothing.
pub const SIGN_IN_FREE_FAILURES: u32 = 5;
/// The longest wait the backoff asks for.
pub const SIGN_IN_MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures of an (account, IP) pair are forgotten this long after the last one.
pub const SIGN_IN_FAILURE_MEMORY: Duration = Duration::from_secs(24 * 3600);
/// An IP the account signed in from is exempt from the account-wide limit this long.
pub const SIGN_IN_KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

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
/// `account_key` is the normalised email address; `ip` is `Caller::ip_key()`.
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
