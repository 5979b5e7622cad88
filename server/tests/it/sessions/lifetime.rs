//! A session's life: lapsing when idle, last use refreshed hourly, a new id on rotation and
//! on signing in again.
use super::*;

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

    sessions::establish(
        &session,
        &redis,
        &settings(),
        bob,
        &chrome_on_linux(),
        vec![app::domain::assurance::AuthMethod::now("password")],
    )
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
