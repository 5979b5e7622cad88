//! What a signed-in account's forms cost an attacker: guessing the current password backs off
//! like sign-in, and a right password buys neither unlimited mail nor unlimited hashing.
use std::time::Duration;

use app::{error::AppError, ssr::auth::ratelimit};

use crate::support::{TestApp, mail, new_email, new_password, signed_in_user, user_id};

#[tokio::test]
async fn guessing_the_current_password_through_the_account_forms_backs_off_like_sign_in() {
    let app = TestApp::spawn().await;
    let (user, laptop) = signed_in_user(&app, "stolen").await;
    let new = new_password();
    let change = async |current: &str| {
        laptop
            .call(
                "/api/account/password",
                &[("current_password", current), ("new_password", &new)],
            )
            .await
    };

    // Someone holding a stolen session cookie tries passwords in every form that asks for one.
    let guess = "Guess-Number-One";
    for _ in 0..2 {
        assert_eq!(change(guess).await.field_error().0, "current_password");
        let email = [("new_email", "thief@flows.test"), ("password", guess)];
        assert_eq!(
            laptop
                .call("/api/account/email", &email)
                .await
                .field_error()
                .0,
            "password"
        );
        let delete = [("password", guess)];
        assert_eq!(
            laptop
                .call("/api/account/delete", &delete)
                .await
                .field_error()
                .0,
            "password"
        );
    }
    // Six failures: the next attempt waits 2 s, whatever the password.
    let limited = change(&user.password).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "retry after {wait}");
    assert_eq!(
        laptop
            .sign_in(&user.email, &user.password)
            .await
            .error()
            .status_code(),
        429,
        "sign-in from this address waits too"
    );

    tokio::time::sleep(Duration::from_millis(wait * 1000 + 300)).await;
    change(&user.password)
        .await
        .assert_redirects_to("/account?saved=password");
}

#[tokio::test]
async fn a_correct_password_does_not_buy_unlimited_email_change_mail() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "spammer").await;
    let change = async |new_email: &str| {
        browser
            .call(
                "/api/account/email",
                &[("new_email", new_email), ("password", &user.password)],
            )
            .await
    };
    for _ in 0..ratelimit::EMAIL_CHANGE_PER_USER.max {
        change(&new_email("target"))
            .await
            .assert_redirects_to("/account?saved=email");
    }
    let victim = new_email("victim");
    let refused = change(&victim).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert!(matches!(refused.error(), AppError::RateLimited { .. }));
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
    assert!(mail::queued(&app.pool, &victim).await.is_empty());
}

#[tokio::test]
async fn a_correct_password_does_not_buy_unlimited_password_hashing() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "hasher").await;
    let mut current = user.password.clone();
    for _ in 0..ratelimit::PASSWORD_CHECK_PER_USER.max {
        let next = new_password();
        browser
            .call(
                "/api/account/password",
                &[("current_password", &current), ("new_password", &next)],
            )
            .await
            .assert_redirects_to("/account?saved=password");
        current = next;
    }
    let refused = browser
        .call(
            "/api/account/password",
            &[
                ("current_password", &current),
                ("new_password", &new_password()),
            ],
        )
        .await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
    // Deleting the account is the same kind of check, and counts against the same limit.
    let delete = browser
        .call("/api/account/delete", &[("password", &current)])
        .await;
    assert_eq!(delete.status, 429, "{delete:?}");
    assert!(user_id(&app, &user.email).await.is_some());
}
