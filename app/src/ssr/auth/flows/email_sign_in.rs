//! Email sign-in: one email with a link and a 6-digit code, for the browser ("Email me a
//! sign-in link") and for API clients (`POST /auth/v1/otp` + `/verify`). Asking looks the same
//! for any address (the request is queued and resolved by the worker, as "forgot password" is:
//! see [`super::requests`]); only an existing, unbanned account gets the email. Nobody gets an
//! account here: sign-up stays the one way in (Supabase's `create_user` is ignored), so a typo
//! never makes an account nobody can recover. A GET on the link spends nothing (mail scanners
//! follow links); the POST behind the page's button, or the code, does. Link and code are one
//! credential: using either spends both. Every recovery voids an unused one (`auth.end_grants`).
//!
//! Second factors: a user who has one must still give it after this proof of the mailbox. The
//! API's grant goes through `api_clients::mailbox_grant`, the one place a sign-in by email is
//! turned into a session; that is where the `mfa` work's half-signed-in state plugs in.
use uuid::Uuid;

use super::{issue_token, signin::SignInOutcome};
use crate::{
    domain::{
        EmailAddress,
        assurance::{self, AuthMethod},
        audit::AuditAction,
    },
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{ratelimit, sessions, tokens},
        db::{
            self, DbError, Tx,
            account_requests::RequestKind,
            outbox::{self, payload},
            tokens::{self as stored, Purpose},
            users,
        },
        settings::AuthSettings,
    },
};

/// The browser's page for a sign-in link (a GET shows a button; its POST signs in).
pub const LINK_PATH: &str = "/signin/email";

/// Asks for a sign-in email: limits per IP and per address, then one queued row whatever the
/// address. Answers the same, in the same time, for every well-formed address.
#[tracing::instrument(name = "auth.email_sign_in.request", skip_all)]
pub async fn request(ctx: &RequestContext, email: &str) -> Result<(), AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::EMAIL_SIGN_IN_PER_IP, &ctx.ip_key()).await?;
    ratelimit::hit(redis, &ratelimit::EMAIL_SIGN_IN_PER_ACCOUNT, email.as_ref()).await?;
    super::requests::queue(ctx, RequestKind::EmailSignIn, email.as_ref()).await
}

/// Mints the token (voiding an earlier unused one) and queues the email with its link and
/// code, in the worker's `auth_service` transaction.
pub(crate) async fn queue_link(
    tx: &mut Tx,
    settings: &AuthSettings,
    user_id: Uuid,
    email: &str,
) -> Result<(), DbError> {
    let ttl = settings.email_sign_in_ttl;
    let minted = issue_token(tx, user_id, Purpose::EmailSignIn, None, ttl).await?;
    outbox::enqueue(
        tx,
        &outbox::OutboxEmail::new(
            email,
            format!("email-sign-in:{}", tokens::hex(&minted.token_hash)),
            &payload::EmailSignIn {
                link: format!("{}{LINK_PATH}?token={}", settings.public_url, minted.token),
                code: minted.code,
                expires_in_minutes: (ttl.as_secs() / 60) as u32,
            },
        ),
    )
    .await
}

/// Spends a sign-in link's token; returns whose it was. The caller turns it into a session.
#[tracing::instrument(name = "auth.email_sign_in.link", skip_all)]
pub async fn spend_link(ctx: &RequestContext, token: &str) -> Result<Uuid, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let spent = stored::spend(&mut tx, Purpose::EmailSignIn, &tokens::hash_token(token))
        .await?
        .ok_or_else(expired)?;
    proven(tx, spent.user_id).await
}

/// Spends the code from the email, entered with its address (in any browser or client);
/// limited like every code entry, and wrong codes count against the token.
#[tracing::instrument(name = "auth.email_sign_in.code", skip_all)]
pub async fn spend_code(ctx: &RequestContext, email: &str, code: &str) -> Result<Uuid, AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::CODE_ENTRY_PER_IP, &ctx.ip_key()).await?;
    ratelimit::hit(redis, &ratelimit::CODE_ENTRY_PER_ACCOUNT, email.as_ref()).await?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid(
            "code",
            "Enter the 6 digits from the email.",
        ));
    }
    let mut tx = ctx.auth_tx().await?;
    let Some(user) = users::find_by_email(&mut tx, email.as_ref()).await? else {
        return Err(expired());
    };
    let Some(pending) = stored::pending_for_user(&mut tx, user.id, Purpose::EmailSignIn).await?
    else {
        return Err(expired());
    };
    if pending.attempts >= ctx.settings().code_attempts {
        return Err(expired());
    }
    let expected = pending.code_hash.as_deref().unwrap_or_default();
    let given = tokens::hash_code(&tokens::code_salt(&pending.token_hash), code);
    if !tokens::same_digest(expected, &given) {
        stored::wrong_code(&mut tx, pending.id).await?;
        db::commit(tx).await?;
        return Err(expired());
    }
    stored::spend_by_id(&mut tx, pending.id).await?;
    proven(tx, user.id).await
}

/// The mailbox is proven: an address still waiting for confirmation is confirmed by it (the
/// sign-in itself is recorded by whoever turns this into a session). A banned user is refused
/// before anything commits, so the link is not spent.
async fn proven(mut tx: Tx, user_id: Uuid) -> Result<Uuid, AppError> {
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(expired)?;
    if user.is_banned() {
        return Err(AppError::invalid(
            "email",
            "This account is suspended. Contact support if you think this is a mistake.",
        )
        .with_code(ErrorCode::UserBanned));
    }
    users::confirm_email(&mut tx, user_id).await?;
    db::commit(tx).await?;
    Ok(user_id)
}

/// Turns a proven mailbox into a browser session (a new session id), recorded as a sign-in;
/// for a user with a second factor, into a pending sign-in the second-factor page completes
/// (the mailbox is one factor, as the password is).
#[tracing::instrument(name = "auth.email_sign_in.browser", skip_all)]
pub async fn sign_in_browser(
    ctx: &RequestContext,
    session: &tower_sessions::Session,
    user_id: Uuid,
    via: &str,
) -> Result<SignInOutcome, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let needs_second_factor = db::assurance::has_second_factor(&mut tx, user_id).await?;
    let mut details = serde_json::json!({ "via": "browser", "method": format!("email-{via}") });
    if needs_second_factor {
        details["second_factor"] = "pending".into();
    } else {
        users::record_sign_in(&mut tx, user_id).await?;
    }
    ctx.audit(
        &mut tx,
        AuditAction::SignedIn,
        Some(user_id),
        Some(user_id),
        details,
    )
    .await?;
    db::commit(tx).await?;
    if needs_second_factor {
        super::second_step::begin(ctx, session, user_id, assurance::EMAIL_LINK).await?;
        return Ok(SignInOutcome::SecondFactor);
    }
    sessions::establish(
        session,
        &ctx.state.redis,
        ctx.settings(),
        user_id,
        &ctx.caller,
        vec![AuthMethod::now(assurance::EMAIL_LINK)],
    )
    .await?;
    Ok(SignInOutcome::SignedIn(user_id))
}

/// A link or code that is unknown, used, expired or out of attempts: one answer for all.
pub fn expired() -> AppError {
    AppError::invalid(
        "token",
        "This sign-in link or code has expired or has already been used. Ask for a new one.",
    )
    .with_code(ErrorCode::OtpExpired)
}
