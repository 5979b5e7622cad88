//! The keys of second factors, derived from the server secret (`PALISADE_SECRET`) under labels
//! of their own: one encrypts TOTP secrets at rest (AES-256-GCM), one hashes recovery codes.
use aes_gcm::{
    Aes256Gcm, KeyInit as _, Nonce,
    aead::{Aead as _, Payload},
};
use hkdf::Hkdf;
use hmac::{Mac, SimpleHmac};
use rand::Rng as _;
use sha2::Sha256;
use uuid::Uuid;

const NONCE_BYTES: usize = 12;

pub struct MfaKeys {
    totp: Aes256Gcm,
    recovery: [u8; 32],
}

impl std::fmt::Debug for MfaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaKeys").finish_non_exhaustive()
    }
}

fn derive(secret: &str, label: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(b"palisade/mfa"), secret.as_bytes())
        .expand(label, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

impl MfaKeys {
    pub fn derive(secret: &str) -> Self {
        Self {
            totp: Aes256Gcm::new(&derive(secret, b"palisade/mfa/totp-secret/v1").into()),
            recovery: derive(secret, b"palisade/mfa/recovery-code/v1"),
        }
    }

    /// The associated data of a factor's secret: the ciphertext only opens in its own row, so
    /// copying it into another user's factor (by whoever can write the table) yields nothing.
    fn aad(factor: Uuid, user: Uuid) -> Vec<u8> {
        [factor.as_bytes().as_slice(), user.as_bytes()].concat()
    }

    /// Encrypts a TOTP secret for storage: a random nonce, then the ciphertext and its tag.
    pub fn seal_totp(&self, factor: Uuid, user: Uuid, secret: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_BYTES] = rand::rng().random();
        let aad = Self::aad(factor, user);
        let sealed = self
            .totp
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encrypts any short message");
        [nonce.as_slice(), &sealed].concat()
    }

    /// The TOTP secret of a stored factor; `None` when it does not open (another server secret,
    /// another row, or tampered).
    pub fn open_totp(&self, factor: Uuid, user: Uuid, stored: &[u8]) -> Option<Vec<u8>> {
        if stored.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, sealed) = stored.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let aad = Self::aad(factor, user);
        self.totp
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .ok()
    }

    /// The stored form of a recovery code: a keyed hash (HMAC-SHA256). The codes carry about 49
    /// random bits each, far beyond what an offline guesser could search against a keyed hash
    /// whose key is not in the database; argon2 would only slow the sign-in page down.
    pub fn hash_recovery_code(&self, user: Uuid, code: &str) -> Vec<u8> {
        let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(&self.recovery)
            .expect("HMAC takes keys of any length");
        mac.update(user.as_bytes());
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_in_its_own_row_under_the_same_server_secret() {
        let keys = MfaKeys::derive("a-test-secret-that-is-long-enough-0000");
        let (factor, user) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = keys.seal_totp(factor, user, b"12345678901234567890");
        assert!(!sealed.windows(20).any(|w| w == b"12345678901234567890"));
        assert_eq!(
            keys.open_totp(factor, user, &sealed).as_deref(),
            Some(b"12345678901234567890".as_slice())
        );
        assert_eq!(keys.open_totp(Uuid::new_v4(), user, &sealed), None);
        assert_eq!(keys.open_totp(factor, Uuid::new_v4(), &sealed), None);
        let other = MfaKeys::derive("another-secret-that-is-long-enough-000");
        assert_eq!(other.open_totp(factor, user, &sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(keys.open_totp(factor, user, &tampered), None);
        assert_ne!(
            sealed,
            keys.seal_totp(factor, user, b"12345678901234567890")
        );
    }
}
