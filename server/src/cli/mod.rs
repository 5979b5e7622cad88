//! The binary's commands besides serving (`grant-admin`, `seed-dev`: one file each) and their
//! dispatch. Both read the same configuration as the server and log in as `authenticator`.
mod grant_admin;
mod seed_dev;

use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use grant_admin::{Grant, GrantError, grant_admin};
pub use seed_dev::{DEV_ADMIN, DEV_USER, seed_dev};

use crate::config::Settings;

pub const USAGE: &str = "\
Usage: palisade [COMMAND]

Commands:
  serve              Run the web server and the outbox worker (the default)
  grant-admin EMAIL  Give the account with this email the admin role, and sign it out
                     everywhere so its next sign-in starts a fresh session
  seed-dev           Development on loopback only: a demo admin, a demo user and demo posts
                     (idempotent)
  keys rotate        Rotate the access-token signing key: the next key (published since the
                     last rotation) signs, the current one keeps verifying until its tokens
                     have expired, a new next key is published
  api-keys           Print /auth/v1's API keys (derived from PALISADE_SECRET): the
                     publishable one for apps, the secret one for servers only
  help               Show this

Configuration comes from the environment (and .env in development), as for the server.

Exit codes: 0 done, 1 failed (configuration, database), 2 usage or refused,
3 no account has that email.";

/// Exit codes (see [`USAGE`]).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NO_SUCH_USER: i32 = 3;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    GrantAdmin(String),
    SeedDev,
    ApiKeys,
    RotateKeys,
    Help,
}

impl Command {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            [] | ["serve"] => Ok(Self::Serve),
            ["help" | "--help" | "-h"] => Ok(Self::Help),
            ["grant-admin", email] => Ok(Self::GrantAdmin((*email).to_string())),
            ["grant-admin", ..] => Err("grant-admin takes exactly one email address".into()),
            ["seed-dev"] => Ok(Self::SeedDev),
            ["api-keys"] => Ok(Self::ApiKeys),
            ["keys", "rotate"] => Ok(Self::RotateKeys),
            [other, ..] => Err(format!("unknown command {other:?}")),
        }
    }
}

/// Runs the command the arguments name, unless it is `serve`: `None` means serve, else the
/// process exit code.
pub async fn dispatch() -> Option<i32> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match Command::parse(&args) {
        Ok(Command::Serve) => return None,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return Some(exit::OK);
        }
        Ok(command) => command,
        Err(message) => {
            eprintln!("palisade: {message}\n\n{USAGE}");
            return Some(exit::USAGE);
        }
    };
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("palisade: configuration: {e}");
            return Some(exit::FAILED);
        }
    };
    Some(match command {
        Command::GrantAdmin(email) => grant_admin::command(&settings, &email).await,
        Command::SeedDev => seed_dev::command(&settings).await,
        Command::RotateKeys => rotate_keys(&settings).await,
        Command::ApiKeys if settings.secret_generated => {
            eprintln!(
                "palisade: no PALISADE_SECRET is set, so every process makes up its own and its \
                 keys would not last: set one (scripts/dev writes it to .env)."
            );
            exit::FAILED
        }
        Command::ApiKeys => {
            let keys = app::ssr::auth::api_keys::ApiKeys::derive(settings.secret.expose_secret());
            println!("publishable: {}", keys.publishable());
            println!("secret:      {}", keys.secret());
            exit::OK
        }
        Command::Serve | Command::Help => exit::OK,
    })
}

/// `keys rotate`: one step for every generation of the signing key (see
/// `app::ssr::auth::signing_keys`); running instances follow within a minute.
async fn rotate_keys(settings: &Settings) -> i32 {
    use app::ssr::{
        auth::key_store::{RELOAD_EVERY, previous_lifetime},
        db::{self, ServiceRole, signing_keys},
    };
    let rotated = async {
        let pool = connect(settings).await?;
        let mut tx = db::begin_service(&pool, ServiceRole::Auth).await?;
        let retire_before =
            chrono::Utc::now() - previous_lifetime(settings.sessions.access_token_ttl);
        let current = signing_keys::rotate(&mut tx, retire_before).await?;
        db::commit(tx).await?;
        anyhow::Ok(current)
    };
    match rotated.await {
        Ok(current) => {
            println!(
                "Generation {current} signs access tokens now (every instance within {} s); \
                 the one before keeps verifying until its tokens have expired.",
                RELOAD_EVERY.as_secs()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("palisade: keys rotate: {e:#}");
            exit::FAILED
        }
    }
}

/// The app's pool, small: one command, one connection at a time.
pub async fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = settings
        .database
        .url
        .expose_secret()
        .parse()
        .context("DATABASE_URL is not a valid URL")?;
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(
            settings
                .database
                .pooler
                .apply(options.application_name("palisade-cli")),
        )
        .await
        .context("could not connect to Postgres (DATABASE_URL)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn commands_parse_and_anything_else_is_a_usage_error() {
        assert_eq!(Command::parse(&args(&[])), Ok(Command::Serve));
        assert_eq!(Command::parse(&args(&["serve"])), Ok(Command::Serve));
        assert_eq!(Command::parse(&args(&["--help"])), Ok(Command::Help));
        assert_eq!(
            Command::parse(&args(&["grant-admin", "a@b.test"])),
            Ok(Command::GrantAdmin("a@b.test".into()))
        );
        assert_eq!(Command::parse(&args(&["seed-dev"])), Ok(Command::SeedDev));
        assert_eq!(Command::parse(&args(&["api-keys"])), Ok(Command::ApiKeys));
        assert_eq!(
            Command::parse(&args(&["keys", "rotate"])),
            Ok(Command::RotateKeys)
        );
        assert!(Command::parse(&args(&["keys"])).is_err());
        assert!(Command::parse(&args(&["grant-admin"])).is_err());
        assert!(Command::parse(&args(&["grant-admin", "a", "b"])).is_err());
        assert!(Command::parse(&args(&["frobnicate"])).is_err());
    }
}
