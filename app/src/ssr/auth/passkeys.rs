//! The WebAuthn relying party (webauthn-rs) and the ceremonies in flight: each ceremony's
//! state waits in Redis under a random id, for a few minutes, and is taken exactly once.
use std::time::Duration;

use fred::{clients::Pool, interfaces::KeysInterface as _, types::Expiration};
use serde::{Serialize, de::DeserializeOwned};
use webauthn_rs::{Webauthn, WebauthnBuilder, prelude::Url};

use super::tokens;
use crate::error::AppError;

/// How long a started ceremony may wait for the browser: webauthn-rs asks authenticators to
/// give up after the same time (`DEFAULT_AUTHENTICATOR_TIMEOUT`).
pub const CEREMONY_TTL: Duration = webauthn_rs::DEFAULT_AUTHENTICATOR_TIMEOUT;

/// The relying party of `public_url`: its host is the RP ID and its origin the only origin
/// allowed. Both come from the configuration, never from a request header, so a request
/// through another host name (or a proxy that rewrites `Host`) cannot move them.
pub fn relying_party(public_url: &str) -> Result<Webauthn, AppError> {
    let refuse = |why: &str| {
        tracing::error!(
            public_url,
            why,
            "passkeys need a public URL with a domain name"
        );
        AppError::Internal
    };
    let url = Url::parse(public_url).map_err(|_| refuse("not a URL"))?;
    let rp_id = url.host_str().ok_or_else(|| refuse("no host"))?;
    let origin = Url::parse(&url.origin().ascii_serialization()).map_err(|_| refuse("origin"))?;
    WebauthnBuilder::new(rp_id, &origin)
        .and_then(|b| b.rp_name("Palisade").build())
        .map_err(|e| {
            tracing::error!(error = %e, "webauthn relying party");
            refuse("refused by webauthn-rs")
        })
}

/// What the browser gets to start a ceremony: the id to send back and the options for
/// `navigator.credentials.create/get` (the standard WebAuthn JSON).
pub struct Started {
    pub ceremony: String,
    pub options: String,
}

/// The kinds of ceremony; each keeps its own keys, so an id of one kind means nothing to the
/// other.
#[derive(Clone, Copy)]
pub enum Kind {
    Register,
    SignIn,
}

impl Kind {
    fn key(self, id: &str) -> String {
        let kind = match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
        };
        // Hashed like every other token: a look at Redis does not yield usable ids.
        let hashed = tokens::hex(&tokens::hash_token(id));
        format!("palisade:v1:passkey_ceremony:{kind}:{hashed}")
    }
}

fn redis_error(e: fred::error::Error) -> AppError {
    tracing::warn!(error = %e, "passkey ceremony store unavailable");
    AppError::Unavailable
}

/// Keeps `state` for [`CEREMONY_TTL`] and returns its new random id.
pub async fn stash<T: Serialize>(redis: &Pool, kind: Kind, state: &T) -> Result<String, AppError> {
    let id = tokens::random();
    let json = serde_json::to_string(state).map_err(|e| {
        tracing::error!(error = %e, "could not serialise a passkey ceremony");
        AppError::Internal
    })?;
    let ttl = i64::try_from(CEREMONY_TTL.as_millis()).unwrap_or(i64::MAX);
    redis
        .set::<(), _, _>(kind.key(&id), json, Some(Expiration::PX(ttl)), None, false)
        .await
        .map_err(redis_error)?;
    Ok(id)
}

/// Takes the ceremony `id` out of Redis (GETDEL: a second attempt with the same id finds
/// nothing, whatever the first one's outcome). `None` when it is unknown, used or expired.
pub async fn take<T: DeserializeOwned>(
    redis: &Pool,
    kind: Kind,
    id: &str,
) -> Result<Option<T>, AppError> {
    if id.is_empty() || id.len() > 128 {
        return Ok(None);
    }
    let json: Option<String> = redis.getdel(kind.key(id)).await.map_err(redis_error)?;
    Ok(json.and_then(|j| match serde_json::from_str(&j) {
        Ok(state) => Some(state),
        Err(e) => {
            tracing::error!(error = %e, "unreadable passkey ceremony in Redis");
            None
        }
    }))
}

/// The Redis key of a ceremony id, for tests that check its lifetime.
pub fn ceremony_key(kind: Kind, id: &str) -> String {
    kind.key(id)
}
