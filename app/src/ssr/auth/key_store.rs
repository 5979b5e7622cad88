//! Where the published generations of the signing key come from: `auth.signing_keys`, read
//! at start-up and every [`RELOAD_EVERY`], installed into the server's [`JwtKeys`].
use super::{jwt::JwtKeys, signing_keys::KeyState};
use crate::{
    error::AppError,
    ssr::db::{self, ServiceRole, signing_keys},
};

/// How often every instance reloads the published generations, so a rotation made anywhere
/// reaches it (a new key is published a whole rotation before it signs).
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a demoted generation stays published: the longest an access token it signed can
/// live, plus the verification leeway and a reload's delay.
pub fn previous_lifetime(access_ttl: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(access_ttl + RELOAD_EVERY).unwrap_or(chrono::Duration::hours(1))
        + chrono::Duration::seconds(5)
}

/// Reads the published generations and installs them in `jwt`.
pub async fn load(pool: &sqlx::PgPool, jwt: &JwtKeys) -> Result<(), AppError> {
    let mut tx = db::begin_service(pool, ServiceRole::Auth).await?;
    let since = chrono::Utc::now() - previous_lifetime(jwt.access_ttl);
    let rows = signing_keys::published(&mut tx, since).await?;
    db::commit(tx).await?;
    let generations: Vec<(i32, KeyState)> = rows
        .iter()
        .filter_map(|(generation, state)| Some((*generation, KeyState::parse(state)?)))
        .collect();
    if jwt.install(&generations) {
        Ok(())
    } else {
        tracing::error!(?rows, "auth.signing_keys has no single current generation");
        Err(AppError::Internal)
    }
}
