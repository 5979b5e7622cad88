//! What the database says about itself, as the home page's status card shows it.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    pub server_version: String,
    /// The Postgres role the request ran as after `begin_as` (anon, authenticated or admin).
    pub role: String,
    pub database_time: String,
}
