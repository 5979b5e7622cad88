//! The per-user index: listing, revoking and capping a user's sessions.
use super::*;

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
