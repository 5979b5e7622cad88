//! How a sign-in was made: its methods with their times (`amr`) and the assurance level they
//! add up to (`aal`), for browser sessions and API access tokens alike.
use serde::{Deserialize, Serialize};

/// The password of the account.
pub const PASSWORD: &str = "password";
/// A code from an authenticator app (RFC 6238).
pub const TOTP: &str = "totp";
/// One of the account's single-use recovery codes, in place of a second factor.
pub const RECOVERY_CODE: &str = "recovery_code";
/// A passkey or security key *with user verification* (PIN or biometric): possession and
/// knowledge or inherence in one gesture, so aal2 on its own.
pub const WEBAUTHN: &str = "webauthn";
/// A security key used *without* user verification (presence only): a second factor after a
/// password, never a sign-in on its own.
pub const SECURITY_KEY: &str = "security_key";
/// A link or code sent to the account's address.
pub const EMAIL_LINK: &str = "email_link";

/// One entry of `amr`: a method and when it was last used (Unix seconds). The same shape as
/// Supabase's access tokens carry, so its clients read ours.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthMethod {
    pub method: String,
    pub timestamp: u64,
}

impl AuthMethod {
    pub fn new(method: &str, timestamp: u64) -> Self {
        Self {
            method: method.into(),
            timestamp,
        }
    }

    /// `method`, used now.
    #[cfg(feature = "ssr")]
    pub fn now(method: &str) -> Self {
        Self::new(
            method,
            u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0),
        )
    }
}

/// Authenticator assurance level (NIST SP 800-63B), named as Supabase names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aal {
    Aal1,
    Aal2,
}

impl Aal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aal1 => "aal1",
            Self::Aal2 => "aal2",
        }
    }
}

/// Something the user knows or receives (the first step of a sign-in).
fn is_first_factor(method: &str) -> bool {
    matches!(method, PASSWORD | EMAIL_LINK)
}

/// Something that proves a second, different kind of factor, or (webauthn with user
/// verification) two at once. Its time is what "fresh" is measured from.
fn is_second_factor(method: &str) -> bool {
    matches!(method, TOTP | RECOVERY_CODE | WEBAUTHN | SECURITY_KEY)
}

/// How a sign-in was made, as its session or token family recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assurance {
    pub amr: Vec<AuthMethod>,
}

impl Assurance {
    pub fn new(amr: Vec<AuthMethod>) -> Self {
        Self { amr }
    }

    /// aal2 for a passkey with user verification alone, or a first factor followed by a
    /// second of another kind; aal1 otherwise (an empty record too: anonymous).
    pub fn aal(&self) -> Aal {
        let has = |f: fn(&str) -> bool| self.amr.iter().any(|m| f(&m.method));
        let uv = self.amr.iter().any(|m| m.method == WEBAUTHN);
        let two_kinds = has(is_first_factor) && has(|m| is_second_factor(m) && m != WEBAUTHN);
        if uv || two_kinds {
            Aal::Aal2
        } else {
            Aal::Aal1
        }
    }

    /// When a second factor was last proven in this sign-in, if ever.
    pub fn last_second_factor_at(&self) -> Option<u64> {
        self.amr
            .iter()
            .filter(|m| is_second_factor(&m.method))
            .map(|m| m.timestamp)
            .max()
    }

    /// aal2, with a second factor proven within `window_secs` of `now` (Unix seconds): what
    /// sensitive actions ask for.
    pub fn is_fresh_aal2(&self, now: u64, window_secs: u64) -> bool {
        self.aal() == Aal::Aal2
            && self
                .last_second_factor_at()
                .is_some_and(|at| now.saturating_sub(at) < window_secs)
    }

    /// Records `method` as used at `at`: one entry per method, the latest time kept (as
    /// Supabase does), newest first.
    pub fn add(&mut self, method: &str, at: u64) {
        self.amr.retain(|m| m.method != method);
        self.amr.insert(0, AuthMethod::new(method, at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(methods: &[(&str, u64)]) -> Assurance {
        Assurance::new(
            methods
                .iter()
                .map(|(m, t)| AuthMethod::new(m, *t))
                .collect(),
        )
    }

    #[test]
    fn a_password_alone_is_aal1() {
        assert_eq!(of(&[(PASSWORD, 100)]).aal(), Aal::Aal1);
        assert_eq!(of(&[(EMAIL_LINK, 100)]).aal(), Aal::Aal1);
        assert_eq!(of(&[]).aal(), Aal::Aal1);
    }

    #[test]
    fn a_password_and_a_second_factor_is_aal2() {
        assert_eq!(of(&[(TOTP, 110), (PASSWORD, 100)]).aal(), Aal::Aal2);
        assert_eq!(
            of(&[(RECOVERY_CODE, 110), (PASSWORD, 100)]).aal(),
            Aal::Aal2
        );
        assert_eq!(of(&[(SECURITY_KEY, 110), (PASSWORD, 100)]).aal(), Aal::Aal2);
        assert_eq!(of(&[(TOTP, 110), (EMAIL_LINK, 100)]).aal(), Aal::Aal2);
    }

    #[test]
    fn a_second_factor_without_a_first_is_not_aal2() {
        assert_eq!(of(&[(TOTP, 110)]).aal(), Aal::Aal1);
        assert_eq!(of(&[(SECURITY_KEY, 110)]).aal(), Aal::Aal1);
    }

    #[test]
    fn a_passkey_with_user_verification_is_aal2_on_its_own() {
        assert_eq!(of(&[(WEBAUTHN, 100)]).aal(), Aal::Aal2);
    }

    #[test]
    fn aal2_is_fresh_only_within_the_window_of_its_second_factor() {
        let a = of(&[(TOTP, 1_000), (PASSWORD, 100)]);
        assert!(a.is_fresh_aal2(1_000, 600));
        assert!(a.is_fresh_aal2(1_599, 600));
        assert!(!a.is_fresh_aal2(1_600, 600));
        // A recent password does not refresh an old second factor.
        let b = of(&[(PASSWORD, 5_000), (TOTP, 1_000)]);
        assert!(!b.is_fresh_aal2(5_000, 600));
        assert!(!of(&[(PASSWORD, 1_000)]).is_fresh_aal2(1_000, 600));
    }

    #[test]
    fn adding_a_method_again_keeps_its_latest_time_once() {
        let mut a = of(&[(TOTP, 1_000), (PASSWORD, 100)]);
        a.add(TOTP, 2_000);
        assert_eq!(a, of(&[(TOTP, 2_000), (PASSWORD, 100)]));
    }

    #[test]
    fn amr_reads_and_writes_as_supabase_tokens_carry_it() {
        let a = of(&[(PASSWORD, 100)]);
        assert_eq!(
            serde_json::to_value(&a.amr).unwrap(),
            serde_json::json!([{ "method": "password", "timestamp": 100 }])
        );
        assert_eq!(serde_json::to_value(Aal::Aal2).unwrap(), "aal2");
    }
}
