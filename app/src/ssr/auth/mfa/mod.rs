//! Second factors: TOTP (RFC 6238) with its secrets encrypted at rest, recovery codes, and the
//! keys both use. The flows that enrol, check and remove them are in `flows::factors`.
pub mod codes;
pub mod keys;
pub mod qr;
pub mod totp;

pub use keys::MfaKeys;
