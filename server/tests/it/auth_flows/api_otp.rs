//! `POST /auth/v1/otp` (auth-js `signInWithOtp`, email) and `POST /verify` with type
//! `magiclink` or `email`: one email with a link and a 6-digit code, the same answer for any
//! address, limits per address and per IP; never an account made here.
use reqwest::Method;
use serde_json::{Value, json};

use super::api_contract::code;
use crate::support::{
    Answer, Browser, TestApp, ban_directly, mail, new_email, user_id, verified_user,
};

async fn otp(browser: &Browser, body: Value) -> Answer {
    browser.send(browser.post("/auth/v1/otp").json(&body)).await
}

async fn verify(browser: &Browser, body: Value) -> Answer {
    browser
        .send(browser.post("/auth/v1/verify").json(&body))
        .await
}

#[tokio::test]
async fn an_email_sign_in_mails_one_link_and_code_to_real_accounts_and_answers_alike() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "otp").await;
    let nobody = new_email("otp-nobody");

    let known = otp(
        &browser,
        json!({ "email": user.email, "create_user": true }),
    )
    .await;
    let unknown = otp(&browser, json!({ "email": nobody, "create_user": true })).await;
    assert_eq!(
        (known.status, known.body.as_str()),
        (200, "{}"),
        "{known:?}"
    );
    assert_eq!((unknown.status, unknown.body.as_str()), (200, "{}"));
    assert!(mail::kinds(&app.pool, &nobody).await.is_empty());
    assert_eq!(
        user_id(&app, &nobody).await,
        None,
        "no account is made by an email sign-in"
    );
    let sent = mail::latest(&app.pool, &user.email, "email_sign_in").await;
    assert!(
        sent.payload["link"]
            .as_str()
            .unwrap()
            .contains("/signin/email?token=")
    );
    assert_eq!(sent.payload["expires_in_minutes"], 15);

    let (token, code_sent) = (sent.token(), sent.code());
    let session: Value = verify(
        &browser,
        json!({ "type": "email", "email": user.email, "token": code_sent }),
    )
    .await
    .json();
    assert_eq!(session["user"]["email"], user.email.as_str());
    let access = session["access_token"].as_str().unwrap();
    let me = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(access),
        )
        .await;
    assert_eq!(me.status, 200);
    // The code and the link were one credential: both are spent now.
    let link = verify(
        &browser,
        json!({ "type": "magiclink", "token_hash": token }),
    )
    .await;
    assert_eq!(code(&link, 400), "otp_expired");

    assert_eq!(
        otp(&browser, json!({ "email": user.email })).await.status,
        200
    );
    let token = mail::latest(&app.pool, &user.email, "email_sign_in")
        .await
        .token();
    let session: Value = verify(
        &browser,
        json!({ "type": "magiclink", "token_hash": token }),
    )
    .await
    .json();
    assert!(session["refresh_token"].is_string());
    let again = verify(
        &browser,
        json!({ "type": "magiclink", "token_hash": token }),
    )
    .await;
    assert_eq!(code(&again, 400), "otp_expired");

    let bad = otp(&browser, json!({ "email": "not-an-address" })).await;
    assert_eq!(code(&bad, 400), "validation_failed");
    let phone = otp(&browser, json!({ "phone": "+15555550100" })).await;
    assert_eq!(code(&phone, 400), "validation_failed");
}

#[tokio::test]
async fn email_sign_in_is_limited_per_address_and_refused_to_banned_users() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "otp-limit").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(otp(&Browser::open(&app), json!({ "email": user.email })).await);
    }
    assert!(
        statuses[..3].iter().all(|a| a.status == 200),
        "{statuses:?}"
    );
    assert_eq!(code(&statuses[3], 429), "over_request_rate_limit");
    assert!(statuses[3].header("retry-after").is_some());

    let token = mail::latest(&app.pool, &user.email, "email_sign_in")
        .await
        .token();
    ban_directly(&app, user.id).await;
    let refused = verify(
        &browser,
        json!({ "type": "magiclink", "token_hash": token }),
    )
    .await;
    assert_eq!(code(&refused, 400), "user_banned");
}

#[tokio::test]
async fn a_password_change_voids_an_unused_email_sign_in() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "otp-void").await;
    let (access, _) =
        super::api_update_user::api_session(&browser, &user.email, &user.password).await;
    assert_eq!(
        otp(&browser, json!({ "email": user.email })).await.status,
        200
    );
    let token = mail::latest(&app.pool, &user.email, "email_sign_in")
        .await
        .token();

    let changed = browser
        .send(
            browser
                .request(Method::PUT, "/auth/v1/user")
                .bearer_auth(&access)
                .json(&json!({ "password": crate::support::new_password(), "current_password": user.password })),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    let voided = verify(
        &browser,
        json!({ "type": "magiclink", "token_hash": token }),
    )
    .await;
    assert_eq!(code(&voided, 400), "otp_expired");
}
