//! The asymmetric keys access tokens are signed with (ES256, which `@supabase/auth-js`'s
//! `getClaims()` verifies locally), published at `/auth/v1/.well-known/jwks.json`.
//!
//! A key is a *generation* (a number) and is derived from the server secret and that number,
//! so no private key is ever stored: the database only says which generations are `next`
//! (published, not signing yet), `current` (signing) and `previous` (still verifying the
//! tokens it signed); a dump of it yields nothing. Rotation (`palisade keys rotate`) moves
//! every generation one step; see `db::signing_keys`.
use std::collections::HashMap;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Mac as _, SimpleHmac};
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::{elliptic_curve::sec1::ToEncodedPoint as _, pkcs8::EncodePrivateKey as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::tokens::hex;

/// Where a generation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Current,
    Previous,
}

impl KeyState {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "next" => Some(Self::Next),
            "current" => Some(Self::Current),
            "previous" => Some(Self::Previous),
            _ => None,
        }
    }
}

/// One generation's key pair.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public key as a JWK.
    pub jwk: Value,
}

/// The published generations: the one that signs, and every one that verifies.
pub struct KeySet {
    pub current: SigningKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: Value,
}

impl KeySet {
    /// The set of `generations` (with their states); `None` unless exactly one is current.
    pub fn new(secret: &str, generations: &[(i32, KeyState)]) -> Option<Self> {
        let mut current = None;
        let mut verifying = HashMap::new();
        let mut published = Vec::new();
        for &(generation, state) in generations {
            let key = derive(secret, generation);
            verifying.insert(key.kid.clone(), key.decoding.clone());
            published.push(key.jwk.clone());
            if state == KeyState::Current {
                if current.is_some() {
                    return None;
                }
                current = Some(key);
            }
        }
        Some(Self {
            current: current?,
            verifying,
            jwks: json!({ "keys": published }),
        })
    }

    /// What a fresh database holds (see the migration): generation 1 signs, 2 is next.
    pub fn initial(secret: &str) -> Self {
        Self::new(secret, &[(1, KeyState::Current), (2, KeyState::Next)])
            .expect("one current generation")
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// `{"keys": [...]}`: the public keys of every published generation.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

/// Generation `generation`'s key pair, derived from the secret.
pub fn derive(secret: &str, generation: i32) -> SigningKey {
    let root: [u8; 32] = Sha256::new()
        .chain_update(b"palisade/jwt/es256/v1\0")
        .chain_update(secret.as_bytes())
        .finalize()
        .into();
    // A P-256 scalar must be in [1, n); a 256-bit HMAC output is outside with probability
    // about 2^-32, so the counter almost never moves.
    let secret_key = (0u32..)
        .find_map(|counter| {
            let mut mac =
                SimpleHmac::<Sha256>::new_from_slice(&root).expect("HMAC takes any key length");
            mac.update(&generation.to_be_bytes());
            mac.update(&counter.to_be_bytes());
            p256::SecretKey::from_slice(&mac.finalize().into_bytes()).ok()
        })
        .expect("a valid scalar within a few tries");
    let point = secret_key.public_key().to_encoded_point(false);
    let (x, y) = (
        point.x().expect("an uncompressed point"),
        point.y().expect("an uncompressed point"),
    );
    let fingerprint = Sha256::new().chain_update(x).chain_update(y).finalize();
    let kid = format!("es256-{generation}-{}", &hex(&fingerprint)[..8]);
    let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
    let der = secret_key
        .to_pkcs8_der()
        .expect("a P-256 key encodes as PKCS#8");
    SigningKey {
        encoding: EncodingKey::from_ec_der(der.as_bytes()),
        decoding: DecodingKey::from_ec_components(&x, &y).expect("base64url coordinates"),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"],
        }),
        kid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-0000";

    #[test]
    fn a_generation_is_the_same_key_every_time_and_another_one_differs() {
        let (a, again) = (derive(SECRET, 1), derive(SECRET, 1));
        assert_eq!(a.kid, again.kid);
        assert_eq!(a.jwk, again.jwk);
        assert_ne!(derive(SECRET, 2).jwk["x"], a.jwk["x"]);
        assert_ne!(
            derive("another-secret-that-is-long-enough-000", 1).kid,
            a.kid
        );
        assert!(a.kid.starts_with("es256-1-"));
        assert_eq!(a.jwk["alg"], "ES256");
        assert_eq!(a.jwk["crv"], "P-256");
        assert!(a.jwk.get("d").is_none(), "no private part is published");
    }

    #[test]
    fn a_set_publishes_every_generation_and_signs_with_the_current_one_only() {
        let set = KeySet::new(
            SECRET,
            &[
                (3, KeyState::Previous),
                (4, KeyState::Current),
                (5, KeyState::Next),
            ],
        )
        .unwrap();
        assert_eq!(set.current.kid, derive(SECRET, 4).kid);
        assert_eq!(set.jwks()["keys"].as_array().unwrap().len(), 3);
        assert!(set.verifying_key(&derive(SECRET, 3).kid).is_some());
        assert!(set.verifying_key(&derive(SECRET, 2).kid).is_none());
        assert!(KeySet::new(SECRET, &[(1, KeyState::Next)]).is_none());
        assert!(KeySet::new(SECRET, &[(1, KeyState::Current), (2, KeyState::Current)]).is_none());
    }
}
