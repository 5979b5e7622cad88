//! Accounts made through the real flows (sign-up, the emailed link, sign-in) and read or
//! changed straight in the database as `auth_service`.
use app::ssr::db::{ServiceRole, begin_service};
use uuid::Uuid;

use super::{app::TestApp, browser::Browser, mail};

/// A made-up address for this test only (MailDev is shared).
pub fn new_email(tag: &str) -> String {
    format!("{tag}-{}@flows.test", Uuid::new_v4().simple())
}

/// A password strong enough for the sign-up form, different every time.
pub fn new_password() -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("Quiet-{}-Harbour-{}", &id[..6], &id[6..12])
}

/// An account with a confirmed address.
#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub password: String,
}

/// Signs up through `browser` and confirms the address with the link from the queued email.
pub async fn verified_user(app: &TestApp, browser: &Browser, tag: &str) -> User {
    let (email, password) = (new_email(tag), new_password());
    browser
        .sign_up(&email, &password)
        .await
        .assert_redirects_to("/signup/done");
    let token = mail::latest(&app.pool, &email, "verify_email")
        .await
        .token();
    browser
        .call("/api/auth/verify", &[("token", &token)])
        .await
        .assert_redirects_to("/signin?verified=1");
    User {
        id: user_id(app, &email).await.expect("the account exists"),
        email,
        password,
    }
}

/// A verified user signed in on a new browser.
pub async fn signed_in_user(app: &TestApp, tag: &str) -> (User, Browser) {
    let browser = Browser::open(app);
    let user = verified_user(app, &browser, tag).await;
    browser.signed_in_as(&user).await;
    (user, browser)
}

/// Bans a user for a day straight in the database, the way no admin action would: their
/// sessions and refresh tokens are left alone, to show what a surviving credential gets.
pub async fn ban_directly(app: &TestApp, id: Uuid) {
    let sql = "update auth.users set banned_until = now() + interval '1 day' where id = $1";
    assert_eq!(as_auth_service(app, sql, id).await, 1);
}

/// Runs one statement as `auth_service`, the auth subsystem's role.
pub async fn as_auth_service(app: &TestApp, sql: &str, id: Uuid) -> u64 {
    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.unwrap();
    done.rows_affected()
}

/// The id of the account with this address (any case), read as `auth_service`.
pub async fn user_id(app: &TestApp, email: &str) -> Option<Uuid> {
    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    let id = sqlx::query_scalar("select id from auth.users where lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Whether the account's address is confirmed.
pub async fn is_confirmed(app: &TestApp, id: Uuid) -> bool {
    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    let confirmed =
        sqlx::query_scalar("select email_confirmed_at is not null from auth.users where id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    confirmed
}

/// The one message for a wrong password or an unknown address.
pub const INCORRECT: &str = "Email or password is incorrect.";

/// The one refusal for a wrong password or an unknown address (and its code for API clients).
pub fn incorrect_credentials() -> app::error::AppError {
    app::error::AppError::invalid("password", INCORRECT)
        .with_code(app::error::ErrorCode::InvalidCredentials)
}
