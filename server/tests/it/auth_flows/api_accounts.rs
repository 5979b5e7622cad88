//! `/auth/v1`'s account endpoints as Supabase's clients call them: sign-up (a pending user,
//! alike for a taken address), recover and resend (`{}` for anyone), settings.
use serde_json::{Value, json};

use super::api_contract::code;
use crate::support::{Answer, Browser, TestApp, mail, new_email, new_password, verified_user};

/// `POST /auth/v1/<path>` with a JSON body, from `browser`'s address.
async fn post_json(browser: &Browser, path: &str, body: Value) -> Answer {
    browser
        .send(browser.post(&format!("/auth/v1/{path}")).json(&body))
        .await
}

#[tokio::test]
async fn sign_up_answers_a_pending_user_alike_for_a_free_and_a_taken_address() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let owner = verified_user(&app, &browser, "signup-owner").await;

    let free_email = new_email("signup-free");
    let free = post_json(
        &browser,
        "signup",
        json!({ "email": free_email, "password": new_password(), "data": {}, "gotrue_meta_security": {} }),
    )
    .await;
    let taken = post_json(
        &browser,
        "signup",
        json!({ "email": owner.email, "password": new_password() }),
    )
    .await;
    assert_eq!(
        (free.status, taken.status),
        (200, 200),
        "{free:?}\n{taken:?}"
    );
    let (free, taken): (Value, Value) = (free.json(), taken.json());
    // Same shape, no session; the taken address's id is made up, not the owner's.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&free), keys(&taken));
    assert!(free.get("access_token").is_none());
    assert_eq!(free["email"], free_email.as_str());
    assert_eq!(free["email_confirmed_at"], Value::Null);
    assert_eq!(free["identities"].as_array().unwrap().len(), 1);
    assert_eq!(taken["identities"].as_array().unwrap().len(), 1);
    assert_ne!(taken["id"], owner.id.to_string());
    // The free address got its confirmation email; the owner a notice, not a second account.
    assert_eq!(mail::kinds(&app.pool, &free_email).await, ["verify_email"]);
    assert!(
        mail::kinds(&app.pool, &owner.email)
            .await
            .contains(&"signup_attempt".to_string())
    );

    let weak = post_json(
        &browser,
        "signup",
        json!({ "email": new_email("weak"), "password": "short" }),
    )
    .await;
    assert_eq!(code(&weak, 400), "weak_password");
    assert_eq!(
        serde_json::from_str::<Value>(&weak.body).unwrap()["weak_password"]["reasons"],
        json!(["length"])
    );
    let guessable = post_json(
        &browser,
        "signup",
        json!({ "email": new_email("weak"), "password": "password123" }),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&guessable.body).unwrap()["weak_password"]["reasons"],
        json!(["characters"])
    );
    let bad_email = post_json(
        &browser,
        "signup",
        json!({ "email": "not-an-address", "password": new_password() }),
    )
    .await;
    assert_eq!(code(&bad_email, 400), "validation_failed");
    let not_json = browser
        .send(browser.post("/auth/v1/signup").body("email=a"))
        .await;
    assert_eq!(code(&not_json, 400), "bad_json");
}

#[tokio::test]
async fn recover_and_resend_answer_alike_and_mail_only_real_accounts() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "recover").await;
    let nobody = new_email("recover-nobody");

    for email in [&user.email, &nobody] {
        let answer = post_json(&browser, "recover", json!({ "email": email })).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "{}"),
            "{answer:?}"
        );
    }
    assert!(
        mail::kinds(&app.pool, &user.email)
            .await
            .contains(&"reset_password".to_string())
    );
    assert!(mail::kinds(&app.pool, &nobody).await.is_empty());

    let (pending, password) = (new_email("resend"), new_password());
    browser.sign_up(&pending, &password).await;
    let resent = post_json(
        &browser,
        "resend",
        json!({ "type": "signup", "email": pending }),
    )
    .await;
    assert_eq!((resent.status, resent.body.as_str()), (200, "{}"));
    assert_eq!(
        mail::kinds(&app.pool, &pending).await,
        ["verify_email", "verify_email"]
    );
    let other_kind = post_json(
        &browser,
        "resend",
        json!({ "type": "sms", "email": pending }),
    )
    .await;
    assert_eq!(code(&other_kind, 400), "validation_failed");

    let settings: Value = browser.get("/auth/v1/settings").await.json();
    assert_eq!(settings["external"]["email"], true);
    assert_eq!(settings["disable_signup"], false);
}
