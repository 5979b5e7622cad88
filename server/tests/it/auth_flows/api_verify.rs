//! `POST /auth/v1/verify` (auth-js `verifyOtp`) and `GET /auth/v1/verify`: the browser's email
//! tokens (same tables, single use, lifetimes), answered in Supabase's shapes; a GET never
//! spends anything.
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    api_contract::{code, grant},
    api_update_user::api_session,
};
use crate::support::{Answer, Browser, TestApp, mail, new_email, new_password, verified_user};

async fn verify(browser: &Browser, bearer: Option<&str>, body: Value) -> Answer {
    let mut request = browser.post("/auth/v1/verify").json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    browser.send(request).await
}

async fn sign_up_by_api(browser: &Browser, email: &str, password: &str) {
    let answer = browser
        .send(
            browser
                .post("/auth/v1/signup")
                .json(&json!({ "email": email, "password": password })),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn verifying_a_sign_up_by_link_token_or_code_confirms_it_and_answers_a_session() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("v-link"), new_password());
    sign_up_by_api(&browser, &email, &password).await;
    let token = mail::latest(&app.pool, &email, "verify_email")
        .await
        .token();

    let wrong_type = verify(
        &browser,
        None,
        json!({ "type": "recovery", "token_hash": token }),
    )
    .await;
    assert_eq!(
        code(&wrong_type, 400),
        "otp_expired",
        "another purpose's token is no token"
    );
    let session: Value = verify(
        &browser,
        None,
        json!({ "type": "signup", "token_hash": token }),
    )
    .await
    .json();
    assert_eq!(session["token_type"], "bearer");
    assert!(session["refresh_token"].is_string());
    assert_eq!(session["user"]["email"], email.as_str());
    assert!(session["user"]["email_confirmed_at"].is_string());
    let again = verify(
        &browser,
        None,
        json!({ "type": "signup", "token_hash": token }),
    )
    .await;
    assert_eq!(code(&again, 400), "otp_expired");
    assert_eq!(grant(&browser, &email, &password).await.status, 200);

    let (email, password) = (new_email("v-code"), new_password());
    sign_up_by_api(&browser, &email, &password).await;
    let sent = mail::latest(&app.pool, &email, "verify_email").await.code();
    let wrong = if sent == "000000" { "000001" } else { "000000" };
    let refused = verify(
        &browser,
        None,
        json!({ "type": "signup", "email": email, "token": wrong }),
    )
    .await;
    assert_eq!(code(&refused, 400), "otp_expired");
    let session: Value = verify(
        &browser,
        None,
        json!({ "type": "signup", "email": email, "token": sent }),
    )
    .await
    .json();
    assert_eq!(session["user"]["email"], email.as_str());

    let nothing = verify(&browser, None, json!({ "type": "signup" })).await;
    assert_eq!(code(&nothing, 400), "validation_failed");
    let unknown = verify(&browser, None, json!({ "type": "sms", "token_hash": "x" })).await;
    assert_eq!(code(&unknown, 400), "validation_failed");
}

#[tokio::test]
async fn a_recovery_session_may_set_a_new_password_without_the_old_one() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "v-recovery").await;
    let (_, old_refresh) = api_session(&browser, &user.email, &user.password).await;
    let asked = browser
        .send(
            browser
                .post("/auth/v1/recover")
                .json(&json!({ "email": user.email })),
        )
        .await;
    assert_eq!(asked.status, 200);
    let token = mail::latest(&app.pool, &user.email, "reset_password")
        .await
        .token();

    let session: Value = verify(
        &browser,
        None,
        json!({ "type": "recovery", "token_hash": token }),
    )
    .await
    .json();
    let access = session["access_token"].as_str().unwrap();
    let again = verify(
        &browser,
        None,
        json!({ "type": "recovery", "token_hash": token }),
    )
    .await;
    assert_eq!(code(&again, 400), "otp_expired");

    let new = new_password();
    let changed = browser
        .send(
            browser
                .request(Method::PUT, "/auth/v1/user")
                .bearer_auth(access)
                .json(&json!({ "password": new })),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(
        code(&grant(&browser, &user.email, &user.password).await, 400),
        "invalid_credentials"
    );
    assert_eq!(grant(&browser, &user.email, &new).await.status, 200);
    assert!(
        !browser.refresh_works(&old_refresh).await,
        "other sign-ins ended"
    );
}

#[tokio::test]
async fn verifying_an_email_change_needs_the_owner_signed_in() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let owner = verified_user(&app, &browser, "v-change").await;
    let stranger = verified_user(&app, &browser, "v-stranger").await;
    let (access, _) = api_session(&browser, &owner.email, &owner.password).await;
    let (stranger_access, _) = api_session(&browser, &stranger.email, &stranger.password).await;
    let target = new_email("v-change-new");
    let asked = browser
        .send(
            browser
                .request(Method::PUT, "/auth/v1/user")
                .bearer_auth(&access)
                .json(&json!({ "email": target, "current_password": owner.password })),
        )
        .await;
    assert_eq!(asked.status, 200, "{asked:?}");
    let token = mail::latest(&app.pool, &target, "change_email_confirm")
        .await
        .token();
    let body = json!({ "type": "email_change", "token_hash": token });

    assert_eq!(
        code(&verify(&browser, None, body.clone()).await, 401),
        "no_authorization"
    );
    let other = verify(&browser, Some(&stranger_access), body.clone()).await;
    assert_eq!(code(&other, 400), "validation_failed");
    // Neither refusal spent the link.
    let user: Value = verify(&browser, Some(&access), body.clone()).await.json();
    assert_eq!(user["email"], target.as_str());
    assert_eq!(
        code(&verify(&browser, Some(&access), body).await, 400),
        "otp_expired"
    );
}

#[tokio::test]
async fn get_verify_leads_to_the_browsers_confirm_page_and_spends_nothing() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let (email, password) = (new_email("v-get"), new_password());
    sign_up_by_api(&browser, &email, &password).await;
    let token = mail::latest(&app.pool, &email, "verify_email")
        .await
        .token();

    // What a mail scanner does before the person clicks.
    let path = format!("/auth/v1/verify?token={token}&type=signup&redirect_to=https://evil.test/");
    for method in [Method::GET, Method::HEAD, Method::GET] {
        let seen = browser.send(browser.request(method, &path)).await;
        assert_eq!(seen.status, 303, "{seen:?}");
        assert_eq!(
            seen.location(),
            Some(format!("/verify?token={token}").as_str())
        );
    }
    let recovery = browser
        .send(browser.request(Method::GET, "/auth/v1/verify?token=abc&type=recovery"))
        .await;
    assert_eq!(recovery.location(), Some("/reset?token=abc"));
    let change = browser
        .send(browser.request(Method::GET, "/auth/v1/verify?token=abc&type=email_change"))
        .await;
    assert_eq!(change.location(), Some("/confirm-email?token=abc"));
    let unknown = browser
        .send(browser.request(Method::GET, "/auth/v1/verify?token=abc&type=sms"))
        .await;
    assert_eq!(code(&unknown, 400), "validation_failed");

    let session = verify(
        &browser,
        None,
        json!({ "type": "signup", "token_hash": token }),
    )
    .await;
    assert_eq!(session.status, 200, "the link was still good: {session:?}");
}
