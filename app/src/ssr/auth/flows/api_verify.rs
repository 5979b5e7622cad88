//! `POST /auth/v1/verify` (auth-js `verifyOtp`): the browser's email tokens, spent by an API
//! client. A link's token is sent as `token_hash` (Palisade's links carry the token itself; it
//! is hashed here, as the browser's pages hash it), a code as `email` + `token`. Proving the
//! mailbox of a sign-up or a reset answers a session, as Supabase does (a recovery session may
//! then set a new password without the old one, see `api_account`); an email change is
//! confirmed only by its owner, signed in (the browser's rule, `account::confirm_email_change`).
use uuid::Uuid;

use super::{account, api_clients, api_clients::TokenPair, email_sign_in, signup};
use crate::{
    domain::audit::AuditAction,
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{api_user::ApiUser, tokens},
        db::{
            self,
            tokens::{self as stored, Purpose},
            users,
        },
    },
};

/// The `type`s this server verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyType {
    Signup,
    Recovery,
    EmailChange,
    /// An email sign-in's link (`magiclink`) or code (`email`): the same credential.
    MagicLink,
    Email,
}

impl VerifyType {
    pub fn parse(s: Option<&str>) -> Result<Self, AppError> {
        match s.unwrap_or_default() {
            "signup" => Ok(Self::Signup),
            "recovery" => Ok(Self::Recovery),
            "email_change" => Ok(Self::EmailChange),
            "magiclink" => Ok(Self::MagicLink),
            "email" => Ok(Self::Email),
            _ => Err(AppError::invalid(
                "type",
                "type must be signup, recovery, email_change, magiclink or email.",
            )),
        }
    }

    /// The browser's page for this kind of link: where `GET /verify` leads (it shows a
    /// confirm button; only its POST spends the token).
    pub fn page(self) -> &'static str {
        match self {
            Self::Signup => "/verify",
            Self::Recovery => "/reset",
            Self::EmailChange => "/confirm-email",
            Self::MagicLink | Self::Email => super::email_sign_in::LINK_PATH,
        }
    }
}

/// What a verification answers: a new sign-in, or the user (an email change keeps the sign-in
/// it was confirmed from).
pub enum Verified {
    Session(Box<TokenPair>),
    User(Box<ApiUser>),
}

/// What proves the mailbox: the link's token, or the address and the code from the email.
pub enum Proof<'a> {
    Link(&'a str),
    Code { email: &'a str, code: &'a str },
}

#[tracing::instrument(name = "api.verify", skip_all)]
pub async fn verify(
    ctx: &RequestContext,
    kind: VerifyType,
    proof: Proof<'_>,
) -> Result<Verified, AppError> {
    let user = match (kind, proof) {
        (VerifyType::Signup, Proof::Link(token)) => signup::verify_with_link(ctx, token)
            .await
            .map_err(expired)?,
        (VerifyType::Signup, Proof::Code { email, code }) => {
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AppError::invalid("token", "The code is 6 digits."));
            }
            signup::verify_with_code(ctx, email, code)
                .await
                .map_err(|e| match e {
                    AppError::Invalid { field: Some(f), .. } if f == "code" => otp_expired(),
                    other => other,
                })?
        }
        (VerifyType::Recovery, Proof::Link(token)) => spend_recovery(ctx, token).await?,
        (VerifyType::MagicLink | VerifyType::Email, Proof::Link(token)) => {
            email_sign_in::spend_link(ctx, token).await?
        }
        (VerifyType::MagicLink | VerifyType::Email, Proof::Code { email, code }) => {
            email_sign_in::spend_code(ctx, email, code).await?
        }
        (VerifyType::EmailChange, Proof::Link(token)) => {
            account::require_live_user(ctx).await?;
            account::confirm_email_change(ctx, token)
                .await
                .map_err(expired)?;
            let user = api_clients::user(ctx).await?;
            return Ok(Verified::User(Box::new(user)));
        }
        (_, Proof::Code { .. }) => {
            return Err(AppError::invalid(
                "token",
                "This kind of email carries a link, not a code: send its token as token_hash.",
            ));
        }
    };
    let method = match kind {
        VerifyType::Recovery => "recovery",
        VerifyType::MagicLink => "magiclink",
        VerifyType::Email => "otp",
        _ => "email/signup",
    };
    let pair = api_clients::mailbox_grant(ctx, user, method).await?;
    Ok(Verified::Session(Box::new(pair)))
}

/// Spends a reset link's token for a recovery sign-in: the mailbox is proven, so the address
/// is confirmed too (as a reset confirms it). The password is set afterwards, with the session.
async fn spend_recovery(ctx: &RequestContext, token: &str) -> Result<Uuid, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let spent = stored::spend(&mut tx, Purpose::ResetPassword, &tokens::hash_token(token))
        .await?
        .ok_or_else(otp_expired)?;
    users::confirm_email(&mut tx, spent.user_id).await?;
    ctx.audit(
        &mut tx,
        AuditAction::EmailVerified,
        Some(spent.user_id),
        Some(spent.user_id),
        serde_json::json!({ "via": "api-recovery" }),
    )
    .await?;
    db::commit(tx).await?;
    Ok(spent.user_id)
}

/// Supabase's answer for a token that is unknown, used or expired (which one it was is
/// nobody's business, as with the browser's `dead_link`).
fn otp_expired() -> AppError {
    AppError::invalid("token", "Email link is invalid or has expired.")
        .with_code(ErrorCode::OtpExpired)
}

/// The browser's dead-link refusal, in Supabase's words.
fn expired(e: AppError) -> AppError {
    if e == super::dead_link() {
        otp_expired()
    } else {
        e
    }
}
