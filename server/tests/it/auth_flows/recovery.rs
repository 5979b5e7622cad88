//! A forgotten password: asking for a link answers the same for everyone; the link sets a new
//! password once and signs the account out everywhere.
use app::error::AppError;

use crate::support::{
    Browser, PUBLIC_URL, TestApp, User, mail, new_email, new_password, signed_in_user,
    verified_user,
};

#[tokio::test]
async fn forgot_answers_the_same_for_known_and_unknown_addresses() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "forgetful").await;
    let nobody = new_email("nobody");
    let forgot = async |email: &str| browser.call("/api/auth/forgot", &[("email", email)]).await;

    let known = forgot(&user.email).await;
    let unknown = forgot(&nobody).await;
    known.assert_redirects_to("/forgot?sent=1");
    assert_eq!(known.observable(), unknown.observable());
    let reset = mail::latest(&app.pool, &user.email, "reset_password").await;
    assert!(
        reset.payload["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{PUBLIC_URL}/reset?token=")),
        "{reset:?}"
    );
    assert!(mail::queued(&app.pool, &nobody).await.is_empty());

    // Three requests an hour per address, counted alike whether or not it has an account.
    for _ in 0..2 {
        forgot(&user.email)
            .await
            .assert_redirects_to("/forgot?sent=1");
        forgot(&nobody).await.assert_redirects_to("/forgot?sent=1");
    }
    let (known, unknown) = (forgot(&user.email).await, forgot(&nobody).await);
    assert_eq!((known.status, unknown.status), (429, 429));
    assert!(matches!(known.error(), AppError::RateLimited { .. }));
    assert!(matches!(unknown.error(), AppError::RateLimited { .. }));
}

#[tokio::test]
async fn a_reset_link_sets_the_new_password_and_signs_out_every_session() {
    let app = TestApp::spawn().await;
    let (user, laptop) = signed_in_user(&app, "reset").await;
    let phone = Browser::open(&app);
    phone.signed_in_as(&user).await;
    let forgetful = Browser::open(&app);
    forgetful
        .call("/api/auth/forgot", &[("email", &user.email)])
        .await
        .assert_redirects_to("/forgot?sent=1");
    let token = mail::latest(&app.pool, &user.email, "reset_password")
        .await
        .token();
    let reset = async |password: &str| {
        forgetful
            .call(
                "/api/auth/reset",
                &[("token", &token), ("password", password)],
            )
            .await
    };

    // A refused password does not burn the link.
    let (field, _) = reset("password").await.field_error();
    assert_eq!(field, "password");
    assert_eq!(laptop.role().await, "authenticated");

    let new = new_password();
    reset(&new).await.assert_redirects_to("/signin?reset=1");
    assert_eq!(laptop.role().await, "anon");
    assert_eq!(phone.role().await, "anon");
    assert_eq!(
        forgetful.sign_in(&user.email, &user.password).await.error(),
        AppError::invalid("password", super::INCORRECT)
    );
    let (field, message) = reset(&new_password()).await.field_error();
    assert_eq!(
        (field.as_str(), message.as_str()),
        (
            "token",
            "This link has expired or has already been used. Ask for a new one."
        )
    );
    forgetful
        .signed_in_as(&User {
            password: new,
            ..user.clone()
        })
        .await;
    assert_eq!(
        mail::kinds(&app.pool, &user.email).await,
        ["verify_email", "reset_password", "password_changed"]
    );
}

#[tokio::test]
async fn the_worker_mails_the_reset_link_to_an_account_and_nothing_to_an_unknown_address() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "delivered").await;
    let nobody = new_email("nobody");
    let _worker = mail::Worker::start(&app.pool);
    for email in [&user.email, &nobody] {
        browser
            .call("/api/auth/forgot", &[("email", email)])
            .await
            .assert_redirects_to("/forgot?sent=1");
    }

    let reset = mail::wait_for(&user.email, "Reset your password").await;
    let link = reset.link("/reset");
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/reset?token=")),
        "{link}"
    );
    // Once the worker has taken every request, nothing is on its way to the unknown address.
    for _ in 0..300 {
        if pending_requests(&app).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pending_requests(&app).await, 0);
    assert!(mail::inbox(&nobody).await.is_empty());
    assert!(mail::queued(&app.pool, &nobody).await.is_empty());
}

/// Requests not yet taken by the worker (the addresses in them are kept only until then).
async fn pending_requests(app: &TestApp) -> i64 {
    let mut tx = app::ssr::db::begin_service(&app.pool, app::ssr::db::ServiceRole::Auth)
        .await
        .unwrap();
    let n = sqlx::query_scalar("select count(*) from auth.account_requests")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    n
}
