//! The binary's commands besides serving: `grant-admin EMAIL` bootstraps an admin (there is
//! no admin yet to promote anyone), `seed-dev` fills a development database with demo data.
//! Both read the same configuration as the server and log in as `authenticator`, like it.
use std::time::Duration;

use anyhow::Context as _;
use app::domain::audit::AuditAction;
use app::ssr::{
    auth::{Actor, password::Hasher},
    db::{self, DbError, ServiceRole, audit, bootstrap, posts, users},
};
use secrecy::ExposeSecret as _;
use serde_json::json;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use crate::config::{Environment, Settings};

pub const USAGE: &str = "\
Usage: palisade [COMMAND]

Commands:
  serve              Run the web server and the outbox worker (the default)
  grant-admin EMAIL  Give the account with this email the admin role, and sign it out
                     everywhere so its next sign-in starts a fresh session
  seed-dev           Development on loopback only: a demo admin, a demo user and demo posts
                     (idempotent)
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
        Command::GrantAdmin(email) => grant_admin_command(&settings, &email).await,
        Command::SeedDev => seed_dev_command(&settings).await,
        Command::Serve | Command::Help => exit::OK,
    })
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
        .connect_with(options.application_name("palisade-cli"))
        .await
        .context("could not connect to Postgres (DATABASE_URL)")
}

#[derive(Debug, PartialEq, Eq)]
pub struct Grant {
    pub user_id: Uuid,
    /// The account was an admin already; nothing changed.
    pub already_admin: bool,
    pub confirmed: bool,
    pub banned: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("no account has the email {0}")]
    NoSuchUser(String),
    #[error("the database has no Palisade schema yet: start the server once, or run seed-dev")]
    NotMigrated,
    #[error("database error")]
    Db(#[source] DbError),
}

impl From<DbError> for GrantError {
    fn from(e: DbError) -> Self {
        match &e {
            // undefined_table
            DbError::Other(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P01") => {
                Self::NotMigrated
            }
            _ => Self::Db(e),
        }
    }
}

/// Gives the account with `email` the admin role, recording who did it in the audit log, in
/// one transaction. As docs/database.md describes for the first admin, `authenticator`
/// switches straight to `admin` (there is no admin user to act as), then to `auth_service`
/// for the audit entry (admin may only log entries as itself, and here nobody is).
/// `via` says what ran it (`grant-admin`, `seed-dev`).
pub async fn grant_admin(pool: &PgPool, email: &str, via: &str) -> Result<Grant, GrantError> {
    let mut tx = bootstrap::begin_as_admin(pool).await?;
    let found = bootstrap::candidate_by_email(&mut tx, email.trim()).await?;
    let Some(bootstrap::Candidate {
        id: user_id,
        role,
        confirmed,
        banned,
    }) = found
    else {
        return Err(GrantError::NoSuchUser(email.trim().to_string()));
    };
    let grant = Grant {
        user_id,
        already_admin: role == "admin",
        confirmed,
        banned,
    };
    if grant.already_admin {
        return Ok(grant);
    }
    bootstrap::make_admin(&mut tx, user_id).await?;
    bootstrap::switch_to(&mut tx, ServiceRole::Auth).await?;
    // A role change is a recovery action like the admin page's (see `flows::recovered`).
    app::ssr::auth::flows::recovered(&mut tx, user_id).await?;
    let os_user = std::env::var("USER").unwrap_or_default();
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: None,
            target_id: Some(user_id),
            action: AuditAction::RoleGrantedCli,
            ip: None,
            user_agent: None,
            details: json!({ "via": via, "from": role, "to": "admin", "os_user": os_user }),
        },
    )
    .await?;
    db::commit(tx).await?;
    Ok(grant)
}

async fn grant_admin_command(settings: &Settings, email: &str) -> i32 {
    let pool = match connect(settings).await {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("palisade: {e:#}");
            return exit::FAILED;
        }
    };
    let grant = match grant_admin(&pool, email, "grant-admin").await {
        Ok(grant) => grant,
        Err(e @ GrantError::NoSuchUser(_)) => {
            eprintln!("palisade: {e}. Sign up first, then run this again.");
            return exit::NO_SUCH_USER;
        }
        Err(e) => {
            eprintln!("palisade: could not grant admin: {e:#}");
            return exit::FAILED;
        }
    };
    pool.close().await;
    if grant.already_admin {
        println!("{email} is already an admin; nothing changed.");
        return exit::OK;
    }
    println!("{email} is now an admin (user id {}).", grant.user_id);
    // A session from before the grant must not carry admin rights: end them all, so the next
    // sign-in starts a fresh one. The grant stands either way (the database reads the role on
    // every request).
    match sign_out_everywhere(settings, grant.user_id).await {
        Ok(0) => {}
        Ok(n) => println!("Signed out their {n} session(s): they sign in again to use it."),
        Err(e) => eprintln!(
            "palisade: warning: could not sign out their existing sessions ({e:#}); \
             they can sign out and in again themselves."
        ),
    }
    if !grant.confirmed {
        println!(
            "Note: the account has not confirmed its email address yet, so it cannot sign in."
        );
    }
    if grant.banned {
        println!("Note: the account is banned; it gets admin rights only when the ban ends.");
    }
    exit::OK
}

async fn sign_out_everywhere(settings: &Settings, user: Uuid) -> anyhow::Result<usize> {
    let redis = tokio::time::timeout(
        Duration::from_secs(5),
        crate::startup::connect_redis(settings),
    )
    .await
    .context("Redis did not answer")??;
    let ended = app::ssr::auth::sessions::revoke_all(&redis, user, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ended)
}

/// The development seed's accounts. The passwords are printed: they guard nothing real.
pub const DEV_ADMIN: (&str, &str) = ("admin@palisade.local", "palisade-admin-dev-lantern-42");
pub const DEV_USER: (&str, &str) = ("demo@palisade.local", "palisade-demo-dev-harbour-17");

/// Demo posts by the demo user: (slug, title, body, status).
const DEMO_POSTS: [(&str, &str, &str, &str); 3] = [
    (
        "welcome-to-palisade",
        "Welcome to Palisade",
        "Palisade is one Rust binary, Postgres and Redis.\n\n\
         - Pages are rendered on the server and hydrated in the browser.\n\
         - Postgres decides who may see what, with **Row Level Security**.\n\
         - Redis holds sessions, the cache and rate limits.\n",
        "published",
    ),
    (
        "how-the-database-keeps-data-safe",
        "How the database keeps data safe",
        "Every request runs in a transaction that first sets the Postgres role and the \
         caller's claims, so the policies on each table decide what the request may read \
         and change.\n\nA demoted or banned admin loses access on their next request.\n",
        "published",
    ),
    (
        "a-draft-only-its-author-sees",
        "A draft only its author sees",
        "Drafts are visible to their author and to admins, and to nobody else.\n",
        "draft",
    ),
];

/// What `seed-dev` did, a line per fact, for the terminal.
pub async fn seed_dev(settings: &Settings) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(
        settings.environment == Environment::Development,
        "seed-dev runs only with PALISADE_ENV=development"
    );
    // Its passwords are published: never on a server anyone else can reach.
    anyhow::ensure!(
        settings.is_local_development(),
        "seed-dev runs only for a loopback http PALISADE_PUBLIC_URL"
    );
    if settings.database.migrate_on_start {
        crate::startup::migrate(settings).await?;
    }
    let pool = connect(settings).await?;
    let hasher = Hasher::new(1);
    let mut report = Vec::new();
    let mut ids = Vec::new();
    for ((email, password), role) in [(DEV_ADMIN, "admin"), (DEV_USER, "user")] {
        let (id, created) = ensure_user(&pool, &hasher, email, password).await?;
        let state = if created { "created" } else { "already there" };
        report.push(format!(
            "{role:<5} {email}  password: {password}  ({state})"
        ));
        ids.push(id);
    }
    grant_admin(&pool, DEV_ADMIN.0, "seed-dev").await?;
    let demo = ids[1];
    let added = seed_posts(&pool, demo).await?;
    report.push(format!(
        "posts {added} demo post(s) added by {} ({} already there)",
        DEV_USER.0,
        DEMO_POSTS.len() - added
    ));
    if added > 0 {
        // Published posts are cached for anonymous visitors: retire what a running server
        // may have cached from before.
        if let Ok(Ok(redis)) = tokio::time::timeout(
            Duration::from_secs(5),
            crate::startup::connect_redis(settings),
        )
        .await
        {
            app::ssr::cache::PostCache::new(&pool, &redis)
                .invalidate()
                .await;
        }
    }
    pool.close().await;
    Ok(report)
}

/// The account with `email`, signed up and confirmed through the auth subsystem's own
/// queries if it does not exist yet; true when it was created now.
async fn ensure_user(
    pool: &PgPool,
    hasher: &Hasher,
    email: &str,
    password: &str,
) -> anyhow::Result<(Uuid, bool)> {
    let mut tx = db::begin_service(pool, ServiceRole::Auth).await?;
    if let Some(user) = users::find_by_email(&mut tx, email).await? {
        return Ok((user.id, false));
    }
    let email = app::domain::EmailAddress::parse(email).map_err(|m| anyhow::anyhow!(m))?;
    let password = app::domain::Password::parse(password.to_string(), &[email.as_ref()])
        .map_err(|m| anyhow::anyhow!("the seed password is refused: {m}"))?;
    let hash = hasher
        .hash(password.expose())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = users::insert(&mut tx, email.as_ref(), &hash)
        .await?
        .context("the email was taken meanwhile")?;
    users::confirm_email(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &audit::Entry {
            actor_id: Some(id),
            target_id: Some(id),
            action: AuditAction::SignedUp,
            ip: None,
            user_agent: None,
            details: json!({ "via": "seed-dev" }),
        },
    )
    .await?;
    db::commit(tx).await?;
    Ok((id, true))
}

/// Inserts the demo posts as their author (through `begin_as`, so RLS applies as to any
/// request); a slug already taken is skipped. Returns how many were added.
async fn seed_posts(pool: &PgPool, author: Uuid) -> anyhow::Result<usize> {
    let actor = Actor::User {
        id: author,
        session_id: None,
        token_family: None,
    };
    let mut tx = db::begin_as(pool, &actor).await?;
    let mut added = 0;
    for (slug, title, body, status) in DEMO_POSTS {
        if posts::insert_demo(&mut tx, slug, title, body, status).await? {
            added += 1;
        }
    }
    db::commit(tx).await?;
    Ok(added)
}

async fn seed_dev_command(settings: &Settings) -> i32 {
    if settings.environment != Environment::Development {
        eprintln!("palisade: seed-dev refused: it runs only with PALISADE_ENV=development.");
        return exit::USAGE;
    }
    if !settings.is_local_development() {
        eprintln!(
            "palisade: seed-dev refused: it runs only for a loopback http PALISADE_PUBLIC_URL \
             (its passwords are published)."
        );
        return exit::USAGE;
    }
    match seed_dev(settings).await {
        Ok(report) => {
            println!(
                "Development seed (PALISADE_ENV=development only; these passwords are for local use):"
            );
            for line in report {
                println!("  {line}");
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("palisade: seed-dev failed: {e:#}");
            exit::FAILED
        }
    }
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
        assert!(Command::parse(&args(&["grant-admin"])).is_err());
        assert!(Command::parse(&args(&["grant-admin", "a", "b"])).is_err());
        assert!(Command::parse(&args(&["frobnicate"])).is_err());
    }
}
