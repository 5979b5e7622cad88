//! A browser session's signed-in record: who it belongs to, when it lapses, and its rotation.
use std::time::Duration;

use chrono::Utc;
use fred::clients::Pool;
use tower_sessions::{Expiry, Session, session, session_store};
use uuid::Uuid;

use super::{
    index,
    signed_in::{SignedIn, secs},
};
use crate::{
    domain::assurance::{Assurance, AuthMethod},
    error::AppError,
    ssr::{auth::caller::Caller, settings::AuthSettings},
};

/// The one entry this module keeps in a session's data.
pub const DATA_KEY: &str = "auth";

/// `last_seen` (and the record's TTL, and the index entry) is refreshed when older than this.
pub const TOUCH_EVERY: Duration = Duration::from_secs(3600);

/// The signed-in user of a request's session, as the server's session layer resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub user_id: Uuid,
    /// The raw session id (the cookie value).
    pub session_id: String,
    /// How the session was signed in, and stepped up since.
    pub assurance: Assurance,
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

/// Starts a signed-in session for `user_id` at sign-in: a new session id (the old one, if
/// any, is deleted, so a planted or leaked pre-sign-in id is worthless), fresh data, the
/// expiry, and an entry in the user's index. Saves at once, so the index names the final id;
/// the response sets the cookie. `amr`: how the user signed in (a password sign-in passes
/// `password`, used now).
#[tracing::instrument(name = "sessions.establish", skip_all, fields(user_id = %user_id))]
pub async fn establish(
    session: &Session,
    redis: &Pool,
    settings: &AuthSettings,
    user_id: Uuid,
    client: &Caller,
    amr: Vec<AuthMethod>,
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
        amr,
    };
    session.insert(DATA_KEY, &data).await.map_err(store_error)?;
    session.set_expiry(Some(data.expiry()));
    session.save().await.map_err(store_error)?;
    let id = session.id().ok_or(AppError::Internal)?.to_string();
    let same_user = previous.as_ref().is_some_and(|p| p.user_id == user_id);
    let replaces = if same_user { old_id.as_deref() } else { None };
    index::add(redis, &data, &id, replaces, now).await?;
    if let (Some(previous), Some(old_id)) = (previous.filter(|_| !same_user), old_id) {
        let _ = index::remove(redis, previous.user_id, old_id).await;
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
    index::add(redis, &data, &id, old_id.as_deref(), Utc::now().timestamp()).await
}

/// Records that the signed-in user of this session has just proven `method` (a second factor,
/// at sign-in or to step up), and gives the session a new id: its privileges grew, so an id
/// that leaked before must not carry them. Refused when the session is not `user_id`'s (it
/// changed hands between the check of the factor and now).
#[tracing::instrument(name = "sessions.step_up", skip_all, fields(user_id = %user_id))]
pub async fn step_up(
    session: &Session,
    redis: &Pool,
    user_id: Uuid,
    method: &str,
) -> Result<Assurance, AppError> {
    let mut data = signed_in(session)
        .await?
        .filter(|d| d.user_id == user_id)
        .ok_or(AppError::Unauthorized)?;
    let now = Utc::now().timestamp();
    let mut assurance = data.assurance();
    assurance.add(method, u64::try_from(now).unwrap_or(0));
    data.amr = assurance.amr.clone();
    session.insert(DATA_KEY, &data).await.map_err(store_error)?;
    let old_id = session.id().map(|id| id.to_string());
    session.cycle_id().await.map_err(store_error)?;
    session.set_expiry(Some(data.expiry()));
    session.save().await.map_err(store_error)?;
    let id = session.id().ok_or(AppError::Internal)?.to_string();
    index::add(redis, &data, &id, old_id.as_deref(), now).await?;
    Ok(assurance)
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
        if let Err(e) = index::remove(redis, data.user_id, id).await {
            tracing::warn!(error = %e, "could not remove a session from its index");
        }
    }
    Ok(())
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
        if let Err(e) = index::touch(redis, &data, &session_id).await {
            tracing::warn!(error = %e, "could not refresh a session's index entry");
        }
    }
    Ok(Some(Resolved {
        user_id: data.user_id,
        session_id,
        assurance: data.assurance(),
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
            amr: Vec::new(),
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
}
