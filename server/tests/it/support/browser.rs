//! A browser for the tests: its own cookie jar and its own client address, calling server
//! functions the way a hydrated page does, and the answers it reads.
//!
//! Rate limits count per client address, in the Redis every test (and every run in the last
//! hour) shares. So each [`Browser`] connects from an address of its own in 127.0.0.0/8 (all of
//! it is loopback on Linux): the server sees a distinct peer address without trusting any
//! header, limits hit by one test never touch another, and the audit log's `ip` is checkable.
use std::{
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::Duration,
};

use app::error::AppError;
use reqwest::{
    cookie::{CookieStore as _, Jar},
    header::HeaderMap,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::{
    app::{PUBLIC_URL, TestApp},
    users::User,
};

pub const SESSION_COOKIE: &str = "palisade_session";

/// An address no other browser (of this run or a recent one) is likely to have.
pub fn fresh_loopback() -> IpAddr {
    let b = *Uuid::new_v4().as_bytes();
    IpAddr::V4(Ipv4Addr::new(127, 1 + b[0] % 254, b[1], 1 + b[2] % 254))
}

/// A browser: its own cookie jar and its own client address.
pub struct Browser {
    pub ip: IpAddr,
    pub user_agent: String,
    base: String,
    jar: Arc<Jar>,
    client: reqwest::Client,
}

/// A server function's answer, read once.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where the page goes next (`Location`).
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Where a successful server function sends the page (200 and `Location`).
    #[track_caller]
    pub fn redirect(&self) -> &str {
        assert_eq!(self.status, 200, "{self:?}");
        self.location().expect("a Location header")
    }

    /// Success, as the hydrated page sees it: 200 and the redirect hint to `to`.
    #[track_caller]
    pub fn assert_redirects_to(&self, to: &str) {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.location(), Some(to), "{self:?}");
        assert!(
            self.headers.contains_key("serverfnredirect"),
            "no redirect hint for the hydrated page: {self:?}"
        );
    }

    /// The error the server function answered with.
    #[track_caller]
    pub fn error(&self) -> AppError {
        assert_ne!(self.status, 200, "expected an error: {self:?}");
        let error: AppError = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an AppError ({e}): {self:?}"));
        assert_eq!(self.status, error.status_code(), "{self:?}");
        error
    }

    /// A 400 about one form field: `(field, message)`.
    #[track_caller]
    pub fn field_error(&self) -> (String, String) {
        match self.error() {
            AppError::Invalid {
                field: Some(field),
                message,
                ..
            } => (field, message),
            other => panic!("expected a field error, got {other:?}: {self:?}"),
        }
    }

    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        assert_eq!(self.status, 200, "{self:?}");
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    /// What a caller can observe of an answer, minus per-request noise (request id, date).
    pub fn observable(&self) -> (u16, Option<String>, bool, bool, String) {
        (
            self.status,
            self.location().map(str::to_owned),
            self.headers.contains_key("serverfnredirect"),
            self.headers.contains_key("set-cookie"),
            self.body.clone(),
        )
    }
}

impl Browser {
    pub fn open(app: &TestApp) -> Self {
        Self::open_at(app, fresh_loopback())
    }

    /// A browser connecting from `ip` (in 127.0.0.0/8).
    pub fn open_at(app: &TestApp, ip: IpAddr) -> Self {
        let user_agent = format!("palisade-it/{}", Uuid::new_v4().simple());
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .local_address(ip)
            .user_agent(user_agent.clone())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Self {
            ip,
            user_agent,
            base: app.url(""),
            jar,
            client,
        }
    }

    fn url(&self, path: &str) -> reqwest::Url {
        format!("{}{path}", self.base).parse().unwrap()
    }

    /// POSTs a server function like the hydrated page: form-encoded, same Origin.
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .header("Origin", PUBLIC_URL)
                .form(form),
        )
        .await
    }

    /// Loads a page, as following a link from an email does.
    pub async fn get(&self, path: &str) -> Answer {
        self.send(
            self.client
                .get(self.url(path))
                .header("Accept", "text/html"),
        )
        .await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("a body"),
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// A request from this browser's address, with its cookies and nothing else added.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// The session cookie's value in this browser's jar.
    pub fn session_id(&self) -> Option<String> {
        let cookies = self.jar.cookies(&self.url("/"))?;
        cookies
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .map(str::to_owned)
    }

    /// Puts a session cookie into the jar, as a page on a sibling site could plant one.
    pub fn plant_session_id(&self, id: &str) {
        self.jar
            .add_cookie_str(&format!("{SESSION_COOKIE}={id}; Path=/"), &self.url("/"));
    }

    /// The Postgres role this browser's requests run as (`anon`, `authenticated`, `admin`).
    pub async fn role(&self) -> String {
        let answer = self.call("/api/check_database", &[]).await;
        answer.json::<serde_json::Value>()["role"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> Answer {
        self.call(
            "/api/auth/sign_up",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Answer {
        self.call(
            "/api/auth/sign_in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Asks `/auth/v1/token` for a grant, as an API client at this browser's address.
    pub async fn token_grant(&self, grant_type: &str, body: serde_json::Value) -> Answer {
        let path = format!("/auth/v1/token?grant_type={grant_type}");
        self.send(self.post(&path).json(&body)).await
    }

    /// An API client's refresh token from a password grant (which must succeed).
    pub async fn api_refresh_token(&self, email: &str, password: &str) -> String {
        let body = serde_json::json!({ "email": email, "password": password });
        let granted: serde_json::Value = self.token_grant("password", body).await.json();
        granted["refresh_token"].as_str().unwrap().to_string()
    }

    /// Whether a refresh token still gets a new pair (it is spent if it does).
    pub async fn refresh_works(&self, refresh_token: &str) -> bool {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        let answer = self.token_grant("refresh_token", body).await;
        assert!(matches!(answer.status, 200 | 400), "{answer:?}");
        answer.status == 200
    }

    /// Signs in and checks that it worked.
    pub async fn signed_in_as(&self, user: &User) {
        self.sign_in(&user.email, &user.password)
            .await
            .assert_redirects_to("/account");
        assert_eq!(self.role().await, "authenticated");
    }
}

/// The role a request with exactly this session cookie (or none) runs as, from a client
/// without a jar.
pub async fn role_with_cookie(app: &TestApp, session_id: &str) -> String {
    let response = reqwest::Client::new()
        .post(app.url("/api/check_database"))
        .header("Origin", PUBLIC_URL)
        .header("Cookie", format!("{SESSION_COOKIE}={session_id}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["role"].as_str().unwrap().to_string()
}
