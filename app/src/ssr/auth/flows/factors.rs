//! A signed-in user's second factors: TOTP enrolment (confirmed by a first code), removal,
//! recovery codes; and the code check that sign-in's second step and step-up share.
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    domain::{
        assurance::{RECOVERY_CODE, TOTP},
        audit::AuditAction,
        factor::{FactorInfo, SecondFactors, TotpEnrolment, parse_friendly_name},
    },
    error::AppError,
    ssr::{
        RequestContext,
        auth::{
            mfa::{codes, qr, totp},
            ratelimit, sessions,
        },
        db::{
            self, DbError, Tx, mfa,
            outbox::{self, payload},
            users,
        },
    },
};

/// Factors one user may have: plenty for a phone, a spare and a password manager.
pub const MAX_FACTORS: usize = 10;

/// The name authenticator apps show above the code.
const ISSUER: &str = "Palisade";

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

fn wrong_code() -> AppError {
    AppError::invalid(
        "code",
        "That code is not right. Check your app and try again.",
    )
}

/// Counts a code attempt of `user` from this caller (right or wrong); refused past the limits.
pub(crate) async fn count_attempt(ctx: &RequestContext, user: Uuid) -> Result<(), AppError> {
    let redis = &ctx.state.redis;
    ratelimit::hit(redis, &ratelimit::MFA_CODE_PER_IP, &ctx.ip_key()).await?;
    ratelimit::hit(redis, &ratelimit::MFA_CODE_PER_USER, &user.to_string()).await
}

/// Accepts `code` for `factor` if it is valid within one step of now and its step is later
/// than any accepted before (so it was never used, nor an older one).
async fn accept_totp(
    ctx: &RequestContext,
    tx: &mut Tx,
    factor: &mfa::Factor,
    code: u32,
) -> Result<bool, AppError> {
    let Some(secret) = ctx
        .state
        .mfa
        .open_totp(factor.id, factor.user_id, &factor.secret)
    else {
        tracing::error!(factor = %factor.id, "a TOTP secret does not open with this server's key");
        return Ok(false);
    };
    let Some(step) = totp::matching_step(&secret, code, unix_now()) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    Ok(mfa::accept_step(tx, factor.id, step).await?)
}

/// Checks what `user` typed on the second-factor or step-up page: a code of one of their
/// confirmed TOTP factors, or one of their recovery codes (spent, audited, and mailed about).
/// Returns the method proven, or `None` (audited as a failed challenge) in `tx`, which the
/// caller commits either way. Counts against the code limits first.
pub(crate) async fn check_second_factor(
    ctx: &RequestContext,
    tx: &mut Tx,
    user: Uuid,
    input: &str,
) -> Result<Option<&'static str>, AppError> {
    count_attempt(ctx, user).await?;
    let proven = if let Some(code) = totp::parse_code(input) {
        let mut proven = None;
        for factor in mfa::list_factors(tx, user, false).await? {
            if accept_totp(ctx, tx, &factor, code).await? {
                proven = Some(TOTP);
                break;
            }
        }
        proven
    } else if let Some(code) = codes::normalise(input) {
        let hash = ctx.state.mfa.hash_recovery_code(user, &code);
        if mfa::spend_recovery_code(tx, user, &hash).await? {
            let remaining = mfa::recovery_codes_left(tx, user).await?;
            ctx.audit(
                tx,
                AuditAction::RecoveryCodeUsed,
                Some(user),
                Some(user),
                json!({ "remaining": remaining }),
            )
            .await?;
            notify(tx, user, "recovery_code_used", Some(remaining)).await?;
            Some(RECOVERY_CODE)
        } else {
            None
        }
    } else {
        None
    };
    if proven.is_none() {
        ctx.audit(
            tx,
            AuditAction::MfaChallengeFailed,
            None,
            Some(user),
            json!({}),
        )
        .await?;
    }
    Ok(proven)
}

/// Queues the "your second factors changed" email to the user's address.
pub(crate) async fn notify(
    tx: &mut Tx,
    user: Uuid,
    event: &str,
    remaining: Option<i64>,
) -> Result<(), DbError> {
    let Some(record) = users::find_by_id(tx, user).await? else {
        return Ok(());
    };
    outbox::enqueue(
        tx,
        &outbox::OutboxEmail::new(
            &record.email,
            format!("second-factor:{event}:{user}:{}", Uuid::new_v4()),
            &payload::SecondFactorNotice {
                event: event.into(),
                remaining,
            },
        ),
    )
    .await
}

/// The account's confirmed factors and unused recovery codes.
pub async fn list(ctx: &RequestContext) -> Result<SecondFactors, AppError> {
    let user = ctx.actor.require_user()?;
    let mut tx = ctx.auth_tx().await?;
    let factors = mfa::list_factors(&mut tx, user, false).await?;
    let recovery_codes_left = mfa::recovery_codes_left(&mut tx, user).await?;
    db::commit(tx).await?;
    Ok(SecondFactors {
        factors: factors
            .into_iter()
            .map(|f| FactorInfo {
                id: f.id,
                friendly_name: f.friendly_name,
                factor_type: "totp".into(),
                created_at: f.created_at,
                last_used_at: f.last_used_at,
            })
            .collect(),
        recovery_codes_left,
    })
}

/// The factors as Supabase's user object lists them (`factors`), unconfirmed enrolments
/// included with `status: unverified`, as Supabase does; never the secret.
pub async fn api_list(ctx: &RequestContext) -> Result<Vec<serde_json::Value>, AppError> {
    let user = ctx.actor.require_user()?;
    let mut tx = ctx.auth_tx().await?;
    let factors = mfa::list_factors(&mut tx, user, true).await?;
    db::commit(tx).await?;
    Ok(factors
        .into_iter()
        .map(|f| {
            serde_json::json!({
                "id": f.id,
                "friendly_name": f.friendly_name,
                "factor_type": "totp",
                "status": if f.verified_at.is_some() { "verified" } else { "unverified" },
                "created_at": f.created_at,
                "updated_at": f.last_used_at.or(f.verified_at).unwrap_or(f.created_at),
            })
        })
        .collect())
}

/// Starts a TOTP enrolment: a new secret, sealed and stored unconfirmed, and what the page
/// shows to put it into an app. Adding a factor to an account that has one needs a fresh aal2.
#[tracing::instrument(name = "factors.enrol_totp", skip_all)]
pub async fn enrol_totp(
    ctx: &RequestContext,
    friendly_name: &str,
) -> Result<TotpEnrolment, AppError> {
    let user = ctx.actor.require_user()?;
    let friendly_name =
        parse_friendly_name(friendly_name).map_err(|m| AppError::invalid("friendly_name", m))?;
    ctx.require_fresh_aal2().await?;
    let mut tx = ctx.auth_tx().await?;
    mfa::delete_abandoned(&mut tx, user).await?;
    if mfa::list_factors(&mut tx, user, true).await?.len() >= MAX_FACTORS {
        return Err(AppError::invalid(
            "friendly_name",
            "You have as many second factors as an account may have. Remove one first.",
        ));
    }
    let record = users::find_by_id(&mut tx, user)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let secret: [u8; totp::SECRET_BYTES] = rand::Rng::random(&mut rand::rng());
    let id = Uuid::new_v4();
    let sealed = ctx.state.mfa.seal_totp(id, user, &secret);
    match mfa::insert_factor(&mut tx, id, user, &friendly_name, &sealed).await {
        Err(DbError::Conflict(_)) => {
            return Err(AppError::invalid(
                "friendly_name",
                "You already have a factor with that name.",
            ));
        }
        other => other?,
    }
    db::commit(tx).await?;
    render_enrolment(id, friendly_name, &record.email, &secret)
}

fn render_enrolment(
    factor_id: Uuid,
    friendly_name: String,
    email: &str,
    secret: &[u8],
) -> Result<TotpEnrolment, AppError> {
    let uri = totp::otpauth_uri(ISSUER, email, secret);
    let qr_svg = qr::svg_of(&uri).ok_or_else(|| {
        tracing::error!("an otpauth URI did not fit a QR code");
        AppError::Internal
    })?;
    Ok(TotpEnrolment {
        factor_id,
        friendly_name,
        secret: totp::encode_secret(secret),
        uri,
        qr_svg,
    })
}

/// An enrolment of the user's that no code has confirmed yet, shown again (the enrolment page
/// after a plain form post, or a reload). Confirmed factors never show their secret again.
pub async fn enrolment(ctx: &RequestContext, factor_id: Uuid) -> Result<TotpEnrolment, AppError> {
    let user = ctx.actor.require_user()?;
    let mut tx = ctx.auth_tx().await?;
    let factor = mfa::find_factor(&mut tx, user, factor_id)
        .await?
        .filter(|f| f.verified_at.is_none())
        .ok_or(AppError::NotFound)?;
    let record = users::find_by_id(&mut tx, user)
        .await?
        .ok_or(AppError::Unauthorized)?;
    db::commit(tx).await?;
    let secret = ctx
        .state
        .mfa
        .open_totp(factor.id, user, &factor.secret)
        .ok_or(AppError::Internal)?;
    render_enrolment(factor.id, factor.friendly_name, &record.email, &secret)
}

/// Where new recovery codes wait in the session until their page shows them, once.
const CODES_ONCE: &str = "recovery_codes_once";

/// Keeps freshly made recovery codes for the page that shows them.
pub async fn hold_codes(session: &Session, set: &[String]) -> Result<(), AppError> {
    session.insert(CODES_ONCE, set).await.map_err(|e| {
        tracing::warn!(error = %e, "session store error");
        AppError::Unavailable
    })
}

/// The codes held by [`hold_codes`], removed from the session as they are read.
pub async fn take_codes(session: &Session) -> Result<Vec<String>, AppError> {
    let set: Option<Vec<String>> = session.remove(CODES_ONCE).await.map_err(|e| {
        tracing::warn!(error = %e, "session store error");
        AppError::Unavailable
    })?;
    Ok(set.unwrap_or_default())
}

/// Confirms an enrolment with a first code from the app. The first factor of an account also
/// gets its recovery codes, returned here to be shown once. The session is stepped up with
/// the code just proven (when `session` is given: the browser).
#[tracing::instrument(name = "factors.confirm_totp", skip_all)]
pub async fn confirm_totp(
    ctx: &RequestContext,
    session: Option<&Session>,
    factor_id: Uuid,
    code: &str,
) -> Result<Option<Vec<String>>, AppError> {
    let user = ctx.actor.require_user()?;
    ctx.require_fresh_aal2().await?;
    count_attempt(ctx, user).await?;
    let mut tx = ctx.auth_tx().await?;
    let factor = mfa::find_factor(&mut tx, user, factor_id)
        .await?
        .filter(|f| f.verified_at.is_none())
        .ok_or_else(|| AppError::invalid("code", "This enrolment has expired. Start again."))?;
    let Some(code) = totp::parse_code(code) else {
        return Err(AppError::invalid(
            "code",
            "Enter the 6-digit code from your app.",
        ));
    };
    let first = !db::assurance::has_second_factor(&mut tx, user).await?;
    if !accept_totp(ctx, &mut tx, &factor, code).await? {
        return Err(wrong_code());
    }
    let recovery = if first {
        Some(issue_recovery_codes(ctx, &mut tx, user).await?)
    } else {
        None
    };
    ctx.audit(
        &mut tx,
        AuditAction::MfaFactorAdded,
        Some(user),
        Some(user),
        json!({ "factor": factor.id, "type": "totp", "name": factor.friendly_name }),
    )
    .await?;
    notify(&mut tx, user, "factor_added", None).await?;
    db::commit(tx).await?;
    if let Some(session) = session {
        sessions::step_up(session, &ctx.state.redis, user, TOTP).await?;
    }
    Ok(recovery)
}

/// A new set of recovery codes in place of the old one; the codes in clear, to show once.
async fn issue_recovery_codes(
    ctx: &RequestContext,
    tx: &mut Tx,
    user: Uuid,
) -> Result<Vec<String>, AppError> {
    let set = codes::new_set();
    let hashes: Vec<Vec<u8>> = set
        .iter()
        .map(|c| ctx.state.mfa.hash_recovery_code(user, c))
        .collect();
    mfa::replace_recovery_codes(tx, user, &hashes).await?;
    Ok(set)
}

/// Voids the recovery codes and makes ten new ones (fresh aal2 required).
#[tracing::instrument(name = "factors.regenerate_recovery_codes", skip_all)]
pub async fn regenerate_recovery_codes(ctx: &RequestContext) -> Result<Vec<String>, AppError> {
    let user = ctx.actor.require_user()?;
    ctx.require_fresh_aal2().await?;
    let mut tx = ctx.auth_tx().await?;
    if !db::assurance::has_second_factor(&mut tx, user).await? {
        return Err(AppError::invalid(
            "recovery_codes",
            "Add a second factor first: recovery codes stand in for it.",
        ));
    }
    let set = issue_recovery_codes(ctx, &mut tx, user).await?;
    ctx.audit_own(&mut tx, AuditAction::RecoveryCodesRegenerated, user)
        .await?;
    notify(&mut tx, user, "recovery_codes_regenerated", None).await?;
    db::commit(tx).await?;
    Ok(set)
}

/// Removes one of the user's factors (fresh aal2 required). With the last one go the
/// recovery codes: they stand in for a factor the account no longer has.
#[tracing::instrument(name = "factors.remove", skip_all)]
pub async fn remove(ctx: &RequestContext, factor_id: Uuid) -> Result<(), AppError> {
    let user = ctx.actor.require_user()?;
    ctx.require_fresh_aal2().await?;
    let mut tx = ctx.auth_tx().await?;
    if !mfa::delete_factor(&mut tx, user, factor_id).await? {
        return Err(AppError::NotFound);
    }
    if !db::assurance::has_second_factor(&mut tx, user).await? {
        mfa::replace_recovery_codes(&mut tx, user, &[]).await?;
    }
    ctx.audit(
        &mut tx,
        AuditAction::MfaFactorRemoved,
        Some(user),
        Some(user),
        json!({ "factor": factor_id }),
    )
    .await?;
    notify(&mut tx, user, "factor_removed", None).await?;
    db::commit(tx).await?;
    Ok(())
}

/// Step-up: the signed-in user proves a second factor again (a code or a recovery code); the
/// session records it (and gets a new id), so sensitive actions pass for the step-up window.
#[tracing::instrument(name = "factors.step_up", skip_all)]
pub async fn step_up(ctx: &RequestContext, session: &Session, input: &str) -> Result<(), AppError> {
    let user = ctx.actor.require_user()?;
    let mut tx = ctx.auth_tx().await?;
    let proven = check_second_factor(ctx, &mut tx, user, input).await?;
    if let Some(method) = proven {
        ctx.audit(
            &mut tx,
            AuditAction::SteppedUp,
            Some(user),
            Some(user),
            json!({ "method": method }),
        )
        .await?;
    }
    db::commit(tx).await?;
    let method = proven.ok_or_else(wrong_code)?;
    sessions::step_up(session, &ctx.state.redis, user, method).await?;
    Ok(())
}
