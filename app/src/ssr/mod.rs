//! The monolith's server side: state, request context and the one data layer. Nothing outside
//! this module talks to Postgres or Redis.
pub mod admin;
pub mod auth;
pub mod cache;
pub mod context;
pub mod csp;
pub mod db;
pub mod http_cache;
pub mod markdown;
pub mod posts_service;
pub mod settings;
pub mod state;
pub mod status_service;

pub use context::{RequestContext, serve};
