//! How many sign-ins one account keeps: API clients' refresh-token families are capped like
//! browser sessions (those are tested with the session API in `sessions.rs`).
use app::ssr::{
    auth::tokens,
    db::{ServiceRole, begin_service, refresh_tokens},
};
use chrono::Utc;
use uuid::Uuid;

use crate::support::{TestApp, signed_in_user};

#[tokio::test]
async fn a_new_api_sign_in_beyond_fifty_ends_the_least_recently_used_one() {
    let app = TestApp::spawn().await;
    let (user, browser) = signed_in_user(&app, "many-clients").await;
    // Fifty API sign-ins, one after the other (so each is newer than the last).
    let mut families = Vec::new();
    for _ in 0..50 {
        let token = tokens::random();
        let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
        refresh_tokens::insert(
            &mut tx,
            &refresh_tokens::NewRefreshToken {
                user_id: user.id,
                family_id: Uuid::new_v4(),
                token_hash: &tokens::hash_token(&token),
                expires_at: Utc::now() + chrono::Duration::days(30),
                ip: None,
                user_agent: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        families.push(token);
    }

    let newest = browser.api_refresh_token(&user.email, &user.password).await;
    assert!(
        !browser.refresh_works(&families[0]).await,
        "the oldest ended"
    );
    assert!(browser.refresh_works(&families[1]).await);
    assert!(browser.refresh_works(&newest).await);
}
