//! The admin subset of `/auth/v1` (auth-js `GoTrueAdminApi`): only with the secret key, never
//! from a browser, every action audited.
use app::ssr::auth::api_keys::ApiKeys;
use reqwest::Method;
use serde_json::{Value, json};

use super::{api_contract::code, api_update_user::api_session};
use crate::support::{
    Answer, Browser, SECRET, TestApp, actions_of, new_email, new_password, verified_user,
};

fn keys() -> ApiKeys {
    ApiKeys::derive(SECRET)
}

/// As `GoTrueAdminApi` calls: the secret key as `apikey` and as the Bearer.
async fn admin(browser: &Browser, method: Method, path: &str, body: Option<Value>) -> Answer {
    let keys = keys();
    let mut request = browser
        .request(method, &format!("/auth/v1/admin/{path}"))
        .header("apikey", keys.secret())
        .bearer_auth(keys.secret());
    if let Some(body) = body {
        request = request.json(&body);
    }
    browser.send(request).await
}

#[tokio::test]
async fn the_secret_key_creates_reads_and_deletes_users_and_every_action_is_audited() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("admin-api"), new_password());

    let created: Value = admin(
        &browser,
        Method::POST,
        "users",
        Some(json!({ "email": email, "password": password, "email_confirm": true })),
    )
    .await
    .json();
    assert_eq!(created["email"], email.as_str());
    assert!(created["email_confirmed_at"].is_string());
    let id = created["id"].as_str().unwrap().to_string();
    assert!(!api_session(&browser, &email, &password).await.0.is_empty());

    let read: Value = admin(&browser, Method::GET, &format!("users/{id}"), None)
        .await
        .json();
    assert_eq!(read["id"], id.as_str());
    let again = admin(
        &browser,
        Method::POST,
        "users",
        Some(json!({ "email": email, "password": new_password() })),
    )
    .await;
    assert_eq!(code(&again, 422), "email_exists");
    let weak = admin(
        &browser,
        Method::POST,
        "users",
        Some(json!({ "email": new_email("admin-weak"), "password": "short" })),
    )
    .await;
    assert_eq!(code(&weak, 400), "weak_password");
    let uuid = id.parse().unwrap();
    assert!(
        actions_of(&app, uuid)
            .await
            .contains(&"admin.api_user_created".to_string())
    );

    let deleted = admin(&browser, Method::DELETE, &format!("users/{id}"), None).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    let gone = admin(&browser, Method::GET, &format!("users/{id}"), None).await;
    assert_eq!(code(&gone, 404), "user_not_found");
    let not_an_id = admin(&browser, Method::GET, "users/not-an-id", None).await;
    assert_eq!(code(&not_an_id, 400), "validation_failed");
    assert!(
        actions_of(&app, uuid)
            .await
            .contains(&"admin.api_user_deleted".to_string())
    );
}

#[tokio::test]
async fn the_admin_subset_refuses_the_publishable_key_a_user_token_and_any_browser() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "admin-refused").await;
    let (access, _) = api_session(&browser, &user.email, &user.password).await;
    let keys = keys();
    let path = format!("/auth/v1/admin/users/{}", user.id);

    let nothing = browser.send(browser.request(Method::GET, &path)).await;
    assert_eq!(code(&nothing, 401), "no_authorization");
    let publishable = browser
        .send(
            browser
                .request(Method::GET, &path)
                .header("apikey", keys.publishable())
                .bearer_auth(keys.publishable()),
        )
        .await;
    assert_eq!(code(&publishable, 401), "no_authorization");
    let user_token = browser
        .send(
            browser
                .request(Method::GET, &path)
                .header("apikey", keys.publishable())
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(code(&user_token, 403), "not_admin");
    let from_a_browser = browser
        .send(
            browser
                .request(Method::DELETE, &path)
                .header("apikey", keys.secret())
                .header("Origin", crate::support::PUBLIC_URL)
                .bearer_auth(keys.secret()),
        )
        .await;
    assert_eq!(code(&from_a_browser, 403), "not_admin");
    // Nothing happened to the user.
    assert!(
        !api_session(&browser, &user.email, &user.password)
            .await
            .0
            .is_empty()
    );
}
