//! `seed-dev`: fills a development database with demo data (on loopback only).
use std::time::Duration;

use anyhow::Context as _;
use app::domain::audit::AuditAction;
use app::ssr::{
    auth::{Actor, password::Hasher},
    db::{self, ServiceRole, audit, posts, users},
};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{connect, exit, grant_admin};
use crate::config::{Environment, Settings};

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
            app::ssr::cache::PostCache::new(
                &pool,
                &redis,
                app::ssr::cache::PageCache::new(Duration::ZERO),
            )
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

pub(super) async fn command(settings: &Settings) -> i32 {
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
