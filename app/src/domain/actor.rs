//! The actor of a request, resolved once per request by the server and never failing: an
//! anonymous visitor is an actor too. What an actor may do is decided by Postgres.
use serde_json::json;
use uuid::Uuid;

use crate::{domain::role::RequestRole, error::AppError};

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Actor {
    #[default]
    Anon,
    User {
        id: Uuid,
        /// The handle of the session this request came in on (never the raw session id,
        /// which is a credential), if it came from a browser.
        session_id: Option<String>,
        /// The refresh-token family (sign-in) of the access token this request came with, for
        /// API clients. `begin_as` refuses the request once that sign-in has ended, so sign-out
        /// and every recovery action reach tokens that have not expired yet.
        token_family: Option<Uuid>,
    },
}

impl Actor {
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::Anon => None,
            Self::User { id, .. } => Some(*id),
        }
    }

    /// The user this request acts for, or 401.
    pub fn require_user(&self) -> Result<Uuid, AppError> {
        self.user_id().ok_or(AppError::Unauthorized)
    }

    /// The sign-in an API client's access token belongs to; `None` for browsers and anon.
    pub fn token_family(&self) -> Option<Uuid> {
        match self {
            Self::Anon => None,
            Self::User { token_family, .. } => *token_family,
        }
    }

    /// The claims a transaction carries in `request.jwt.claims`, read by `auth.uid()` and
    /// friends. The Postgres role is not taken from here: the database derives it from the
    /// profile (see `auth.effective_role`), so a stale session cannot keep a revoked privilege.
    pub fn claims(&self) -> serde_json::Value {
        match self {
            Self::Anon => json!({ "role": RequestRole::Anon.as_str() }),
            Self::User { id, session_id, .. } => json!({
                "sub": id,
                "role": RequestRole::Authenticated.as_str(),
                "session_id": session_id,
            }),
        }
    }
}
