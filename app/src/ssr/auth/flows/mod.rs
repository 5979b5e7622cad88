//! The auth flows: each is one service (`flow(&ctx, args…)`, see `ssr::context`) that the
//! server functions and the `/auth/v1` routes call, doing its rate limits, its one transaction
//! (state change + audit entry + outbox email together) and its session work. Answers that
//! could reveal whether an account exists are identical by construction.
pub mod account;
pub mod api_account;
pub mod api_admin;
pub mod api_clients;
pub mod api_verify;
pub mod email_sign_in;
pub mod factors;
pub mod passkey_signin;
pub mod passkeys;
pub mod recovery;
pub mod requests;
pub mod second_step;
pub mod signin;
pub mod signup;
pub mod strength;

use uuid::Uuid;

use super::{sessions, tokens};
use crate::{
    domain::Password,
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        db::{
            self, DbError, Tx,
            outbox::{self, payload},
            tokens as stored,
            tokens::Purpose,
        },
        settings::AuthSettings,
    },
};

/// Mints a token for `user_id`, replacing any earlier one of the same purpose, and returns
/// the secret (for the email only).
pub async fn issue_token(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: Purpose,
    new_email: Option<&str>,
    ttl: std::time::Duration,
) -> Result<tokens::Minted, DbError> {
    let minted = tokens::mint();
    stored::replace(
        tx,
        &stored::NewToken {
            user_id,
            purpose,
            token_hash: &minted.token_hash,
            code_hash: Some(&minted.code_hash),
            new_email,
            ttl,
        },
    )
    .await?;
    Ok(minted)
}

/// A recovery happened: the password was changed or reset, the user signed out everywhere
/// (browser or API), or an admin banned them or changed their role. Whoever held the account
/// until now may hold more than a session, so this ends, in the caller's transaction (the one
/// recording the action), every outstanding grant of control: pending email changes,
/// password-reset links and API sign-ins (refresh tokens, and the access tokens of their
/// families). Every recovery path calls this one function; browser sessions live in Redis and
/// are ended by the caller after its commit.
pub async fn recovered(tx: &mut Tx, user_id: Uuid) -> Result<stored::Ended, DbError> {
    let ended = stored::end_grants(tx, user_id).await?;
    if ended.voided_links > 0 {
        tracing::info!(%user_id, links = ended.voided_links, "recovery voided outstanding links");
    }
    Ok(ended)
}

/// Signs a user out everywhere: every browser session but `except_session` (a raw session
/// id, the caller's own), and every API client's refresh tokens. For "sign out everywhere"
/// (the account page's and an admin's), bans and role changes; a recovery, so outstanding
/// links end too ([`recovered`]). Returns how many browser sessions ended.
pub async fn sign_out_everywhere(
    ctx: &RequestContext,
    user: Uuid,
    except_session: Option<&str>,
) -> Result<usize, AppError> {
    let ended = sessions::revoke_all(&ctx.state.redis, user, except_session).await?;
    let mut tx = ctx.auth_tx().await?;
    recovered(&mut tx, user).await?;
    db::commit(tx).await?;
    Ok(ended)
}

/// The one message for a link that is unknown, used or expired: which of these it was is
/// nobody's business.
/// A new password for `field`, refused with the reason API clients read (`weak_password`).
/// `context` holds words it must not lean on (the email).
pub fn new_password(field: &str, input: String, context: &[&str]) -> Result<Password, AppError> {
    let too_short = input.chars().count() < crate::domain::password::MIN_LENGTH;
    Password::parse(input, context).map_err(|message| {
        AppError::invalid(field, message).with_code(if too_short {
            ErrorCode::PasswordTooShort
        } else {
            ErrorCode::PasswordGuessable
        })
    })
}

pub fn dead_link() -> AppError {
    AppError::invalid(
        "token",
        "This link has expired or has already been used. Ask for a new one.",
    )
}

/// Mints a new verification token for the user (spending any earlier one) and queues the
/// email carrying its link and code, in the caller's `auth_service` transaction: for
/// `signup::queue_verification` and the outbox worker's resend.
pub(crate) async fn queue_verification_with(
    settings: &AuthSettings,
    tx: &mut Tx,
    user_id: Uuid,
    email: &str,
) -> Result<(), DbError> {
    let ttl = settings.verify_email_ttl;
    let minted = issue_token(tx, user_id, Purpose::VerifyEmail, None, ttl).await?;
    outbox::enqueue(
        tx,
        &outbox::OutboxEmail::new(
            email.to_string(),
            format!("verify:{}", tokens::hex(&minted.token_hash)),
            &payload::VerifyEmail {
                link: format!("{}/verify?token={}", settings.public_url, minted.token),
                code: Some(minted.code),
                expires_in_hours: (ttl.as_secs() / 3600) as u32,
            },
        ),
    )
    .await
}
