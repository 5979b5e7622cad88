//! Sensitive actions of a user with a second factor need one proven within the step-up window
//! (10 minutes by default): otherwise `StepUpRequired`, the step-up page, and then the action.
use app::{
    domain::assurance::{PASSWORD, TOTP},
    domain::factor::SecondFactors,
    error::AppError,
};

use super::*;
use crate::support::{PASSWORD as PEOPLE_PASSWORD, PeopleApp, new_password};

async fn change_password(browser: &Browser) -> crate::support::Answer {
    browser
        .call(
            "/api/account/password",
            &[
                ("current_password", PEOPLE_PASSWORD),
                ("new_password", &new_password()),
            ],
        )
        .await
}

#[tokio::test]
async fn a_session_without_a_recent_second_factor_must_step_up_before_changing_the_password() {
    let people = PeopleApp::new().await;
    let ann = people.user("step-up").await;
    let enrolled = enrol(&ann.browser, "Phone").await;

    // Another device, signed in with the password before the factor existed: aal1.
    let laptop = Browser::open(&people.app);
    people.sign_in_directly(&laptop, ann.id).await;
    assert_eq!(
        change_password(&laptop).await.error(),
        AppError::StepUpRequired
    );
    let email = laptop
        .call(
            "/api/account/email",
            &[
                ("new_email", "new@flows.test"),
                ("password", PEOPLE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(email.error(), AppError::StepUpRequired);
    let delete = laptop
        .call("/api/account/delete", &[("password", PEOPLE_PASSWORD)])
        .await;
    assert_eq!(delete.error(), AppError::StepUpRequired);

    let wrong = laptop
        .call(
            "/api/auth/step_up",
            &[
                ("code", &wrong_code(&enrolled.secret)),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(wrong.field_error().0, "code");
    let before = laptop.session_id();
    laptop
        .call(
            "/api/auth/step_up",
            &[("code", &code(&enrolled.secret, 1)), ("next", "/account")],
        )
        .await
        .assert_redirects_to("/account");
    assert_ne!(
        laptop.session_id(),
        before,
        "a step-up gives the session a new id"
    );
    change_password(&laptop)
        .await
        .assert_redirects_to("/account?saved=password");
}

#[tokio::test]
async fn a_second_factor_older_than_the_window_no_longer_counts() {
    let people = PeopleApp::new().await;
    let ann = people.user("window").await;
    let _ = enrol(&ann.browser, "Phone").await;

    let stale = Browser::open(&people.app);
    sign_in_with(
        &people,
        &stale,
        ann.id,
        vec![used(TOTP, 601), used(PASSWORD, 620)],
    )
    .await;
    assert_eq!(
        change_password(&stale).await.error(),
        AppError::StepUpRequired
    );

    let fresh = Browser::open(&people.app);
    sign_in_with(
        &people,
        &fresh,
        ann.id,
        vec![used(TOTP, 540), used(PASSWORD, 560)],
    )
    .await;
    change_password(&fresh)
        .await
        .assert_redirects_to("/account?saved=password");
}

#[tokio::test]
async fn users_without_a_second_factor_are_never_asked_to_step_up() {
    let people = PeopleApp::new().await;
    let ann = people.user("no-factor").await;
    change_password(&ann.browser)
        .await
        .assert_redirects_to("/account?saved=password");
}

#[tokio::test]
async fn removing_a_factor_needs_a_fresh_second_factor_and_the_last_one_takes_the_codes() {
    let people = PeopleApp::new().await;
    let ann = people.user("remove").await;
    let enrolled = enrol(&ann.browser, "Phone").await;
    let factor = enrolled.factor.to_string();

    let laptop = Browser::open(&people.app);
    people.sign_in_directly(&laptop, ann.id).await;
    let refused = laptop
        .call("/api/account/factors/remove", &[("factor", &factor)])
        .await;
    assert_eq!(refused.error(), AppError::StepUpRequired);
    let regenerate = laptop
        .call("/api/account/recovery_codes/regenerate", &[])
        .await;
    assert_eq!(regenerate.error(), AppError::StepUpRequired);
    let add = laptop
        .call("/api/account/factors/enrol", &[("friendly_name", "Spare")])
        .await;
    assert_eq!(add.error(), AppError::StepUpRequired);

    // The enrolling browser proved the factor moments ago.
    ann.browser
        .call("/api/account/factors/remove", &[("factor", &factor)])
        .await
        .assert_redirects_to("/account?saved=factor-removed");
    let left: SecondFactors = ann.browser.call("/api/account/factors", &[]).await.json();
    assert_eq!(
        left,
        SecondFactors::default(),
        "no factor, no recovery codes"
    );
    // Without a factor, nothing asks for one any more.
    change_password(&laptop)
        .await
        .assert_redirects_to("/account?saved=password");
}
