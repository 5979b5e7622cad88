//! The admin's part: "require a second factor for admins", fresh aal2 for admin actions, and
//! resetting a user's factors (audited, mailed, every session ended).
use app::{domain::session::Viewer, error::AppError};

use super::*;
use crate::support::{Overrides, PeopleApp, actions_of, mail, redis_pool, redis_url};

#[tokio::test]
async fn an_admin_resets_a_users_factors_which_ends_their_sessions_and_tells_them() {
    let people = PeopleApp::new().await;
    let admin = people.admin("resetter").await;
    let ann = people.user("lost-phone").await;
    let enrolled = enrol(&ann.browser, "Phone").await;
    let id = ann.id.to_string();

    admin
        .call("/api/admin/reset_factors", &[("id", &id)])
        .await
        .assert_redirects_to(&format!("/admin/users/{id}?done=factors-reset"));

    assert_eq!(ann.browser.role().await, "anon", "signed out everywhere");
    assert_eq!(people.live_sessions(ann.id).await, 0);
    let actions = actions_of(&people.app, ann.id).await;
    assert!(
        actions.contains(&"admin.factors_reset".to_string()),
        "{actions:?}"
    );
    let notice = mail::latest(&people.app.pool, &ann.email, "second_factor_notice").await;
    assert_eq!(notice.payload["event"], "factors_reset");

    // The password alone signs in again; the old recovery codes are gone with the factor.
    let browser = Browser::open(&people.app);
    browser
        .sign_in(&ann.email, crate::support::PASSWORD)
        .await
        .assert_redirects_to("/account");
    let _ = enrolled;
}

#[tokio::test]
async fn only_admins_reset_factors_and_never_their_own() {
    let people = PeopleApp::new().await;
    let admin = people.admin("self-reset").await;
    let ann = people.user("not-admin").await;
    let refused = ann
        .call("/api/admin/reset_factors", &[("id", &admin.id.to_string())])
        .await;
    assert_eq!(refused.error(), AppError::Forbidden);
    let own = admin
        .call("/api/admin/reset_factors", &[("id", &admin.id.to_string())])
        .await;
    assert_eq!(own.field_error().0, "factors");
}

#[tokio::test]
async fn admin_actions_need_a_fresh_second_factor_when_the_admin_has_one() {
    let people = PeopleApp::new().await;
    let admin = people.admin("fresh-admin").await;
    let ann = people.user("target").await;
    let enrolled = enrol(&admin.browser, "Phone").await;

    let desk = Browser::open(&people.app);
    people.sign_in_directly(&desk, admin.id).await;
    let id = ann.id.to_string();
    let ban = desk
        .call("/api/admin/ban", &[("id", &id), ("duration", "1d")])
        .await;
    assert_eq!(ban.error(), AppError::StepUpRequired);
    // Reading is not an action.
    assert_eq!(
        desk.call("/api/admin/user", &[("id", &id)]).await.status,
        200
    );

    desk.call(
        "/api/auth/step_up",
        &[("code", &code(&enrolled.secret, 1)), ("next", "/admin")],
    )
    .await
    .assert_redirects_to("/admin");
    desk.call("/api/admin/ban", &[("id", &id), ("duration", "1d")])
        .await
        .assert_redirects_to(&format!("/admin/users/{id}?done=banned"));
}

#[tokio::test]
async fn when_admins_must_have_a_second_factor_one_without_is_sent_to_enrol() {
    let people = PeopleApp {
        app: TestApp::spawn_with(Overrides {
            env: vec![("PALISADE_ADMIN_SECOND_FACTOR", "required".into())],
            ..Overrides::default()
        })
        .await,
        redis: redis_pool(&redis_url()).await,
    };
    let admin = people.admin("must-enrol").await;

    let viewer: Viewer = admin.call("/api/auth/viewer", &[]).await.json();
    assert!(
        viewer.admin && viewer.admin_needs_second_factor,
        "{viewer:?}"
    );
    let users = admin.call("/api/admin/users", &[]).await;
    assert_eq!(users.error(), AppError::Forbidden);

    let _ = enrol(&admin.browser, "Phone").await;
    let viewer: Viewer = admin.call("/api/auth/viewer", &[]).await.json();
    assert!(viewer.admin && !viewer.admin_needs_second_factor);
    assert_eq!(admin.call("/api/admin/users", &[]).await.status, 200);
}
