//! Sign-in and sign-out.
use serde_json::json;
use tower_sessions::Session;

use crate::{
    domain::EmailAddress,
    domain::assurance::{self, AuthMethod},
    domain::audit::AuditAction,
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{password::Verdict, ratelimit, sessions},
        db::{self, Tx, users},
    },
};

/// The one answer for an unknown email and a wrong password.
pub fn bad_credentials() -> AppError {
    AppError::invalid("password", "Email or password is incorrect.")
        .with_code(ErrorCode::InvalidCredentials)
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignInRefusal {
    /// Right password, address not confirmed yet: the page offers to resend the email.
    Unconfirmed,
}

/// A user whose email and password were right and who may sign in (confirmed, not banned).
pub struct Authenticated {
    pub id: uuid::Uuid,
    pub email: String,
    /// The user has a second factor: the password alone does not sign them in.
    pub needs_second_factor: bool,
}

/// Checks an email and password with every guard sign-in has: limits per address and per
/// account, the back-off, one answer for an unknown email and a wrong password, bans and
/// unconfirmed addresses. On success the sign-in and its audit entry (`via` says where:
/// `browser` or `api`) are written in the returned transaction, which the caller commits
/// with whatever the sign-in creates.
pub async fn authenticate(
    ctx: &RequestContext,
    email: &str,
    password: &str,
    via: &str,
) -> Result<(Authenticated, Tx), AppError> {
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::SIGN_IN_PER_IP, &ctx.ip_key()).await?;
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    let ip = ctx.ip_key();
    ratelimit::check_sign_in(redis, email.as_ref(), &ip).await?;

    let mut tx = ctx.auth_tx().await?;
    let user = users::find_by_email(&mut tx, email.as_ref()).await?;
    let verdict = ctx
        .state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
        .await?;
    let (user, needs_rehash) = match (user, verdict) {
        (Some(user), Verdict::Right { needs_rehash }) => (user, needs_rehash),
        (user, _) => {
            ratelimit::failed_sign_in(redis, email.as_ref(), &ip).await;
            let target = user.map(|u| u.id);
            ctx.audit(
                &mut tx,
                AuditAction::SignInFailed,
                None,
                target,
                json!({ "via": via }),
            )
            .await?;
            db::commit(tx).await?;
            return Err(bad_credentials());
        }
    };
    if user.is_banned() {
        ctx.audit(
            &mut tx,
            AuditAction::SignInRefusedBanned,
            None,
            Some(user.id),
            json!({ "via": via }),
        )
        .await?;
        db::commit(tx).await?;
        return Err(AppError::invalid(
            "email",
            "This account is suspended. Contact support if you think this is a mistake.",
        )
        .with_code(ErrorCode::UserBanned));
    }
    if user.email_confirmed_at.is_none() {
        return Err(AppError::invalid(
            "unconfirmed",
            "Confirm your email address first: follow the link we sent you, or ask for a new one.",
        )
        .with_code(ErrorCode::EmailNotConfirmed));
    }
    if needs_rehash {
        let hash = ctx.state.passwords.hash(password).await?;
        users::set_password_hash(&mut tx, user.id, &hash).await?;
    }
    let needs_second_factor = db::assurance::has_second_factor(&mut tx, user.id).await?;
    users::record_sign_in(&mut tx, user.id).await?;
    let details = if needs_second_factor {
        json!({ "via": via, "second_factor": "pending" })
    } else {
        json!({ "via": via })
    };
    ctx.audit(
        &mut tx,
        AuditAction::SignedIn,
        Some(user.id),
        Some(user.id),
        details,
    )
    .await?;
    ratelimit::cleared_sign_in(redis, email.as_ref(), &ip).await;
    Ok((
        Authenticated {
            id: user.id,
            email: user.email,
            needs_second_factor,
        },
        tx,
    ))
}

/// What the password step of a browser sign-in led to.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    /// A fresh session (new id) for the user.
    SignedIn(uuid::Uuid),
    /// The user has a second factor: the browser holds a pending sign-in, finished on the
    /// second-factor page (`second_step`).
    SecondFactor,
}

/// Checks the password and starts a fresh session (new id) for the user, or, for a user with
/// a second factor, a pending sign-in that the second-factor page completes.
#[tracing::instrument(name = "auth.sign_in", skip_all)]
pub async fn sign_in(
    ctx: &RequestContext,
    session: &Session,
    email: &str,
    password: &str,
) -> Result<SignInOutcome, AppError> {
    let (user, tx) = authenticate(ctx, email, password, "browser").await?;
    db::commit(tx).await?;
    if user.needs_second_factor {
        super::second_step::begin(ctx, session, user.id, assurance::PASSWORD).await?;
        return Ok(SignInOutcome::SecondFactor);
    }
    sessions::establish(
        session,
        &ctx.state.redis,
        ctx.settings(),
        user.id,
        &ctx.caller,
        vec![AuthMethod::now(assurance::PASSWORD)],
    )
    .await?;
    Ok(SignInOutcome::SignedIn(user.id))
}

/// Ends the session here and in Redis.
#[tracing::instrument(name = "auth.sign_out", skip_all)]
pub async fn sign_out(ctx: &RequestContext, session: &Session) -> Result<(), AppError> {
    sessions::end(session, &ctx.state.redis).await?;
    if let Some(id) = ctx.actor.user_id() {
        let mut tx = ctx.auth_tx().await?;
        ctx.audit_own(&mut tx, AuditAction::SignedOut, id).await?;
        db::commit(tx).await?;
    }
    Ok(())
}
