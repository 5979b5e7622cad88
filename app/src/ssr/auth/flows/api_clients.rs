//! Sign-in for API clients (`/auth/v1`): a short-lived access token (JWT, see `auth::jwt`) and
//! an opaque refresh token. Refresh tokens are used once: each refresh returns a new pair, and
//! presenting a token that was already used ends its whole family (one family per sign-in),
//! since one of the two parties holding it is not the owner. Families end at the same absolute
//! lifetime as browser sessions, at sign-out, and on password change, reset, ban or role change.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::signin;
use crate::{
    domain::audit::AuditAction,
    error::AppError,
    ssr::{
        RequestContext,
        auth::{ratelimit, sessions, tokens},
        db::{self, Tx, refresh_tokens, refresh_tokens::Presented, users},
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
    pub user: TokenUser,
}

#[derive(Debug, Serialize)]
pub struct TokenUser {
    pub id: Uuid,
    pub email: String,
}

/// The one answer for a refresh token that is unknown, expired, revoked or reused.
fn invalid_refresh_token() -> AppError {
    AppError::invalid("refresh_token", "Invalid or expired refresh token.")
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
    let family = Uuid::new_v4();
    let ends = Utc::now()
        + chrono::Duration::from_std(ctx.settings().session_absolute)
            .unwrap_or(chrono::Duration::days(30));
    let refresh = store(ctx, &mut tx, user.id, family, ends).await?;
    // Like browser sessions, at most so many sign-ins: the least recently used ones end.
    let keep = i64::try_from(sessions::MAX_SESSIONS_PER_USER).unwrap_or(i64::MAX);
    refresh_tokens::revoke_beyond(&mut tx, user.id, keep).await?;
    db::commit(tx).await?;
    pair(ctx, user.id, user.email, family, refresh)
}

/// `grant_type=refresh_token`: spends the refresh token and returns a new pair in the same
/// family. A token used before ends the family; a banned or deleted user gets nothing.
#[tracing::instrument(name = "api.refresh_grant", skip_all)]
pub async fn refresh_grant(
    ctx: &RequestContext,
    refresh_token: &str,
) -> Result<TokenPair, AppError> {
    let refresh_token = refresh_token.trim();
    ratelimit::hit_or_pass(&ctx.state.redis, &ratelimit::REFRESH_PER_IP, &ctx.ip_key()).await?;
    if refresh_token.is_empty() {
        return Err(AppError::invalid("refresh_token", "Send a refresh token."));
    }
    let mut tx = ctx.auth_tx().await?;
    match refresh_tokens::present(&mut tx, &tokens::hash_token(refresh_token)).await? {
        Presented::Live {
            user_id,
            family_id,
            expires_at,
        } => {
            let user = users::find_by_id(&mut tx, user_id)
                .await?
                .filter(|u| !u.is_banned() && u.email_confirmed_at.is_some());
            let Some(user) = user else {
                refresh_tokens::revoke_family(&mut tx, user_id, family_id).await?;
                db::commit(tx).await?;
                return Err(invalid_refresh_token());
            };
            let refresh = store(ctx, &mut tx, user.id, family_id, expires_at).await?;
            db::commit(tx).await?;
            pair(ctx, user.id, user.email, family_id, refresh)
        }
        Presented::Reused { user_id, family_id } => {
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
            Err(invalid_refresh_token())
        }
        Presented::Dead => Err(invalid_refresh_token()),
    }
}

/// Where a sign-out reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// This token's family.
    Local,
    /// Every family of the user.
    Global,
}

impl Scope {
    pub fn parse(s: Option<&str>) -> Result<Self, AppError> {
        match s.map(str::trim).unwrap_or("local") {
            "" | "local" => Ok(Self::Local),
            "global" => Ok(Self::Global),
            _ => Err(AppError::invalid("scope", "The scope is local or global.")),
        }
    }
}

/// Ends the refresh-token family of the access token's sign-in (or all of them, which is a
/// recovery: see [`super::recovered`]). Access tokens of an ended family are refused from the
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
        Scope::Global => u64::try_from(
            super::recovered(&mut tx, user)
                .await?
                .revoked_refresh_tokens,
        )
        .unwrap_or_default(),
    };
    let scope = if scope == Scope::Global {
        "global"
    } else {
        "local"
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
) -> Result<String, AppError> {
    let token = tokens::random();
    refresh_tokens::insert(
        tx,
        &refresh_tokens::NewRefreshToken {
            user_id: user,
            family_id: family,
            token_hash: &tokens::hash_token(&token),
            expires_at,
            ip: ctx.caller.ip,
            user_agent: ctx.caller.user_agent.as_deref(),
        },
    )
    .await?;
    Ok(token)
}

fn pair(
    ctx: &RequestContext,
    user: Uuid,
    email: String,
    family: Uuid,
    refresh_token: String,
) -> Result<TokenPair, AppError> {
    let (access_token, claims) = ctx.state.jwt.issue(user, &email, family).map_err(|e| {
        tracing::error!(error = %e, "could not sign an access token");
        AppError::Internal
    })?;
    Ok(TokenPair {
        access_token,
        token_type: "bearer",
        expires_in: claims.exp - claims.iat,
        expires_at: claims.exp,
        refresh_token,
        user: TokenUser { id: user, email },
    })
}
