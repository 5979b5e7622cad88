//! Passkeys as the account page shows them, their names, and a ceremony's start as the
//! browser's script receives it.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The start of a WebAuthn ceremony: `ceremony` goes back with the browser's answer, and
/// `options` (JSON text, the standard WebAuthn shape) goes to `navigator.credentials`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyCeremony {
    pub ceremony: String,
    pub options: String,
}

/// A passkey's name, chosen by its owner ("Phone", "YubiKey"): 1 to 64 characters of
/// printable text; left empty, it is [`PasskeyName::DEFAULT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub const MAX_CHARS: usize = 64;
    pub const DEFAULT: &str = "Passkey";

    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        if name.is_empty() {
            return Ok(Self(Self::DEFAULT.into()));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "Use at most {} characters for the name.",
                Self::MAX_CHARS
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("The name cannot contain control characters.".into());
        }
        Ok(Self(name.to_string()))
    }
}

impl AsRef<str> for PasskeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::PasskeyName;

    #[test]
    fn an_empty_name_becomes_the_default_and_names_are_trimmed() {
        assert_eq!(PasskeyName::parse("  ").unwrap().as_ref(), "Passkey");
        assert_eq!(PasskeyName::parse(" Phone ").unwrap().as_ref(), "Phone");
    }

    #[test]
    fn long_names_and_control_characters_are_refused() {
        assert!(PasskeyName::parse(&"x".repeat(65)).is_err());
        assert!(PasskeyName::parse(&"é".repeat(64)).is_ok());
        assert!(PasskeyName::parse("a\nb").is_err());
    }
}
