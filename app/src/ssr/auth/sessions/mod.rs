//! Browser sessions: the signed-in record in each session (`record`) and the per-user index
//! beside it (`index`). The keys, lifetimes and the cap are described in docs/sessions.md.
mod index;
mod record;
mod signed_in;

pub use index::{MAX_SESSIONS_PER_USER, handle_of, list, revoke, revoke_all};
pub use record::{
    DATA_KEY, Resolved, TOUCH_EVERY, default_expiry, end, establish, resolve, rotate,
    settle_expiry, step_up,
};
