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
    },
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
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

/// `Retry-After` of a 503 [`AppError::Unavailable`].
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The message for one form field, if this error is about that field.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            Self::Invalid {
                field: Some(f),
                message,
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
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::RateLimited { .. } => 429,
            Self::Unavailable | Self::Network => 503,
            Self::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::Invalid {
                field: None,
                message: "The form was incomplete or malformed. Please check it and try again."
                    .into(),
            },
            ServerFnErrorErr::Request(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::Response(_) => Self::Network,
            _ => Self::Internal,
        }
    }
}
