//! An email address, trimmed and lower-cased, that looks deliverable.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts what a person would type (surrounding spaces, any case) and refuses what cannot
    /// be an address. Deliverability is proven by the verification email, not here.
    pub fn parse(input: impl AsRef<str>) -> Result<Self, String> {
        let email = input.as_ref().trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.".into());
        }
        if email.chars().count() > 254 {
            return Err("That email address is too long.".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("An email address needs an @, like name@example.com.".into());
        };
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let no_odd_chars = !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c));
        if valid_local && valid_domain && no_odd_chars && !domain.contains('@') {
            Ok(Self(email))
        } else {
            Err("That does not look like an email address.".into())
        }
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let e = EmailAddress::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(e.as_ref(), "ada@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn obvious_non_addresses_are_refused_with_a_reason() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@ex ample.com",
            "<script>@x.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(EmailAddress::parse(format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
