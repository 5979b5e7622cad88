//! Browser sessions: who a session cookie belongs to, when it lapses, and the per-user index
//! that lists and revokes a user's sessions.
//!
//! The session itself is a tower-sessions record in Redis (key = the raw session id, value
//! rmp-serde, TTL = the session's expiry); the server's session layer loads it lazily and saves
//! it at response time when it was modified. This module owns what is inside (one entry,
//! [`DATA_KEY`]) and the index next to it:
//!
//! | key | type | content | TTL |
//! | --- | --- | --- | --- |
//! | `<session id>` | string | tower-sessions record; `data["auth"]` = `{user_id, signed_in_at, last_seen, absolute_at, idle_secs, ip, ua}` | min(absolute end, last_seen + idle) |
//! | `palisade:v1:user_sessions:<user id>` | hash | field = session id, value = JSON `{created_at, last_seen_at, seen, ip, user_agent}` (`seen`: last_seen in Unix seconds) | ≥ the newest session's absolute end |
//!
//! A session lapses `session_idle` after its last request (rolling) and `session_absolute`
//! after sign-in, whichever comes first. `last_seen` is written at most once an hour
//! ([`TOUCH_EVERY`]), so an active user costs one Redis write an hour, not one per request; the
//! record's TTL follows `last_seen + idle`, so Redis drops idle sessions by itself and the
//! index only has to be pruned of entries whose record is gone.
//!
//! A user has at most [`MAX_SESSIONS_PER_USER`] sessions: a sign-in beyond that signs out
//! the least recently used one, so a script signing in over and over cannot grow the index
//! (and the sessions page, and "sign out everywhere") without bound.
use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use fred::{clients::Pool, interfaces::HashesInterface as _, interfaces::LuaInterface as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tower_sessions::{Expiry, Session, session, session_store};
use uuid::Uuid;

use super::caller::{Caller, describe_device};
use crate::{domain::session::SessionInfo, error::AppError, ssr::settings::AuthSettings};

/// The one entry this module keeps in a session's data.
pub const DATA_KEY: &str = "auth";

/// Sessions one user may have at once; the least recently used goes when a sign-in would
/// make one more. Far above what one person uses across their devices.
pub const MAX_SESSIONS_PER_USER: usize = 50;

/// `last_seen` (and the record's TTL, and the index entry) is refreshed when older than this.
pub const TOUCH_EVERY: Duration = Duration::from_secs(3600);

/// What a signed-in session holds. Times are Unix seconds. The lifetimes are copied in at
/// sign-in so the expiry can be recomputed wherever the session is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SignedIn {
    user_id: Uuid,
    signed_in_at: i64,
    last_seen: i64,
    absolute_at: i64,
    idle_secs: i64,
    ip: Option<String>,
    ua: Option<String>,
}

impl SignedIn {
    /// When the session lapses unless it is used again (Unix seconds).
    fn expires_at(&self) -> i64 {
        self.absolute_at
            .min(self.last_seen.saturating_add(self.idle_secs))
    }

    /// Over by its own terms, or by the current settings if they were shortened since.
    fn is_over(&self, now: i64, settings: &AuthSettings) -> bool {
        let by_settings = (self.signed_in_at + secs(settings.session_absolute))
            .min(self.last_seen + secs(settings.session_idle));
        now >= self.expires_at().min(by_settings)
    }

    fn expiry(&self) -> Expiry {
        let at = time::OffsetDateTime::from_unix_timestamp(self.expires_at())
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        Expiry::AtDateTime(at)
    }

    fn index_entry(&self) -> String {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default();
        serde_json::json!({
            "created_at": at(self.signed_in_at),
            "last_seen_at": at(self.last_seen),
            // For the cap's choice of the least recently used session (Lua reads numbers).
            "seen": self.last_seen,
            "ip": self.ip,
            "user_agent": self.ua,
        })
        .to_string()
    }
}

#[derive(Deserialize)]
struct IndexEntry {
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// The signed-in user of a request's session, as the server's session layer resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub user_id: Uuid,
    /// The raw session id (the cookie value).
    pub session_id: String,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
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

fn store_error(e: session::Error) -> AppError {
    match e {
        session::Error::Store(session_store::Error::Backend(msg)) => {
            tracing::warn!(error = %msg, "session store unavailable");
            AppError::Unavailable
        }
        other => {
            tracing::error!(error = %other, "session store error");
            AppError::Internal
        }
    }
}

async fn signed_in(session: &Session) -> Result<Option<SignedIn>, AppError> {
    session.get::<SignedIn>(DATA_KEY).await.map_err(store_error)
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

async fn index_add(
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
                data.index_entry(),
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

/// Starts a signed-in session for `user_id` at sign-in: a new session id (the old one, if
/// any, is deleted, so a planted or leaked pre-sign-in id is worthless), fresh data, the
/// expiry, and an entry in the user's index. Saves at once, so the index names the final id;
/// the response sets the cookie.
#[tracing::instrument(name = "sessions.establish", skip_all, fields(user_id = %user_id))]
pub async fn establish(
    session: &Session,
    redis: &Pool,
    settings: &AuthSettings,
    user_id: Uuid,
    client: &Caller,
) -> Result<(), AppError> {
    let previous = signed_in(session).await?;
    let old_id = session.id().map(|id| id.to_string());
    session.cycle_id().await.map_err(store_error)?;
    // Nothing from before sign-in (or from another user's session) carries over.
    session.clear().await;
    let now = Utc::now().timestamp();
    let data = SignedIn {
        user_id,
        signed_in_at: now,
        last_seen: now,
        absolute_at: now + secs(settings.session_absolute),
        idle_secs: secs(settings.session_idle),
        ip: client.ip.map(|ip| ip.to_string()),
        ua: client.user_agent.clone(),
    };
    session.insert(DATA_KEY, &data).await.map_err(store_error)?;
    session.set_expiry(Some(data.expiry()));
    session.save().await.map_err(store_error)?;
    let id = session.id().ok_or(AppError::Internal)?.to_string();
    let same_user = previous.as_ref().is_some_and(|p| p.user_id == user_id);
    let replaces = if same_user { old_id.as_deref() } else { None };
    index_add(redis, &data, &id, replaces, now).await?;
    if let (Some(previous), Some(old_id)) = (previous.filter(|_| !same_user), old_id) {
        let _: Result<i64, _> = redis.hdel(index_key(previous.user_id), old_id).await;
    }
    Ok(())
}

/// Gives the current session a new id with the same data (after a privilege change, such as
/// a new password), moving its index entry along.
#[tracing::instrument(name = "sessions.rotate", skip_all, fields(user_id = %user_id))]
pub async fn rotate(session: &Session, redis: &Pool, user_id: Uuid) -> Result<(), AppError> {
    let data = signed_in(session)
        .await?
        .filter(|d| d.user_id == user_id)
        .ok_or(AppError::Unauthorized)?;
    let old_id = session.id().map(|id| id.to_string());
    session.cycle_id().await.map_err(store_error)?;
    session.set_expiry(Some(data.expiry()));
    session.save().await.map_err(store_error)?;
    let id = session.id().ok_or(AppError::Internal)?.to_string();
    index_add(redis, &data, &id, old_id.as_deref(), Utc::now().timestamp()).await
}

/// Signs out: deletes the session record and its index entry. The response clears the cookie.
#[tracing::instrument(name = "sessions.end", skip_all)]
pub async fn end(session: &Session, redis: &Pool) -> Result<(), AppError> {
    if session.id().is_none() {
        return Ok(());
    }
    let data = signed_in(session).await?;
    let id = session.id().map(|id| id.to_string());
    session.flush().await.map_err(store_error)?;
    if let (Some(data), Some(id)) = (data, id) {
        // The record is gone, which is what matters; a stale entry is pruned on listing.
        if let Err(e) = redis.hdel::<i64, _, _>(index_key(data.user_id), id).await {
            tracing::warn!(error = %e, "could not remove a session from its index");
        }
    }
    Ok(())
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
        .hgetall::<std::collections::HashMap<String, String>, _>(&key)
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

/// Resolves a request's session to its user, for the server's session layer. A request
/// without a session cookie costs nothing; with one, one Redis read, plus one write an hour.
/// A lapsed session is deleted and the request is anonymous. Errors only when the session
/// store cannot be reached (the caller answers 503).
pub async fn resolve(
    session: &Session,
    redis: &Pool,
    settings: &AuthSettings,
    client: &Caller,
) -> Result<Option<Resolved>, AppError> {
    let Some(id) = session.id() else {
        return Ok(None);
    };
    let mut data = match session.get::<SignedIn>(DATA_KEY).await {
        Ok(Some(data)) => data,
        Ok(None) => return Ok(None),
        Err(session::Error::Store(session_store::Error::Backend(msg))) => {
            tracing::warn!(error = %msg, "session store unavailable");
            return Err(AppError::Unavailable);
        }
        Err(e) => {
            tracing::warn!(error = %e, "unreadable session: discarding it");
            let _ = session.flush().await;
            return Ok(None);
        }
    };
    let now = Utc::now().timestamp();
    if data.is_over(now, settings) {
        tracing::info!(user_id = %data.user_id, "session lapsed");
        if let Err(e) = end(session, redis).await {
            tracing::warn!(error = ?e, "could not delete a lapsed session");
        }
        return Ok(None);
    }
    let session_id = id.to_string();
    if now - data.last_seen >= secs(TOUCH_EVERY) {
        data.last_seen = now;
        if let Some(ip) = client.ip {
            data.ip = Some(ip.to_string());
        }
        // Saved by the session layer when the response goes out.
        session.insert(DATA_KEY, &data).await.map_err(store_error)?;
        session.set_expiry(Some(data.expiry()));
        let touched: Result<i64, _> = redis
            .eval(
                INDEX_TOUCH,
                vec![index_key(data.user_id)],
                vec![session_id.clone(), data.index_entry()],
            )
            .await;
        if let Err(e) = touched {
            tracing::warn!(error = %e, "could not refresh a session's index entry");
        }
    }
    Ok(Some(Resolved {
        user_id: data.user_id,
        session_id,
    }))
}

/// The session layer's default expiry, for sessions that hold something but nobody signed in
/// (signed-in sessions get theirs from [`establish`] and [`settle_expiry`]).
pub fn default_expiry(settings: &AuthSettings) -> Expiry {
    let idle = time::Duration::try_from(settings.session_idle).unwrap_or(time::Duration::DAY);
    Expiry::OnInactivity(idle)
}

/// Puts the right expiry back on a modified signed-in session before the session layer saves
/// it: tower-sessions does not keep a record's expiry across requests, so a handler that
/// writes to the session would otherwise save it with the layer's default.
pub async fn settle_expiry(session: &Session) {
    if !session.is_modified() {
        return;
    }
    if let Ok(Some(data)) = session.get::<SignedIn>(DATA_KEY).await {
        let expiry = Some(data.expiry());
        if session.expiry() != expiry {
            session.set_expiry(expiry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings::for_public_url("http://localhost")
    }

    fn data(signed_in_at: i64, last_seen: i64) -> SignedIn {
        let s = settings();
        SignedIn {
            user_id: Uuid::nil(),
            signed_in_at,
            last_seen,
            absolute_at: signed_in_at + secs(s.session_absolute),
            idle_secs: secs(s.session_idle),
            ip: None,
            ua: None,
        }
    }

    const DAY: i64 = 24 * 3600;

    #[test]
    fn a_session_lapses_when_idle_or_old_whichever_comes_first() {
        let s = settings();
        let d = data(0, 0);
        assert_eq!(d.expires_at(), 7 * DAY);
        assert!(!d.is_over(7 * DAY - 1, &s));
        assert!(d.is_over(7 * DAY, &s));
        let active = data(0, 29 * DAY);
        assert_eq!(
            active.expires_at(),
            30 * DAY,
            "the absolute limit caps rolling"
        );
        assert!(!active.is_over(30 * DAY - 1, &s));
        assert!(active.is_over(30 * DAY, &s));
    }

    #[test]
    fn shortened_settings_apply_to_existing_sessions() {
        let mut s = settings();
        s.session_idle = Duration::from_secs(3600);
        assert!(data(0, 0).is_over(3600, &s));
    }

    #[test]
    fn handles_are_stable_opaque_and_distinct() {
        let a = handle_of("AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(a, handle_of("AAAAAAAAAAAAAAAAAAAAAA"));
        assert_ne!(a, handle_of("AAAAAAAAAAAAAAAAAAAAAB"));
        assert!(!a.contains("AAAA"));
        assert_eq!(a.len(), 22);
    }
}
