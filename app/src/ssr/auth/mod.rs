//! Who is asking: the actor of a request.
pub mod api_keys;
pub mod api_user;
pub mod caller;
pub mod flows;
pub mod jwt;
pub mod key_store;
pub mod mfa;
pub mod passkeys;
pub mod password;
pub mod ratelimit;
pub mod sessions;
pub mod signing_keys;
pub mod tokens;

pub use crate::domain::actor::Actor;
pub use caller::Caller;
