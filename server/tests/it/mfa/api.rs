//! API clients and second factors: the password alone gets no tokens for a user with one.
use serde_json::json;

use super::*;
use crate::support::signed_in_user;

#[tokio::test]
async fn an_api_password_grant_is_refused_to_a_user_with_a_second_factor() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "api-mfa").await;
    let before = browser
        .token_grant(
            "password",
            json!({ "email": user.email, "password": user.password }),
        )
        .await;
    assert_eq!(before.status, 200, "{before:?}");

    let _ = enrol(&browser, "Phone").await;
    let after = browser
        .token_grant(
            "password",
            json!({ "email": user.email, "password": user.password }),
        )
        .await;
    assert_eq!(after.status, 403, "{after:?}");
    let body: serde_json::Value = serde_json::from_str(&after.body).unwrap();
    assert_eq!(body["code"], "insufficient_aal");
    assert!(body.get("access_token").is_none());
}
