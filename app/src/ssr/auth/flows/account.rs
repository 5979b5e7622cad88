//! The signed-in user's own account: profile, password, email, sessions, deletion.
use tower_sessions::Session;
use uuid::Uuid;

use super::{dead_link, issue_token, signin::bad_credentials};
use crate::{
    domain::{Bio, DisplayName, EmailAddress, Username, session::SessionInfo, user::Account},
    domain::{audit::AuditAction, role::RequestRole},
    error::AppError,
    ssr::{
        RequestContext,
        auth::{password::Verdict, ratelimit, sessions, tokens},
        cache::PostCache,
        db::{
            self, DbError,
            outbox::{self, payload},
            profiles, tokens as stored,
            tokens::Purpose,
            users,
        },
    },
};

/// The signed-in user (401 otherwise), and for an API client's access token a check that its
/// sign-in is still live (the `begin_as` statement, see `db::begin_as`). For actions that otherwise reach no
/// user data through `begin_as` (the session list lives in Redis), so a token whose sign-in
/// ended gets nothing there either. Browser sessions need no check: Redis ends them.
pub async fn require_live_user(ctx: &RequestContext) -> Result<Uuid, AppError> {
    let id = ctx.actor.require_user()?;
    if ctx.actor.token_family().is_some() {
        let tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
        db::commit(tx).await?;
    }
    Ok(id)
}

/// The account page's data: the profile read as the user (RLS), the email as auth_service.
pub async fn load(ctx: &RequestContext) -> Result<Account, AppError> {
    let (user, p, role) = load_records(ctx).await?;
    Ok(Account {
        id: user.id,
        email: user.email,
        username: p.username,
        display_name: p.display_name,
        bio: p.bio,
        role,
    })
}

/// The signed-in user's records: their auth row, their profile read as them (RLS) and the
/// role the database gives them; `Unauthorized` if they may not sign in any more.
pub async fn load_records(
    ctx: &RequestContext,
) -> Result<(users::UserRecord, profiles::Profile, String), AppError> {
    let id = ctx.actor.require_user()?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let role = db::admin::current_role(&mut tx).await?;
    let profile = profiles::get(&mut tx, id).await?;
    db::commit(tx).await?;
    let mut auth = ctx.auth_tx().await?;
    let user = users::find_by_id(&mut auth, id).await?;
    db::commit(auth).await?;
    match (user, profile) {
        (Some(u), Some(p)) if RequestRole::parse(&role) != Some(RequestRole::Anon) => {
            Ok((u, p, role))
        }
        _ => Err(AppError::Unauthorized),
    }
}

/// Updates the public profile, as the user: the database refuses any other row or the role.
#[tracing::instrument(name = "account.update_profile", skip_all)]
pub async fn update_profile(
    ctx: &RequestContext,
    username: &str,
    display_name: &str,
    bio: &str,
) -> Result<(), AppError> {
    let id = ctx.actor.require_user()?;
    let username = Username::parse(username).map_err(|m| AppError::invalid("username", m))?;
    let display_name =
        DisplayName::parse(display_name).map_err(|m| AppError::invalid("display_name", m))?;
    let bio = Bio::parse(bio).map_err(|m| AppError::invalid("bio", m))?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    match profiles::update_own(&mut tx, id, &username, &display_name, &bio).await {
        Ok(true) => {}
        Ok(false) => return Err(AppError::Forbidden),
        Err(DbError::Conflict(_)) => {
            return Err(AppError::invalid("username", "That username is taken."));
        }
        Err(e) => return Err(e.into()),
    }
    db::commit(tx).await?;
    // The author's name is on every post page and list page they appear on.
    PostCache::of(&ctx.state).invalidate().await;
    Ok(())
}

/// Checks the current password of a signed-in user (for sensitive changes). Guesses count in
/// the sign-in backoff of the (account, address) pair, so a stolen session cookie is not an
/// unlimited password oracle.
pub(super) async fn confirm_password(
    ctx: &RequestContext,
    tx: &mut db::Tx,
    id: Uuid,
    password: &str,
) -> Result<users::UserRecord, AppError> {
    // A ban ends every session; should one have survived (Redis failed at that moment), it
    // still cannot change the account.
    let user = users::find_by_id(tx, id)
        .await?
        .filter(|u| !u.is_banned())
        .ok_or(AppError::Unauthorized)?;
    let (redis, ip) = (&ctx.state.redis, ctx.ip_key());
    // Right or wrong, every check costs an argon2 computation.
    ratelimit::hit(redis, &ratelimit::PASSWORD_CHECK_PER_USER, &id.to_string()).await?;
    ratelimit::hit(redis, &ratelimit::PASSWORD_CHECK_PER_IP, &ip).await?;
    ratelimit::check_sign_in(redis, &user.email, &ip).await?;
    match ctx
        .state
        .passwords
        .verify(password, Some(&user.password_hash))
        .await?
    {
        Verdict::Right { .. } => {
            ratelimit::cleared_sign_in(redis, &user.email, &ip).await;
            Ok(user)
        }
        Verdict::Wrong => {
            ratelimit::failed_sign_in(redis, &user.email, &ip).await;
            Err(AppError::invalid(
                "current_password",
                "Your current password is not right.",
            ))
        }
    }
}

/// Sets a new password, signs out every other session and gives this one a new id.
#[tracing::instrument(name = "account.change_password", skip_all)]
pub async fn change_password(
    ctx: &RequestContext,
    session: &Session,
    current: &str,
    new: String,
) -> Result<(), AppError> {
    let id = ctx.actor.require_user()?;
    // With a second factor, the password alone is not enough (docs/mfa.md, step-up).
    ctx.require_fresh_aal2().await?;
    let mut tx = ctx.auth_tx().await?;
    let user = confirm_password(ctx, &mut tx, id, current).await?;
    let new = super::new_password("new_password", new, &[user.email.as_str()])?;
    let hash = ctx.state.passwords.hash(new.expose()).await?;
    users::set_password_hash(&mut tx, id, &hash).await?;
    // API clients signed in with the old password sign in again, like other browsers, and
    // links asked for with it (an email change, a reset) die with it.
    super::recovered(&mut tx, id).await?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            &user.email,
            format!("password-changed:{id}:{}", uuid::Uuid::new_v4()),
            &payload::PasswordChanged {},
        ),
    )
    .await?;
    ctx.audit_own(&mut tx, AuditAction::PasswordChanged, id)
        .await?;
    db::commit(tx).await?;
    let redis = &ctx.state.redis;
    let current_id = session.id().map(|i| i.to_string());
    sessions::revoke_all(redis, id, current_id.as_deref()).await?;
    sessions::rotate(session, redis, id).await?;
    Ok(())
}

/// Sends a confirmation link to the new address and a notice to the old one; the address
/// changes only when the link is used.
#[tracing::instrument(name = "account.request_email_change", skip_all)]
pub async fn request_email_change(
    ctx: &RequestContext,
    new_email: &str,
    password: &str,
) -> Result<(), AppError> {
    let id = ctx.actor.require_user()?;
    // With a second factor, the password alone is not enough (docs/mfa.md, step-up).
    ctx.require_fresh_aal2().await?;
    let new_email =
        EmailAddress::parse(new_email).map_err(|m| AppError::invalid("new_email", m))?;
    let mut tx = ctx.auth_tx().await?;
    let user = confirm_password(ctx, &mut tx, id, password)
        .await
        .map_err(|e| match e {
            AppError::Invalid { message, .. } => AppError::invalid("password", message),
            other => other,
        })?;
    if user.email.eq_ignore_ascii_case(new_email.as_ref()) {
        return Err(AppError::invalid(
            "new_email",
            "That is already your address.",
        ));
    }
    // The confirmation goes to an address of the caller's choosing.
    ratelimit::hit(
        &ctx.state.redis,
        &ratelimit::EMAIL_CHANGE_PER_USER,
        &id.to_string(),
    )
    .await?;
    let ttl = ctx.settings().change_email_ttl;
    let minted = issue_token(
        &mut tx,
        id,
        Purpose::ChangeEmail,
        Some(new_email.as_ref()),
        ttl,
    )
    .await?;
    let key = tokens::hex(&minted.token_hash);
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            new_email.to_string(),
            format!("change-email:{key}"),
            &payload::ChangeEmailConfirm {
                link: ctx.link("/confirm-email", &minted.token),
                code: Some(minted.code),
                new_email: new_email.to_string(),
            },
        ),
    )
    .await?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            &user.email,
            format!("change-email-notice:{key}"),
            &payload::ChangeEmailNotice {
                new_email: new_email.to_string(),
            },
        ),
    )
    .await?;
    ctx.audit_own(&mut tx, AuditAction::EmailChangeRequested, id)
        .await?;
    db::commit(tx).await?;
    Ok(())
}

/// Spends the change-email token and moves the account to the new address.
///
/// Only a request signed in as the account's owner may confirm. The link proves control of the
/// new mailbox, not of the account: without this rule a mistyped address hands the account to
/// whoever owns that mailbox, and a link asked for by a thief would work from anywhere. We
/// ask for a session rather than the password: the rule holds for any future way of signing
/// in (a passkey, an identity provider), users are not taught to type their password into a
/// page an email sent them to, and after a recovery the thief has no session left. Signed out,
/// the page offers sign-in and comes back to the link; a refusal spends nothing.
#[tracing::instrument(name = "account.confirm_email_change", skip_all)]
pub async fn confirm_email_change(ctx: &RequestContext, token: &str) -> Result<(), AppError> {
    let id = ctx.actor.require_user()?;
    let token_hash = tokens::hash_token(token);
    let mut tx = ctx.auth_tx().await?;
    let owner = stored::owner_of(&mut tx, Purpose::ChangeEmail, &token_hash)
        .await?
        .ok_or_else(dead_link)?;
    if owner != id {
        return Err(AppError::invalid(
            "token",
            "This link is for another account. Sign in as the account whose address is \
             changing, then open the link again.",
        ));
    }
    let spent = stored::spend(&mut tx, Purpose::ChangeEmail, &token_hash)
        .await?
        .ok_or_else(dead_link)?;
    let new_email = spent.new_email.ok_or_else(dead_link)?;
    match users::set_email(&mut tx, spent.user_id, &new_email).await {
        Ok(()) => {}
        Err(DbError::Conflict(_)) => {
            return Err(AppError::invalid(
                "token",
                "That address now belongs to another account.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    ctx.audit_own(&mut tx, AuditAction::EmailChanged, spent.user_id)
        .await?;
    db::commit(tx).await?;
    Ok(())
}

/// The user's browser sessions, `session` (this request's) marked as the current one.
pub async fn list_sessions(
    ctx: &RequestContext,
    session: &Session,
) -> Result<Vec<SessionInfo>, AppError> {
    let id = require_live_user(ctx).await?;
    let current = session.id().map(|i| i.to_string());
    sessions::list(&ctx.state.redis, id, current.as_deref()).await
}

/// Which sessions [`revoke_sessions`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// Every one, this one included (and API clients' sign-ins: a recovery).
    All,
    /// Every one but this one (and API clients' sign-ins: a recovery).
    Others,
    /// The one named by its handle.
    One,
}

/// `which`: a session handle from the list, `others`, or `all`. A handle that is not one of the
/// user's sessions is 404.
pub async fn revoke_sessions(
    ctx: &RequestContext,
    session: &Session,
    which: &str,
) -> Result<Revoked, AppError> {
    let id = require_live_user(ctx).await?;
    let redis = &ctx.state.redis;
    let current = session.id().map(|i| i.to_string());
    let revoked = match which {
        "all" => {
            super::sign_out_everywhere(ctx, id, None).await?;
            sessions::end(session, redis).await?;
            Revoked::All
        }
        "others" => {
            super::sign_out_everywhere(ctx, id, current.as_deref()).await?;
            Revoked::Others
        }
        handle => {
            if !sessions::revoke(redis, id, handle).await? {
                return Err(AppError::NotFound);
            }
            Revoked::One
        }
    };
    ctx.audit_now(
        AuditAction::SessionsRevoked,
        id,
        serde_json::json!({ "which": which }),
    )
    .await?;
    Ok(revoked)
}

/// Deletes the account after checking the password; every session ends.
#[tracing::instrument(name = "account.delete", skip_all)]
pub async fn delete_account(
    ctx: &RequestContext,
    session: &Session,
    password: &str,
) -> Result<(), AppError> {
    let id = ctx.actor.require_user()?;
    // With a second factor, the password alone is not enough (docs/mfa.md, step-up).
    ctx.require_fresh_aal2().await?;
    let mut tx = ctx.auth_tx().await?;
    let user = confirm_password(ctx, &mut tx, id, password)
        .await
        .map_err(|e| match e {
            AppError::Invalid { .. } => bad_credentials(),
            other => other,
        })?;
    outbox::enqueue(
        &mut tx,
        &outbox::OutboxEmail::new(
            &user.email,
            format!("account-deleted:{id}"),
            &payload::AccountDeleted {},
        ),
    )
    .await?;
    ctx.audit_own(&mut tx, AuditAction::Deleted, id).await?;
    users::delete(&mut tx, id).await?;
    db::commit(tx).await?;
    // Their posts went with the account (ON DELETE CASCADE).
    PostCache::of(&ctx.state).invalidate().await;
    sessions::revoke_all(&ctx.state.redis, id, None).await?;
    sessions::end(session, &ctx.state.redis).await?;
    Ok(())
}
