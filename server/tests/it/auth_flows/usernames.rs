//! The username a sign-up gets is public (every post shows it): it must say nothing about the
//! account's email address.
use serde_json::Value;

use crate::support::{Browser, TestApp, signed_in_user};

#[tokio::test]
async fn a_new_accounts_public_name_reveals_nothing_of_its_email_address() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "secret.name").await;
    assert!(user.email.starts_with("secret.name-"), "{}", user.email);

    let account: Value = browser.call("/api/account/get", &[]).await.json();
    let username = account["username"].as_str().expect("a username").to_owned();
    assert!(!username.contains("secret"), "{username}");
    assert!(
        regex_like_handle(&username),
        "a random handle, not a name: {username}"
    );

    let created = browser
        .call(
            "/api/posts/create",
            &[("title", "Hello"), ("body", "Hi."), ("intent", "publish")],
        )
        .await;
    let to = created.redirect().to_owned();
    let slug = to
        .strip_prefix("/posts/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("redirected to {to}"));

    // What anyone can read: the post as JSON, its page, the list and the home page.
    let anon = Browser::open(&app);
    let post = anon.call("/api/posts/get", &[("slug", slug)]).await;
    let view: Value = post.json();
    assert_eq!(view["post"]["author"]["username"], username.as_str());
    let list = anon.call("/api/posts/list", &[]).await;
    for answer in [
        post,
        list,
        anon.get(&format!("/posts/{slug}")).await,
        anon.get("/posts").await,
        anon.get("/").await,
    ] {
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(
            !answer.body.contains("secret"),
            "the email's local part is public: {}",
            answer.body
        );
    }
}

/// `user_` and hex digits, as the sign-up trigger makes them.
fn regex_like_handle(name: &str) -> bool {
    name.strip_prefix("user_")
        .is_some_and(|rest| rest.len() >= 8 && rest.chars().all(|c| c.is_ascii_hexdigit()))
}
