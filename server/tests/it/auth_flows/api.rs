//! API clients (`/auth/v1`): a password grant gives a short-lived access token (JWT) and a
//! refresh token; the access token works on the same server functions, as that user; refresh
//! tokens rotate, a reused one ends its family; sign-out, password change and bans end them.
use std::time::Duration;

use app::ssr::auth::jwt::JwtKeys;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Answer, Browser, PUBLIC_URL, TestApp, User, actions_of, audit_of, ban_directly, new_email,
    new_password, signed_in_user, verified_user,
};

/// An API client: a browser's address (so rate limits stay per test), no cookies used.
struct Client<'a> {
    browser: &'a Browser,
}

impl Client<'_> {
    async fn grant(&self, grant_type: &str, body: Value) -> Answer {
        self.browser.token_grant(grant_type, body).await
    }

    async fn password(&self, user: &User) -> Answer {
        self.grant(
            "password",
            json!({ "email": user.email, "password": user.password }),
        )
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> Answer {
        self.grant("refresh_token", json!({ "refresh_token": refresh_token }))
            .await
    }

    async fn with_token(&self, method: Method, path: &str, token: &str) -> Answer {
        self.browser
            .send(self.browser.request(method, path).bearer_auth(token))
            .await
    }

    /// The Postgres role a server function runs as with this access token.
    async fn role(&self, token: &str) -> String {
        let answer = self
            .with_token(Method::POST, "/api/check_database", token)
            .await;
        answer.json::<Value>()["role"].as_str().unwrap().to_string()
    }
}

/// The `error` code of an OAuth-style error answer, checking its status.
#[track_caller]
fn oauth_error(answer: &Answer, status: u16) -> String {
    assert_eq!(answer.status, status, "{answer:?}");
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    body["error"].as_str().unwrap().to_string()
}

#[track_caller]
fn tokens(answer: &Answer) -> (String, String) {
    let body: Value = answer.json();
    (
        body["access_token"].as_str().unwrap().to_string(),
        body["refresh_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn api_clients_sign_in_refresh_and_call_server_functions_as_the_user() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "api").await;
    let api = Client {
        browser: &Browser::open(&app),
    };

    let granted = api.password(&user).await;
    assert_eq!(granted.header("cache-control"), Some("no-store"));
    assert!(
        granted.header("set-cookie").is_none(),
        "no cookie for API clients"
    );
    let body: Value = granted.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], user.id.to_string());
    let (access, refresh) = tokens(&granted);

    let me = api.with_token(Method::GET, "/auth/v1/user", &access).await;
    let me: Value = me.json();
    assert_eq!(me["email"], user.email.as_str());
    assert_eq!(me["role"], "authenticated");
    // The same server functions the pages use, as this user, through begin_as and RLS.
    assert_eq!(api.role(&access).await, "authenticated");
    let account = api
        .with_token(Method::POST, "/api/account/get", &access)
        .await;
    assert_eq!(account.json::<Value>()["email"], user.email.as_str());

    // OAuth 2 clients send a form, with grant_type in it and the email as `username`.
    let form = api
        .browser
        .send(api.browser.post("/auth/v1/token").form(&[
            ("grant_type", "password"),
            ("username", user.email.as_str()),
            ("password", user.password.as_str()),
        ]))
        .await;
    let (access_form, _) = tokens(&form);
    assert_eq!(api.role(&access_form).await, "authenticated");

    // A refresh gives a new pair; both tokens are new and the new access token works.
    let refreshed = api.refresh(&refresh).await;
    let (access2, refresh2) = tokens(&refreshed);
    assert_ne!(refresh2, refresh);
    assert_eq!(api.role(&access2).await, "authenticated");

    // The browser's own session is untouched, and the sign-in is in the audit log as an API one.
    assert_eq!(browser.role().await, "authenticated");
    let via: Vec<Value> = audit_of(&app, user.id)
        .await
        .into_iter()
        .filter(|e| e.action == "user.signed_in")
        .map(|e| e.details["via"].clone())
        .collect();
    assert_eq!(via, [json!("browser"), json!("api"), json!("api")]);
}

#[tokio::test]
async fn refused_grants_say_why_without_telling_who_has_an_account() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "refused").await;
    let api = Client { browser: &browser };

    let wrong = api
        .grant(
            "password",
            json!({ "email": user.email, "password": "Not-The-Password-42" }),
        )
        .await;
    let unknown = api
        .grant(
            "password",
            json!({ "email": new_email("nobody"), "password": "Not-The-Password-42" }),
        )
        .await;
    assert_eq!(oauth_error(&wrong, 400), "invalid_grant");
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));

    // Right password, address not confirmed yet.
    let (email, password) = (new_email("unconfirmed"), new_password());
    browser
        .sign_up(&email, &password)
        .await
        .assert_redirects_to("/signup/done");
    let unconfirmed = api
        .grant("password", json!({ "email": email, "password": password }))
        .await;
    assert_eq!(oauth_error(&unconfirmed, 400), "email_not_confirmed");

    let no_grant = api.grant("client_credentials", json!({})).await;
    assert_eq!(oauth_error(&no_grant, 400), "unsupported_grant_type");
    let not_json = browser
        .send(
            browser
                .post("/auth/v1/token?grant_type=password")
                .body("email=a&password=b"),
        )
        .await;
    assert_eq!(oauth_error(&not_json, 400), "invalid_request");
    let empty = api.refresh("").await;
    assert_eq!(oauth_error(&empty, 400), "invalid_grant");
    let made_up = api.refresh("bm90IGEgcmVhbCB0b2tlbg").await;
    assert_eq!(oauth_error(&made_up, 400), "invalid_grant");

    // Guessing refresh tokens from one address stops at the limit (two were used above).
    let limit = app::ssr::auth::ratelimit::REFRESH_PER_IP.max;
    for _ in 2..limit {
        assert_eq!(api.refresh("guess").await.status, 400);
    }
    let limited = api.refresh("guess").await;
    assert_eq!(oauth_error(&limited, 429), "over_request_rate_limit");
    assert!(limited.header("retry-after").is_some());
}

#[tokio::test]
async fn a_reused_refresh_token_ends_its_family_and_only_that_one() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "reuse").await;
    let api = Client { browser: &browser };
    let (_, first) = tokens(&api.password(&user).await);
    let (_, other_family) = tokens(&api.password(&user).await);

    let (_, second) = tokens(&api.refresh(&first).await);
    let (_, third) = tokens(&api.refresh(&second).await);
    // The first token again after its successor was spent: somebody kept a copy. Its family
    // ends, the newest token included.
    assert_eq!(
        oauth_error(&api.refresh(&first).await, 400),
        "invalid_grant"
    );
    assert_eq!(
        oauth_error(&api.refresh(&third).await, 400),
        "invalid_grant"
    );
    assert!(
        actions_of(&app, user.id)
            .await
            .contains(&"token.reuse_detected".to_string())
    );
    // The user's other sign-in carries on.
    assert_eq!(api.refresh(&other_family).await.status, 200);
}

#[tokio::test]
async fn racing_refreshes_with_one_token_all_get_the_same_successor() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "race").await;
    let api = Client { browser: &browser };
    let (_, first) = tokens(&api.password(&user).await);

    // Two tabs (or a retry of a lost answer) refresh with the same token at once.
    let answers = tokio::join!(
        api.refresh(&first),
        api.refresh(&first),
        api.refresh(&first),
        api.refresh(&first)
    );
    let successors: Vec<String> = [answers.0, answers.1, answers.2, answers.3]
        .iter()
        .map(|a| tokens(a).1)
        .collect();
    assert!(
        successors.iter().all(|s| s == &successors[0]),
        "{successors:?}"
    );
    assert_ne!(successors[0], first);
    assert!(
        !actions_of(&app, user.id)
            .await
            .contains(&"token.reuse_detected".to_string())
    );
    // The shared successor works once, and the sign-in carries on.
    let (access, _) = tokens(&api.refresh(&successors[0]).await);
    assert_eq!(api.role(&access).await, "authenticated");

    // Signed out meanwhile: the first token gets nothing back, not even inside the window.
    let (access_b, second_family) = tokens(&api.password(&user).await);
    let (_, successor_b) = tokens(&api.refresh(&second_family).await);
    let out = api
        .with_token(Method::POST, "/auth/v1/logout", &access_b)
        .await;
    assert_eq!(out.status, 204);
    for token in [&second_family, &successor_b] {
        assert_eq!(oauth_error(&api.refresh(token).await, 400), "invalid_grant");
    }
}

#[tokio::test]
async fn forged_expired_or_missing_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "forged").await;
    let api = Client { browser: &browser };
    let (access, _) = tokens(&api.password(&user).await);

    // Signed with another secret; issued for another site; signed right but expired.
    let other_secret = JwtKeys::new(
        "someone-elses-secret-0000000000000000",
        PUBLIC_URL,
        Duration::from_secs(900),
    );
    let other_site = JwtKeys::new(
        crate::support::SECRET,
        "https://elsewhere.example",
        Duration::from_secs(900),
    );
    let session = uuid::Uuid::new_v4();
    let forged = [
        other_secret.issue(user.id, &user.email, session).unwrap().0,
        other_site.issue(user.id, &user.email, session).unwrap().0,
        format!("{access}x"),
        "not-a-token".to_string(),
    ];
    for token in &forged {
        let answer = api.with_token(Method::GET, "/auth/v1/user", token).await;
        assert_eq!(oauth_error(&answer, 401), "invalid_token", "{token}");
        assert_eq!(
            answer.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
        // Server functions too: refused, not served as anonymous.
        let call = api
            .with_token(Method::POST, "/api/check_database", token)
            .await;
        assert_eq!(call.status, 401, "{token}");
    }
    let bare = browser
        .send(browser.request(Method::GET, "/auth/v1/user"))
        .await;
    assert_eq!(oauth_error(&bare, 401), "invalid_token");
    assert_eq!(
        oauth_error(
            &api.with_token(Method::POST, "/auth/v1/logout", &forged[0])
                .await,
            401
        ),
        "invalid_token"
    );
}

#[tokio::test]
async fn sign_out_password_change_and_ban_end_refresh_tokens() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "ended").await;
    let api = Client { browser: &browser };

    // Sign-out (local) ends that sign-in only; global ends them all.
    let (access_a, refresh_a) = tokens(&api.password(&user).await);
    let (access_b, refresh_b) = tokens(&api.password(&user).await);
    let out = api
        .with_token(Method::POST, "/auth/v1/logout", &access_a)
        .await;
    assert_eq!(out.status, 204, "{out:?}");
    assert_eq!(
        oauth_error(&api.refresh(&refresh_a).await, 400),
        "invalid_grant"
    );
    let (_, refresh_b) = tokens(&api.refresh(&refresh_b).await);
    let bad_scope = api
        .with_token(Method::POST, "/auth/v1/logout?scope=everything", &access_b)
        .await;
    assert_eq!(oauth_error(&bad_scope, 400), "invalid_request");
    let (_, refresh_c) = tokens(&api.password(&user).await);
    let out = api
        .with_token(Method::POST, "/auth/v1/logout?scope=global", &access_b)
        .await;
    assert_eq!(out.status, 204);
    for token in [&refresh_b, &refresh_c] {
        assert_eq!(oauth_error(&api.refresh(token).await, 400), "invalid_grant");
    }
    // Global means everywhere, as in Supabase: the browser's session ended too.
    assert_eq!(browser.role().await, "anon");
    browser.signed_in_as(&user).await;

    // A password change (in the browser) ends every API sign-in.
    let (_, refresh_d) = tokens(&api.password(&user).await);
    let new = new_password();
    browser
        .call(
            "/api/account/password",
            &[("current_password", &user.password), ("new_password", &new)],
        )
        .await
        .location()
        .expect("changed");
    assert_eq!(
        oauth_error(&api.refresh(&refresh_d).await, 400),
        "invalid_grant"
    );
    let user = User {
        password: new,
        ..user
    };

    // A ban: the unexpired access token gets nothing (the database makes it anon), and the
    // refresh token is refused.
    let (access_e, refresh_e) = tokens(&api.password(&user).await);
    ban_directly(&app, user.id).await;
    assert_eq!(api.role(&access_e).await, "anon");
    let me = api
        .with_token(Method::GET, "/auth/v1/user", &access_e)
        .await;
    assert_eq!(oauth_error(&me, 401), "invalid_token");
    assert_eq!(
        oauth_error(&api.refresh(&refresh_e).await, 400),
        "invalid_grant"
    );
}

#[tokio::test]
async fn successful_password_grants_count_against_the_sign_in_limit_of_the_address() {
    let app = TestApp::spawn().await;
    let script = Browser::open(&app);
    let user = verified_user(&app, &script, "script").await;
    for _ in 0..app::ssr::auth::ratelimit::SIGN_IN_PER_IP.max {
        script.api_refresh_token(&user.email, &user.password).await;
    }
    let body = serde_json::json!({ "email": user.email, "password": user.password });
    let refused = script.token_grant("password", body).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    let error: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(error["error"], "over_request_rate_limit");
}
