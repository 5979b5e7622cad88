//! The first admin (`grant-admin`, `seed-dev`): the one path that becomes `admin` with no admin
//! user to act as, so it opens its transaction itself instead of through `begin_as`.
use sqlx::PgPool;
use uuid::Uuid;

use super::{DbError, ServiceRole, Tx};

/// Opens a transaction that runs as `admin` with no claims (`authenticator` may switch to it;
/// see docs/database.md on the first admin).
pub async fn begin_as_admin(pool: &PgPool) -> Result<Tx, DbError> {
    let mut tx = super::pooler::begin(pool).await?;
    sqlx::query!("select set_config('role', 'admin', true)")
        .fetch_one(&mut *tx)
        .await?;
    Ok(tx)
}

/// Switches the rest of the transaction to `role` (the audit entry of a grant is written as
/// `auth_service`: admin may only log entries as itself, and here nobody is).
pub async fn switch_to(tx: &mut Tx, role: ServiceRole) -> Result<(), DbError> {
    sqlx::query!("select set_config('role', $1, true)", role.as_str())
        .fetch_one(&mut **tx)
        .await?;
    Ok(())
}

/// The account a grant is about, its profile row locked until the transaction ends.
pub struct Candidate {
    pub id: Uuid,
    pub role: String,
    pub confirmed: bool,
    pub banned: bool,
}

pub async fn candidate_by_email(tx: &mut Tx, email: &str) -> Result<Option<Candidate>, DbError> {
    Ok(sqlx::query_as!(
        Candidate,
        r#"select u.id, p.role, u.email_confirmed_at is not null as "confirmed!",
                  coalesce(u.banned_until > now(), false) as "banned!"
             from auth.users u join public.profiles p on p.id = u.id
            where lower(u.email) = lower($1)
              for update of p"#,
        email,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn make_admin(tx: &mut Tx, id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update public.profiles set role = 'admin' where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
