//! `POST /auth/v1/reauthenticate` (auth-js `reauthenticate`) mails a code; `updateUser` with
//! that code as `nonce` may set a new password without the old one, once.
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    api_contract::{code, grant},
    api_update_user::api_session,
};
use crate::support::{Answer, Browser, TestApp, mail, new_password, verified_user};

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
async fn a_reauthentication_code_lets_one_password_change_through() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "reauth").await;
    let (access, _) = api_session(&browser, &user.email, &user.password).await;

    let unsigned = browser.send(browser.post("/auth/v1/reauthenticate")).await;
    assert_eq!(code(&unsigned, 401), "no_authorization");
    // auth-js sends GET (as Supabase serves it); the Bearer token is what it needs.
    let asked = browser
        .send(
            browser
                .request(reqwest::Method::GET, "/auth/v1/reauthenticate")
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(
        (asked.status, asked.body.as_str()),
        (200, "{}"),
        "{asked:?}"
    );
    let nonce = mail::latest(&app.pool, &user.email, "reauthentication")
        .await
        .code();
    let wrong = if nonce == "000000" {
        "000001"
    } else {
        "000000"
    };

    let new = new_password();
    let refused = update(
        &browser,
        &access,
        json!({ "password": new, "nonce": wrong }),
    )
    .await;
    assert_eq!(code(&refused, 400), "reauthentication_not_valid");
    assert_eq!(
        grant(&browser, &user.email, &user.password).await.status,
        200
    );
    // The nonce proves the person for a password only: an address change still needs it.
    let email = update(
        &browser,
        &access,
        json!({ "email": crate::support::new_email("reauth-new"), "nonce": nonce }),
    )
    .await;
    assert_eq!(code(&email, 400), "reauthentication_needed");

    let changed = update(
        &browser,
        &access,
        json!({ "password": new, "nonce": nonce }),
    )
    .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(grant(&browser, &user.email, &new).await.status, 200);
    let again = update(
        &browser,
        &access,
        json!({ "password": new_password(), "nonce": nonce }),
    )
    .await;
    assert_eq!(code(&again, 400), "reauthentication_not_valid");
}
