//! What a signed-in session holds in its data, and when it lapses.
use std::time::Duration;

use tower_sessions::Expiry;
use uuid::Uuid;

use serde::{Deserialize, Serialize};

use crate::{
    domain::assurance::{self, Assurance, AuthMethod},
    ssr::settings::AuthSettings,
};

/// What a signed-in session holds. Times are Unix seconds. The lifetimes are copied in at
/// sign-in so the expiry can be recomputed wherever the session is saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SignedIn {
    pub(super) user_id: Uuid,
    pub(super) signed_in_at: i64,
    pub(super) last_seen: i64,
    pub(super) absolute_at: i64,
    pub(super) idle_secs: i64,
    pub(super) ip: Option<String>,
    pub(super) ua: Option<String>,
    /// How the sign-in was made and each method's latest use (see `domain::assurance`).
    /// Sessions from before it was recorded were all password sign-ins.
    #[serde(default)]
    pub(super) amr: Vec<AuthMethod>,
}

impl SignedIn {
    /// The methods of this sign-in; a record without any is a password sign-in.
    pub(super) fn assurance(&self) -> Assurance {
        if self.amr.is_empty() {
            let at = u64::try_from(self.signed_in_at).unwrap_or(0);
            return Assurance::new(vec![AuthMethod::new(assurance::PASSWORD, at)]);
        }
        Assurance::new(self.amr.clone())
    }

    /// When the session lapses unless it is used again (Unix seconds).
    pub(super) fn expires_at(&self) -> i64 {
        self.absolute_at
            .min(self.last_seen.saturating_add(self.idle_secs))
    }

    /// Over by its own terms, or by the current settings if they were shortened since.
    pub(super) fn is_over(&self, now: i64, settings: &AuthSettings) -> bool {
        let by_settings = (self.signed_in_at + secs(settings.session_absolute))
            .min(self.last_seen + secs(settings.session_idle));
        now >= self.expires_at().min(by_settings)
    }

    pub(super) fn expiry(&self) -> Expiry {
        let at = time::OffsetDateTime::from_unix_timestamp(self.expires_at())
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        Expiry::AtDateTime(at)
    }
}

/// Whole seconds of `d`, for the Unix-second arithmetic of the records.
pub(super) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_stored_before_amr_reads_as_a_password_sign_in() {
        let stored = serde_json::json!({
            "user_id": Uuid::nil(), "signed_in_at": 1_000, "last_seen": 1_000,
            "absolute_at": 9_000, "idle_secs": 600, "ip": null, "ua": null,
        });
        let data: SignedIn = serde_json::from_value(stored).unwrap();
        assert_eq!(
            data.assurance().amr,
            vec![AuthMethod::new(assurance::PASSWORD, 1_000)]
        );
    }
}
