//! A session records how it was signed in (`amr`) and what that adds up to (`aal`); a step-up
//! adds a method and gives the session a new id.
use app::domain::assurance::{Aal, AuthMethod, PASSWORD, TOTP};

use super::*;

async fn resolved(redis: &Pool, id: &str) -> Option<sessions::Resolved> {
    let session = session_from_cookie(redis, id);
    sessions::resolve(&session, redis, &settings(), &chrome_on_linux())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_sign_in_is_aal1_with_the_password_and_its_time() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let session = signed_in(&redis, user, &chrome_on_linux()).await;

    let seen = resolved(&redis, &id_of(&session)).await.expect("signed in");
    assert_eq!(seen.assurance.aal(), Aal::Aal1);
    assert_eq!(seen.assurance.amr.len(), 1);
    assert_eq!(seen.assurance.amr[0].method, PASSWORD);
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    assert!(now.abs_diff(seen.assurance.amr[0].timestamp) < 60);
}

#[tokio::test]
async fn a_step_up_makes_the_session_aal2_under_a_new_id() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let session = signed_in(&redis, user, &chrome_on_linux()).await;
    let before = id_of(&session);

    let later = session_from_cookie(&redis, &before);
    let assurance = sessions::step_up(&later, &redis, user, TOTP).await.unwrap();
    let after = id_of(&later);

    assert_eq!(assurance.aal(), Aal::Aal2);
    assert_ne!(before, after, "a privilege change gives a new id");
    assert!(
        resolved(&redis, &before).await.is_none(),
        "the old id is dead"
    );
    let seen = resolved(&redis, &after).await.expect("still signed in");
    assert_eq!(seen.assurance, assurance);
    let methods: Vec<&str> = seen
        .assurance
        .amr
        .iter()
        .map(|m| m.method.as_str())
        .collect();
    assert_eq!(methods, [TOTP, PASSWORD]);
    // The index follows the new id: the sessions page still lists exactly one session.
    let listed = sessions::list(&redis, user, Some(&after)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
}

#[tokio::test]
async fn a_step_up_of_someone_elses_session_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let (alice, mallory) = (create_user(&app).await, create_user(&app).await);
    let session = signed_in(&redis, alice, &chrome_on_linux()).await;
    let id = id_of(&session);

    let later = session_from_cookie(&redis, &id);
    let refused = sessions::step_up(&later, &redis, mallory, TOTP).await;
    assert_eq!(refused.unwrap_err(), app::error::AppError::Unauthorized);
    let seen = resolved(&redis, &id).await.expect("unchanged");
    assert_eq!(seen.assurance.aal(), Aal::Aal1);
}

#[tokio::test]
async fn a_session_established_with_a_passkey_is_aal2_from_the_start() {
    let app = TestApp::spawn().await;
    let redis = redis_pool(&redis_url()).await;
    let user = create_user(&app).await;
    let session = fresh_session(&redis);
    let amr = vec![AuthMethod::now(app::domain::assurance::WEBAUTHN)];
    sessions::establish(&session, &redis, &settings(), user, &chrome_on_linux(), amr)
        .await
        .unwrap();

    let seen = resolved(&redis, &id_of(&session)).await.unwrap();
    assert_eq!(seen.assurance.aal(), Aal::Aal2);
}
