//! Passkeys through HTTP with a software authenticator: registering and managing them on the
//! account page's server functions (here), and signing in with one alone (`sign_in`).
mod sign_in;

use app::{
    domain::passkey::{PasskeyCeremony, PasskeyInfo},
    error::AppError,
};

use crate::support::{
    Answer, Browser, PUBLIC_URL, SoftPasskey, TestApp, actions_of, signed_in_user,
};

/// Starts a registration in `browser` and has `key` answer it at `origin`.
async fn register_at(browser: &Browser, key: &mut SoftPasskey, origin: &str, name: &str) -> Answer {
    let started: PasskeyCeremony = browser
        .call("/api/passkeys/register_start", &[])
        .await
        .json();
    let credential = key.register(origin, &started.options).await;
    browser
        .call(
            "/api/passkeys/register_finish",
            &[
                ("ceremony", &started.ceremony),
                ("name", name),
                ("credential", &credential),
            ],
        )
        .await
}

/// Registers `key` for the user signed in on `browser`.
async fn register(browser: &Browser, key: &mut SoftPasskey, name: &str) -> PasskeyInfo {
    register_at(browser, key, PUBLIC_URL, name).await.json()
}

async fn list(browser: &Browser) -> Vec<PasskeyInfo> {
    browser.call("/api/passkeys/list", &[]).await.json()
}

#[tokio::test]
async fn a_signed_in_user_registers_a_passkey_and_sees_it_listed() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "pk-register").await;
    let mut key = SoftPasskey::new();

    let added = register(&browser, &mut key, "  Laptop ").await;

    assert_eq!(added.name, "Laptop");
    let listed = list(&browser).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, added.id);
    assert_eq!(listed[0].name, "Laptop");
    assert_eq!(listed[0].last_used_at, None);
    assert!(
        actions_of(&app, user.id)
            .await
            .contains(&"user.passkey_added".to_string())
    );
}

#[tokio::test]
async fn registration_asks_for_a_discoverable_credential_with_user_verification() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-options").await;

    let started: PasskeyCeremony = browser
        .call("/api/passkeys/register_start", &[])
        .await
        .json();

    let options: serde_json::Value = serde_json::from_str(&started.options).unwrap();
    let selection = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
}

#[tokio::test]
async fn a_credential_made_on_another_site_is_not_registered() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-rpid").await;
    let started: PasskeyCeremony = browser
        .call("/api/passkeys/register_start", &[])
        .await
        .json();
    // A look-alike site relays our options under its own RP ID; the authenticator scopes the
    // credential to that site.
    let mut options: serde_json::Value = serde_json::from_str(&started.options).unwrap();
    options["publicKey"]["rp"]["id"] = "evil.example".into();
    let mut key = SoftPasskey::new();
    let credential = key
        .register("https://evil.example", &options.to_string())
        .await;

    let answer = browser
        .call(
            "/api/passkeys/register_finish",
            &[
                ("ceremony", &started.ceremony),
                ("name", "Phished"),
                ("credential", &credential),
            ],
        )
        .await;

    assert_eq!(answer.field_error().0, "credential");
    assert!(list(&browser).await.is_empty());
}

#[tokio::test]
async fn a_registration_finishes_only_in_the_session_that_started_it() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "pk-session").await;
    let started: PasskeyCeremony = browser
        .call("/api/passkeys/register_start", &[])
        .await
        .json();
    let credential = SoftPasskey::new()
        .register(PUBLIC_URL, &started.options)
        .await;
    let elsewhere = Browser::open(&app);
    elsewhere.signed_in_as(&user).await;

    let answer = elsewhere
        .call(
            "/api/passkeys/register_finish",
            &[
                ("ceremony", &started.ceremony),
                ("name", "Stolen"),
                ("credential", &credential),
            ],
        )
        .await;

    assert_eq!(answer.field_error().0, "ceremony");
    assert!(list(&browser).await.is_empty());
}

#[tokio::test]
async fn passkeys_can_be_renamed_and_deleted_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let (owner, browser) = signed_in_user(&app, "pk-owner").await;
    let (_, other) = signed_in_user(&app, "pk-other").await;
    let added = register(&browser, &mut SoftPasskey::new(), "Phone").await;
    let id = added.id.to_string();

    let answer = other
        .call("/api/passkeys/rename", &[("id", &id), ("name", "Mine now")])
        .await;
    assert_eq!(answer.error(), AppError::NotFound);
    let answer = other.call("/api/passkeys/delete", &[("id", &id)]).await;
    assert_eq!(answer.error(), AppError::NotFound);
    assert_eq!(list(&browser).await[0].name, "Phone");

    browser
        .call(
            "/api/passkeys/rename",
            &[("id", &id), ("name", "Work phone")],
        )
        .await
        .assert_redirects_to("/account?saved=passkeys");
    assert_eq!(list(&browser).await[0].name, "Work phone");
    let answer = browser
        .call(
            "/api/passkeys/rename",
            &[("id", &id), ("name", &"x".repeat(65))],
        )
        .await;
    assert_eq!(answer.field_error().0, "name");

    browser
        .call("/api/passkeys/delete", &[("id", &id)])
        .await
        .assert_redirects_to("/account?saved=passkeys");
    assert!(list(&browser).await.is_empty());
    let actions = actions_of(&app, owner.id).await;
    assert!(actions.contains(&"user.passkey_renamed".to_string()));
    assert!(actions.contains(&"user.passkey_removed".to_string()));
}

#[tokio::test]
async fn managing_passkeys_needs_a_signed_in_user() {
    let app = TestApp::spawn().await;
    let anonymous = Browser::open(&app);

    for path in ["/api/passkeys/register_start", "/api/passkeys/list"] {
        assert_eq!(
            anonymous.call(path, &[]).await.error(),
            AppError::Unauthorized
        );
    }
}
