//! The server side of the live password meter: the browser sends what is typed (debounced)
//! and shows the verdict sign-up, reset and password change will give, from the same code.
//!
//! The password is never logged, stored or cached: it is an argument here and nowhere else
//! (the span skips it, the answer is `no-store` like every POST, the rate-limit key is the
//! caller's address).
use std::time::Duration;

use crate::{
    domain::{PasswordStrength, password::strength},
    error::AppError,
    ssr::{
        RequestContext,
        auth::ratelimit::{self, Limit},
    },
};

/// Meter requests per IP. A person typing makes one every pause of the debounce, a few dozen
/// per password; many people may share an address. Only CPU is at stake (the answer is a pure
/// function of what was sent), so it fails open.
pub const STRENGTH_PER_IP: Limit = Limit {
    name: "password_strength_ip",
    max: 300,
    window: Duration::from_secs(5 * 60),
};

/// Longer than any email address the context could be.
pub const MAX_CONTEXT_CHARS: usize = 320;

/// Rates `password` as the server will when the form arrives; `context` is what the page
/// knows the password must not lean on (the email typed so far, the account's address).
#[tracing::instrument(name = "auth.password_strength", skip_all)]
pub async fn rate(
    ctx: &RequestContext,
    password: String,
    context: Option<String>,
) -> Result<PasswordStrength, AppError> {
    ratelimit::hit_or_pass(&ctx.state.redis, &STRENGTH_PER_IP, &ctx.ip_key()).await?;
    let context = context.unwrap_or_default();
    if context.chars().count() > MAX_CONTEXT_CHARS {
        return Err(AppError::invalid("context", "The context is too long."));
    }
    // zxcvbn takes milliseconds on long inputs: off the async workers, like argon2.
    tokio::task::spawn_blocking(move || strength(&password, &[context.as_str()]))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password rating task failed");
            AppError::Internal
        })
}
