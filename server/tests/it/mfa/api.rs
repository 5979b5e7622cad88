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

#[tokio::test]
async fn the_api_user_lists_the_factors_with_their_status_as_supabase_does() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "api-factors").await;
    let granted = browser
        .token_grant(
            "password",
            json!({ "email": user.email, "password": user.password }),
        )
        .await;
    assert_eq!(granted.status, 200, "{granted:?}");
    let granted: serde_json::Value = serde_json::from_str(&granted.body).unwrap();
    let token = granted["access_token"].as_str().unwrap().to_owned();
    let api_user = || async {
        let answer = browser
            .send(
                browser
                    .request(reqwest::Method::GET, "/auth/v1/user")
                    .bearer_auth(&token),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap()
    };
    assert_eq!(api_user().await["factors"], json!([]));

    let phone = enrol(&browser, "Phone").await;
    let pending = start_enrolment(&browser, "Tablet").await;
    let listed = api_user().await;
    let factors = listed["factors"].as_array().expect("factors");
    assert_eq!(factors.len(), 2, "{listed}");
    assert_eq!(factors[0]["id"], phone.factor.to_string());
    assert_eq!(factors[0]["friendly_name"], "Phone");
    assert_eq!(factors[0]["factor_type"], "totp");
    assert_eq!(factors[0]["status"], "verified");
    assert_eq!(factors[1]["id"], pending.factor_id.to_string());
    assert_eq!(factors[1]["status"], "unverified");
    for factor in factors {
        assert!(factor["created_at"].is_string() && factor["updated_at"].is_string());
        assert!(factor.get("secret").is_none(), "{factor}");
    }
}
