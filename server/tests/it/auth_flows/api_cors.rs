//! CORS for `/auth/v1`: browser apps on the origins the setting lists may call it (auth-js from
//! another origin); no others, never with credentials, and nothing else of the app opens up.
use reqwest::Method;
use serde_json::json;

use crate::support::{Answer, Browser, Overrides, TestApp, verified_user};

const APP: &str = "https://app.example";

async fn spawn_allowing(origins: &str) -> TestApp {
    TestApp::spawn_with(Overrides {
        env: vec![("PALISADE_AUTH_CORS_ORIGINS", origins.to_string())],
        ..Overrides::default()
    })
    .await
}

async fn preflight(browser: &Browser, origin: &str) -> Answer {
    browser
        .send(
            browser
                .request(Method::OPTIONS, "/auth/v1/token?grant_type=password")
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "apikey, authorization, content-type, x-client-info, x-supabase-api-version",
                ),
        )
        .await
}

#[tokio::test]
async fn a_listed_origin_may_call_auth_v1_from_a_browser_without_credentials() {
    let app = spawn_allowing(&format!("{APP}, https://other.example")).await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "cors").await;

    let pre = preflight(&browser, APP).await;
    assert!(matches!(pre.status, 200 | 204), "{pre:?}");
    assert_eq!(pre.header("access-control-allow-origin"), Some(APP));
    assert_eq!(pre.header("access-control-allow-credentials"), None);
    let allowed = pre
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "apikey",
        "authorization",
        "content-type",
        "x-client-info",
        "x-supabase-api-version",
    ] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }

    let granted = browser
        .send(
            browser
                .post("/auth/v1/token?grant_type=password")
                .header("Origin", APP)
                .header("Sec-Fetch-Site", "cross-site")
                .json(&json!({ "email": user.email, "password": user.password })),
        )
        .await;
    assert_eq!(granted.status, 200, "{granted:?}");
    assert_eq!(granted.header("access-control-allow-origin"), Some(APP));
    assert!(
        granted
            .header("access-control-expose-headers")
            .is_some_and(|h| h.to_ascii_lowercase().contains("x-supabase-api-version"))
    );

    // Another origin gets no CORS answer and no state change; the rest of the app stays
    // same-origin even for a listed origin.
    let evil = preflight(&browser, "https://evil.example").await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let evil_post = browser
        .send(
            browser
                .post("/auth/v1/token?grant_type=password")
                .header("Origin", "https://evil.example")
                .header("Sec-Fetch-Site", "cross-site")
                .json(&json!({ "email": user.email, "password": user.password })),
        )
        .await;
    assert_eq!(evil_post.status, 403, "{evil_post:?}");
    let server_fn = browser
        .send(
            browser
                .post("/api/auth/sign_in")
                .header("Origin", APP)
                .header("Sec-Fetch-Site", "cross-site")
                .form(&[
                    ("email", user.email.as_str()),
                    ("password", user.password.as_str()),
                ]),
        )
        .await;
    assert_eq!(server_fn.status, 403);
}

#[tokio::test]
async fn by_default_only_the_public_urls_origin_is_allowed() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let pre = preflight(&browser, APP).await;
    assert_eq!(pre.header("access-control-allow-origin"), None, "{pre:?}");
    let own = preflight(&browser, crate::support::PUBLIC_URL).await;
    assert_eq!(
        own.header("access-control-allow-origin"),
        Some(crate::support::PUBLIC_URL)
    );
}

#[test]
fn a_wildcard_or_a_path_is_not_an_allowed_origin() {
    for bad in [
        "*",
        "https://app.example/path",
        "app.example",
        "https://app.example, *",
    ] {
        let settings = server::config::Settings::from_lookup(|name| match name {
            "PALISADE_ENV" => Some("development".into()),
            "PALISADE_AUTH_CORS_ORIGINS" => Some(bad.into()),
            _ => None,
        });
        assert!(settings.is_err(), "{bad} was accepted");
    }
}
