//! The public profile's fields.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    /// 3–32 characters: lower-case letters, digits and underscores (what the database allows).
    pub fn parse(input: impl AsRef<str>) -> Result<Self, String> {
        let name = input.as_ref().trim().to_lowercase();
        let length = name.chars().count();
        if !(3..=32).contains(&length) {
            return Err("Use 3 to 32 characters.".into());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err("Use only letters, digits and underscores.".into());
        }
        Ok(Self(name))
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Free text of bounded length, without control characters; empty means "not set".
macro_rules! bounded_text {
    ($name:ident, $max:expr, $what:literal) => {
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name(Option<String>);

        impl $name {
            pub fn parse(input: impl AsRef<str>) -> Result<Self, String> {
                let text = input.as_ref().trim();
                if text.chars().count() > $max {
                    return Err(format!("{} can be at most {} characters.", $what, $max));
                }
                if text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
                {
                    return Err(format!(
                        "{} contains characters that are not allowed.",
                        $what
                    ));
                }
                Ok(Self((!text.is_empty()).then(|| text.to_string())))
            }

            pub fn as_option(&self) -> Option<&str> {
                self.0.as_deref()
            }
        }
    };
}

bounded_text!(DisplayName, 64, "Display name");
bounded_text!(Bio, 1000, "Bio");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_database_rule() {
        assert_eq!(Username::parse(" Ada_99 ").unwrap().as_ref(), "ada_99");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("ada lovelace").is_err());
        assert!(Username::parse("a".repeat(33)).is_err());
    }

    #[test]
    fn empty_text_means_unset_and_long_text_is_refused() {
        assert_eq!(DisplayName::parse("  ").unwrap().as_option(), None);
        assert_eq!(
            DisplayName::parse(" Ada ").unwrap().as_option(),
            Some("Ada")
        );
        assert!(DisplayName::parse("x".repeat(65)).is_err());
        assert!(Bio::parse("x".repeat(1001)).is_err());
        assert!(Bio::parse("line\u{0}").is_err());
    }
}
