//! Palisade's server: process concerns only (configuration, telemetry, the HTTP stack, the
//! background worker). Pages, server functions and the data layer live in the `app` crate.
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
