//! `auth.account_requests`: "forgot password" and "resend the confirmation" requests, queued
//! by the request (same row for any address) and resolved by the outbox worker.
use std::net::IpAddr;

use super::{DbError, Tx};

/// What was asked for. Stored as text (`kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    ResetPassword,
    ResendVerification,
    EmailSignIn,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResetPassword => "reset_password",
            Self::ResendVerification => "resend_verification",
            Self::EmailSignIn => "email_sign_in",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::ResetPassword,
            Self::ResendVerification,
            Self::EmailSignIn,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One queued request, as the worker takes it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRequest {
    pub id: i64,
    pub kind: String,
    pub email: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Queues a request (as `auth_service`). One insert whatever the address.
pub async fn enqueue(
    tx: &mut Tx,
    kind: RequestKind,
    email: &str,
    ip: Option<IpAddr>,
    user_agent: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into auth.account_requests (kind, email, ip, user_agent) \
         values ($1, $2, $3::text::inet, left($4, 1024))",
        kind.as_str(),
        email,
        ip.map(|ip| ip.to_string()),
        user_agent,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Each request is resolved inside this savepoint, so one that fails is rolled back alone.
pub async fn savepoint(tx: &mut Tx) -> Result<(), DbError> {
    sqlx::query!("savepoint account_request")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn release_savepoint(tx: &mut Tx) -> Result<(), DbError> {
    sqlx::query!("release savepoint account_request")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn rollback_to_savepoint(tx: &mut Tx) -> Result<(), DbError> {
    sqlx::query!("rollback to savepoint account_request")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes (deletes and returns) up to `limit` requests, oldest first, skipping rows another
/// worker holds. They are gone once the caller's transaction commits, and back if it rolls
/// back.
pub async fn take(tx: &mut Tx, limit: i64) -> Result<Vec<AccountRequest>, DbError> {
    let rows = sqlx::query_as!(
        AccountRequest,
        "delete from auth.account_requests \
          where id in (select id from auth.account_requests \
                        order by id limit $1 \
                        for update skip locked) \
         returning id, kind, email, host(ip) as ip, user_agent",
        limit,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows)
}
