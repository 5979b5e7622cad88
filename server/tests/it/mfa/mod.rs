//! Second factors through HTTP against the real Postgres and Redis: TOTP enrolment, sign-in's
//! second step, recovery codes, step-up, and the admin's part. Codes are computed from the
//! secret the enrolment page shows, as an authenticator app would.
mod admin;
mod api;
mod enrolment;
mod recovery;
mod signin;
mod step_up;

use app::{
    domain::factor::TotpEnrolment,
    ssr::auth::mfa::totp::{code_at, decode_secret, step_of},
};
use uuid::Uuid;

use crate::support::{Browser, TestApp, User};

/// A confirmed TOTP factor, its secret, and the recovery codes shown at its confirmation.
pub struct Enrolled {
    pub factor: Uuid,
    pub secret: Vec<u8>,
    pub recovery_codes: Vec<String>,
    /// The code that confirmed it (spent).
    pub used_code: String,
}

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

/// The code of `secret` for the time step `offset` steps from now, six digits.
pub fn code(secret: &[u8], offset: i64) -> String {
    let step = step_of(now()).checked_add_signed(offset).unwrap();
    format!("{:06}", code_at(secret, step))
}

/// A six-digit code that is none of the codes valid around now (a wrong guess for sure).
pub fn wrong_code(secret: &[u8]) -> String {
    let valid: Vec<String> = (-2..=2).map(|o| code(secret, o)).collect();
    (0..1_000_000)
        .map(|n| format!("{:06}", (n * 7_919 + 123_457) % 1_000_000))
        .find(|c| !valid.contains(c))
        .unwrap()
}

/// Starts an enrolment on `browser`'s account page; returns what the enrolment page shows.
pub async fn start_enrolment(browser: &Browser, name: &str) -> TotpEnrolment {
    let answer = browser
        .call("/api/account/factors/enrol", &[("friendly_name", name)])
        .await;
    let location = answer.redirect().to_owned();
    let id = location
        .strip_prefix("/account/two-factor?factor=")
        .unwrap_or_else(|| panic!("unexpected redirect {location}"));
    browser
        .call("/api/account/factors/enrolment", &[("factor", id)])
        .await
        .json()
}

/// Enrols a TOTP factor on `browser`'s signed-in account, confirms it with the current code,
/// and collects the recovery codes (shown for a first factor only).
pub async fn enrol(browser: &Browser, name: &str) -> Enrolled {
    let enrolment = start_enrolment(browser, name).await;
    let secret = decode_secret(&enrolment.secret).expect("a base32 secret");
    let factor = enrolment.factor_id.to_string();
    let used_code = code(&secret, 0);
    let answer = browser
        .call(
            "/api/account/factors/confirm",
            &[("factor", &factor), ("code", &used_code)],
        )
        .await;
    let recovery_codes = if answer.redirect() == "/account/recovery-codes" {
        browser
            .call("/api/account/recovery_codes/take", &[])
            .await
            .json()
    } else {
        Vec::new()
    };
    Enrolled {
        factor: enrolment.factor_id,
        secret,
        recovery_codes,
        used_code,
    }
}

/// Signs out, then signs in with the password: the answer of the password step.
pub async fn password_step(browser: &Browser, user: &User) -> crate::support::Answer {
    browser.call("/api/auth/sign_out", &[]).await.redirect();
    browser.sign_in(&user.email, &user.password).await
}

/// The second step of a sign-in.
pub async fn second_step(browser: &Browser, code: &str) -> crate::support::Answer {
    browser
        .call("/api/auth/second_factor", &[("code", code)])
        .await
}

/// Starts a session for `user` on `browser` as a sign-in made with `amr` would (for sessions
/// whose second factor is older than the window, which no test can wait for).
pub async fn sign_in_with(
    people: &crate::support::PeopleApp,
    browser: &Browser,
    user: Uuid,
    amr: Vec<app::domain::assurance::AuthMethod>,
) {
    use std::sync::Arc;
    let session = tower_sessions::Session::new(
        None,
        Arc::new(tower_sessions_redis_store::RedisStore::new(
            people.redis.clone(),
        )),
        None,
    );
    let client = app::ssr::auth::Caller {
        ip: Some(browser.ip),
        user_agent: Some(browser.user_agent.clone()),
    };
    let settings = app::ssr::settings::AuthSettings::for_public_url(crate::support::PUBLIC_URL);
    app::ssr::auth::sessions::establish(&session, &people.redis, &settings, user, &client, amr)
        .await
        .expect("establish a session");
    browser.plant_session_id(&session.id().expect("saved").to_string());
}

/// `method` used `ago` seconds ago.
pub fn used(method: &str, ago: u64) -> app::domain::assurance::AuthMethod {
    app::domain::assurance::AuthMethod::new(method, now() - ago)
}
