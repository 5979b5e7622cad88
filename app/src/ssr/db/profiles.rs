//! `public.profiles`, read and written as the request's actor: RLS lets a user change only
//! their own row, and never its role.
use uuid::Uuid;

use super::{DbError, Tx};
use crate::domain::{Bio, DisplayName, Username};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Profile {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<Profile>, DbError> {
    Ok(sqlx::query_as!(
        Profile,
        "select id, username, display_name, bio from public.profiles where id = $1",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Updates the caller's own profile. Zero rows means RLS refused (not their row).
pub async fn update_own(
    tx: &mut Tx,
    id: Uuid,
    username: &Username,
    display_name: &DisplayName,
    bio: &Bio,
) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "update public.profiles set username = $2, display_name = $3, bio = $4 where id = $1",
        id,
        username.as_ref(),
        display_name.as_option(),
        bio.as_option(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
