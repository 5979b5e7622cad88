//! `PUT /auth/v1/user` (auth-js `updateUser`): the account page's changes for an API client,
//! under the account page's rules. `data` is the profile (`user_metadata`: username,
//! display_name, bio); a new password or address needs the current password, as on the
//! account page (`current_password`, which newer auth-js sends). A new password also takes a
//! code mailed by `POST /reauthenticate` (`nonce`), or comes within [`MAILBOX_PROOF_WINDOW`]
//! of a sign-in by an emailed link or code (a recovery: the reset form's rule). The address
//! changes only when the link mailed to it is used.
use serde_json::{Map, Value};
use uuid::Uuid;

use super::account;
use crate::{
    domain::audit::AuditAction,
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{api_user::ApiUser, jwt::AuthMethod, ratelimit, sessions, tokens},
        db::{
            self,
            outbox::{self, payload},
            refresh_tokens,
            tokens::{self as stored, Purpose},
            users,
        },
    },
};

/// What `updateUser` sends; anything else in the body is ignored (as Supabase does).
#[derive(Debug, Default, serde::Deserialize)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub password: Option<String>,
    pub current_password: Option<String>,
    pub nonce: Option<String>,
    pub data: Option<Value>,
}

/// The most `data` may weigh, serialized: the profile's fields fit in far less, and a client
/// sending more is mistaken or probing.
pub const MAX_METADATA_BYTES: usize = 4096;

/// The keys of `user_metadata` a client may set: the profile's fields.
const METADATA_KEYS: [&str; 3] = ["username", "display_name", "bio"];

/// How long after a sign-in by an emailed link or code (`amr` `recovery`, `otp`, `magiclink`)
/// its session may set a new password without the old one.
pub const MAILBOX_PROOF_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Whether the access token's sign-in was a recent proof of the mailbox (see
/// [`MAILBOX_PROOF_WINDOW`]).
pub fn mailbox_proven_recently(amr: &[AuthMethod]) -> bool {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
    amr.iter().any(|m| {
        matches!(m.method.as_str(), "recovery" | "otp" | "magiclink")
            && now.saturating_sub(m.timestamp) <= MAILBOX_PROOF_WINDOW.as_secs()
    })
}

/// Applies `update` in a fixed order, checking everything that can be checked before the first
/// change: the metadata's shape, then the password, then the address. Answers the user as they
/// now are (with `new_email` while an address change waits for its link).
#[tracing::instrument(name = "api.update_user", skip_all)]
pub async fn update_user(
    ctx: &RequestContext,
    update: UserUpdate,
    amr: &[AuthMethod],
) -> Result<ApiUser, AppError> {
    let id = account::require_live_user(ctx).await?;
    let family = ctx.actor.token_family().ok_or(AppError::Unauthorized)?;
    let profile = match &update.data {
        Some(data) => Some(metadata(ctx, data).await?),
        None => None,
    };
    let current = update.current_password.as_deref().filter(|p| !p.is_empty());
    let nonce = update
        .nonce
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let needed = || {
        AppError::invalid(
            "current_password",
            "Send your current password (current_password) to change this.",
        )
        .with_code(ErrorCode::ReauthenticationNeeded)
    };
    // An address change needs the password itself (the account page's rule); a new password
    // also takes a reauthentication code, or a recent proof of the mailbox.
    if update.email.is_some() && current.is_none() {
        return Err(needed());
    }
    let proof = match (current, nonce) {
        (Some(password), _) => Proof::Password(password),
        (None, Some(nonce)) => Proof::Nonce(nonce),
        (None, None) if mailbox_proven_recently(amr) => Proof::Mailbox,
        (None, None) if update.password.is_some() => return Err(needed()),
        (None, None) => Proof::Mailbox,
    };
    if let Some(email) = &update.email {
        crate::domain::EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    }
    if let Some([username, display_name, bio]) = &profile {
        account::update_profile(ctx, username, display_name, bio).await?;
    }
    if let Some(new) = update.password {
        change_password(ctx, id, family, proof, new).await?;
    }
    let mut new_email = None;
    if let (Some(email), Some(current)) = (&update.email, current) {
        account::request_email_change(ctx, email, current)
            .await
            .map_err(password_mismatch)?;
        new_email = pending_email(ctx, id).await?;
    }
    let mut user = super::api_clients::user(ctx).await?;
    user.new_email = new_email;
    Ok(user)
}

/// The profile `data` asks for: its values over the current ones, checked by the profile's
/// own rules when saved. Keys the profile does not have are refused rather than dropped, so a
/// client never believes it stored something it did not.
async fn metadata(ctx: &RequestContext, data: &Value) -> Result<[String; 3], AppError> {
    let refuse = |m: &str| AppError::invalid("data", m);
    let size = serde_json::to_vec(data)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(refuse("The metadata is too large."));
    }
    let Value::Object(map) = data else {
        return Err(refuse("data is a JSON object."));
    };
    if let Some(key) = map.keys().find(|k| !METADATA_KEYS.contains(&k.as_str())) {
        return Err(refuse(&format!(
            "Unknown metadata key {key:?}: user_metadata holds username, display_name and bio."
        )));
    }
    let (_, profile, _) = account::load_records(ctx).await?;
    let field = |map: &Map<String, Value>, key: &str, current: Option<&str>| match map.get(key) {
        None => Ok(current.unwrap_or_default().to_string()),
        Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(AppError::invalid(key, format!("{key} is a string."))),
    };
    Ok([
        field(map, "username", Some(&profile.username))?,
        field(map, "display_name", profile.display_name.as_deref())?,
        field(map, "bio", profile.bio.as_deref())?,
    ])
}

/// The account page's password change for an API client: the same checks, mail and audit
/// entry, and the same recovery (every other sign-in, browsers included, ends; outstanding
/// links die) — while this sign-in goes on, as the browser's own session does.
async fn change_password(
    ctx: &RequestContext,
    id: Uuid,
    family: Uuid,
    proof: Proof<'_>,
    new: String,
) -> Result<(), AppError> {
    let mut tx = ctx.auth_tx().await?;
    let user = match proof {
        Proof::Password(current) => account::confirm_password(ctx, &mut tx, id, current)
            .await
            .map_err(password_mismatch)?,
        Proof::Nonce(_) | Proof::Mailbox => users::find_by_id(&mut tx, id)
            .await?
            .filter(|u| !u.is_banned())
            .ok_or(AppError::Unauthorized)?,
    };
    let new = super::new_password("password", new, &[user.email.as_str()])?;
    if let Proof::Nonce(nonce) = proof {
        // Checked after the new password passes, so a refused password keeps the code.
        if let Err(e) = spend_nonce(ctx, &mut tx, id, nonce).await {
            db::commit(tx).await?;
            return Err(e);
        }
    }
    let hash = ctx.state.passwords.hash(new.expose()).await?;
    users::set_password_hash(&mut tx, id, &hash).await?;
    super::recovered(&mut tx, id).await?;
    refresh_tokens::keep_family(&mut tx, id, family).await?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            &user.email,
            format!("password-changed:{id}:{}", Uuid::new_v4()),
            &payload::PasswordChanged {},
        ),
    )
    .await?;
    ctx.audit(
        &mut tx,
        AuditAction::PasswordChanged,
        Some(id),
        Some(id),
        serde_json::json!({ "via": "api" }),
    )
    .await?;
    db::commit(tx).await?;
    sessions::revoke_all(&ctx.state.redis, id, None).await?;
    Ok(())
}

/// What lets a new password through.
#[derive(Clone, Copy)]
enum Proof<'a> {
    /// The current password (`current_password`).
    Password(&'a str),
    /// A code from `POST /reauthenticate` (`nonce`).
    Nonce(&'a str),
    /// The access token's sign-in proved the mailbox moments ago (see
    /// [`mailbox_proven_recently`]), or no new password is asked for.
    Mailbox,
}

/// `POST /reauthenticate`: mails the signed-in user a code that lets one password change
/// through without the old password, for [`MAILBOX_PROOF_WINDOW`] (a newer one replaces it).
#[tracing::instrument(name = "api.reauthenticate", skip_all)]
pub async fn reauthenticate(ctx: &RequestContext) -> Result<(), AppError> {
    let id = account::require_live_user(ctx).await?;
    ratelimit::hit(
        &ctx.state.redis,
        &ratelimit::REAUTHENTICATE_PER_USER,
        &id.to_string(),
    )
    .await?;
    let mut tx = ctx.auth_tx().await?;
    let user = users::find_by_id(&mut tx, id)
        .await?
        .filter(|u| !u.is_banned())
        .ok_or(AppError::Unauthorized)?;
    let ttl = MAILBOX_PROOF_WINDOW;
    let minted = super::issue_token(&mut tx, id, Purpose::Reauthenticate, None, ttl).await?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            &user.email,
            format!("reauthentication:{}", tokens::hex(&minted.token_hash)),
            &payload::Reauthentication {
                code: minted.code,
                expires_in_minutes: (ttl.as_secs() / 60) as u32,
            },
        ),
    )
    .await?;
    db::commit(tx).await?;
    Ok(())
}

/// Spends the user's reauthentication code if `nonce` is it; a wrong one counts against it
/// (the caller commits that).
async fn spend_nonce(
    ctx: &RequestContext,
    tx: &mut db::Tx,
    id: Uuid,
    nonce: &str,
) -> Result<(), AppError> {
    let refused = || {
        AppError::invalid(
            "nonce",
            "The reauthentication code is wrong, used or expired.",
        )
        .with_code(ErrorCode::ReauthenticationNotValid)
    };
    let pending = stored::pending_for_user(tx, id, Purpose::Reauthenticate)
        .await?
        .filter(|p| p.attempts < ctx.settings().code_attempts)
        .ok_or_else(refused)?;
    let expected = pending.code_hash.as_deref().unwrap_or_default();
    let given = tokens::hash_code(&tokens::code_salt(&pending.token_hash), nonce);
    if !tokens::same_digest(expected, &given) {
        stored::wrong_code(tx, pending.id).await?;
        return Err(refused());
    }
    stored::spend_by_id(tx, pending.id).await?;
    Ok(())
}

/// A wrong current password, in Supabase's words.
fn password_mismatch(e: AppError) -> AppError {
    match e {
        AppError::Invalid { message, .. } if message.contains("current password") => {
            AppError::invalid("current_password", message)
                .with_code(ErrorCode::CurrentPasswordMismatch)
        }
        other => other,
    }
}

/// The address a change waits to move to, if one does.
async fn pending_email(ctx: &RequestContext, id: Uuid) -> Result<Option<String>, AppError> {
    let mut tx = ctx.auth_tx().await?;
    let pending = stored::pending_for_user(&mut tx, id, Purpose::ChangeEmail).await?;
    db::commit(tx).await?;
    Ok(pending.and_then(|p| p.new_email))
}
