//! What the admin pages show and send: users, audit entries, outbox rows, and the few choices
//! an admin makes (role, ban length), parsed the same way in the browser and on the server.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::role::Role;
use super::session::SessionInfo;

/// Rows per page on every admin list.
pub const PAGE_SIZE: usize = 25;

/// A user as the admin list shows them (never the password hash: admin cannot read it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub display_name: Option<String>,
    /// The profile's role: `user` or `admin`.
    pub role: String,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    /// `banned_until` is in the future, by the database's clock.
    pub banned: bool,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    /// Cursor of the next (older) page, when there is one.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserSummary,
    /// Entries where the user is the actor or the target, newest first.
    pub recent: Vec<AuditEntry>,
    /// Their live browser sessions; `None` when the session store could not be asked.
    pub sessions: Option<Vec<SessionInfo>>,
    /// The admin is looking at their own account (role and ban are not offered).
    pub is_self: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor_id: Option<Uuid>,
    /// The actor's username, when the account still exists.
    pub actor_name: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A short name for the user agent ("Firefox on Linux").
    pub device: String,
    /// The details object as compact JSON (`{}` when there are none).
    pub details: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<String>,
}

/// Which outbox rows to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxView {
    /// Neither sent nor dead: waiting for the worker (soonest due first).
    #[default]
    Pending,
    /// Parked after too many failures (most recently parked first).
    Dead,
}

impl OutboxView {
    pub fn parse(s: &str) -> Self {
        if s == "dead" {
            Self::Dead
        } else {
            Self::Pending
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Dead => "dead",
        }
    }
}

/// An outbox row without its payload (which may hold a live link: admin cannot read it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub dead_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPage {
    pub view: OutboxView,
    pub items: Vec<OutboxItem>,
    pub next: Option<String>,
    pub pending: i64,
    pub dead: i64,
}

/// How long a ban lasts. "Permanent" is a hundred years: `banned_until` stays a plain
/// timestamp and unbanning works the same for every ban.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BanDuration {
    Hour,
    Day,
    Week,
    Month,
    Permanent,
}

impl BanDuration {
    pub const ALL: [Self; 5] = [
        Self::Hour,
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Permanent,
    ];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "1d",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Permanent => "permanent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Hour => "1 hour",
            Self::Day => "1 day",
            Self::Week => "7 days",
            Self::Month => "30 days",
            Self::Permanent => "Permanently",
        }
    }

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s.trim())
            .ok_or("Choose how long the ban lasts.")
    }

    pub fn seconds(self) -> i64 {
        const DAY: i64 = 24 * 3600;
        match self {
            Self::Hour => 3600,
            Self::Day => DAY,
            Self::Week => 7 * DAY,
            Self::Month => 30 * DAY,
            Self::Permanent => 36_525 * DAY,
        }
    }
}

/// A keyset cursor: the sort time (in microseconds, Postgres' precision, so it round-trips
/// exactly) and the row's id as a tie-breaker. Opaque to the browser.
pub fn encode_cursor(at: DateTime<Utc>, id: impl std::fmt::Display) -> String {
    format!("{}_{id}", at.timestamp_micros())
}

pub fn decode_cursor<T: std::str::FromStr>(cursor: &str) -> Option<(DateTime<Utc>, T)> {
    let (micros, id) = cursor.split_once('_')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_to_the_microsecond() {
        let at = DateTime::from_timestamp_micros(1_795_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        let cursor = encode_cursor(at, id);
        assert_eq!(decode_cursor::<Uuid>(&cursor), Some((at, id)));
        assert_eq!(decode_cursor::<i64>(&encode_cursor(at, 42)), Some((at, 42)));
        for bad in ["", "x_1", "1", "1_", "1_not-a-uuid"] {
            assert_eq!(decode_cursor::<Uuid>(bad), None, "{bad}");
        }
    }

    #[test]
    fn ban_durations_and_roles_parse_their_form_values() {
        for d in BanDuration::ALL {
            assert_eq!(BanDuration::parse(d.as_str()), Ok(d));
        }
        assert!(BanDuration::parse("forever").is_err());
        assert_eq!(BanDuration::Permanent.seconds() / (365 * 24 * 3600), 100);
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
        assert_eq!(Role::parse(" user "), Ok(Role::User));
        assert!(Role::parse("root").is_err());
    }
}
