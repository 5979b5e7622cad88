//! Recovery codes: ten, shown once; each signs in once in place of the second factor, is
//! audited and mailed about; regenerating voids the old set.
use app::domain::factor::SecondFactors;

use super::*;
use crate::support::{actions_of, mail, signed_in_user};

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_the_user_hears_of_it() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "recovery").await;
    let enrolled = enrol(&browser, "Phone").await;
    let first = enrolled.recovery_codes[0].clone();

    password_step(&browser, &user).await.redirect();
    second_step(&browser, &first)
        .await
        .assert_redirects_to("/account");
    assert_eq!(browser.role().await, "authenticated");
    let state: SecondFactors = browser.call("/api/account/factors", &[]).await.json();
    assert_eq!(state.recovery_codes_left, 9);
    assert!(
        actions_of(&app, user.id)
            .await
            .contains(&"user.recovery_code_used".to_string())
    );
    let notice = mail::latest(&app.pool, &user.email, "second_factor_notice").await;
    assert_eq!(notice.payload["event"], "recovery_code_used");
    assert_eq!(notice.payload["remaining"], 9);

    password_step(&browser, &user).await.redirect();
    let again = second_step(&browser, &first).await;
    assert_eq!(again.field_error().0, "code", "a recovery code works once");
    // Typed in capitals with a space instead of the dash, another code works.
    let typed = enrolled.recovery_codes[1].to_uppercase().replace('-', " ");
    second_step(&browser, &typed)
        .await
        .assert_redirects_to("/account");
}

#[tokio::test]
async fn regenerating_recovery_codes_voids_the_old_set() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "regenerate").await;
    let enrolled = enrol(&browser, "Phone").await;

    browser
        .call("/api/account/recovery_codes/regenerate", &[])
        .await
        .assert_redirects_to("/account/recovery-codes");
    let fresh: Vec<String> = browser
        .call("/api/account/recovery_codes/take", &[])
        .await
        .json();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !enrolled.recovery_codes.contains(c)));

    password_step(&browser, &user).await.redirect();
    let old = second_step(&browser, &enrolled.recovery_codes[0]).await;
    assert_eq!(old.field_error().0, "code");
    second_step(&browser, &fresh[0])
        .await
        .assert_redirects_to("/account");
}
