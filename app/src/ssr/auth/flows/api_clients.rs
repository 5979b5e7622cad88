//! Sign-in for API clients (`/auth/v1`): a short-lived access token (JWT, see `auth::jwt`) and
//! an opaque refresh token. Refresh tokens are used once: each refresh returns a new pair, and
//! presenting a token that was already used ends its whole family (one family per sign-in),
//! since one of the two parties holding it is not the owner — except within
//! [`REUSE_WINDOW`] of its first use while its successor is unspent, when the same successor is
//! answered again (two tabs, or a client retrying a refresh whose answer it lost). Families end at the same absolute
//! lifetime as browser sessions, at sign-out, and on password change, reset, ban or role change.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{account, signin};
use crate::{
    domain::{
        assurance::{Assurance, PASSWORD},
        audit::AuditAction,
    },
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{Actor, api_user::ApiUser, jwt::AuthMethod, ratelimit, sessions, tokens},
        db::{self, Tx, assurance, refresh_tokens, refresh_tokens::Presented, users},
    },
};

/// What a successful grant answers, shaped like Supabase's (and OAuth 2's) token response.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    /// When it expires, in Unix seconds.
    pub expires_at: u64,
    pub refresh_token: String,
    pub user: ApiUser,
}

/// How long after its first use a refresh token still gets its (unspent) successor again, as
/// Supabase Auth's default `REFRESH_TOKEN_REUSE_INTERVAL`.
pub const REUSE_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// The answer for a refresh token that is unknown, expired or revoked.
fn invalid_refresh_token() -> AppError {
    AppError::invalid("refresh_token", "Invalid or expired refresh token.")
        .with_code(ErrorCode::RefreshTokenNotFound)
}

/// The answer for a refresh token that was spent before (its family has just ended). Saying so
/// tells the presenter nothing new: they held the token.
fn reused_refresh_token() -> AppError {
    AppError::invalid("refresh_token", "Invalid refresh token: already used.")
        .with_code(ErrorCode::RefreshTokenAlreadyUsed)
}

/// `grant_type=password`: the same checks as the sign-in form (limits, back-off, bans,
/// unconfirmed addresses), then a new token family.
#[tracing::instrument(name = "api.password_grant", skip_all)]
pub async fn password_grant(
    ctx: &RequestContext,
    email: &str,
    password: &str,
) -> Result<TokenPair, AppError> {
    let (user, mut tx) = signin::authenticate(ctx, email, password, "api").await?;
    // The password alone must not sign in a user with a second factor, here either; until
    // API clients can verify one (`/factors`, docs/mfa.md) such a user signs in in a browser.
    if user.needs_second_factor {
        return Err(AppError::StepUpRequired);
    }
    let family = Uuid::new_v4();
    let ends = Utc::now() + absolute_lifetime(ctx);
    let refresh = tokens::random();
    store(ctx, &mut tx, user.id, family, ends, &refresh).await?;
    assurance::start_family(&mut tx, family, user.id, &[AuthMethod::now(PASSWORD)]).await?;
    // Like browser sessions, at most so many sign-ins: the least recently used ones end.
    let keep = i64::try_from(sessions::MAX_SESSIONS_PER_USER).unwrap_or(i64::MAX);
    refresh_tokens::revoke_beyond(&mut tx, user.id, keep).await?;
    db::commit(tx).await?;
    pair(ctx, user.id, family, refresh, Utc::now(), "password").await
}

/// A new sign-in for a user who has just proven control of their mailbox (`POST /verify`):
/// `method` says how, in the access token's `amr` (`email/signup`, `recovery`). Refused, like
/// a password grant, for a banned or deleted user or an unconfirmed address; recorded as a
/// sign-in.
#[tracing::instrument(name = "api.mailbox_grant", skip_all)]
pub async fn mailbox_grant(
    ctx: &RequestContext,
    user_id: Uuid,
    method: &'static str,
) -> Result<TokenPair, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .filter(|u| u.email_confirmed_at.is_some())
        .ok_or_else(super::dead_link)?;
    if user.is_banned() {
        return Err(AppError::invalid(
            "email",
            "This account is suspended. Contact support if you think this is a mistake.",
        )
        .with_code(ErrorCode::UserBanned));
    }
    // The mailbox is one factor, like the password: a user with a second factor is refused here
    // as by the password grant, until API clients can verify one (`/factors`, docs/mfa.md).
    if crate::ssr::db::assurance::has_second_factor(&mut tx, user.id).await? {
        return Err(AppError::StepUpRequired);
    }
    let family = Uuid::new_v4();
    let ends = Utc::now() + absolute_lifetime(ctx);
    let refresh = tokens::random();
    store(ctx, &mut tx, user.id, family, ends, &refresh).await?;
    assurance::start_family(&mut tx, family, user.id, &[AuthMethod::now(method)]).await?;
    let keep = i64::try_from(sessions::MAX_SESSIONS_PER_USER).unwrap_or(i64::MAX);
    refresh_tokens::revoke_beyond(&mut tx, user.id, keep).await?;
    users::record_sign_in(&mut tx, user.id).await?;
    ctx.audit(
        &mut tx,
        AuditAction::SignedIn,
        Some(user.id),
        Some(user.id),
        json!({ "via": "api", "method": method }),
    )
    .await?;
    db::commit(tx).await?;
    pair(ctx, user.id, family, refresh, Utc::now(), method).await
}

/// How long a sign-in lives at most, refreshes included (the browser sessions' lifetime).
fn absolute_lifetime(ctx: &RequestContext) -> chrono::Duration {
    chrono::Duration::from_std(ctx.settings().session_absolute)
        .unwrap_or(chrono::Duration::days(30))
}

/// The signed-in user as Supabase's clients read it (`GET /auth/v1/user`): read as them, so a
/// banned or deleted user, or a token whose sign-in ended, gets `Unauthorized`.
pub async fn user(ctx: &RequestContext) -> Result<ApiUser, AppError> {
    let (user, profile, role) = account::load_records(ctx).await?;
    let factors = super::factors::api_list(ctx).await?;
    Ok(ApiUser {
        factors,
        ..ApiUser::new(&user, &profile, role)
    })
}

/// `POST /signup`: the sign-up form's flow (limits, the same answer for a taken address, the
/// confirmation email); the account is usable once its address is confirmed, so there is
/// never a session here.
pub async fn sign_up(
    ctx: &RequestContext,
    email: &str,
    password: String,
) -> Result<serde_json::Value, AppError> {
    let id = super::signup::sign_up(ctx, email, password).await?;
    let email =
        crate::domain::EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    Ok(crate::ssr::auth::api_user::pending(id, email.as_ref()))
}

/// `grant_type=refresh_token`: spends the refresh token and returns a new pair in the same
/// family. A token used before ends the family (but see [`REUSE_WINDOW`]); a banned or deleted
/// user gets nothing.
#[tracing::instrument(name = "api.refresh_grant", skip_all)]
pub async fn refresh_grant(
    ctx: &RequestContext,
    refresh_token: &str,
) -> Result<TokenPair, AppError> {
    let refresh_token = refresh_token.trim();
    ratelimit::hit_or_pass(&ctx.state.redis, &ratelimit::REFRESH_PER_IP, &ctx.ip_key()).await?;
    if refresh_token.is_empty() {
        return Err(AppError::invalid("refresh_token", "Send a refresh token.")
            .with_code(ErrorCode::RefreshTokenNotFound));
    }
    let successor = ctx.state.jwt.successor_of(refresh_token);
    let mut tx = ctx.auth_tx().await?;
    let (user_id, family_id, expires_at) =
        match refresh_tokens::present(&mut tx, &tokens::hash_token(refresh_token)).await? {
            Presented::Live {
                user_id,
                family_id,
                expires_at,
            } => {
                store(ctx, &mut tx, user_id, family_id, expires_at, &successor).await?;
                (user_id, family_id, expires_at)
            }
            Presented::Reused {
                user_id,
                family_id,
                used_at,
            } => {
                let recent = (Utc::now() - used_at).to_std().unwrap_or_default() <= REUSE_WINDOW;
                let unspent = if recent {
                    let hash = tokens::hash_token(&successor);
                    refresh_tokens::unspent_until(&mut tx, &hash, family_id).await?
                } else {
                    None
                };
                match unspent {
                    // The same answer again: a race or a retry, not a theft.
                    Some(expires_at) => (user_id, family_id, expires_at),
                    None => return Err(reused(ctx, tx, user_id, family_id).await?),
                }
            }
            Presented::Dead => return Err(invalid_refresh_token()),
        };
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .filter(|u| !u.is_banned() && u.email_confirmed_at.is_some());
    if user.is_none() {
        refresh_tokens::revoke_family(&mut tx, user_id, family_id).await?;
        db::commit(tx).await?;
        return Err(invalid_refresh_token());
    }
    db::commit(tx).await?;
    // Every token of a family ends when the sign-in's lifetime does.
    let signed_in_at = expires_at - absolute_lifetime(ctx);
    pair(ctx, user_id, family_id, successor, signed_in_at, "password").await
}

/// A spent token presented again outside the reuse window: one of its two holders is not the
/// owner, so the family ends. Returns the answer for the presenter.
async fn reused(
    ctx: &RequestContext,
    mut tx: Tx,
    user_id: Uuid,
    family_id: Uuid,
) -> Result<AppError, AppError> {
    let ended = refresh_tokens::revoke_family(&mut tx, user_id, family_id).await?;
    ctx.audit(
        &mut tx,
        AuditAction::TokenReuseDetected,
        None,
        Some(user_id),
        json!({ "family": family_id, "revoked": ended }),
    )
    .await?;
    db::commit(tx).await?;
    tracing::warn!(%user_id, %family_id, "refresh token reused: family revoked");
    Ok(reused_refresh_token())
}

/// Where a sign-out reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// This token's family.
    Local,
    /// Every family of the user.
    Global,
    /// Every sign-in of the user but this one: the other API clients' and every browser's.
    Others,
}

impl Scope {
    pub fn parse(s: Option<&str>) -> Result<Self, AppError> {
        match s.map(str::trim).unwrap_or("local") {
            "" | "local" => Ok(Self::Local),
            "global" => Ok(Self::Global),
            "others" => Ok(Self::Others),
            _ => Err(AppError::invalid(
                "scope",
                "The scope is local, global or others.",
            )),
        }
    }
}

/// Ends the refresh-token family of the access token's sign-in, or every sign-in but this one
/// (browser sessions too), or all of them (a recovery: see [`super::recovered`]). Access tokens of an ended family are refused from the
/// next request on (`db::begin_as`).
#[tracing::instrument(name = "api.sign_out", skip_all)]
pub async fn sign_out(
    ctx: &RequestContext,
    user: Uuid,
    family: Uuid,
    scope: Scope,
) -> Result<(), AppError> {
    let mut tx = ctx.auth_tx().await?;
    let ended = match scope {
        Scope::Local => refresh_tokens::revoke_family(&mut tx, user, family).await?,
        Scope::Global => {
            sessions::revoke_all(&ctx.state.redis, user, None).await?;
            u64::try_from(
                super::recovered(&mut tx, user)
                    .await?
                    .revoked_refresh_tokens,
            )
            .unwrap_or_default()
        }
        Scope::Others => {
            sessions::revoke_all(&ctx.state.redis, user, None).await?;
            refresh_tokens::revoke_other_families(&mut tx, user, family).await?
        }
    };
    let scope = match scope {
        Scope::Local => "local",
        Scope::Global => "global",
        Scope::Others => "others",
    };
    ctx.audit(
        &mut tx,
        AuditAction::SignedOut,
        Some(user),
        Some(user),
        json!({ "via": "api", "scope": scope, "revoked": ended }),
    )
    .await?;
    db::commit(tx).await?;
    Ok(())
}

async fn store(
    ctx: &RequestContext,
    tx: &mut Tx,
    user: Uuid,
    family: Uuid,
    expires_at: DateTime<Utc>,
    token: &str,
) -> Result<(), AppError> {
    refresh_tokens::insert(
        tx,
        &refresh_tokens::NewRefreshToken {
            user_id: user,
            family_id: family,
            token_hash: &tokens::hash_token(token),
            expires_at,
            ip: ctx.caller.ip,
            user_agent: ctx.caller.user_agent.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// How the family's sign-in was made, as recorded at sign-in and step-up; a family from before
/// that record was a password sign-in.
async fn family_amr(
    ctx: &RequestContext,
    family: Uuid,
    signed_in_at: DateTime<Utc>,
    method: &str,
) -> Result<Vec<AuthMethod>, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let amr = assurance::family_amr(&mut tx, family).await?;
    db::commit(tx).await?;
    // A family from before its method was recorded: the method the grant names.
    Ok(amr.filter(|amr| !amr.is_empty()).unwrap_or_else(|| {
        let at = u64::try_from(signed_in_at.timestamp()).unwrap_or_default();
        vec![AuthMethod::new(method, at)]
    }))
}

/// The answer of a grant: the user read as the new sign-in (so what it may see is what its
/// access token will), and an access token carrying what Supabase's tokens carry.
async fn pair(
    ctx: &RequestContext,
    user: Uuid,
    family: Uuid,
    refresh_token: String,
    signed_in_at: DateTime<Utc>,
    method: &str,
) -> Result<TokenPair, AppError> {
    let as_new_sign_in = RequestContext {
        actor: Actor::User {
            id: user,
            session_id: None,
            token_family: Some(family),
        },
        ..ctx.clone()
    };
    let user = self::user(&as_new_sign_in).await?;
    let mut claims = ctx.state.jwt.claims(user.id, &user.email, family);
    claims.app_metadata = user.app_metadata.clone();
    claims.user_metadata = user.user_metadata.clone();
    let amr = family_amr(ctx, family, signed_in_at, method).await?;
    claims.aal = Assurance::new(amr.clone()).aal().as_str().into();
    claims.amr = amr;
    let access_token = ctx.state.jwt.sign(&claims).map_err(|e| {
        tracing::error!(error = %e, "could not sign an access token");
        AppError::Internal
    })?;
    Ok(TokenPair {
        access_token,
        token_type: "bearer",
        expires_in: claims.exp - claims.iat,
        expires_at: claims.exp,
        refresh_token,
        user,
    })
}
