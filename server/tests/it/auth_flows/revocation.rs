//! Access tokens must not outlive sign-out (issue 9, item 10). An API client's unexpired access
//! token is refused on the very next request once its sign-in is over: a global sign-out, a
//! password change or reset, "sign out everywhere", a ban or a role change. The check runs in
//! Postgres inside `begin_as` (no cache in any instance), so every instance refuses it alike.
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Answer, Browser, PASSWORD, PeopleApp, Person, mail, new_password};

/// An API client of `owner` at an address of its own, with a fresh access token.
struct Client {
    browser: Browser,
    access: String,
}

impl Client {
    async fn signed_in(w: &PeopleApp, owner: &Person) -> Self {
        let browser = Browser::open(&w.app);
        let granted = browser
            .token_grant(
                "password",
                json!({ "email": owner.email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(granted.status, 200, "{granted:?}");
        let access = granted.json::<Value>()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let client = Self { browser, access };
        client.assert_accepted().await;
        client
    }

    async fn with_token(&self, method: Method, path: &str) -> Answer {
        self.browser
            .send(self.browser.request(method, path).bearer_auth(&self.access))
            .await
    }

    async fn assert_accepted(&self) {
        let me = self.with_token(Method::GET, "/auth/v1/user").await;
        assert_eq!(me.status, 200, "{me:?}");
        let status = self.with_token(Method::POST, "/api/check_database").await;
        assert_eq!(status.status, 200, "{status:?}");
        let sessions = self.with_token(Method::POST, "/api/account/sessions").await;
        assert_eq!(sessions.status, 200, "{sessions:?}");
    }

    /// Refused by `/auth/v1/user` (OAuth's `invalid_token`) and by a server function (the
    /// app's 401), on the very next request.
    async fn assert_refused(&self) {
        let me = self.with_token(Method::GET, "/auth/v1/user").await;
        assert_eq!(me.status, 401, "{me:?}");
        let body: Value = serde_json::from_str(&me.body).unwrap();
        assert_eq!(body["error"], "invalid_token", "{body}");
        let status = self.with_token(Method::POST, "/api/check_database").await;
        assert_eq!(status.status, 401, "{status:?}");
        assert_eq!(
            status.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert_eq!(
            status.error(),
            app::error::AppError::Unauthorized,
            "the one error shape"
        );
        // Also where the server function reads only Redis (the user's session list).
        let sessions = self.with_token(Method::POST, "/api/account/sessions").await;
        assert_eq!(sessions.error(), app::error::AppError::Unauthorized);
    }
}

#[tokio::test]
async fn a_global_api_sign_out_refuses_every_access_token_of_the_user_at_once() {
    let w = PeopleApp::new().await;
    let owner = w.user("global").await;
    let (a, b) = (
        Client::signed_in(&w, &owner).await,
        Client::signed_in(&w, &owner).await,
    );

    let out = a
        .with_token(Method::POST, "/auth/v1/logout?scope=global")
        .await;
    assert_eq!(out.status, 204, "{out:?}");

    a.assert_refused().await;
    b.assert_refused().await;
}

#[tokio::test]
async fn a_local_api_sign_out_refuses_that_access_token_only() {
    let w = PeopleApp::new().await;
    let owner = w.user("local").await;
    let (a, b) = (
        Client::signed_in(&w, &owner).await,
        Client::signed_in(&w, &owner).await,
    );

    let out = a.with_token(Method::POST, "/auth/v1/logout").await;
    assert_eq!(out.status, 204, "{out:?}");

    a.assert_refused().await;
    b.assert_accepted().await;
}

#[tokio::test]
async fn a_password_change_refuses_old_access_tokens() {
    let w = PeopleApp::new().await;
    let owner = w.user("changer").await;
    let client = Client::signed_in(&w, &owner).await;

    owner.change_password().await;

    client.assert_refused().await;
}

#[tokio::test]
async fn a_password_reset_refuses_old_access_tokens() {
    let w = PeopleApp::new().await;
    let owner = w.user("resetter").await;
    let client = Client::signed_in(&w, &owner).await;

    let mailer = Browser::open(&w.app);
    mailer
        .call("/api/auth/forgot", &[("email", &owner.email)])
        .await
        .assert_redirects_to("/forgot?sent=1");
    let token = mail::latest(&w.app.pool, &owner.email, "reset_password")
        .await
        .token();
    mailer
        .call(
            "/api/auth/reset",
            &[("token", &token), ("password", &new_password())],
        )
        .await
        .assert_redirects_to("/signin?reset=1");

    client.assert_refused().await;
}

#[tokio::test]
async fn signing_out_everywhere_refuses_old_access_tokens() {
    let w = PeopleApp::new().await;
    let owner = w.user("everywhere").await;
    let client = Client::signed_in(&w, &owner).await;

    owner
        .call("/api/account/revoke", &[("which", "others")])
        .await
        .assert_redirects_to("/account?saved=sessions");

    client.assert_refused().await;
}

#[tokio::test]
async fn a_ban_refuses_old_access_tokens_even_after_the_unban() {
    let w = PeopleApp::new().await;
    let admin = w.admin("banner").await;
    let owner = w.user("banned").await;
    let client = Client::signed_in(&w, &owner).await;
    let id = owner.id.to_string();

    admin.ban(&id, "1d").await;
    admin.unban(&id).await;

    client.assert_refused().await;
}

#[tokio::test]
async fn a_role_change_refuses_old_access_tokens() {
    let w = PeopleApp::new().await;
    let admin = w.admin("demoter").await;
    let owner = w.user("promoted").await;
    let client = Client::signed_in(&w, &owner).await;
    let id = owner.id.to_string();

    admin.set_role(&id, "admin").await;

    client.assert_refused().await;
}
