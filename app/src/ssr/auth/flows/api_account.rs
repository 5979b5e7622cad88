//! `PUT /auth/v1/user` (auth-js `updateUser`): the account page's changes for an API client,
//! under the account page's rules. `data` is the profile (`user_metadata`: username,
//! display_name, bio); a new password or address needs the current password, as on the
//! account page (`current_password`, which newer auth-js sends) — except a new password within
//! [`MAILBOX_PROOF_WINDOW`] of a sign-in by an emailed link or code (a recovery: the reset
//! form's rule); the address changes only when the link mailed to it is used.
use serde_json::{Map, Value};
use uuid::Uuid;

use super::account;
use crate::{
    domain::audit::AuditAction,
    error::{AppError, ErrorCode},
    ssr::{
        RequestContext,
        auth::{api_user::ApiUser, jwt::AuthMethod, sessions},
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
    let mailbox_proof = update.email.is_none() && mailbox_proven_recently(amr);
    let wants_credentials = update.password.is_some() || update.email.is_some();
    if wants_credentials && current.is_none() && !mailbox_proof {
        // A reauthentication nonce (`POST /reauthenticate`) is not offered yet: the current
        // password is the one proof this server takes for these changes.
        let (code, message) = if update.nonce.is_some() {
            (
                ErrorCode::ReauthenticationNotValid,
                "Reauthentication codes are not supported: send current_password.",
            )
        } else {
            (
                ErrorCode::ReauthenticationNeeded,
                "Send your current password (current_password) to change this.",
            )
        };
        return Err(AppError::invalid("current_password", message).with_code(code));
    }
    if let Some(email) = &update.email {
        crate::domain::EmailAddress::parse(email).map_err(|m| AppError::invalid("email", m))?;
    }
    if let Some([username, display_name, bio]) = &profile {
        account::update_profile(ctx, username, display_name, bio).await?;
    }
    if let Some(new) = update.password {
        change_password(ctx, id, family, current, new).await?;
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
/// links die) — while this sign-in goes on, as the browser's own session does. `current` is
/// `None` only for a session that just proved the mailbox (the reset form's case).
async fn change_password(
    ctx: &RequestContext,
    id: Uuid,
    family: Uuid,
    current: Option<&str>,
    new: String,
) -> Result<(), AppError> {
    let mut tx = ctx.auth_tx().await?;
    let user = match current {
        Some(current) => account::confirm_password(ctx, &mut tx, id, current)
            .await
            .map_err(password_mismatch)?,
        None => users::find_by_id(&mut tx, id)
            .await?
            .filter(|u| !u.is_banned())
            .ok_or(AppError::Unauthorized)?,
    };
    let new = super::new_password("password", new, &[user.email.as_str()])?;
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
