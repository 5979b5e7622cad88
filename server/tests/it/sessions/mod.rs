//! Browser sessions against the real Redis: the session API (establish, rotate, end, list,
//! revoke) called directly, and the session layer seen through HTTP (which role a request with
//! that cookie runs as).
mod assurance;
mod index;
mod lifetime;

use std::{sync::Arc, time::Duration};

use app::ssr::{
    auth::{Caller, sessions},
    db::{ServiceRole, begin_service},
    settings::AuthSettings,
};
use fred::{
    clients::Pool,
    interfaces::{HashesInterface as _, KeysInterface as _},
};
use tower_sessions::{Expiry, Session, cookie::time::OffsetDateTime};
use tower_sessions_redis_store::RedisStore;
use uuid::Uuid;

use crate::support::{
    Overrides, PUBLIC_URL, Proxy, TestApp, addr_of, redis_pool, redis_url, through,
};

fn settings() -> AuthSettings {
    AuthSettings::for_public_url(PUBLIC_URL)
}

/// A session as the session layer would hand it to a handler: no cookie yet.
fn fresh_session(redis: &Pool) -> Session {
    Session::new(None, Arc::new(RedisStore::new(redis.clone())), None)
}

/// The session a later request with this cookie would see.
fn session_from_cookie(redis: &Pool, id: &str) -> Session {
    Session::new(
        Some(id.parse().expect("a session id")),
        Arc::new(RedisStore::new(redis.clone())),
        None,
    )
}

fn id_of(session: &Session) -> String {
    session.id().expect("a saved session has an id").to_string()
}

fn chrome_on_linux() -> Caller {
    Caller {
        ip: Some("203.0.113.5".parse().unwrap()),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/126.0.0.0 Safari/537.36"
                .into(),
        ),
    }
}

async fn create_user(app: &TestApp) -> Uuid {
    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    let email = format!("u{}@example.com", Uuid::new_v4().simple());
    let id = sqlx::query_scalar(
        "insert into auth.users (email, password_hash) values ($1, 'x') returning id",
    )
    .bind(email)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Signs `user` in on a fresh session, as the sign-in flow does; returns the session.
async fn signed_in(redis: &Pool, user: Uuid, client: &Caller) -> Session {
    let session = fresh_session(redis);
    sessions::establish(
        &session,
        redis,
        &settings(),
        user,
        client,
        vec![app::domain::assurance::AuthMethod::now("password")],
    )
    .await
    .expect("establish");
    session
}

fn cookie(id: &str) -> String {
    format!("{}={id}", settings().session_cookie_name())
}

/// POSTs the status server function with this session cookie (or none).
async fn call_with(app: &TestApp, session_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/check_database"))
        .header("Origin", PUBLIC_URL)
        .timeout(Duration::from_secs(10));
    if let Some(id) = session_id {
        request = request.header("Cookie", cookie(id));
    }
    request.send().await.expect("POST /api/check_database")
}

/// The Postgres role a request with this cookie runs as: `authenticated` or `anon`.
async fn role_with(app: &TestApp, session_id: Option<&str>) -> String {
    let response = call_with(app, session_id).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["role"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_session_cookie_makes_requests_authenticated() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let session = signed_in(&redis, user, &chrome_on_linux()).await;

    assert_eq!(
        role_with(&app, Some(&id_of(&session))).await,
        "authenticated"
    );
    assert_eq!(role_with(&app, None).await, "anon");
    // A well-formed id that names no session, and garbage, are both just anonymous.
    assert_eq!(
        role_with(&app, Some("AAAAAAAAAAAAAAAAAAAAAA")).await,
        "anon"
    );
    assert_eq!(role_with(&app, Some("not-a-session")).await, "anon");
}

#[tokio::test]
async fn signing_out_ends_the_session_for_that_cookie() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let session = signed_in(&redis, user, &chrome_on_linux()).await;
    let id = id_of(&session);
    assert_eq!(role_with(&app, Some(&id)).await, "authenticated");

    // Sign-out happens on a later request, with the session loaded from the cookie.
    let later = session_from_cookie(&redis, &id);
    sessions::end(&later, &redis).await.unwrap();

    assert_eq!(role_with(&app, Some(&id)).await, "anon");
    assert_eq!(redis.exists::<i64, _>(&id).await.unwrap(), 0);
    assert!(sessions::list(&redis, user, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn while_redis_is_down_a_session_cookie_gets_a_503_page_and_anonymous_pages_still_work() {
    let proxy = Proxy::start(addr_of(&redis_url())).await;
    let app = TestApp::spawn_with(Overrides {
        redis_url: Some(through(&redis_url(), proxy.addr)),
        ..Default::default()
    })
    .await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let id = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);
    assert_eq!(role_with(&app, Some(&id)).await, "authenticated");

    proxy.cut();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let page = client
        .get(app.url("/"))
        .header("Cookie", cookie(&id))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(page.status(), 503);
    assert_eq!(page.headers()["retry-after"], "5");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = page.text().await.unwrap();
    assert!(
        body.contains("We can't reach our session store right now. Please try again in a moment."),
        "{body}"
    );

    let api = call_with(&app, Some(&id)).await;
    assert_eq!(api.status(), 503);
    assert_eq!(api.headers()["retry-after"], "5");
    let error: app::error::AppError = api.json().await.unwrap();
    assert_eq!(error, app::error::AppError::Unavailable);

    let anonymous = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(anonymous.status(), 200, "no cookie, no Redis needed");

    // The cookie was kept: once Redis is back, the user is still signed in.
    proxy.restore();
    let mut role = String::new();
    for _ in 0..50 {
        let response = call_with(&app, Some(&id)).await;
        if response.status() == 200 {
            role = response.json::<serde_json::Value>().await.unwrap()["role"]
                .as_str()
                .unwrap()
                .to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(role, "authenticated");
}
