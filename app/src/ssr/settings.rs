//! The settings the auth subsystem needs, built by the server from its configuration.
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Base of every link in an email, e.g. `https://example.com` (no trailing slash).
    pub public_url: String,
    /// Cookies get `Secure` and the `__Host-` prefix when the public URL is https.
    pub secure_cookies: bool,
    /// A session unused for this long is over (rolling, refreshed at most hourly).
    pub session_idle: Duration,
    /// A session is over this long after sign-in, used or not.
    pub session_absolute: Duration,
    pub verify_email_ttl: Duration,
    pub reset_password_ttl: Duration,
    pub change_email_ttl: Duration,
    /// How long an email sign-in's link and code work.
    pub email_sign_in_ttl: Duration,
    /// Wrong 6-digit codes allowed per token before its code stops working (its link keeps
    /// working: see `flows::signup::verify_with_code`).
    pub code_attempts: i32,
    /// Sensitive actions of a user with a second factor need one proven within this long
    /// (`PALISADE_STEP_UP_WINDOW_SECS`); older, they ask for it again (step-up).
    pub step_up_window: Duration,
    /// Admins must have a second factor to use the admin area (`PALISADE_ADMIN_SECOND_FACTOR`).
    pub require_admin_second_factor: bool,
    /// Concurrent argon2 computations (each takes ~19 MiB and a core for tens of ms).
    pub hashing_concurrency: usize,
}

impl AuthSettings {
    pub fn for_public_url(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            secure_cookies: public_url.starts_with("https://"),
            session_idle: Duration::from_secs(7 * 24 * 3600),
            session_absolute: Duration::from_secs(30 * 24 * 3600),
            verify_email_ttl: Duration::from_secs(24 * 3600),
            reset_password_ttl: Duration::from_secs(3600),
            change_email_ttl: Duration::from_secs(24 * 3600),
            email_sign_in_ttl: Duration::from_secs(15 * 60),
            code_attempts: 5,
            step_up_window: Duration::from_secs(10 * 60),
            require_admin_second_factor: true,
            hashing_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// The session cookie's name: `__Host-` makes browsers refuse it unless Secure, path `/`
    /// and no Domain, so a sibling subdomain cannot plant or read it.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-palisade_session"
        } else {
            "palisade_session"
        }
    }
}
