//! API sign-ins record how they were made (`auth.refresh_token_families`), so every access
//! token of the sign-in, refreshed ones too, carries the same `amr` and the `aal` it adds up to.
use base64::Engine as _;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Browser, TestApp, as_auth_service, verified_user};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn an_api_sign_in_stepped_up_to_aal2_hands_out_aal2_tokens_on_refresh() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "family").await;
    let granted: Value = browser
        .token_grant(
            "password",
            json!({ "email": user.email, "password": user.password }),
        )
        .await
        .json();
    let claims = claims_of(granted["access_token"].as_str().unwrap());
    assert_eq!(claims["aal"], "aal1");
    let family: Uuid = claims["session_id"].as_str().unwrap().parse().unwrap();
    let signed_in = claims["amr"][0]["timestamp"].as_u64().unwrap();

    // What a verified factor records for the sign-in (the factor flow itself is tested with it).
    let stepped_up = format!(
        r#"update auth.refresh_token_families set amr = '[{{"method":"totp","timestamp":{}}},{{"method":"password","timestamp":{signed_in}}}]'::jsonb where family_id = $1"#,
        signed_in + 5
    );
    assert_eq!(as_auth_service(&app, &stepped_up, family).await, 1);

    let refreshed: Value = browser
        .token_grant(
            "refresh_token",
            json!({ "refresh_token": granted["refresh_token"] }),
        )
        .await
        .json();
    let again = claims_of(refreshed["access_token"].as_str().unwrap());
    assert_eq!(again["aal"], "aal2", "{again}");
    assert_eq!(again["amr"][0]["method"], "totp");
    assert_eq!(again["amr"][1], claims["amr"][0]);
}
