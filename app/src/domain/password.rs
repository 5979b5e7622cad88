//! A new password that is long enough and not easy to guess. The server decides; the meter
//! under the field shows the server's own verdict as you type (`api::auth::password_strength`).
//! zxcvbn is server-only: its dictionaries were 1.9 MB of the wasm every page downloaded.
use serde::{Deserialize, Serialize};

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 256;
/// zxcvbn's scale: 0 too guessable … 4 very unguessable. 3 resists an offline attack on a
/// slow hash for a long time.
#[cfg(feature = "ssr")]
const MIN_SCORE: u8 = 3;

/// A password accepted for setting. Deliberately not `Serialize` and not `Display`, and its
/// `Debug` prints nothing of it. Server-only: only the server accepts passwords.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct Password(String);

#[cfg(feature = "ssr")]
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// What the form shows while you type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordStrength {
    /// 0–4.
    pub score: u8,
    pub acceptable: bool,
    /// Why it is refused, or how to make it stronger.
    pub message: String,
}

#[cfg(feature = "ssr")]
impl Password {
    /// `context` holds words the password must not lean on: the email, the username.
    pub fn parse(input: String, context: &[&str]) -> Result<Self, String> {
        let strength = strength(&input, context);
        if strength.acceptable {
            Ok(Self(input))
        } else {
            Err(strength.message)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn refuse(score: u8, message: &str) -> PasswordStrength {
    PasswordStrength {
        score,
        acceptable: false,
        message: message.to_string(),
    }
}

/// The refusal of a password too short or too long, if it is one: the part of the verdict the
/// browser can give at once, with no dictionary.
pub fn length_refusal(input: &str) -> Option<PasswordStrength> {
    let length = input.chars().count();
    if length < MIN_LENGTH {
        Some(refuse(0, "Use at least 8 characters."))
    } else if length > MAX_LENGTH {
        Some(refuse(0, "Use at most 256 characters."))
    } else {
        None
    }
}

/// Rates a candidate password; cheap enough to run on every keystroke (the meter asks at most
/// a few times a second, debounced).
#[cfg(feature = "ssr")]
pub fn strength(input: &str, context: &[&str]) -> PasswordStrength {
    if let Some(refusal) = length_refusal(input) {
        return refusal;
    }
    // zxcvbn's cost grows with length; its verdict on the first 100 characters is the verdict.
    let sample: String = input.chars().take(100).collect();
    let context: Vec<&str> = context
        .iter()
        .flat_map(|c| c.split(['@', '.', '_', '-', ' ']))
        .filter(|w| w.len() >= 3)
        .collect();
    let entropy = zxcvbn::zxcvbn(&sample, &context);
    let score = u8::from(entropy.score());
    let feedback = entropy.feedback();
    let advice = feedback.and_then(|f| {
        f.warning()
            .map(|w| w.to_string())
            .or_else(|| f.suggestions().first().map(|s| s.to_string()))
    });
    if score >= MIN_SCORE {
        PasswordStrength {
            score,
            acceptable: true,
            message: if score == 4 {
                "Strong password.".into()
            } else {
                "Good password.".into()
            },
        }
    } else {
        let why = advice.unwrap_or_else(|| "Add more words or characters.".into());
        refuse(score, &format!("This password is too easy to guess. {why}"))
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_common_passwords_are_refused_with_a_reason() {
        assert_eq!(
            Password::parse("short".into(), &[]).unwrap_err(),
            "Use at least 8 characters."
        );
        assert!(Password::parse("x".repeat(257), &[]).is_err());
        let common = Password::parse("password123".into(), &[]).unwrap_err();
        assert!(
            common.starts_with("This password is too easy to guess."),
            "{common}"
        );
    }

    #[test]
    fn a_password_built_on_the_email_is_refused() {
        let context = ["ada.lovelace@example.com"];
        assert!(Password::parse("adalovelace".into(), &context).is_err());
        assert!(strength("adalovelace", &context).score < strength("adalovelace", &[]).score);
    }

    #[test]
    fn the_length_verdict_the_browser_gives_at_once_is_the_servers() {
        for input in ["", "seven77", &"x".repeat(257)] {
            assert_eq!(length_refusal(input), Some(strength(input, &[])), "{input}");
        }
        assert_eq!(length_refusal("eight888"), None);
        assert_eq!(length_refusal(&"x".repeat(256)), None);
    }

    #[test]
    fn a_long_unusual_passphrase_is_accepted() {
        let p = Password::parse("correct horse battery staple glacier".into(), &[]).unwrap();
        assert_eq!(format!("{p:?}"), "Password(…)");
        assert!(strength("correct horse battery staple glacier", &[]).acceptable);
    }
}
