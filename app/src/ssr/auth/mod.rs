//! Who is asking: the actor of a request.
mod actor;

pub use actor::Actor;
