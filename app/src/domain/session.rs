//! What the pages show about sessions: the header's viewer, and a signed-in session on the
//! account page.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// An opaque handle for revoking this session: derived from the session id, never the id
    /// itself, so a page (or a screenshot of it) never exposes a live session cookie.
    pub id: String,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// Refreshed at most hourly, so "active within the last hour" is as precise as it gets.
    pub last_seen_at: DateTime<Utc>,
    /// The address of the latest refresh.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A short label from the user agent, e.g. "Chrome on Linux".
    pub device: String,
    /// This is the session the list was requested from.
    pub current: bool,
}

/// Who is looking, for the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// From the session: no database round trip.
    pub signed_in: bool,
    /// From the role the database gives this request (the profile's role, unless banned), so a
    /// demotion hides the admin link on the very next request.
    pub admin: bool,
    /// An admin without a second factor while admins must have one: the admin area sends
    /// them to enrol first. Left out of the JSON when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin_needs_second_factor: bool,
}
