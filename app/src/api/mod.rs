//! Server functions only. Each is thin: resolve the request context, call `crate::ssr`, map the
//! error to [`crate::error::AppError`].
pub mod account;
pub mod admin;
pub mod auth;
pub mod posts;
pub mod status;
