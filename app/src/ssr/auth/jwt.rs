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
}

/// The signing key and the rules tokens are issued and checked by.
pub struct JwtKeys {
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
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
            issuer,
            access_ttl,
        }
    }

    /// A signed access token for the user, and its claims.
    pub fn issue(
        &self,
        user: Uuid,
        email: &str,
        session_id: Uuid,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user,
            aud: AUDIENCE.into(),
            iss: self.issuer.clone(),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
            role: RequestRole::Authenticated.as_str().into(),
            email: email.into(),
            session_id,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
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
