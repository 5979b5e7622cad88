//! Signing in with a passkey alone: the discoverable credential names its owner; challenges
//! are single-use and short-lived; origin, RP ID, owner and counter are checked.
use app::{
    domain::passkey::PasskeyCeremony,
    ssr::auth::passkeys::{CEREMONY_TTL, Kind, ceremony_key},
};
use fred::interfaces::KeysInterface as _;

use super::register;
use crate::support::{
    Answer, Browser, PUBLIC_URL, SoftPasskey, TestApp, as_auth_service, audit_of, ban_directly,
    redis_pool, redis_url, signed_in_user,
};

async fn start(browser: &Browser) -> PasskeyCeremony {
    browser.call("/api/auth/passkey_start", &[]).await.json()
}

async fn finish(browser: &Browser, ceremony: &str, credential: &str) -> Answer {
    browser
        .call(
            "/api/auth/passkey_finish",
            &[("ceremony", ceremony), ("credential", credential)],
        )
        .await
}

/// The whole sign-in in `browser`, with `key` answering at our origin.
async fn sign_in_with(browser: &Browser, key: &mut SoftPasskey) -> Answer {
    let started = start(browser).await;
    let credential = key.sign_in(PUBLIC_URL, &started.options).await;
    finish(browser, &started.ceremony, &credential).await
}

#[track_caller]
fn assert_refused(answer: &Answer) {
    assert_eq!(answer.field_error().0, "passkey", "{answer:?}");
}

async fn signed_in(browser: &Browser) -> bool {
    browser.call("/api/auth/whoami", &[]).await.json()
}

#[tokio::test]
async fn a_passkey_alone_signs_its_owner_in_with_a_fresh_session() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "pk-alone").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Laptop").await;

    let fresh = Browser::open(&app);
    let answer = sign_in_with(&fresh, &mut key).await;

    assert_eq!(answer.json::<String>(), "/account");
    assert!(signed_in(&fresh).await);
    assert_eq!(fresh.role().await, "authenticated");
    assert_ne!(fresh.session_id(), browser.session_id());
    let signed_in_entry = audit_of(&app, user.id)
        .await
        .into_iter()
        .rfind(|e| e.action == "user.signed_in")
        .unwrap();
    assert_eq!(signed_in_entry.details["via"], "passkey");
    assert_eq!(signed_in_entry.details["user_verified"], true);
    let listed: Vec<app::domain::passkey::PasskeyInfo> =
        browser.call("/api/passkeys/list", &[]).await.json();
    assert!(listed[0].last_used_at.is_some());
}

#[tokio::test]
async fn the_sign_in_options_ask_for_any_discoverable_credential_with_user_verification() {
    let app = TestApp::spawn().await;

    let started = start(&Browser::open(&app)).await;

    let options: serde_json::Value = serde_json::from_str(&started.options).unwrap();
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(options["mediation"], "conditional");
    let allowed = &options["publicKey"]["allowCredentials"];
    assert!(allowed.is_null() || allowed.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_synced_passkey_whose_counter_stays_zero_signs_in_every_time() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-synced").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Synced").await;

    for _ in 0..3 {
        let fresh = Browser::open(&app);
        assert_eq!(
            sign_in_with(&fresh, &mut key).await.json::<String>(),
            "/account"
        );
    }
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused_and_audited() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "pk-clone").await;
    let mut key = SoftPasskey::with_counter();
    register(&browser, &mut key, "Security key").await;
    for _ in 0..2 {
        sign_in_with(&Browser::open(&app), &mut key)
            .await
            .json::<String>();
    }

    // A copy of the key made before those two sign-ins.
    key.set_counter(0);
    let clone = Browser::open(&app);
    assert_refused(&sign_in_with(&clone, &mut key).await);

    assert!(!signed_in(&clone).await);
    let actions: Vec<String> = audit_of(&app, user.id)
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"user.passkey_counter_regressed".to_string()));
}

#[tokio::test]
async fn an_assertion_made_for_another_origin_is_refused() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-origin").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Laptop").await;

    let victim = Browser::open(&app);
    let started = start(&victim).await;
    let credential = key
        .sign_in_forged(PUBLIC_URL, "http://evil.example", &started.options)
        .await;
    let answer = finish(&victim, &started.ceremony, &credential).await;

    assert_refused(&answer);
    assert!(!signed_in(&victim).await);
}

#[tokio::test]
async fn an_assertion_made_for_another_rp_id_is_refused() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-rp").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Laptop").await;

    let victim = Browser::open(&app);
    let started = start(&victim).await;
    let mut options: serde_json::Value = serde_json::from_str(&started.options).unwrap();
    options["publicKey"]["rpId"] = "evil.example".into();
    // Our origin in the client data: only the RP ID the authenticator signed for is wrong.
    let credential = key
        .sign_in_forged("https://evil.example", PUBLIC_URL, &options.to_string())
        .await;
    let answer = finish(&victim, &started.ceremony, &credential).await;

    assert_refused(&answer);
    assert!(!signed_in(&victim).await);
}

#[tokio::test]
async fn a_challenge_signs_in_once_and_its_replay_is_refused() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-replay").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Laptop").await;
    let first = Browser::open(&app);
    let started = start(&first).await;
    let credential = key.sign_in(PUBLIC_URL, &started.options).await;
    assert_eq!(
        finish(&first, &started.ceremony, &credential)
            .await
            .json::<String>(),
        "/account"
    );

    let replayer = Browser::open(&app);
    let answer = finish(&replayer, &started.ceremony, &credential).await;

    assert_eq!(answer.field_error().0, "ceremony");
    assert!(!signed_in(&replayer).await);
}

#[tokio::test]
async fn a_challenge_lives_a_few_minutes_in_redis_and_is_refused_once_gone() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-expiry").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Laptop").await;
    let late = Browser::open(&app);
    let started = start(&late).await;
    let credential = key.sign_in(PUBLIC_URL, &started.options).await;

    let redis = redis_pool(&redis_url()).await;
    let redis_key = ceremony_key(Kind::SignIn, &started.ceremony);
    let ttl_ms: i64 = redis.pttl(&redis_key).await.unwrap();
    assert!(
        ttl_ms > 0 && ttl_ms <= CEREMONY_TTL.as_millis() as i64,
        "{ttl_ms}"
    );
    // What Redis does when the TTL runs out.
    let _: i64 = redis.del(&redis_key).await.unwrap();
    let answer = finish(&late, &started.ceremony, &credential).await;

    assert_eq!(answer.field_error().0, "ceremony");
    assert!(!signed_in(&late).await);
}

#[tokio::test]
async fn a_deleted_passkey_signs_nobody_in() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "pk-deleted").await;
    let mut key = SoftPasskey::new();
    let added = register(&browser, &mut key, "Lost phone").await;
    browser
        .call("/api/passkeys/delete", &[("id", &added.id.to_string())])
        .await
        .assert_redirects_to("/account?saved=passkeys");

    let finder = Browser::open(&app);
    assert_refused(&sign_in_with(&finder, &mut key).await);
    assert!(!signed_in(&finder).await);
}

#[tokio::test]
async fn a_suspended_account_cannot_sign_in_with_its_passkey() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "pk-banned").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Laptop").await;
    ban_directly(&app, user.id).await;

    let fresh = Browser::open(&app);
    let answer = sign_in_with(&fresh, &mut key).await;

    assert!(answer.field_error().1.contains("suspended"), "{answer:?}");
    assert!(!signed_in(&fresh).await);
}

#[tokio::test]
async fn a_credential_presented_under_another_users_handle_is_refused() {
    let app = TestApp::spawn().await;
    let (owner, browser) = signed_in_user(&app, "pk-mine").await;
    let (target, _) = signed_in_user(&app, "pk-target").await;
    let mut key = SoftPasskey::new();
    register(&browser, &mut key, "Mine").await;

    key.set_user_handle(target.id.as_bytes());
    let attacker = Browser::open(&app);
    assert_refused(&sign_in_with(&attacker, &mut key).await);

    assert!(!signed_in(&attacker).await);
    let failed = audit_of(&app, owner.id)
        .await
        .into_iter()
        .rfind(|e| e.action == "user.sign_in_failed")
        .unwrap();
    assert_eq!(failed.details["via"], "passkey");
}

#[tokio::test]
async fn passkey_sign_ins_count_in_the_per_address_sign_in_limit() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);

    for _ in 0..20 {
        let answer = finish(&browser, "made-up", "{}").await;
        assert_eq!(answer.field_error().0, "ceremony");
    }
    let answer = finish(&browser, "made-up", "{}").await;

    assert!(matches!(
        answer.error(),
        app::error::AppError::RateLimited { .. }
    ));
}

/// A confirmed TOTP factor, written straight into its table (enrolling one is the TOTP flow's).
async fn give_second_factor(app: &TestApp, user: uuid::Uuid) {
    let sql = "insert into auth.mfa_factors (id, user_id, friendly_name, secret, verified_at) \
               values (gen_random_uuid(), $1, 'Authenticator app', '\\x00', now())";
    assert_eq!(as_auth_service(app, sql, user).await, 1);
}

#[tokio::test]
async fn a_passkey_sign_in_is_a_fresh_aal2_that_may_add_and_delete_passkeys() {
    let app = TestApp::spawn().await;
    let (user, password_session) = signed_in_user(&app, "pk-aal2").await;
    let mut key = SoftPasskey::new();
    let added = register(&password_session, &mut key, "First").await;
    give_second_factor(&app, user.id).await;
    let id = added.id.to_string();

    // A password alone is aal1: with a second factor on the account, no adding or deleting.
    let answer = password_session
        .call("/api/passkeys/register_start", &[])
        .await;
    assert_eq!(answer.error(), app::error::AppError::StepUpRequired);
    let answer = password_session
        .call("/api/passkeys/delete", &[("id", &id)])
        .await;
    assert_eq!(answer.error(), app::error::AppError::StepUpRequired);

    let passkey_session = Browser::open(&app);
    sign_in_with(&passkey_session, &mut key)
        .await
        .json::<String>();
    passkey_session
        .call("/api/passkeys/register_start", &[])
        .await
        .json::<PasskeyCeremony>();
    passkey_session
        .call("/api/passkeys/delete", &[("id", &id)])
        .await
        .assert_redirects_to("/account?saved=passkeys");
}
