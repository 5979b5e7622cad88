//! `PUT /auth/v1/user` (auth-js `updateUser`): metadata, password and email change with the
//! account page's rules.
use reqwest::Method;
use serde_json::{Value, json};

use super::api_contract::{code, grant};
use crate::support::{
    Answer, Browser, TestApp, mail, new_email, new_password, signed_in_user, verified_user,
};

/// A signed-in API client: its access and refresh tokens.
pub(super) async fn api_session(
    browser: &Browser,
    email: &str,
    password: &str,
) -> (String, String) {
    let granted: Value = grant(browser, email, password).await.json();
    (
        granted["access_token"].as_str().unwrap().to_string(),
        granted["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn update(browser: &Browser, access: &str, body: Value) -> Answer {
    browser
        .send(
            browser
                .request(Method::PUT, "/auth/v1/user")
                .bearer_auth(access)
                .json(&body),
        )
        .await
}

#[tokio::test]
async fn update_user_data_changes_the_profile_the_user_metadata_shows() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "meta").await;
    let (access, _) = api_session(&browser, &user.email, &user.password).await;

    let updated = update(
        &browser,
        &access,
        json!({ "data": { "display_name": "Ada L.", "bio": "Engines." } }),
    )
    .await;
    let body: Value = updated.json();
    assert_eq!(body["user_metadata"]["display_name"], "Ada L.");
    assert_eq!(body["user_metadata"]["bio"], "Engines.");
    let read: Value = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(&access),
        )
        .await
        .json();
    assert_eq!(read["user_metadata"], body["user_metadata"]);
    let username = body["user_metadata"]["username"].clone();

    // Refused, and nothing changes: keys the profile does not have, values past its rules, a
    // map past the size limit, no token.
    for refused in [
        json!({ "data": { "avatar_url": "https://x.test/a.png" } }),
        json!({ "data": { "username": "no spaces allowed" } }),
        json!({ "data": { "bio": "x".repeat(20_000) } }),
        json!({ "data": "not a map" }),
    ] {
        assert_eq!(
            code(&update(&browser, &access, refused).await, 400),
            "validation_failed"
        );
    }
    let unsigned = browser
        .send(
            browser
                .request(Method::PUT, "/auth/v1/user")
                .json(&json!({ "data": {} })),
        )
        .await;
    assert_eq!(code(&unsigned, 401), "no_authorization");
    let read: Value = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(&access),
        )
        .await
        .json();
    assert_eq!(read["user_metadata"]["username"], username);
    assert_eq!(read["user_metadata"]["bio"], "Engines.");
}

#[tokio::test]
async fn update_user_password_needs_the_current_one_and_ends_every_other_sign_in() {
    let app = TestApp::spawn().await;
    let (user, other_browser) = signed_in_user(&app, "api-pw").await;
    let client = Browser::open(&app);
    let (access, refresh) = api_session(&client, &user.email, &user.password).await;
    let other_api_refresh = client.api_refresh_token(&user.email, &user.password).await;
    let new = new_password();

    let without = update(&client, &access, json!({ "password": new })).await;
    assert_eq!(code(&without, 400), "reauthentication_needed");
    let wrong = update(
        &client,
        &access,
        json!({ "password": new, "current_password": "Not-The-Password-42" }),
    )
    .await;
    assert_eq!(code(&wrong, 400), "current_password_mismatch");
    let weak = update(
        &client,
        &access,
        json!({ "password": "short", "current_password": user.password }),
    )
    .await;
    assert_eq!(code(&weak, 400), "weak_password");
    // Nothing changed so far.
    assert_eq!(
        grant(&client, &user.email, &user.password).await.status,
        200
    );

    let changed = update(
        &client,
        &access,
        json!({ "password": new, "current_password": user.password }),
    )
    .await;
    assert_eq!(changed.json::<Value>()["email"], user.email.as_str());
    assert_eq!(
        code(&grant(&client, &user.email, &user.password).await, 400),
        "invalid_credentials"
    );
    assert_eq!(grant(&client, &user.email, &new).await.status, 200);
    // This sign-in goes on (its token and its refresh token); every other one ended, browsers
    // included; the owner is told by email.
    let me = client
        .send(
            client
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(me.status, 200, "{me:?}");
    assert!(client.refresh_works(&refresh).await);
    assert!(!client.refresh_works(&other_api_refresh).await);
    assert_eq!(other_browser.role().await, "anon");
    assert!(
        mail::kinds(&app.pool, &user.email)
            .await
            .contains(&"password_changed".to_string())
    );
}

#[tokio::test]
async fn update_user_email_sends_the_browsers_confirmation_and_changes_nothing_until_confirmed() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "api-email").await;
    let (access, _) = api_session(&browser, &user.email, &user.password).await;
    let target = new_email("api-email-new");

    let without = update(&browser, &access, json!({ "email": target })).await;
    assert_eq!(code(&without, 400), "reauthentication_needed");
    let bad = update(
        &browser,
        &access,
        json!({ "email": "not-an-address", "current_password": user.password }),
    )
    .await;
    assert_eq!(code(&bad, 400), "validation_failed");
    assert!(mail::kinds(&app.pool, &target).await.is_empty());

    let asked = update(
        &browser,
        &access,
        json!({ "email": target, "current_password": user.password }),
    )
    .await;
    let body: Value = asked.json();
    assert_eq!(
        body["email"],
        user.email.as_str(),
        "unchanged until confirmed"
    );
    assert_eq!(body["new_email"], target.as_str());
    assert_eq!(
        mail::kinds(&app.pool, &target).await,
        ["change_email_confirm"]
    );
    assert!(
        mail::kinds(&app.pool, &user.email)
            .await
            .contains(&"change_email_notice".to_string())
    );
}
