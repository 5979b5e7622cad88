//! Palisade's server: process concerns only (configuration, telemetry, the HTTP stack, the
//! background worker). Pages, server functions and the data layer live in the `app` crate.
pub mod body_limit;
pub mod cli;
pub mod config;
pub mod layers;
pub mod mailer;
pub mod metrics;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod telemetry;
pub mod worker;
