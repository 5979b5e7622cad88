//! Sign-in and sign-out: identical refusals, session ids that change, bans, rate limits and
//! cross-site posts. Where sign-in redirects to is in `redirects`.
use std::time::Duration;

use app::error::AppError;
use fred::interfaces::KeysInterface as _;

use crate::support::{
    Answer, Browser, PUBLIC_URL, TestApp, actions_of, ban_directly, incorrect_credentials,
    new_email, redis_pool, redis_url, role_with_cookie, signed_in_user, user_id, verified_user,
};

#[track_caller]
fn assert_incorrect(answer: &Answer) {
    assert_eq!(answer.error(), incorrect_credentials());
}

async fn session_exists(id: &str) -> bool {
    let redis = redis_pool(&redis_url()).await;
    redis.exists::<i64, _>(id).await.unwrap() == 1
}

/// A well-formed session id (tower-sessions: 128 bits, base64url) that names nothing.
fn made_up_session_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    hex.bytes()
        .take(22)
        .map(|b| alphabet[usize::from(b) % 64] as char)
        .collect()
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_answer_exactly_alike() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "alike").await;

    let wrong = browser.sign_in(&user.email, "Not-The-Password-42").await;
    let unknown = browser
        .sign_in(&new_email("ghost"), "Not-The-Password-42")
        .await;
    assert_incorrect(&wrong);
    assert_eq!(wrong.observable(), unknown.observable());
    assert!(browser.session_id().is_none());
    assert_eq!(browser.role().await, "anon");
}

#[tokio::test]
async fn signing_in_gives_a_fresh_session_id_and_the_one_before_is_dead() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "fixation").await;

    // An id planted before sign-in (session fixation) is never adopted.
    let planted = made_up_session_id();
    browser.plant_session_id(&planted);
    browser.signed_in_as(&user).await;
    let first = browser.session_id().expect("a session cookie");
    assert_ne!(first, planted);
    assert_eq!(role_with_cookie(&app, &planted).await, "anon");
    assert_eq!(role_with_cookie(&app, &first).await, "authenticated");

    // Signing in again over a live session replaces it: the earlier id stops working.
    browser.signed_in_as(&user).await;
    let second = browser.session_id().unwrap();
    assert_ne!(second, first);
    assert_eq!(role_with_cookie(&app, &first).await, "anon");
    assert!(!session_exists(&first).await, "the old record is deleted");
    assert_eq!(role_with_cookie(&app, &second).await, "authenticated");
}

#[tokio::test]
async fn signing_out_deletes_the_session_in_redis() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "leaver").await;
    let id = browser.session_id().unwrap();
    assert!(session_exists(&id).await);
    assert!(browser.call("/api/auth/whoami", &[]).await.json::<bool>());

    browser
        .call("/api/auth/sign_out", &[])
        .await
        .assert_redirects_to("/");

    assert!(!session_exists(&id).await);
    assert_eq!(role_with_cookie(&app, &id).await, "anon");
    assert!(browser.session_id().is_none(), "the cookie was cleared");
    assert!(!browser.call("/api/auth/whoami", &[]).await.json::<bool>());
    // Signing out again is harmless.
    browser
        .call("/api/auth/sign_out", &[])
        .await
        .assert_redirects_to("/");
}

#[tokio::test]
async fn a_banned_user_cannot_sign_in_and_a_signed_in_one_is_anonymous_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "banned").await;
    ban_directly(&app, user.id).await;

    assert_eq!(browser.role().await, "anon");
    assert_eq!(
        browser.call("/api/account/get", &[]).await.error(),
        AppError::Unauthorized
    );
    // The session survived here (the ban did not go through the admin action that ends them):
    // with the right password it still cannot change the account.
    let new = "Another-Long-Passphrase-77";
    let forms: [(&str, &[(&str, &str)]); 3] = [
        (
            "/api/account/password",
            &[("current_password", &user.password), ("new_password", new)],
        ),
        (
            "/api/account/email",
            &[
                ("new_email", "escape@flows.test"),
                ("password", &user.password),
            ],
        ),
        ("/api/account/delete", &[("password", &user.password)]),
    ];
    for (path, form) in forms {
        assert_eq!(
            browser.call(path, form).await.error(),
            AppError::Unauthorized,
            "{path}"
        );
    }
    assert_eq!(user_id(&app, &user.email).await, Some(user.id));

    let elsewhere = Browser::open(&app);
    let (field, message) = elsewhere
        .sign_in(&user.email, &user.password)
        .await
        .field_error();
    assert_eq!(field, "email");
    assert!(
        message.starts_with("This account is suspended."),
        "{message}"
    );
    assert!(elsewhere.session_id().is_none());
    // A wrong password says nothing about the ban.
    assert_incorrect(&elsewhere.sign_in(&user.email, "Not-The-Password-42").await);
    assert!(
        actions_of(&app, user.id)
            .await
            .contains(&"user.sign_in_refused_banned".to_string())
    );
}

#[tokio::test]
async fn too_many_sign_ins_from_one_address_are_refused_with_retry_after() {
    let app = TestApp::spawn().await;
    let owner = Browser::open(&app);
    let user = verified_user(&app, &owner, "stuffed").await;
    let attacker = Browser::open(&app);

    // One address trying many accounts: 20 attempts per 5 minutes, whatever their outcome.
    // (Mostly empty passwords, refused before any hashing: argon2 is slow in debug builds.)
    for i in 0..20 {
        let email = new_email("list");
        if i % 10 == 0 {
            assert_incorrect(&attacker.sign_in(&email, "Summer-2024-Password").await);
        } else {
            let (field, _) = attacker.sign_in(&email, "").await.field_error();
            assert_eq!(field, "password");
        }
    }
    let limited = attacker.sign_in(&user.email, &user.password).await;
    assert_eq!(
        limited.status, 429,
        "even with the right password: {limited:?}"
    );
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "retry after {wait}");
    let error = limited.error();
    assert_eq!(
        error,
        AppError::RateLimited {
            retry_after_secs: wait
        }
    );
    assert_eq!(
        error.to_string(),
        format!("Too many attempts. Please wait {wait} seconds and try again.")
    );
    assert!(attacker.session_id().is_none());

    // Another address is not affected.
    owner.signed_in_as(&user).await;
}

#[tokio::test]
async fn wrong_passwords_for_one_account_back_off_from_that_address_only() {
    let app = TestApp::spawn().await;
    let owner = Browser::open(&app);
    let user = verified_user(&app, &owner, "guessed").await;
    let guesser = Browser::open(&app);

    // Five failures are free; after the sixth, this address waits 2 s for this account.
    for _ in 0..6 {
        assert_incorrect(&guesser.sign_in(&user.email, "Guess-Number-One").await);
    }
    let limited = guesser.sign_in(&user.email, &user.password).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "retry after {wait}");
    assert!(
        limited
            .error()
            .to_string()
            .starts_with("Too many attempts.")
    );

    // The owner, elsewhere, is not slowed down.
    owner.signed_in_as(&user).await;
    // Once the wait is over, the right password works from the guesser's address too.
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 300)).await;
    guesser.signed_in_as(&user).await;
}

#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused_and_starts_no_session() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "csrf").await;
    let form = [
        ("email", user.email.as_str()),
        ("password", user.password.as_str()),
    ];

    let foreign = browser
        .send(
            browser
                .post("/api/auth/sign_in")
                .header("Origin", "https://evil.example")
                .form(&form),
        )
        .await;
    assert_eq!(foreign.status, 403, "{foreign:?}");
    assert_eq!(foreign.body, "Cross-site requests are not allowed.");
    assert!(!foreign.headers.contains_key("set-cookie"));
    // Browsers that send Sec-Fetch-Site are judged by it.
    let cross_site = browser
        .send(
            browser
                .post("/api/auth/sign_in")
                .header("Origin", PUBLIC_URL)
                .header("Sec-Fetch-Site", "cross-site")
                .form(&form),
        )
        .await;
    assert_eq!(cross_site.status, 403, "{cross_site:?}");

    assert!(browser.session_id().is_none());
    assert_eq!(browser.role().await, "anon");
    let actions = actions_of(&app, user.id).await;
    assert_eq!(
        actions,
        ["user.signed_up", "user.email_verified"],
        "the flow never ran"
    );
    // The same request from the app's own page works.
    browser.signed_in_as(&user).await;
}
