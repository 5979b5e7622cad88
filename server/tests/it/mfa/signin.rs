//! Sign-in with a second factor: the password leads to a second page, not a session; a code
//! is accepted one step either side of now, once; wrong codes are limited per user and per
//! address.
use app::error::AppError;

use super::*;
use crate::support::{actions_of, signed_in_user, verified_user};

#[tokio::test]
async fn after_the_password_a_user_with_a_factor_must_give_a_code_before_any_session() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "second-page").await;
    let enrolled = enrol(&browser, "Phone").await;

    password_step(&browser, &user)
        .await
        .assert_redirects_to("/signin/factor?next=/account");
    assert_eq!(
        browser.role().await,
        "anon",
        "a pending sign-in reaches nothing"
    );
    let account = browser.call("/api/account/get", &[]).await;
    assert_eq!(account.error(), AppError::Unauthorized);

    let wrong = second_step(&browser, &wrong_code(&enrolled.secret)).await;
    assert_eq!(wrong.field_error().0, "code");
    assert_eq!(browser.role().await, "anon");

    second_step(&browser, &code(&enrolled.secret, 1))
        .await
        .assert_redirects_to("/account");
    assert_eq!(browser.role().await, "authenticated");
    let actions = actions_of(&app, user.id).await;
    assert!(
        actions.contains(&"user.mfa_challenge_failed".to_string()),
        "{actions:?}"
    );

    // The pending sign-in was spent with the session it made.
    let again = second_step(&browser, &code(&enrolled.secret, 1)).await;
    assert_eq!(again.field_error().0, "code");
}

#[tokio::test]
async fn a_code_is_accepted_once_and_an_older_one_never_after_it() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "replay").await;
    let enrolled = enrol(&browser, "Phone").await;

    password_step(&browser, &user).await.redirect();
    let replayed = second_step(&browser, &enrolled.used_code).await;
    assert_eq!(
        replayed.field_error().0,
        "code",
        "the enrolment's code again"
    );
    let next = code(&enrolled.secret, 1);
    second_step(&browser, &next)
        .await
        .assert_redirects_to("/account");

    password_step(&browser, &user).await.redirect();
    let replayed = second_step(&browser, &next).await;
    assert_eq!(replayed.field_error().0, "code", "the sign-in's code again");
    let older = second_step(&browser, &enrolled.used_code).await;
    assert_eq!(older.field_error().0, "code");
    assert_eq!(browser.role().await, "anon");
}

#[tokio::test]
async fn the_second_page_does_nothing_without_the_password_step() {
    let app = TestApp::spawn().await;
    let (_user, browser) = signed_in_user(&app, "no-password").await;
    let enrolled = enrol(&browser, "Phone").await;

    let stranger = Browser::open(&app);
    let answer = second_step(&stranger, &code(&enrolled.secret, 1)).await;
    assert_eq!(answer.field_error().0, "code");
    assert_eq!(stranger.role().await, "anon");
}

#[tokio::test]
async fn wrong_codes_are_limited_per_user_and_then_even_the_right_one_waits() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "limit-user").await;
    let enrolled = enrol(&browser, "Phone").await; // one attempt, right

    // A fresh address for every try: only the per-user count can stop them.
    let mut refused_at = None;
    for n in 1..=12 {
        let attacker = Browser::open(&app);
        attacker
            .sign_in(&user.email, &user.password)
            .await
            .redirect();
        let answer = second_step(&attacker, &wrong_code(&enrolled.secret)).await;
        if answer.status == 429 {
            refused_at = Some(n);
            let right = second_step(&attacker, &code(&enrolled.secret, 1)).await;
            assert_eq!(right.status, 429, "{right:?}");
            assert_eq!(attacker.role().await, "anon");
            break;
        }
        assert_eq!(answer.field_error().0, "code");
    }
    assert_eq!(
        refused_at,
        Some(10),
        "10 attempts per user, the enrolment's included"
    );
}

#[tokio::test]
async fn wrong_codes_are_limited_per_address_across_accounts() {
    let app = TestApp::spawn().await;
    let ip = crate::support::fresh_loopback();
    let mut last = None;
    for (i, tag) in ["ip-a", "ip-b", "ip-c", "ip-d"].into_iter().enumerate() {
        let browser = Browser::open_at(&app, ip);
        let user = verified_user(&app, &browser, tag).await;
        browser.signed_in_as(&user).await;
        if i == 3 {
            // 3 × (1 confirmation + 9 wrong codes) = 30 attempts from this address so far.
            let enrolment = start_enrolment(&browser, "Phone").await;
            let secret = decode_secret(&enrolment.secret).unwrap();
            let answer = browser
                .call(
                    "/api/account/factors/confirm",
                    &[
                        ("factor", &enrolment.factor_id.to_string()),
                        ("code", &code(&secret, 0)),
                    ],
                )
                .await;
            last = Some(answer.status);
            break;
        }
        let enrolled = enrol(&browser, "Phone").await;
        password_step(&browser, &user).await.redirect();
        for _ in 0..9 {
            let answer = second_step(&browser, &wrong_code(&enrolled.secret)).await;
            assert_eq!(answer.field_error().0, "code");
        }
    }
    assert_eq!(last, Some(429));
}

#[tokio::test]
async fn an_email_sign_in_is_one_factor_too_a_user_with_a_factor_still_needs_a_code() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "email-then-code").await;
    let enrolled = enrol(&browser, "Phone").await;
    browser.call("/api/auth/sign_out", &[]).await.redirect();

    browser
        .call("/api/auth/email_sign_in", &[("email", &user.email)])
        .await
        .assert_redirects_to("/signin/email?sent=1");
    let token = crate::support::mail::latest(&app.pool, &user.email, "email_sign_in")
        .await
        .token();
    let answer = browser
        .call("/api/auth/email_sign_in_link", &[("token", &token)])
        .await;
    assert!(
        answer.redirect().starts_with("/signin/factor"),
        "the link leads to the second page: {answer:?}"
    );
    assert_eq!(browser.role().await, "anon", "no session before the code");

    second_step(&browser, &code(&enrolled.secret, 1))
        .await
        .redirect();
    assert_eq!(browser.role().await, "authenticated");
}
