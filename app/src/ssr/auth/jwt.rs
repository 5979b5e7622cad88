//! Access tokens for API clients: short-lived JWTs signed with ES256 (the keys and their
//! rotation: `signing_keys`), validated locally with no database or Redis round trip; HS256
//! tokens of the server secret (what Palisade signed before) still verify, and never appear
//! in the JWKS. They carry who the user is, never what they may do: `begin_as` still
//! derives the Postgres role from the profile on every request, so a ban or demotion applies
//! at once even to a token that has not expired. Refresh tokens (opaque, rotating) are in
//! `flows::api_clients`.
use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::signing_keys::{KeySet, KeyState};
use crate::domain::role::RequestRole;

/// The audience of every access token, as Supabase names it.
pub const AUDIENCE: &str = "authenticated";

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub exp: u64,
    /// Always `authenticated`; informative only (the database decides the role).
    pub role: String,
    pub email: String,
    /// The refresh-token family (one per sign-in): what sign-out ends.
    pub session_id: Uuid,
    // The rest as Supabase's tokens carry them, for its clients (`getClaims()`, `aal`).
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub app_metadata: serde_json::Value,
    #[serde(default)]
    pub user_metadata: serde_json::Value,
    /// Assurance level: `aal1` after one factor, `aal2` after two (`domain::assurance`).
    #[serde(default)]
    pub aal: String,
    /// How and when the sign-in was made.
    #[serde(default)]
    pub amr: Vec<AuthMethod>,
    #[serde(default)]
    pub is_anonymous: bool,
}

/// One entry of `amr`; it lives in `domain::assurance`, shared with browser sessions.
pub use crate::domain::assurance::AuthMethod;

/// The signing key and the rules tokens are issued and checked by.
pub struct JwtKeys {
    /// Keys each refresh token's successor (see [`Self::successor_of`]).
    successor: [u8; 32],
    /// The ES256 generations published now; swapped whole when they change.
    keys: RwLock<Arc<KeySet>>,
    /// Derives the generations' keys.
    secret: String,
    /// Verifies HS256 tokens (the legacy algorithm).
    legacy: DecodingKey,
    #[cfg(test)]
    legacy_encoding: jsonwebtoken::EncodingKey,
    es256: Validation,
    hs256: Validation,
    issuer: String,
    pub access_ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the server's secret (`PALISADE_SECRET`), domain-separated so the JWT key is
    /// not the secret itself; the issuer is `{public_url}/auth/v1`.
    pub fn new(secret: &str, public_url: &str, access_ttl: Duration) -> Self {
        let key = Sha256::new()
            .chain_update(b"palisade/jwt/hs256/v1\0")
            .chain_update(secret.as_bytes())
            .finalize();
        let issuer = format!("{}/auth/v1", public_url.trim_end_matches('/'));
        // One algorithm per key (no `none`, no algorithm confusion); exp, aud, iss and sub
        // required.
        let validation = |algorithm| {
            let mut validation = Validation::new(algorithm);
            validation.set_audience(&[AUDIENCE]);
            validation.set_issuer(&[issuer.as_str()]);
            validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
            validation.leeway = 5;
            validation
        };
        let successor = Sha256::new()
            .chain_update(b"palisade/refresh-successor/v1\0")
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        Self {
            successor,
            keys: RwLock::new(Arc::new(KeySet::initial(secret))),
            secret: secret.to_owned(),
            legacy: DecodingKey::from_secret(&key),
            #[cfg(test)]
            legacy_encoding: jsonwebtoken::EncodingKey::from_secret(&key),
            es256: validation(Algorithm::ES256),
            hs256: validation(Algorithm::HS256),
            issuer,
            access_ttl,
        }
    }

    /// Publishes `generations` (from `db::signing_keys`) in place of the ones before; refused
    /// (`false`) unless exactly one of them is current.
    pub fn install(&self, generations: &[(i32, KeyState)]) -> bool {
        let Some(set) = KeySet::new(&self.secret, generations) else {
            return false;
        };
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        true
    }

    fn key_set(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The public keys of the published generations, as `/.well-known/jwks.json` serves them.
    pub fn jwks(&self) -> serde_json::Value {
        self.key_set().jwks().clone()
    }

    /// The claims of a new access token for the user, valid from now: one factor, no
    /// methods or metadata yet (see [`Self::sign`]).
    pub fn claims(&self, user: Uuid, email: &str, session_id: Uuid) -> Claims {
        let now = jsonwebtoken::get_current_timestamp();
        Claims {
            sub: user,
            aud: AUDIENCE.into(),
            iss: self.issuer.clone(),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
            role: RequestRole::Authenticated.as_str().into(),
            email: email.into(),
            session_id,
            phone: String::new(),
            app_metadata: serde_json::json!({}),
            user_metadata: serde_json::json!({}),
            aal: "aal1".into(),
            amr: Vec::new(),
            is_anonymous: false,
        }
    }

    /// The signed token of `claims`: ES256, with the current generation's `kid`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let keys = self.key_set();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(keys.current.kid.clone());
        encode(&header, claims, &keys.current.encoding)
    }

    /// A signed access token for the user, and its claims.
    pub fn issue(
        &self,
        user: Uuid,
        email: &str,
        session_id: Uuid,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let claims = self.claims(user, email, session_id);
        Ok((self.sign(&claims)?, claims))
    }

    /// The refresh token that succeeds `parent`: a keyed hash of it, so the same parent always
    /// has the same successor (a client that refreshes twice within the reuse window gets the
    /// same answer twice, see `flows::api`), and nobody without the server's secret can compute
    /// it from a stolen parent.
    pub fn successor_of(&self, parent: &str) -> String {
        use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
        use hmac::{Mac as _, SimpleHmac};
        let mut mac = SimpleHmac::<Sha256>::new_from_slice(&self.successor)
            .expect("HMAC takes keys of any length");
        mac.update(parent.trim().as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The claims of a valid, unexpired token signed with a published generation's key (or
    /// the legacy HS256 key); `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let keys = self.key_set();
        let checked = match header.alg {
            Algorithm::ES256 => {
                let key = keys.verifying_key(header.kid.as_deref()?)?;
                decode::<Claims>(token, key, &self.es256)
            }
            Algorithm::HS256 => decode::<Claims>(token, &self.legacy, &self.hs256),
            _ => return None,
        };
        match checked {
            Ok(data) => Some(data.claims),
            Err(e) => {
                tracing::debug!(error = %e, "access token refused");
                None
            }
        }
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::EncodingKey;

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            "a-test-secret-that-is-long-enough-0000",
            "https://example.com/",
            Duration::from_secs(900),
        )
    }

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let keys = keys();
        let user = Uuid::new_v4();
        let (token, claims) = keys.issue(user, "a@example.com", Uuid::new_v4()).unwrap();
        assert_eq!(claims.iss, "https://example.com/auth/v1");
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(keys.verify(&token), Some(claims));

        let other = JwtKeys::new(
            "another-secret-that-is-long-enough-000",
            "https://example.com",
            Duration::from_secs(900),
        );
        assert_eq!(other.verify(&token), None, "another secret");
        let elsewhere = JwtKeys::new(
            "a-test-secret-that-is-long-enough-0000",
            "https://other.example",
            Duration::from_secs(900),
        );
        assert_eq!(elsewhere.verify(&token), None, "another issuer");
    }

    #[test]
    fn tampered_expired_and_unsigned_tokens_are_refused() {
        use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
        let keys = keys();
        let (token, claims) = keys
            .issue(Uuid::new_v4(), "a@example.com", Uuid::new_v4())
            .unwrap();
        let parts: Vec<&str> = token.split('.').collect();

        // Another user's id under the original signature.
        let forged = Claims {
            sub: Uuid::new_v4(),
            ..claims.clone()
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            keys.verify(&format!("{}.{body}.{}", parts[0], parts[2])),
            None
        );

        // alg: none, no signature.
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(keys.verify(&format!("{none}.{}.", parts[1])), None);

        // Expired (beyond the 5 s leeway), correctly signed.
        let old = Claims {
            iat: claims.iat - 3600,
            exp: claims.iat - 60,
            ..claims
        };
        let expired = keys.sign(&old).unwrap();
        assert_eq!(keys.verify(&expired), None);
        let legacy_expired =
            encode(&Header::new(Algorithm::HS256), &old, &keys.legacy_encoding).unwrap();
        assert_eq!(keys.verify(&legacy_expired), None);

        assert_eq!(keys.verify("not a token"), None);
        assert_eq!(keys.verify(""), None);
    }

    #[test]
    fn tokens_are_es256_with_a_kid_and_legacy_hs256_ones_still_verify() {
        let keys = keys();
        let (token, claims) = keys
            .issue(Uuid::new_v4(), "a@example.com", Uuid::new_v4())
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(
            header.kid.as_deref(),
            keys.jwks()["keys"][0]["kid"].as_str()
        );
        let legacy = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &keys.legacy_encoding,
        )
        .unwrap();
        assert_eq!(keys.verify(&legacy), Some(claims.clone()));
        // The EC public key is no HMAC secret: an HS256 token keyed with it is refused.
        let x = keys.jwks()["keys"][0]["x"].as_str().unwrap().to_owned();
        let confused = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(x.as_bytes()),
        )
        .unwrap();
        assert_eq!(keys.verify(&confused), None);
    }

    #[test]
    fn a_rotation_keeps_old_tokens_valid_until_their_generation_is_unpublished() {
        let keys = keys();
        let (old, _) = keys
            .issue(Uuid::new_v4(), "a@example.com", Uuid::new_v4())
            .unwrap();
        assert!(keys.install(&[
            (1, KeyState::Previous),
            (2, KeyState::Current),
            (3, KeyState::Next)
        ]));
        let (new, _) = keys
            .issue(Uuid::new_v4(), "a@example.com", Uuid::new_v4())
            .unwrap();
        let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
        assert_ne!(kid(&old), kid(&new));
        assert!(keys.verify(&old).is_some() && keys.verify(&new).is_some());
        assert!(keys.install(&[(2, KeyState::Current), (3, KeyState::Next)]));
        assert_eq!(keys.verify(&old), None, "generation 1 retired");
        assert!(keys.verify(&new).is_some());
        assert!(!keys.install(&[(3, KeyState::Next)]), "nothing would sign");
    }
}
