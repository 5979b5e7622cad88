//! Our own HTTP middleware, one concern a file. Middleware sits below the routes and beside
//! them: it may use `app`, `config`, `state` and `oauth_error`, never `routes` or `startup`.
pub mod body_limit;
pub mod cache_policy;
pub mod load_shed;
pub mod metrics;
pub mod page_cache;
pub mod request_span;
pub mod same_origin;
pub mod security_headers;
pub mod sessions;
