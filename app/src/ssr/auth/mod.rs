//! Who is asking: the actor of a request.
mod actor;
pub mod api_keys;
pub mod api_user;
pub mod caller;
pub mod flows;
pub mod jwt;
pub mod password;
pub mod ratelimit;
pub mod sessions;
pub mod signing_keys;
pub mod tokens;

pub use actor::Actor;
pub use caller::Caller;
