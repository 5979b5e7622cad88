//! The per-user index of browser sessions in Redis: lists them, caps them, revokes them.
use std::collections::HashMap;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use fred::{clients::Pool, interfaces::HashesInterface as _, interfaces::LuaInterface as _};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::signed_in::SignedIn;
use crate::{
    domain::{device::describe_device, session::SessionInfo},
    error::AppError,
};

/// Sessions one user may have at once; the least recently used goes when a sign-in would
/// make one more. Far above what one person uses across their devices.
pub const MAX_SESSIONS_PER_USER: usize = 50;

#[derive(Deserialize)]
struct IndexEntry {
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
}

fn index_key(user_id: Uuid) -> String {
    format!("palisade:v1:user_sessions:{user_id}")
}

/// The handle the sessions page shows for a session: a one-way function of its id.
pub fn handle_of(session_id: &str) -> String {
    let digest = Sha256::digest(format!("palisade:v1:session-handle:{session_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn redis_error(e: fred::error::Error) -> AppError {
    tracing::warn!(error = %e, "session index unavailable");
    AppError::Unavailable
}

/// The index entry of a session: what the sessions page shows, and when it was last seen.
fn entry_of(data: &SignedIn) -> String {
    let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default();
    serde_json::json!({
        "created_at": at(data.signed_in_at),
        "last_seen_at": at(data.last_seen),
        // For the cap's choice of the least recently used session (Lua reads numbers).
        "seen": data.last_seen,
        "ip": data.ip,
        "user_agent": data.ua,
    })
    .to_string()
}

/// Adds (or moves, when `replaces` is given) a session in its user's index, and makes sure
/// the index lives at least `ttl` seconds more. Over the cap (ARGV[5]), entries whose record
/// has expired are dropped, then the least recently seen sessions (never the one added) are
/// deleted, records and entries, in the same atomic step. Returns how many were signed out.
const INDEX_ADD: &str = r"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] ~= '' and ARGV[4] ~= ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[4]) end
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local cap = tonumber(ARGV[5])
if redis.call('HLEN', KEYS[1]) <= cap then return 0 end
local all = redis.call('HGETALL', KEYS[1])
local others = {}
for i = 1, #all, 2 do
  local id = all[i]
  if id ~= ARGV[1] then
    if redis.call('EXISTS', id) == 0 then
      redis.call('HDEL', KEYS[1], id)
    else
      local ok, entry = pcall(cjson.decode, all[i + 1])
      local seen = (ok and type(entry) == 'table' and tonumber(entry.seen)) or 0
      others[#others + 1] = {id, seen}
    end
  end
end
table.sort(others, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[1] < b[1]
end)
local evicted = 0
for i = 1, #others - (cap - 1) do
  redis.call('DEL', others[i][1])
  redis.call('HDEL', KEYS[1], others[i][1])
  evicted = evicted + 1
end
return evicted";

/// Updates an index entry only if it is still there (a revoked session stays revoked).
const INDEX_TOUCH: &str = r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0";

/// KEYS = index, session ids…: drops index entries whose record has expired; returns 1/0 per id.
const INDEX_PRUNE: &str = r"
local live = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    live[#live + 1] = 1
  else
    redis.call('HDEL', KEYS[1], KEYS[i])
    live[#live + 1] = 0
  end
end
return live";

/// KEYS = index, session ids…: deletes the records and their index entries; returns how many
/// records existed.
const REVOKE: &str = r"
local n = 0
for i = 2, #KEYS do
  n = n + redis.call('DEL', KEYS[i])
  redis.call('HDEL', KEYS[1], KEYS[i])
end
return n";

pub(super) async fn add(
    redis: &Pool,
    data: &SignedIn,
    id: &str,
    replaces: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    let ttl = (data.absolute_at - now).max(1);
    let evicted: i64 = redis
        .eval(
            INDEX_ADD,
            vec![index_key(data.user_id)],
            vec![
                id.to_string(),
                entry_of(data),
                ttl.to_string(),
                replaces.unwrap_or_default().to_string(),
                MAX_SESSIONS_PER_USER.to_string(),
            ],
        )
        .await
        .map_err(redis_error)?;
    if evicted > 0 {
        tracing::info!(
            user_id = %data.user_id,
            evicted,
            "too many sessions: the least recently used were signed out"
        );
    }
    Ok(())
}

/// Drops one session's entry from its user's index, without touching the record.
pub(super) async fn remove(
    redis: &Pool,
    user_id: Uuid,
    id: String,
) -> Result<i64, fred::error::Error> {
    redis.hdel(index_key(user_id), id).await
}

/// Refreshes a session's entry (its last use, its address), unless it was revoked meanwhile.
pub(super) async fn touch(
    redis: &Pool,
    data: &SignedIn,
    id: &str,
) -> Result<i64, fred::error::Error> {
    redis
        .eval(
            INDEX_TOUCH,
            vec![index_key(data.user_id)],
            vec![id.to_string(), entry_of(data)],
        )
        .await
}

/// The user's live sessions, most recently used first; `current` is the raw id of the session
/// asking. Index entries whose record has expired are removed on the way.
#[tracing::instrument(name = "sessions.list", skip_all, fields(user_id = %user_id))]
pub async fn list(
    redis: &Pool,
    user_id: Uuid,
    current: Option<&str>,
) -> Result<Vec<SessionInfo>, AppError> {
    let key = index_key(user_id);
    let entries: Vec<(String, String)> = redis
        .hgetall::<HashMap<String, String>, _>(&key)
        .await
        .map_err(redis_error)?
        .into_iter()
        .collect();
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = vec![key];
    keys.extend(entries.iter().map(|(id, _)| id.clone()));
    let live: Vec<i64> = redis
        .eval(INDEX_PRUNE, keys, Vec::<String>::new())
        .await
        .map_err(redis_error)?;
    let mut sessions: Vec<SessionInfo> = entries
        .into_iter()
        .zip(live)
        .filter(|(_, live)| *live == 1)
        .filter_map(|((id, json), _)| {
            let entry: IndexEntry = serde_json::from_str(&json)
                .inspect_err(|e| tracing::warn!(error = %e, "unreadable session index entry"))
                .ok()?;
            Some(SessionInfo {
                current: current == Some(id.as_str()),
                id: handle_of(&id),
                created_at: entry.created_at,
                last_seen_at: entry.last_seen_at,
                device: describe_device(entry.user_agent.as_deref()),
                ip: entry.ip,
                user_agent: entry.user_agent,
            })
        })
        .collect();
    sessions.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then(b.last_seen_at.cmp(&a.last_seen_at))
    });
    Ok(sessions)
}

async fn revoke_ids(redis: &Pool, user_id: Uuid, ids: Vec<String>) -> Result<usize, AppError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut keys = vec![index_key(user_id)];
    keys.extend(ids);
    let n: i64 = redis
        .eval(REVOKE, keys, Vec::<String>::new())
        .await
        .map_err(redis_error)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Signs out one of the user's sessions, named by its handle from [`list`]. False when the
/// user has no such session.
#[tracing::instrument(name = "sessions.revoke", skip_all, fields(user_id = %user_id))]
pub async fn revoke(redis: &Pool, user_id: Uuid, handle: &str) -> Result<bool, AppError> {
    let ids: Vec<String> = redis.hkeys(index_key(user_id)).await.map_err(redis_error)?;
    let Some(id) = ids.into_iter().find(|id| handle_of(id) == handle) else {
        return Ok(false);
    };
    revoke_ids(redis, user_id, vec![id]).await?;
    Ok(true)
}

/// Signs out all of the user's sessions but `except_current` (a raw session id), if given.
/// Returns how many live sessions ended. For "sign out everywhere", password change or reset,
/// bans and account deletion.
#[tracing::instrument(name = "sessions.revoke_all", skip_all, fields(user_id = %user_id))]
pub async fn revoke_all(
    redis: &Pool,
    user_id: Uuid,
    except_current: Option<&str>,
) -> Result<usize, AppError> {
    let ids: Vec<String> = redis.hkeys(index_key(user_id)).await.map_err(redis_error)?;
    let ids = ids
        .into_iter()
        .filter(|id| Some(id.as_str()) != except_current)
        .collect();
    revoke_ids(redis, user_id, ids).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_stable_opaque_and_distinct() {
        let a = handle_of("AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(a, handle_of("AAAAAAAAAAAAAAAAAAAAAA"));
        assert_ne!(a, handle_of("AAAAAAAAAAAAAAAAAAAAAB"));
        assert!(!a.contains("AAAA"));
        assert_eq!(a.len(), 22);
    }
}
