//! The live password meter (`/api/auth/password_strength`): the browser shows the server's own
//! verdict, so it must be exactly what the forms enforce, rationed per address, never stored.
use app::{
    domain::PasswordStrength,
    error::AppError,
    ssr::auth::flows::strength::{MAX_CONTEXT_CHARS, STRENGTH_PER_IP},
};

use crate::support::{Browser, TestApp, new_email, new_password};

const METER: &str = "/api/auth/password_strength";

async fn rate(browser: &Browser, password: &str, context: &str) -> PasswordStrength {
    browser
        .call(METER, &[("password", password), ("context", context)])
        .await
        .json()
}

#[tokio::test]
async fn the_meter_gives_the_verdict_sign_up_will_give() {
    let app = TestApp::spawn().await;
    let email = new_email("ada.lovelace");
    for weak in ["seven77", "password123", "adalovelace", &"x".repeat(257)] {
        let meter = rate(&Browser::open(&app), weak, &email).await;
        assert!(!meter.acceptable, "{weak}: {meter:?}");
        let refused = Browser::open(&app).sign_up(&email, weak).await;
        assert_eq!(
            refused.field_error(),
            ("password".to_owned(), meter.message),
            "{weak}"
        );
    }
    // The email is context: the same password rates lower against it.
    let browser = Browser::open(&app);
    assert!(
        rate(&browser, "adalovelace", &email).await.score
            < rate(&browser, "adalovelace", "").await.score
    );

    let strong = new_password();
    let meter = rate(&browser, &strong, &email).await;
    assert!(meter.acceptable && meter.score >= 3, "{meter:?}");
    Browser::open(&app)
        .sign_up(&email, &strong)
        .await
        .assert_redirects_to("/signup/done");
}

#[tokio::test]
async fn the_meter_is_never_stored_and_works_without_a_context() {
    let app = TestApp::spawn().await;
    let answer = Browser::open(&app)
        .call(
            METER,
            &[("password", "correct horse battery staple glacier")],
        )
        .await;
    assert_eq!(
        answer.header("cache-control"),
        Some("no-store"),
        "{answer:?}"
    );
    assert!(answer.header("set-cookie").is_none(), "{answer:?}");
    assert!(answer.json::<PasswordStrength>().acceptable);
}

#[tokio::test]
async fn a_context_longer_than_any_email_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let context = "a".repeat(MAX_CONTEXT_CHARS + 1);
    let answer = Browser::open(&app)
        .call(
            METER,
            &[("password", "whatever it is"), ("context", &context)],
        )
        .await;
    assert_eq!(answer.field_error().0, "context");
}

#[tokio::test]
async fn the_meter_is_rationed_per_address() {
    let app = TestApp::spawn().await;
    let busy = Browser::open(&app);
    // Short passwords: the limit counts before any rating, so these cost no zxcvbn.
    for _ in 0..STRENGTH_PER_IP.max {
        rate(&busy, "short", "").await;
    }
    let refused = busy.call(METER, &[("password", "short")]).await;
    assert!(
        matches!(refused.error(), AppError::RateLimited { .. }),
        "{refused:?}"
    );
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
    // Someone else, elsewhere, is unaffected.
    assert_eq!(
        rate(&Browser::open(&app), "short", "").await.message,
        "Use at least 8 characters."
    );
}
