//! One-time tokens for email links: 256 random bits, sent once, stored only as a SHA-256
//! hash; plus a 6-digit code for people who would rather type than click.
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng as _, RngCore as _};
use sha2::{Digest as _, Sha256};

/// A freshly minted token: the secret goes into the email, the hashes into the database.
pub struct Minted {
    pub token: String,
    pub token_hash: Vec<u8>,
    pub code: String,
    pub code_hash: String,
}

/// 256 random bits, URL-safe base64: a token nobody can guess.
pub fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn mint() -> Minted {
    let token = random();
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    Minted {
        token_hash: hash_token(&token),
        code_hash: hash_code(&token_hash_hex(&token), &code),
        token,
        code,
    }
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

fn token_hash_hex(token: &str) -> String {
    hex(&hash_token(token))
}

/// Codes are short, so each is hashed with its token's hash as salt: the same code on two
/// tokens hashes differently.
pub fn hash_code(salt: &str, code: &str) -> String {
    hex(&Sha256::digest(
        format!("{salt}:{}", code.trim()).as_bytes(),
    ))
}

/// The salt of a stored token's code, from the stored token hash.
pub fn code_salt(token_hash: &[u8]) -> String {
    hex(token_hash)
}

/// Compares two hex digests in constant time.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Lower-case hex, the one spelling of bytes in keys, digests and salts.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let a = mint();
        let b = mint();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43, "256 bits in base64url");
        assert_eq!(a.token_hash, hash_token(&a.token));
        assert_eq!(a.code.len(), 6);
        assert!(a.code.chars().all(|c| c.is_ascii_digit()));
        assert!(same_digest(
            &a.code_hash,
            &hash_code(&code_salt(&a.token_hash), &a.code)
        ));
        assert!(!same_digest(
            &a.code_hash,
            &hash_code(&code_salt(&b.token_hash), &a.code)
        ));
    }
}
