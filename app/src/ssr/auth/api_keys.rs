//! The API keys of `/auth/v1`, in Supabase's format so its clients work unchanged: a
//! publishable key (`sb_publishable_…`, public: it goes into browser and mobile apps and
//! identifies the project, it authorises nothing) and a secret key (`sb_secret_…`, for servers
//! only: the admin subset). Both are derived from the server's secret, so every instance agrees
//! without configuration and rotating the secret rotates them; `server api-keys` prints them.
//!
//! Neither is a user credential: supabase-js sends the key as `Authorization: Bearer <key>`
//! beside `apikey` on every call, and such a request is as anonymous as one without a Bearer.
use sha2::{Digest as _, Sha256};

use super::tokens::hex;

/// Which key a presented value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKey {
    Publishable,
    Secret,
}

pub struct ApiKeys {
    publishable: String,
    secret: String,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("publishable", &self.publishable)
            .finish_non_exhaustive()
    }
}

impl ApiKeys {
    /// The keys of the server's secret (`PALISADE_SECRET`), domain-separated from each other and
    /// from every other use of it.
    pub fn derive(secret: &str) -> Self {
        let part = |label: &str, len: usize| {
            let digest = Sha256::new()
                .chain_update(label.as_bytes())
                .chain_update([0])
                .chain_update(secret.as_bytes())
                .finalize();
            hex(&digest)[..len].to_owned()
        };
        Self {
            publishable: format!(
                "sb_publishable_{}",
                part("palisade/api-key/publishable/v1", 32)
            ),
            secret: format!("sb_secret_{}", part("palisade/api-key/secret/v1", 48)),
        }
    }

    pub fn publishable(&self) -> &str {
        &self.publishable
    }

    /// The secret key, for `server api-keys` only.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Which key `presented` is, if it is one; compared in constant time.
    pub fn recognise(&self, presented: &str) -> Option<ApiKey> {
        if same(presented, &self.secret) {
            Some(ApiKey::Secret)
        } else if same(presented, &self.publishable) {
            Some(ApiKey::Publishable)
        } else {
            None
        }
    }
}

/// Equality whose time does not depend on where the inputs differ (only on their lengths).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_per_secret_distinct_and_recognised() {
        let keys = ApiKeys::derive("a-test-secret-that-is-long-enough-0000");
        let again = ApiKeys::derive("a-test-secret-that-is-long-enough-0000");
        let other = ApiKeys::derive("another-secret-that-is-long-enough-000");
        assert_eq!(keys.publishable(), again.publishable());
        assert_ne!(keys.publishable(), other.publishable());
        assert_ne!(keys.secret(), other.secret());
        assert!(keys.publishable().starts_with("sb_publishable_"));
        assert!(keys.secret().starts_with("sb_secret_"));

        assert_eq!(
            keys.recognise(keys.publishable()),
            Some(ApiKey::Publishable)
        );
        assert_eq!(keys.recognise(keys.secret()), Some(ApiKey::Secret));
        assert_eq!(keys.recognise(other.publishable()), None);
        assert_eq!(keys.recognise(""), None);
        let mut truncated = keys.secret().to_owned();
        truncated.pop();
        assert_eq!(keys.recognise(&truncated), None);
    }
}
