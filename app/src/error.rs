//! The one error type that crosses the wire from server functions to the browser.
//!
//! Its messages are written for people. Internal details never get here: the server logs them
//! once, with the request id, and sends [`AppError::Internal`].
use serde::{Deserialize, Serialize};
use server_fn::{codec::JsonEncoding, error::FromServerFnError, error::ServerFnErrorErr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input was refused; `field` names the form field the message belongs next to.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
        /// What kind of refusal, for API clients that branch on it (`/auth/v1`'s `code`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<ErrorCode>,
    },
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    /// A sensitive action of a user with a second factor, without one proven recently: the
    /// pages answer with the step-up prompt, then carry on with the action.
    #[error("Confirm it's you with your second factor to continue.")]
    StepUpRequired,
    #[error("{0}")]
    Conflict(String),
    /// The request body was over the server's size limit.
    #[error("That is more than the server accepts at once. Please send less and try again.")]
    TooLarge,
    #[error("Too many attempts. Please wait {retry_after_secs} seconds and try again.")]
    RateLimited { retry_after_secs: u64 },
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// Raised in the browser when the server could not be reached or answered nonsense.
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
}

/// Machine-readable reasons for a refusal, named as Supabase Auth names them so its clients'
/// `error.code === 'invalid_credentials'` works against Palisade. A refusal without one is
/// `validation_failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidCredentials,
    EmailNotConfirmed,
    UserBanned,
    RefreshTokenNotFound,
    RefreshTokenAlreadyUsed,
    /// A new password refused for its length.
    PasswordTooShort,
    /// A new password refused as too easy to guess.
    PasswordGuessable,
    /// A password or email change without the current password (or a reauthentication code).
    ReauthenticationNeeded,
    /// A reauthentication code that is wrong, used or expired.
    ReauthenticationNotValid,
    /// The current password sent with a change is not right.
    CurrentPasswordMismatch,
    /// An email link's token or code that is unknown, used or expired.
    OtpExpired,
    /// An admin's new user has an address that is taken (only the secret key's holder learns
    /// this: the public sign-up answers alike).
    EmailExists,
    ValidationFailed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::EmailNotConfirmed => "email_not_confirmed",
            Self::UserBanned => "user_banned",
            Self::RefreshTokenNotFound => "refresh_token_not_found",
            Self::RefreshTokenAlreadyUsed => "refresh_token_already_used",
            Self::PasswordTooShort | Self::PasswordGuessable => "weak_password",
            Self::ReauthenticationNeeded => "reauthentication_needed",
            Self::ReauthenticationNotValid => "reauthentication_not_valid",
            Self::CurrentPasswordMismatch => "current_password_mismatch",
            Self::OtpExpired => "otp_expired",
            Self::EmailExists => "email_exists",
            Self::ValidationFailed => "validation_failed",
        }
    }

    /// Why a new password was refused, in Supabase's words (`weak_password.reasons`).
    pub fn weak_password_reason(self) -> Option<&'static str> {
        match self {
            Self::PasswordTooShort => Some("length"),
            Self::PasswordGuessable => Some("characters"),
            _ => None,
        }
    }
}

/// `Retry-After` of a 503 [`AppError::Unavailable`].
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            message: message.into(),
            code: None,
        }
    }

    /// The same refusal, with the reason API clients branch on.
    pub fn with_code(self, reason: ErrorCode) -> Self {
        match self {
            Self::Invalid { field, message, .. } => Self::Invalid {
                field,
                message,
                code: Some(reason),
            },
            other => other,
        }
    }

    /// The reason of a refusal (`validation_failed` when it names none); `None` for other errors.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Invalid { code, .. } => Some(code.unwrap_or(ErrorCode::ValidationFailed)),
            _ => None,
        }
    }

    /// The message for one form field, if this error is about that field.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            Self::Invalid {
                field: Some(f),
                message,
                ..
            } if f == name => Some(message.clone()),
            _ => None,
        }
    }

    /// Seconds for the `Retry-After` header of the answers that say "try again later": the
    /// limit's wait, or a short pause while a dependency (Redis, the password hasher) is busy
    /// or away.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Self::Unavailable => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The HTTP status the server answers with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::StepUpRequired => 403,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::TooLarge => 413,
            Self::RateLimited { .. } => 429,
            Self::Unavailable | Self::Network => 503,
            Self::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Errors server_fn raises itself. On the server they happen while reading a request,
    /// before the function runs: the client sent something unreadable, so it gets a 4xx (and
    /// the HTTP status that goes with it, which server_fn would otherwise leave at 500). In the
    /// browser they mean the server could not be reached or answered nonsense.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        {
            let error = Self::from_request_error(&value);
            error.answer_status();
            error
        }
        #[cfg(not(feature = "ssr"))]
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::malformed(),
            ServerFnErrorErr::Request(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::Response(_) => Self::Network,
            _ => Self::Internal,
        }
    }
}

impl AppError {
    fn malformed() -> Self {
        Self::Invalid {
            field: None,
            message: "The form was incomplete or malformed. Please check it and try again.".into(),
            code: None,
        }
    }

    /// Gives the response to the current server function call the HTTP status of this error
    /// (server functions answer 500 for any error otherwise), with `Retry-After` where it
    /// applies.
    #[cfg(feature = "ssr")]
    pub(crate) fn answer_status(&self) {
        // A plain form post (before the wasm loads) is answered with a redirect back to the form,
        // carrying the error in the URL; a status here would replace that redirect.
        let form_post = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if form_post {
            return;
        }
        let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        let status = http::StatusCode::from_u16(self.status_code())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
        if let Some(secs) = self.retry_after_secs() {
            response.insert_header(http::header::RETRY_AFTER, secs.into());
        }
    }

    /// What a server_fn error met while answering a request means for the client.
    #[cfg(feature = "ssr")]
    fn from_request_error(value: &ServerFnErrorErr) -> Self {
        match value {
            // The arguments did not parse: missing, unknown shape, wrong type, out of range.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                tracing::info!(error = %value, "refused a malformed server function call");
                Self::malformed()
            }
            // The body could not be read: over the size limit, or not UTF-8.
            ServerFnErrorErr::Deserialization(message) if is_body_too_large(message) => {
                tracing::info!(error = %value, "refused a server function call over the body limit");
                Self::TooLarge
            }
            ServerFnErrorErr::Deserialization(_) => {
                tracing::info!(error = %value, "refused an unreadable server function call");
                Self::malformed()
            }
            _ => {
                tracing::error!(error = %value, "server function failed outside its body");
                Self::Internal
            }
        }
    }
}

/// Whether a body-reading error is the body limit (`http_body_util::LengthLimitError`, as
/// tower-http's `RequestBodyLimit` raises it for a chunked body that grows past the limit). By
/// the time it reaches us it is only text: server_fn and axum's extractors turn it into a string.
pub fn is_body_too_large(message: &str) -> bool {
    message.contains("length limit exceeded")
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn unreadable_arguments_are_the_clients_mistake() {
        for raw in [
            ServerFnErrorErr::Args("invalid digit found in string".into()),
            ServerFnErrorErr::MissingArg("slug".into()),
            ServerFnErrorErr::Deserialization("invalid utf-8 sequence of 1 bytes".into()),
        ] {
            let error = AppError::from_server_fn_error(raw);
            assert_eq!(error.status_code(), 400, "{error:?}");
        }
    }

    #[test]
    fn a_body_over_the_limit_is_too_large() {
        let raw = ServerFnErrorErr::Deserialization("length limit exceeded".into());
        assert_eq!(AppError::from_server_fn_error(raw).status_code(), 413);
    }

    #[test]
    fn a_failure_outside_the_request_is_still_ours() {
        let raw = ServerFnErrorErr::ServerError("boom".into());
        assert_eq!(AppError::from_server_fn_error(raw), AppError::Internal);
    }
}
