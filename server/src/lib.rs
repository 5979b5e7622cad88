//! Palisade's server: process concerns only (configuration, telemetry, the HTTP stack, the
//! background worker). Pages, server functions and the data layer live in the `app` crate.
//!
//! Arrows point one way: `main`/`cli` -> `startup` -> `routes`, `middleware` -> `state`,
//! `oauth_error`, `metrics`, `config` -> `app` (and `worker` -> `mailer` -> `config`). No route
//! or middleware imports `startup`, middleware never imports `routes`, and no module of the
//! crate imports `cli`.
pub mod cli;
pub mod config;
pub mod mailer;
pub mod metrics;
pub mod middleware;
pub mod oauth_error;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;
