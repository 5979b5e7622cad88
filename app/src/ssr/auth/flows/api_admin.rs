//! The admin subset of `/auth/v1` for a server holding the secret key (auth-js
//! `GoTrueAdminApi`): create, read and delete users. There is no admin user behind the key, so
//! these run as `auth_service`, the role that owns the auth tables, and every action is
//! audited with no actor and `via: secret_key`. The routes check the key and refuse any browser
//! (`routes::auth_v1::admin`).
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{EmailAddress, audit::AuditAction},
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{api_user::ApiUser, sessions},
        cache::PostCache,
        db::{self, Tx, profiles, users},
    },
};

/// `POST /admin/users`: a user with a password, confirmed if `email_confirm` (no mail is sent
/// either way, as Supabase's admin API does). A taken address is `email_exists`.
#[tracing::instrument(name = "api.admin.create_user", skip_all)]
pub async fn create_user(
    ctx: &RequestContext,
    email: &str,
    password: String,
    email_confirm: bool,
) -> Result<ApiUser, AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let password = super::new_password("password", password, &[email.as_ref()])?;
    let hash = ctx.state.passwords.hash(password.expose()).await?;
    let mut tx = ctx.auth_tx().await?;
    let Some(id) = users::insert(&mut tx, email.as_ref(), &hash).await? else {
        return Err(AppError::invalid(
            "email",
            "A user with this email address has already been registered.",
        )
        .with_code(ErrorCode::EmailExists));
    };
    if email_confirm {
        users::confirm_email(&mut tx, id).await?;
    }
    ctx.audit(
        &mut tx,
        AuditAction::AdminApiUserCreated,
        None,
        Some(id),
        json!({ "via": "secret_key", "confirmed": email_confirm }),
    )
    .await?;
    let user = read(&mut tx, id).await?;
    db::commit(tx).await?;
    Ok(user)
}

/// `GET /admin/users/{id}`.
pub async fn get_user(ctx: &RequestContext, id: Uuid) -> Result<ApiUser, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let user = read(&mut tx, id).await?;
    db::commit(tx).await?;
    Ok(user)
}

/// `DELETE /admin/users/{id}`: the account and everything that cascades with it (as a user's
/// own deletion), every browser session ended.
#[tracing::instrument(name = "api.admin.delete_user", skip_all, fields(target = %id))]
pub async fn delete_user(ctx: &RequestContext, id: Uuid) -> Result<(), AppError> {
    let mut tx = ctx.auth_tx().await?;
    let user = users::find_by_id(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.audit(
        &mut tx,
        AuditAction::AdminApiUserDeleted,
        None,
        Some(id),
        json!({ "via": "secret_key", "email": user.email }),
    )
    .await?;
    users::delete(&mut tx, id).await?;
    db::commit(tx).await?;
    PostCache::of(&ctx.state).invalidate().await;
    sessions::revoke_all(&ctx.state.redis, id, None).await?;
    Ok(())
}

async fn read(tx: &mut Tx, id: Uuid) -> Result<ApiUser, AppError> {
    let user = users::find_by_id(tx, id).await?.ok_or(AppError::NotFound)?;
    let profile = profiles::get(tx, id).await?.ok_or(AppError::NotFound)?;
    Ok(ApiUser::new(&user, &profile, "authenticated".into()))
}
