//! The transactional email outbox: emails are rows inserted in the same transaction as the
//! change that needs them, then claimed, delivered and marked by the worker. Nobody deletes;
//! the database removes a payload's one-time links and codes when its row is marked sent or
//! dead (see [`EmailKind`]), so the table does not keep live credentials for ever.
use std::time::Duration;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::{DbError, Tx};

/// What an email is about. Stored as text (`kind`), spelled as serde spells it (snake_case).
/// Each kind has one payload type in [`payload`]; the worker renders the email from it.
/// Links are complete URLs built by the caller from the configured public URL.
///
/// A payload field that holds a credential (a one-time link or code) must be named `link` or
/// `code`: the trigger of `migrations/20261128060100_outbox_redaction.sql` removes exactly
/// those when the row is sent or given up on, and stamps `redacted_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// Confirms a new account's address. [`payload::VerifyEmail`]:
    /// `{"link": "https://…/verify?token=…", "code": "123456", "expires_in_hours": 24}`
    /// (`code` optional).
    VerifyEmail,
    /// [`payload::ResetPassword`]:
    /// `{"link": "https://…/reset?token=…", "expires_in_minutes": 60}`.
    ResetPassword,
    /// Sent to the *new* address. [`payload::ChangeEmailConfirm`]:
    /// `{"link": "https://…", "code": "123456", "new_email": "new@example.com"}` (`code`
    /// optional).
    ChangeEmailConfirm,
    /// Sent to the *old* address. [`payload::ChangeEmailNotice`]: `{"new_email": "…"}`.
    ChangeEmailNotice,
    /// "Someone tried to sign up with your address" (the sign-up form answers the same either
    /// way). [`payload::SignupAttempt`]:
    /// `{"signin_link": "https://…", "forgot_link": "https://…"}`.
    SignupAttempt,
    /// [`payload::PasswordChanged`]: `{}`.
    PasswordChanged,
    /// [`payload::AccountDeleted`]: `{}`.
    AccountDeleted,
    /// An email sign-in. [`payload::EmailSignIn`]:
    /// `{"link": "https://…/signin/email?token=…", "code": "123456", "expires_in_minutes": 15}`.
    EmailSignIn,
    /// A code for `updateUser` (`POST /auth/v1/reauthenticate`). [`payload::Reauthentication`]:
    /// `{"code": "123456", "expires_in_minutes": 10}`.
    Reauthentication,
    /// A change to the account's second factors. [`payload::SecondFactorNotice`]:
    /// `{"event": "recovery_code_used", "remaining": 9}` (`remaining` optional).
    SecondFactorNotice,
}

impl EmailKind {
    pub const ALL: [Self; 10] = [
        Self::VerifyEmail,
        Self::ResetPassword,
        Self::ChangeEmailConfirm,
        Self::ChangeEmailNotice,
        Self::SignupAttempt,
        Self::PasswordChanged,
        Self::AccountDeleted,
        Self::EmailSignIn,
        Self::Reauthentication,
        Self::SecondFactorNotice,
    ];

    /// The text stored in `outbox.kind` (and used as the `kind` metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmailConfirm => "change_email_confirm",
            Self::ChangeEmailNotice => "change_email_notice",
            Self::SignupAttempt => "signup_attempt",
            Self::PasswordChanged => "password_changed",
            Self::AccountDeleted => "account_deleted",
            Self::EmailSignIn => "email_sign_in",
            Self::Reauthentication => "reauthentication",
            Self::SecondFactorNotice => "second_factor_notice",
        }
    }

    /// `None` for a kind this build does not know (e.g. queued by a newer instance).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The payload of each kind. Unknown fields are ignored when reading, so a newer caller can add
/// fields without breaking an older worker during a rolling deploy.
pub mod payload {
    use serde::{Deserialize, Serialize};

    use super::{EmailKind, Payload};

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct VerifyEmail {
        pub link: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub code: Option<String>,
        pub expires_in_hours: u32,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ResetPassword {
        pub link: String,
        pub expires_in_minutes: u32,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ChangeEmailConfirm {
        pub link: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub code: Option<String>,
        pub new_email: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ChangeEmailNotice {
        pub new_email: String,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SignupAttempt {
        pub signin_link: String,
        pub forgot_link: String,
    }

    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PasswordChanged {}

    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
    pub struct AccountDeleted {}

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct EmailSignIn {
        pub link: String,
        pub code: String,
        pub expires_in_minutes: u32,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Reauthentication {
        pub code: String,
        pub expires_in_minutes: u32,
    }

    /// `event`: `factor_added`, `factor_removed`, `recovery_code_used`,
    /// `recovery_codes_regenerated` or `factors_reset` (by an admin).
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SecondFactorNotice {
        pub event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub remaining: Option<i64>,
    }

    macro_rules! kinds {
        ($($ty:ident),*) => {$(
            impl Payload for $ty {
                const KIND: EmailKind = EmailKind::$ty;
            }
        )*};
    }
    kinds!(
        VerifyEmail,
        ResetPassword,
        ChangeEmailConfirm,
        ChangeEmailNotice,
        SignupAttempt,
        PasswordChanged,
        AccountDeleted,
        EmailSignIn,
        Reauthentication,
        SecondFactorNotice
    );
}

/// A payload type and the one kind it belongs to.
pub trait Payload: Serialize + DeserializeOwned {
    const KIND: EmailKind;
}

/// One email to queue. Build it with [`OutboxEmail::new`] from a [`payload`] type, so a kind
/// and its fields cannot disagree; the fields stay public only so tests can queue a malformed
/// row on purpose.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEmail {
    pub kind: EmailKind,
    pub recipient: String,
    /// A JSON object; its shape is documented on [`EmailKind`]. Holds live links: never log it.
    pub payload: serde_json::Value,
    /// The same key always means the same email: enqueueing it again is a no-op, and the worker
    /// derives the `Message-ID` from it. E.g. `verify_email:<token id>`.
    pub idempotency_key: String,
}

impl OutboxEmail {
    /// An email whose kind follows from its payload's type, so the two cannot disagree.
    pub fn new<P: Payload>(
        recipient: impl Into<String>,
        idempotency_key: impl Into<String>,
        payload: &P,
    ) -> Self {
        Self {
            kind: P::KIND,
            recipient: recipient.into(),
            payload: serde_json::to_value(payload).expect("payload structs serialize to JSON"),
            idempotency_key: idempotency_key.into(),
        }
    }
}

/// Queues `email` in the caller's transaction (as `auth_service`), so it is sent only if that
/// transaction commits. A second email with the same idempotency key is silently dropped.
///
/// `auth_service` may insert but not read the outbox, hence `ON CONFLICT DO NOTHING` without
/// a conflict target (naming one needs SELECT) and no `RETURNING`.
#[tracing::instrument(name = "db.outbox.enqueue", skip_all, fields(kind = email.kind.as_str()))]
pub async fn enqueue(tx: &mut Tx, email: &OutboxEmail) -> Result<(), DbError> {
    let inserted = sqlx::query!(
        "insert into public.outbox (kind, recipient, payload, idempotency_key) \
         values ($1, $2, $3, $4) \
         on conflict do nothing",
        email.kind.as_str(),
        &email.recipient,
        &email.payload,
        &email.idempotency_key,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        tracing::debug!("already queued under this idempotency key");
    }
    Ok(())
}

/// A row the worker has claimed. `kind` stays text: a newer instance may have queued a kind
/// this build does not know.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedEmail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub payload: serde_json::Value,
    pub idempotency_key: String,
    /// Including this claim.
    pub attempts: i32,
}

/// Claims up to `limit` due rows (as `outbox_worker`): bumps their attempts and pushes
/// `next_attempt_at` out by `lease`, so once the transaction commits nobody else takes them
/// while they are being sent. Rows locked by another worker are skipped, not waited for.
pub async fn claim_due(
    tx: &mut Tx,
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedEmail>, DbError> {
    let rows = sqlx::query_as!(
        ClaimedEmail,
        "update public.outbox \
            set attempts = attempts + 1, \
                next_attempt_at = now() + make_interval(secs => $2) \
          where id in (select id from public.outbox \
                        where sent_at is null and dead_at is null and next_attempt_at <= now() \
                        order by next_attempt_at \
                        limit $1 \
                        for update skip locked) \
         returning id, kind, recipient, payload, idempotency_key, attempts",
        limit,
        lease.as_secs_f64(),
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows)
}

pub async fn mark_sent(tx: &mut Tx, id: i64) -> Result<(), DbError> {
    sqlx::query!(
        "update public.outbox set sent_at = now(), last_error = null where id = $1",
        id
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a failed attempt and when to try again. A row another worker has meanwhile sent or
/// parked is left alone.
pub async fn schedule_retry(
    tx: &mut Tx,
    id: i64,
    error: &str,
    delay: Duration,
) -> Result<(), DbError> {
    sqlx::query!(
        "update public.outbox \
            set last_error = $2, next_attempt_at = now() + make_interval(secs => $3) \
          where id = $1 and sent_at is null and dead_at is null",
        id,
        error,
        delay.as_secs_f64(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Parks a row for good (an admin can revive it by clearing `dead_at`, unless the database
/// removed a link or code from it on the way: that email could only be sent broken).
pub async fn mark_dead(tx: &mut Tx, id: i64, error: &str) -> Result<(), DbError> {
    sqlx::query!(
        "update public.outbox set last_error = $2, dead_at = now() \
          where id = $1 and sent_at is null and dead_at is null",
        id,
        error,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The queue's depth: rows neither sent nor dead, and how long the oldest has waited.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueStats {
    pub pending: i64,
    pub oldest_pending_age: Duration,
}

pub async fn queue_stats(tx: &mut Tx) -> Result<QueueStats, DbError> {
    let row = sqlx::query!(
        r#"select count(*) as "pending!",
                  coalesce(extract(epoch from now() - min(created_at))::float8, 0) as "oldest!"
             from public.outbox
            where sent_at is null and dead_at is null"#
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(QueueStats {
        pending: row.pending,
        oldest_pending_age: Duration::from_secs_f64(row.oldest.max(0.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_kind_is_the_serde_spelling() {
        for kind in EmailKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(EmailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EmailKind::parse("newsletter"), None);
    }

    #[test]
    fn an_email_takes_its_kind_from_its_payload() {
        let email = OutboxEmail::new(
            "a@b.test",
            "reset_password:1",
            &payload::ResetPassword {
                link: "https://x.test/reset?token=t".into(),
                expires_in_minutes: 60,
            },
        );
        assert_eq!(email.kind, EmailKind::ResetPassword);
        assert_eq!(
            email.payload,
            serde_json::json!({"link": "https://x.test/reset?token=t", "expires_in_minutes": 60})
        );
        let empty = OutboxEmail::new("a@b.test", "k", &payload::PasswordChanged {});
        assert_eq!(empty.payload, serde_json::json!({}));
    }
}
