//! The admin area (issue 5) against the real Postgres and Redis: who gets in (the server and
//! the database both refuse non-admins), what each action does to the target's sessions and
//! sign-in, the audit trail of every action, the outbox, and the `grant-admin` / `seed-dev`
//! commands of the binary.
mod access;
mod cli;
mod records;
mod user_search;
mod users;
