//! Our own HTTP middleware, one concern a file.
pub mod body_limit;
pub mod cache_policy;
pub mod metrics;
pub mod request_span;
pub mod same_origin;
pub mod security_headers;
pub mod sessions;
