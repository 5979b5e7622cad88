//! `grant-admin EMAIL`: bootstraps an admin (there is no admin yet to promote anyone).
use std::time::Duration;

use anyhow::Context as _;
use app::domain::audit::AuditAction;
use app::ssr::db::{self, DbError, ServiceRole, audit, bootstrap};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{connect, exit};
use crate::config::Settings;

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

pub(super) async fn command(settings: &Settings, email: &str) -> i32 {
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
