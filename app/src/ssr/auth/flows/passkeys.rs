//! A signed-in user's passkeys: register one (a WebAuthn ceremony in two requests), list,
//! rename and delete them. Sign-in with a passkey is in `passkey_signin`.
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::account::require_live_user;
use crate::{
    domain::{
        audit::AuditAction,
        passkey::{PasskeyInfo, PasskeyName},
    },
    error::AppError,
    ssr::{
        RequestContext,
        auth::{
            passkeys::{self as rp, Kind, Started},
            ratelimit,
        },
        db::{self, DbError, passkeys, users},
    },
};

/// A registration in flight, tied to the user and the session that started it: an id that
/// leaks to another session (or another user) finishes nothing.
#[derive(Serialize, Deserialize)]
struct Registration {
    user_id: Uuid,
    session: Option<String>,
    state: PasskeyRegistration,
}

fn session_handle(ctx: &RequestContext) -> Option<String> {
    match &ctx.actor {
        crate::domain::actor::Actor::User { session_id, .. } => session_id.clone(),
        crate::domain::actor::Actor::Anon => None,
    }
}

fn unreadable(field: &str, e: &serde_json::Error) -> AppError {
    tracing::info!(error = %e, "unreadable WebAuthn credential");
    AppError::invalid(
        field,
        "The browser's answer could not be read. Please try again.",
    )
}

fn expired() -> AppError {
    AppError::invalid(
        "ceremony",
        "That took too long or was already used. Please try again.",
    )
}

/// Starts registering a passkey for the signed-in user: the options for
/// `navigator.credentials.create`, asking for a discoverable credential (so it can sign in
/// without an email address) with user verification, and excluding the user's passkeys.
#[tracing::instrument(name = "passkeys.start_registration", skip_all)]
pub async fn start_registration(ctx: &RequestContext) -> Result<Started, AppError> {
    let user_id = require_live_user(ctx).await?;
    // Adding a way in is a sensitive action: a fresh aal2 when the user has a second factor.
    ctx.require_fresh_aal2().await?;
    ratelimit::hit(
        &ctx.state.redis,
        &ratelimit::PASSKEY_CEREMONY_PER_IP,
        &ctx.ip_key(),
    )
    .await?;
    let mut tx = ctx.auth_tx().await?;
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let existing = passkeys::credential_ids(&mut tx, user_id).await?;
    db::commit(tx).await?;

    let webauthn = rp::relying_party(&ctx.settings().public_url)?;
    let (options, state) = webauthn
        .start_passkey_registration(user_id, &user.email, &user.email, Some(existing))
        .map_err(|e| {
            tracing::error!(error = %e, "could not start a passkey registration");
            AppError::Internal
        })?;
    let options = require_resident_key(serde_json::to_value(&options).map_err(|e| {
        tracing::error!(error = %e, "could not serialise registration options");
        AppError::Internal
    })?);
    let registration = Registration {
        user_id,
        session: session_handle(ctx),
        state,
    };
    let ceremony = rp::stash(&ctx.state.redis, Kind::Register, &registration).await?;
    Ok(Started {
        ceremony,
        options: options.to_string(),
    })
}

/// webauthn-rs asks for a non-discoverable credential by default (so as not to fill small
/// security keys); passwordless sign-in needs a discoverable one, and every platform and
/// synced passkey provider makes one. The ceremony's state does not depend on it.
fn require_resident_key(mut options: serde_json::Value) -> serde_json::Value {
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(|s| s.as_object_mut())
    {
        selection.insert("residentKey".into(), json!("required"));
        selection.insert("requireResidentKey".into(), json!(true));
    }
    options
}

/// Finishes a registration: checks the browser's answer against the ceremony's challenge,
/// origin and RP ID (webauthn-rs), and stores the new passkey under `name`.
#[tracing::instrument(name = "passkeys.finish_registration", skip_all)]
pub async fn finish_registration(
    ctx: &RequestContext,
    ceremony: &str,
    name: &str,
    credential: &str,
) -> Result<PasskeyInfo, AppError> {
    let user_id = require_live_user(ctx).await?;
    ctx.require_fresh_aal2().await?;
    let name = PasskeyName::parse(name).map_err(|m| AppError::invalid("name", m))?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_str(credential).map_err(|e| unreadable("credential", &e))?;
    let registration = rp::take::<Registration>(&ctx.state.redis, Kind::Register, ceremony)
        .await?
        .filter(|r| r.user_id == user_id && r.session == session_handle(ctx))
        .ok_or_else(expired)?;

    let webauthn = rp::relying_party(&ctx.settings().public_url)?;
    let passkey = webauthn
        .finish_passkey_registration(&credential, &registration.state)
        .map_err(|e| {
            tracing::info!(error = %e, "passkey registration refused");
            AppError::invalid(
                "credential",
                "This passkey could not be registered. Please try again.",
            )
        })?;
    let stored = serde_json::to_value(&passkey).map_err(|e| {
        tracing::error!(error = %e, "could not serialise a passkey");
        AppError::Internal
    })?;

    let mut tx = ctx.auth_tx().await?;
    let id = match passkeys::insert(
        &mut tx,
        user_id,
        passkey.cred_id().as_ref(),
        &stored,
        name.as_ref(),
    )
    .await
    {
        Ok(id) => id,
        Err(DbError::Conflict(c)) if c == "passkeys_credential_id_key" => {
            return Err(AppError::invalid(
                "credential",
                "This passkey is already registered.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    ctx.audit(
        &mut tx,
        AuditAction::PasskeyAdded,
        Some(user_id),
        Some(user_id),
        json!({ "passkey": id, "name": name.as_ref() }),
    )
    .await?;
    db::commit(tx).await?;
    Ok(PasskeyInfo {
        id,
        name: name.as_ref().to_string(),
        created_at: chrono::Utc::now(),
        last_used_at: None,
    })
}

pub async fn list(ctx: &RequestContext) -> Result<Vec<PasskeyInfo>, AppError> {
    let user_id = require_live_user(ctx).await?;
    let mut tx = ctx.auth_tx().await?;
    let rows = passkeys::list(&mut tx, user_id).await?;
    db::commit(tx).await?;
    Ok(rows
        .into_iter()
        .map(|r| PasskeyInfo {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
        .collect())
}

fn passkey_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
}

#[tracing::instrument(name = "passkeys.rename", skip_all)]
pub async fn rename(ctx: &RequestContext, id: &str, name: &str) -> Result<(), AppError> {
    let user_id = require_live_user(ctx).await?;
    let id = passkey_id(id)?;
    let name = PasskeyName::parse(name).map_err(|m| AppError::invalid("name", m))?;
    let mut tx = ctx.auth_tx().await?;
    if !passkeys::rename(&mut tx, user_id, id, name.as_ref()).await? {
        return Err(AppError::NotFound);
    }
    ctx.audit(
        &mut tx,
        AuditAction::PasskeyRenamed,
        Some(user_id),
        Some(user_id),
        json!({ "passkey": id, "name": name.as_ref() }),
    )
    .await?;
    db::commit(tx).await?;
    Ok(())
}

/// Deletes one of the user's passkeys: it signs nobody in from now on.
#[tracing::instrument(name = "passkeys.delete", skip_all)]
pub async fn delete(ctx: &RequestContext, id: &str) -> Result<(), AppError> {
    let user_id = require_live_user(ctx).await?;
    ctx.require_fresh_aal2().await?;
    let id = passkey_id(id)?;
    let mut tx = ctx.auth_tx().await?;
    let Some(name) = passkeys::delete(&mut tx, user_id, id).await? else {
        return Err(AppError::NotFound);
    };
    ctx.audit(
        &mut tx,
        AuditAction::PasskeyRemoved,
        Some(user_id),
        Some(user_id),
        json!({ "passkey": id, "name": name }),
    )
    .await?;
    db::commit(tx).await?;
    Ok(())
}
