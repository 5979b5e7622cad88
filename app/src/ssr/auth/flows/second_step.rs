//! Sign-in's second step, for users with a second factor: after the right password the
//! browser holds only a pending sign-in, a random token in its (still anonymous) session
//! naming a short-lived Redis entry. It reaches nothing: the session layer does not treat it
//! as signed in. The right code (or a recovery code) turns it into a session, once.
use fred::{interfaces::KeysInterface as _, types::Expiration};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    domain::assurance::{AuthMethod, PASSWORD},
    error::AppError,
    ssr::{
        RequestContext,
        auth::{sessions, tokens},
        db,
    },
};

/// Where the pending token sits in the browser's session.
const SESSION_KEY: &str = "mfa_pending";

/// How long the second page may take: enough to find the phone, short enough that a
/// forgotten tab does not keep a half sign-in around.
pub const PENDING_TTL_SECS: i64 = 300;

#[derive(Serialize, Deserialize)]
struct Pending {
    user_id: Uuid,
    /// When the first factor was proven (Unix seconds): the first entry of the session's amr.
    password_at: u64,
    /// The first factor: the password, or the email link or code of an email sign-in.
    #[serde(default = "password")]
    first: String,
}

fn password() -> String {
    PASSWORD.into()
}

fn redis_key(token: &str) -> String {
    format!(
        "palisade:v1:mfa_pending:{}",
        tokens::hex(&tokens::hash_token(token))
    )
}

fn redis_error(e: fred::error::Error) -> AppError {
    tracing::warn!(error = %e, "pending sign-ins unavailable");
    AppError::Unavailable
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    tracing::warn!(error = %e, "session store error");
    AppError::Unavailable
}

fn expired() -> AppError {
    AppError::invalid("code", "This sign-in has expired. Please sign in again.")
}

/// Records that `user_id` proved a first factor (`first`: `password`, `email_link`) and now
/// owes a second factor.
pub(crate) async fn begin(
    ctx: &RequestContext,
    session: &Session,
    user_id: Uuid,
    first: &str,
) -> Result<(), AppError> {
    let token = tokens::random();
    let pending = Pending {
        user_id,
        password_at: u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0),
        first: first.into(),
    };
    let json = serde_json::to_string(&pending).map_err(|_| AppError::Internal)?;
    ctx.state
        .redis
        .set::<(), _, _>(
            redis_key(&token),
            json,
            Some(Expiration::EX(PENDING_TTL_SECS)),
            None,
            false,
        )
        .await
        .map_err(redis_error)?;
    // Whatever the session held before (another user's sign-in too) does not carry over.
    sessions::end(session, &ctx.state.redis).await?;
    session
        .insert(SESSION_KEY, &token)
        .await
        .map_err(session_error)?;
    Ok(())
}

/// The user a pending sign-in of this browser is for, if it has not expired.
async fn pending(ctx: &RequestContext, session: &Session) -> Result<(String, Pending), AppError> {
    let token: String = session
        .get(SESSION_KEY)
        .await
        .map_err(session_error)?
        .ok_or_else(expired)?;
    let json: Option<String> = ctx
        .state
        .redis
        .get(redis_key(&token))
        .await
        .map_err(redis_error)?;
    let pending = json
        .and_then(|j| serde_json::from_str::<Pending>(&j).ok())
        .ok_or_else(expired)?;
    Ok((token, pending))
}

/// Whether this browser has a pending sign-in (for the second-factor page).
pub async fn is_pending(ctx: &RequestContext, session: &Session) -> Result<bool, AppError> {
    match pending(ctx, session).await {
        Ok(_) => Ok(true),
        Err(AppError::Invalid { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Finishes a pending sign-in with a code of the user's authenticator app or a recovery code:
/// a session (new id) recording the password and the second factor. The pending entry is
/// spent first, so two concurrent right answers make one session.
#[tracing::instrument(name = "auth.sign_in_second_step", skip_all)]
pub async fn complete(
    ctx: &RequestContext,
    session: &Session,
    code: &str,
) -> Result<Uuid, AppError> {
    let (token, pending) = pending(ctx, session).await?;
    let user = pending.user_id;
    let mut tx = ctx.auth_tx().await?;
    let proven = super::factors::check_second_factor(ctx, &mut tx, user, code).await?;
    let Some(method) = proven else {
        db::commit(tx).await?;
        return Err(AppError::invalid(
            "code",
            "That code is not right. Check your app and try again.",
        ));
    };
    let spent: i64 = ctx
        .state
        .redis
        .del(redis_key(&token))
        .await
        .map_err(redis_error)?;
    if spent == 0 {
        // Another request finished this sign-in a moment ago; the code it proved is spent.
        return Err(expired());
    }
    db::commit(tx).await?;
    let amr = vec![
        AuthMethod::now(method),
        AuthMethod::new(&pending.first, pending.password_at),
    ];
    sessions::establish(
        session,
        &ctx.state.redis,
        ctx.settings(),
        user,
        &ctx.caller,
        amr,
    )
    .await?;
    Ok(user)
}
