//! What the account page shows and asks about second factors.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A confirmed second factor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorInfo {
    pub id: Uuid,
    pub friendly_name: String,
    /// `totp`.
    pub factor_type: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The account's second factors and how many recovery codes are left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactors {
    pub factors: Vec<FactorInfo>,
    pub recovery_codes_left: i64,
}

/// A TOTP factor being enrolled: shown once, until a first code confirms it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub factor_id: Uuid,
    pub friendly_name: String,
    /// Base32, for typing into an app that cannot scan.
    pub secret: String,
    /// The `otpauth://` URI the QR code carries.
    pub uri: String,
    /// The QR code, drawn by the server.
    pub qr_svg: String,
}

/// A factor's name as people choose it: trimmed, 1 to 64 characters, no control characters.
pub fn parse_friendly_name(input: &str) -> Result<String, &'static str> {
    let name = input.trim();
    if name.is_empty() {
        return Err("Give this factor a name, e.g. \u{201c}Phone\u{201d}.");
    }
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err("Use at most 64 characters, without line breaks.");
    }
    Ok(name.to_owned())
}
