//! Browser sessions against the real Redis: the session API (establish, rotate, end, list,
//! revoke) called directly, and the session layer seen through HTTP (which role a request with
//! that cookie runs as).
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
    sessions::establish(&session, redis, &settings(), user, client)
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
async fn revoked_sessions_are_signed_out_and_the_others_are_not() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let laptop = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);
    let phone = id_of(&signed_in(&redis, user, &Caller::default()).await);
    let tablet = id_of(&signed_in(&redis, user, &Caller::default()).await);

    let listed = sessions::list(&redis, user, Some(&laptop)).await.unwrap();
    assert_eq!(listed.len(), 3);
    let phone_handle = sessions::handle_of(&phone);
    assert!(listed.iter().any(|s| s.id == phone_handle));

    assert!(sessions::revoke(&redis, user, &phone_handle).await.unwrap());
    assert!(!sessions::revoke(&redis, user, &phone_handle).await.unwrap());
    assert!(
        !sessions::revoke(&redis, user, "no-such-handle")
            .await
            .unwrap()
    );
    // Another user cannot revoke this user's session with its handle.
    let other = Uuid::new_v4();
    let laptop_handle = sessions::handle_of(&laptop);
    assert!(
        !sessions::revoke(&redis, other, &laptop_handle)
            .await
            .unwrap()
    );
    assert_eq!(role_with(&app, Some(&phone)).await, "anon");
    assert_eq!(role_with(&app, Some(&laptop)).await, "authenticated");

    // "Sign out everywhere else", then everywhere.
    let ended = sessions::revoke_all(&redis, user, Some(&laptop))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert_eq!(role_with(&app, Some(&tablet)).await, "anon");
    assert_eq!(role_with(&app, Some(&laptop)).await, "authenticated");
    assert_eq!(sessions::revoke_all(&redis, user, None).await.unwrap(), 1);
    assert_eq!(role_with(&app, Some(&laptop)).await, "anon");
    assert!(sessions::list(&redis, user, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_user_has_at_most_fifty_sessions_and_a_new_one_signs_out_the_least_recently_used() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(id_of(&signed_in(&redis, user, &Caller::default()).await));
    }
    assert_eq!(sessions::list(&redis, user, None).await.unwrap().len(), 50);

    // One of them, not the oldest, has not been used for three days.
    let idle = ids[7].clone();
    let index = format!("palisade:v1:user_sessions:{user}");
    let entry: String = redis.hget(&index, &idle).await.unwrap();
    let mut entry: serde_json::Value = serde_json::from_str(&entry).unwrap();
    entry["seen"] = (chrono::Utc::now().timestamp() - 3 * 24 * 3600).into();
    let _: i64 = redis
        .hset(&index, (idle.as_str(), entry.to_string()))
        .await
        .unwrap();

    let newest = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);
    let listed = sessions::list(&redis, user, None).await.unwrap();
    assert_eq!(listed.len(), 50);
    assert!(listed.iter().any(|s| s.id == sessions::handle_of(&newest)));
    assert!(listed.iter().all(|s| s.id != sessions::handle_of(&idle)));
    assert_eq!(
        redis.exists::<i64, _>(&idle).await.unwrap(),
        0,
        "record deleted"
    );
    assert_eq!(role_with(&app, Some(&idle)).await, "anon");
    assert_eq!(role_with(&app, Some(&newest)).await, "authenticated");
    assert_eq!(role_with(&app, Some(&ids[0])).await, "authenticated");

    // And so on for every further sign-in; the one signing in always gets in.
    let another = id_of(&signed_in(&redis, user, &Caller::default()).await);
    let listed = sessions::list(&redis, user, None).await.unwrap();
    assert_eq!(listed.len(), 50);
    assert_eq!(role_with(&app, Some(&another)).await, "authenticated");
}

#[tokio::test]
async fn an_idle_session_is_signed_out_and_deleted() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let id = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);

    // Eight days without a request (the idle limit is seven); the record itself is kept alive
    // so that only the session layer's check can end it.
    let session = session_from_cookie(&redis, &id);
    let mut data: serde_json::Value = session.get(sessions::DATA_KEY).await.unwrap().unwrap();
    let eight_days_ago = chrono::Utc::now().timestamp() - 8 * 24 * 3600;
    data["last_seen"] = eight_days_ago.into();
    session.insert(sessions::DATA_KEY, data).await.unwrap();
    session.set_expiry(Some(Expiry::AtDateTime(
        OffsetDateTime::now_utc() + Duration::from_secs(3600),
    )));
    session.save().await.unwrap();

    assert_eq!(role_with(&app, Some(&id)).await, "anon");
    assert_eq!(
        redis.exists::<i64, _>(&id).await.unwrap(),
        0,
        "record deleted"
    );
    assert!(sessions::list(&redis, user, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_list_shows_when_where_and_what_and_marks_the_current_session() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let current = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);
    let other = id_of(&signed_in(&redis, user, &Caller::default()).await);
    // An entry whose session expired in Redis is dropped from the index while listing.
    let index = format!("palisade:v1:user_sessions:{user}");
    let _: i64 = redis
        .hset(&index, ("BBBBBBBBBBBBBBBBBBBBBB", "{}"))
        .await
        .unwrap();

    let listed = sessions::list(&redis, user, Some(&current)).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let first = &listed[0];
    assert!(first.current, "the current session comes first");
    assert_eq!(first.id, sessions::handle_of(&current));
    assert_ne!(first.id, current, "the page never sees a live session id");
    assert_eq!(first.device, "Chrome on Linux");
    assert_eq!(first.ip.as_deref(), Some("203.0.113.5"));
    assert!(first.user_agent.as_deref().unwrap().contains("Chrome/126"));
    assert!(first.created_at >= chrono::SubsecRound::trunc_subsecs(before, 0));
    assert!(first.last_seen_at >= first.created_at);
    let second = &listed[1];
    assert!(!second.current);
    assert_eq!(second.id, sessions::handle_of(&other));
    assert_eq!(second.device, "Unknown device");
    assert!(
        !redis
            .hexists::<bool, _, _>(&index, "BBBBBBBBBBBBBBBBBBBBBB")
            .await
            .unwrap(),
        "the dead entry was pruned"
    );
    let without_current = sessions::list(&redis, user, None).await.unwrap();
    assert!(without_current.iter().all(|s| !s.current));
    let _ = app;
}

#[tokio::test]
async fn rotation_gives_a_new_id_and_the_old_one_stops_working() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let old = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);
    let created_at = sessions::list(&redis, user, None).await.unwrap()[0].created_at;

    let session = session_from_cookie(&redis, &old);
    sessions::rotate(&session, &redis, user).await.unwrap();
    let new = id_of(&session);

    assert_ne!(new, old);
    assert_eq!(role_with(&app, Some(&old)).await, "anon");
    assert_eq!(role_with(&app, Some(&new)).await, "authenticated");
    let listed = sessions::list(&redis, user, Some(&new)).await.unwrap();
    assert_eq!(listed.len(), 1, "the index moved along: {listed:?}");
    assert!(listed[0].current);
    assert_eq!(listed[0].created_at, created_at, "still the same sign-in");
    // Rotating someone else's session is refused.
    assert!(
        sessions::rotate(&session, &redis, Uuid::new_v4())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn signing_in_over_an_existing_session_replaces_it() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let (alice, bob) = (create_user(&app).await, create_user(&app).await);
    let session = signed_in(&redis, alice, &chrome_on_linux()).await;
    let alices = id_of(&session);

    sessions::establish(&session, &redis, &settings(), bob, &chrome_on_linux())
        .await
        .unwrap();
    let bobs = id_of(&session);

    assert_ne!(alices, bobs);
    assert_eq!(role_with(&app, Some(&alices)).await, "anon");
    assert!(
        sessions::list(&redis, alice, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sessions::list(&redis, bob, None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn activity_refreshes_last_seen_at_most_hourly() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let id = id_of(&signed_in(&redis, user, &chrome_on_linux()).await);

    // A request right after sign-in writes nothing: no Set-Cookie, same data.
    let response = call_with(&app, Some(&id)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());

    // Two hours later, the next request refreshes last_seen, the index and the cookie.
    let session = session_from_cookie(&redis, &id);
    let mut data: serde_json::Value = session.get(sessions::DATA_KEY).await.unwrap().unwrap();
    let two_hours_ago = chrono::Utc::now().timestamp() - 2 * 3600;
    data["last_seen"] = two_hours_ago.into();
    session.insert(sessions::DATA_KEY, data).await.unwrap();
    session.set_expiry(Some(Expiry::AtDateTime(
        OffsetDateTime::now_utc() + Duration::from_secs(3600),
    )));
    session.save().await.unwrap();

    let response = call_with(&app, Some(&id)).await;
    assert_eq!(response.status(), 200);
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .expect("the refreshed session is saved, and its cookie renewed")
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.starts_with(&cookie(&id)), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain http in tests: {set_cookie}"
    );

    let reloaded = session_from_cookie(&redis, &id);
    let data: serde_json::Value = reloaded.get(sessions::DATA_KEY).await.unwrap().unwrap();
    assert!(data["last_seen"].as_i64().unwrap() > two_hours_ago + 3600);
    // The record's TTL follows the idle limit again (seven days), not the hour set above.
    let ttl: i64 = redis.ttl(&id).await.unwrap();
    assert!(ttl > 6 * 24 * 3600, "ttl {ttl}");
    let listed = sessions::list(&redis, user, None).await.unwrap();
    let age = chrono::Utc::now() - listed[0].last_seen_at;
    assert!(age < chrono::Duration::minutes(1), "index refreshed: {age}");
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
