//! Sign-in with a passkey alone: a discoverable credential (the authenticator names the
//! user), with user verification, in two requests around `navigator.credentials.get`.
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PublicKeyCredential, WebauthnError,
};

use crate::{
    domain::{assurance, assurance::AuthMethod, audit::AuditAction},
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{
            passkeys::{self as rp, Kind, Started},
            ratelimit, sessions,
        },
        db::{self, Tx, passkeys, users},
    },
};

/// The one answer for every passkey that does not sign anyone in: unknown, deleted, another
/// user's, wrong origin or RP ID, bad signature, counter gone backwards.
pub fn refused() -> AppError {
    AppError::invalid(
        "passkey",
        "That passkey was not accepted. Try again, or sign in with your password.",
    )
    .with_code(ErrorCode::InvalidCredentials)
}

/// Starts a passkey sign-in: a fresh challenge for any of this site's discoverable
/// credentials (the options carry `mediation: "conditional"`, for autofill; the page's
/// button asks without it).
#[tracing::instrument(name = "passkeys.start_sign_in", skip_all)]
pub async fn start(ctx: &RequestContext) -> Result<Started, AppError> {
    ratelimit::hit(
        &ctx.state.redis,
        &ratelimit::PASSKEY_CEREMONY_PER_IP,
        &ctx.ip_key(),
    )
    .await?;
    let webauthn = rp::relying_party(&ctx.settings().public_url)?;
    let (options, state) = webauthn.start_discoverable_authentication().map_err(|e| {
        tracing::error!(error = %e, "could not start a passkey sign-in");
        AppError::Internal
    })?;
    let options = serde_json::to_string(&options).map_err(|e| {
        tracing::error!(error = %e, "could not serialise sign-in options");
        AppError::Internal
    })?;
    let ceremony = rp::stash(&ctx.state.redis, Kind::SignIn, &state).await?;
    Ok(Started { ceremony, options })
}

/// Finishes a passkey sign-in and starts a fresh session for the passkey's owner. Counted in
/// the same per-address limit as password sign-ins.
#[tracing::instrument(name = "passkeys.sign_in", skip_all)]
pub async fn finish(
    ctx: &RequestContext,
    session: &Session,
    ceremony: &str,
    credential: &str,
) -> Result<Uuid, AppError> {
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::SIGN_IN_PER_IP, &ctx.ip_key()).await?;
    let state: DiscoverableAuthentication = rp::take(redis, Kind::SignIn, ceremony)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "ceremony",
                "That took too long or was already used. Please try again.",
            )
        })?;
    let credential: PublicKeyCredential = serde_json::from_str(credential).map_err(|e| {
        tracing::info!(error = %e, "unreadable WebAuthn credential");
        AppError::invalid(
            "credential",
            "The browser's answer could not be read. Please try again.",
        )
    })?;
    let webauthn = rp::relying_party(&ctx.settings().public_url)?;
    let (user_handle, credential_id) = webauthn
        .identify_discoverable_authentication(&credential)
        .map_err(|_| refused())?;

    let mut tx = ctx.auth_tx().await?;
    let Some(stored) = passkeys::find_by_credential(&mut tx, credential_id).await? else {
        return Err(refused());
    };
    // The authenticator names the user; the credential must be that user's, or someone is
    // presenting their own credential under another account's handle.
    if stored.user_id != user_handle {
        tracing::info!("passkey presented under another user's handle");
        return Err(fail(ctx, tx, stored.user_id, "user handle mismatch").await);
    }
    let mut passkey: Passkey = serde_json::from_value(stored.passkey).map_err(|e| {
        tracing::error!(error = %e, "unreadable stored passkey");
        AppError::Internal
    })?;
    let result = match webauthn.finish_discoverable_authentication_v2(&credential, state, &passkey)
    {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            // webauthn-rs: a counter at or below the stored one may mean a cloned
            // authenticator; refuse, and leave the stored counter as it was.
            tracing::warn!(user_id = %stored.user_id, "passkey counter went backwards");
            ctx.audit(
                &mut tx,
                AuditAction::PasskeyCounterRegressed,
                None,
                Some(stored.user_id),
                json!({ "passkey": stored.id }),
            )
            .await?;
            return Err(fail(ctx, tx, stored.user_id, "counter regressed").await);
        }
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            return Err(fail(ctx, tx, stored.user_id, "assertion refused").await);
        }
    };

    let user = users::find_by_id(&mut tx, stored.user_id)
        .await?
        .ok_or_else(refused)?;
    if user.is_banned() {
        ctx.audit(
            &mut tx,
            AuditAction::SignInRefusedBanned,
            None,
            Some(user.id),
            json!({ "via": "passkey" }),
        )
        .await?;
        db::commit(tx).await?;
        return Err(AppError::invalid(
            "passkey",
            "This account is suspended. Contact support if you think this is a mistake.",
        )
        .with_code(ErrorCode::UserBanned));
    }
    // Counter and backup state move on; a synced passkey keeps counter 0 and that is fine.
    passkey.update_credential(&result);
    let updated = serde_json::to_value(&passkey).map_err(|e| {
        tracing::error!(error = %e, "could not serialise a passkey");
        AppError::Internal
    })?;
    passkeys::record_use(&mut tx, stored.id, &updated).await?;
    users::record_sign_in(&mut tx, user.id).await?;
    ctx.audit(
        &mut tx,
        AuditAction::SignedIn,
        Some(user.id),
        Some(user.id),
        json!({
            "via": "passkey",
            "passkey": stored.id,
            "user_verified": result.user_verified(),
        }),
    )
    .await?;
    db::commit(tx).await?;
    // With user verification (which the options require) a passkey is two factors in one:
    // aal2 on its own. Without, it would only be a security key.
    let method = if result.user_verified() {
        assurance::WEBAUTHN
    } else {
        assurance::SECURITY_KEY
    };
    sessions::establish(
        session,
        redis,
        ctx.settings(),
        user.id,
        &ctx.caller,
        vec![AuthMethod::now(method)],
    )
    .await?;
    Ok(user.id)
}

/// Records a refused passkey sign-in against the credential's owner and gives the one answer.
async fn fail(ctx: &RequestContext, mut tx: Tx, owner: Uuid, why: &str) -> AppError {
    let recorded = ctx
        .audit(
            &mut tx,
            AuditAction::SignInFailed,
            None,
            Some(owner),
            json!({ "via": "passkey", "reason": why }),
        )
        .await;
    match recorded {
        Ok(()) => match db::commit(tx).await {
            Ok(()) => refused(),
            Err(e) => e.into(),
        },
        Err(e) => e.into(),
    }
}
