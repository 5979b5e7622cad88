//! Access tokens for API clients: short-lived JWTs (HS256), validated locally with no database
//! or Redis round trip. They carry who the user is, never what they may do: `begin_as` still
//! derives the Postgres role from the profile on every request, so a ban or demotion applies
//! at once even to a token that has not expired. Refresh tokens (opaque, rotating) are in
//! `flows::api_clients`.
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

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
    /// Assurance level: `aal1` after one factor.
    #[serde(default)]
    pub aal: String,
    /// How and when the sign-in was made.
    #[serde(default)]
    pub amr: Vec<AuthMethod>,
    #[serde(default)]
    pub is_anonymous: bool,
}

/// One entry of `amr`: a method (`password`) and when it was used (Unix seconds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthMethod {
    pub method: String,
    pub timestamp: u64,
}

/// The signing key and the rules tokens are issued and checked by.
pub struct JwtKeys {
    /// Keys each refresh token's successor (see [`Self::successor_of`]).
    successor: [u8; 32],
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
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
        // HS256 only (no `none`, no algorithm confusion); exp, aud, iss and sub required.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        validation.leeway = 5;
        let successor = Sha256::new()
            .chain_update(b"palisade/refresh-successor/v1\0")
            .chain_update(secret.as_bytes())
            .finalize()
            .into();
        Self {
            successor,
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            issuer,
            access_ttl,
        }
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

    /// The signed token of `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
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

    /// The claims of a valid, unexpired token signed with this key; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        match decode::<Claims>(token, &self.decoding, &self.validation) {
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
        let expired = encode(&Header::new(Algorithm::HS256), &old, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&expired), None);

        assert_eq!(keys.verify("not a token"), None);
        assert_eq!(keys.verify(""), None);
    }
}
