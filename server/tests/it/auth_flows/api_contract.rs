//! `/auth/v1` speaks Supabase Auth's contract, so `@supabase/auth-js` works unchanged: errors
//! carry its `code`s under its version header, the user and the token claims have its shape,
//! its API keys are recognised (and are never taken for a user's token), and sign-out knows its
//! three scopes. (The npm client itself is driven against the server in `end2end/`.)
use app::ssr::auth::api_keys::ApiKeys;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Answer, Browser, SECRET, TestApp, ban_directly, new_email, new_password, signed_in_user,
    verified_user,
};

fn keys() -> ApiKeys {
    ApiKeys::derive(SECRET)
}

/// The Supabase `code` of an error answer, checking its status and the rest of its shape.
#[track_caller]
pub(super) fn code(answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.header("x-supabase-api-version"), Some("2024-01-01"));
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["msg"], body["error_description"], "{body}");
    assert!(
        body["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body["error_code"], body["code"], "{body}");
    body["code"].as_str().unwrap().to_string()
}

/// The claims of a JWT, read without checking it (the server checked it already).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub(super) async fn grant(browser: &Browser, email: &str, password: &str) -> Answer {
    browser
        .token_grant("password", json!({ "email": email, "password": password }))
        .await
}

#[tokio::test]
async fn refusals_carry_supabase_error_codes_under_its_version_header() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "codes").await;

    let wrong = grant(&browser, &user.email, "Not-The-Password-42").await;
    assert_eq!(code(&wrong, 400), "invalid_credentials");
    let unknown = grant(&browser, &new_email("nobody"), "Not-The-Password-42").await;
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));

    let (email, password) = (new_email("unconfirmed"), new_password());
    browser.sign_up(&email, &password).await;
    assert_eq!(
        code(&grant(&browser, &email, &password).await, 400),
        "email_not_confirmed"
    );

    let granted = grant(&browser, &user.email, &user.password).await;
    assert_eq!(
        granted.header("x-supabase-api-version"),
        Some("2024-01-01"),
        "successes carry the header too"
    );
    let first = granted.json::<Value>()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh =
        |token: &str| browser.token_grant("refresh_token", json!({ "refresh_token": token }));
    let second = refresh(&first).await.json::<Value>()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(refresh(&second).await.status, 200);
    assert_eq!(
        code(&refresh(&first).await, 400),
        "refresh_token_already_used"
    );
    assert_eq!(
        code(&refresh("never-issued").await, 400),
        "refresh_token_not_found"
    );
    assert_eq!(code(&refresh("").await, 400), "refresh_token_not_found");

    let nobody = browser
        .send(browser.request(Method::GET, "/auth/v1/user"))
        .await;
    assert_eq!(code(&nobody, 401), "no_authorization");
    let forged = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth("not-a-token"),
        )
        .await;
    assert_eq!(code(&forged, 401), "bad_jwt");
    let form = browser
        .send(
            browser
                .post("/auth/v1/token?grant_type=password")
                .body("{not json"),
        )
        .await;
    assert_eq!(code(&form, 400), "bad_json");

    ban_directly(&app, user.id).await;
    assert_eq!(
        code(&grant(&browser, &user.email, &user.password).await, 400),
        "user_banned"
    );
}

#[tokio::test]
async fn an_api_key_in_the_bearer_slot_is_not_a_user_token() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "apikey").await;
    let keys = keys();

    // What supabase-js's createClient sends with every call: the key twice.
    for key in [keys.publishable(), keys.secret()] {
        let granted = browser
            .send(
                browser
                    .post("/auth/v1/token?grant_type=password")
                    .header("apikey", key)
                    .bearer_auth(key)
                    .json(&json!({ "email": user.email, "password": user.password })),
            )
            .await;
        assert_eq!(granted.status, 200, "{granted:?}");
    }
    // The key alone signs nobody in: /user wants a user's token, server functions run as anon.
    let me = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .header("apikey", keys.publishable())
                .bearer_auth(keys.publishable()),
        )
        .await;
    assert_eq!(code(&me, 401), "no_authorization");
    let call = browser
        .send(
            browser
                .post("/api/check_database")
                .bearer_auth(keys.publishable()),
        )
        .await;
    assert_eq!(call.json::<Value>()["role"], "anon");

    // A key that is not the project's is refused before anything is checked.
    let other = ApiKeys::derive("another-projects-secret-0000000000000");
    let refused = browser
        .send(
            browser
                .post("/auth/v1/token?grant_type=password")
                .header("apikey", other.publishable())
                .json(&json!({ "email": user.email, "password": user.password })),
        )
        .await;
    assert_eq!(code(&refused, 401), "invalid_api_key");
}

#[tokio::test]
async fn the_user_and_the_access_token_have_supabases_shape() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "shape").await;

    let before = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    let granted: Value = grant(&browser, &user.email, &user.password).await.json();
    let access = granted["access_token"].as_str().unwrap();
    let expires_at = granted["expires_at"].as_u64().unwrap();
    assert_eq!(expires_at - granted["expires_in"].as_u64().unwrap(), {
        claims_of(access)["iat"].as_u64().unwrap()
    });

    let me: Value = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(access),
        )
        .await
        .json();
    for shape in [&me, &granted["user"]] {
        assert_eq!(shape["id"], user.id.to_string());
        assert_eq!(shape["aud"], "authenticated");
        assert_eq!(shape["role"], "authenticated");
        assert_eq!(shape["email"], user.email.as_str());
        assert!(shape["email_confirmed_at"].is_string(), "{shape}");
        assert!(shape["last_sign_in_at"].is_string(), "{shape}");
        assert!(shape["created_at"].is_string() && shape["updated_at"].is_string());
        assert_eq!(shape["phone"], "");
        assert_eq!(
            shape["app_metadata"],
            json!({ "provider": "email", "providers": ["email"] })
        );
        assert!(shape["user_metadata"]["username"].is_string(), "{shape}");
        assert_eq!(shape["identities"][0]["provider"], "email");
        assert_eq!(
            shape["identities"][0]["identity_data"]["email"],
            user.email.as_str()
        );
        assert_eq!(shape["factors"], json!([]));
        assert_eq!(shape["is_anonymous"], false);
    }

    let claims = claims_of(access);
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["email"], user.email.as_str());
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    let signed_in = claims["amr"][0]["timestamp"].as_u64().unwrap();
    assert!(signed_in >= before.saturating_sub(1), "{claims}");
    assert!(claims["session_id"].is_string());
    assert_eq!(claims["is_anonymous"], false);
    assert_eq!(claims["user_metadata"], me["user_metadata"]);

    // A refresh keeps the sign-in's method and time.
    let refreshed: Value = browser
        .token_grant(
            "refresh_token",
            json!({ "refresh_token": granted["refresh_token"] }),
        )
        .await
        .json();
    let again = claims_of(refreshed["access_token"].as_str().unwrap());
    assert_eq!(again["amr"], claims["amr"]);
    assert_eq!(again["session_id"], claims["session_id"]);
}

#[tokio::test]
async fn signing_out_others_ends_every_other_sign_in_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "others").await;
    let api = Browser::open(&app);
    let tokens = |answer: Answer| {
        let body: Value = answer.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    };
    let (access_a, refresh_a) = tokens(grant(&api, &user.email, &user.password).await);
    let (_, refresh_b) = tokens(grant(&api, &user.email, &user.password).await);

    let out = api
        .send(
            api.post("/auth/v1/logout?scope=others")
                .bearer_auth(&access_a),
        )
        .await;
    assert_eq!(out.status, 204, "{out:?}");
    assert!(
        !api.refresh_works(&refresh_b).await,
        "the other API sign-in ended"
    );
    assert_eq!(browser.role().await, "anon", "the browser's session ended");
    assert!(
        api.refresh_works(&refresh_a).await,
        "this sign-in carries on"
    );
}
