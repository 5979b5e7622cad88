//! Integration tests: the real server on port 0, against the real Postgres and Redis that
//! scripts/test starts. One binary, so it links once.
mod support;

mod admin;
mod auth_flows;
mod client_address;
mod db_circuit;
mod http_stack;
mod load_shedding;
mod malformed;
mod metrics;
mod mfa;
mod outbox;
mod pages;
mod passkeys;
mod posts;
mod ratelimit;
mod readiness;
mod replica;
mod rls;
mod sessions;
mod shutdown;
