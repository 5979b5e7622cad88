//! RFC 6238 time-based one-time passwords as authenticator apps make them: HMAC-SHA1, 30 s
//! steps, 6 digits (the only parameters every app honours).
use hmac::{Mac as _, SimpleHmac};
use sha1::Sha1;
use subtle::ConstantTimeEq as _;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Steps either side of now a code is accepted for (clock drift, a slow typist).
pub const SKEW_STEPS: u64 = 1;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends for SHA-1.
pub const SECRET_BYTES: usize = 20;

/// The time step of `unix_secs`.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The 6-digit code of `secret` for time step `step` (RFC 4226 dynamic truncation).
pub fn code_at(secret: &[u8], step: u64) -> u32 {
    let mut mac =
        SimpleHmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 1_000_000
}

/// The code as people type it: six digits, spaces and dashes allowed between them. `None`
/// for anything else.
pub fn parse_code(input: &str) -> Option<u32> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The time step `code` is valid for, within [`SKEW_STEPS`] of `now`'s, the latest first; every
/// candidate is computed and compared in constant time, so timing does not tell which matched.
pub fn matching_step(secret: &[u8], code: u32, now_unix: u64) -> Option<u64> {
    let now = step_of(now_unix);
    let mut found = None;
    for step in (now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS).rev() {
        let equal: bool = code_at(secret, step)
            .to_be_bytes()
            .ct_eq(&code.to_be_bytes())
            .into();
        if equal && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The secret as authenticator apps take it: unpadded base32.
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// A base32 secret as [`encode_secret`] writes it (for tests and API clients' echoes).
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()
}

/// The `otpauth://` URI a QR code carries (Google Authenticator's Key URI Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        encode_secret(secret),
        enc(issuer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 key.
    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // The RFC lists 8 digits; the last 6 are the 6-digit code.
        for (time, eight) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                code_at(RFC_KEY, step_of(time)),
                eight % 1_000_000,
                "T={time}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let now = 1_234_567_890;
        let step = step_of(now);
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let at = step.checked_add_signed(offset).unwrap();
            let found = matching_step(RFC_KEY, code_at(RFC_KEY, at), now);
            assert_eq!(found == Some(at), accepted, "offset {offset}");
        }
    }

    #[test]
    fn codes_are_six_digits_and_may_be_typed_with_a_space() {
        assert_eq!(parse_code("123 456"), Some(123_456));
        assert_eq!(parse_code("012345"), Some(12_345));
        for wrong in ["12345", "1234567", "12a456", "", "+12345", "１２３４５６"] {
            assert_eq!(parse_code(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn the_uri_names_the_issuer_and_account_and_carries_the_base32_secret() {
        let uri = otpauth_uri("Palisade", "ann@example.com", RFC_KEY);
        assert_eq!(
            uri,
            "otpauth://totp/Palisade:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Palisade&algorithm=SHA1&digits=6&period=30"
        );
    }
}
