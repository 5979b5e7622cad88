//! Redis frozen or down: the limits that stop password guessing fail closed (503 with
//! `Retry-After`, before any password is checked), while anonymous readers are still served.
use std::time::Duration;

use app::error::AppError;
use serde_json::{Value, json};

use crate::support::{
    Browser, Overrides, Proxy, TestApp, addr_of, redis_url, through, verified_user,
};

#[tokio::test]
async fn while_redis_is_frozen_or_down_sign_in_and_the_password_grant_answer_503_and_posts_stay_up()
{
    let redis = Proxy::start(addr_of(&redis_url())).await;
    let app = TestApp::spawn_with(Overrides {
        redis_url: Some(through(&redis_url(), redis.addr)),
        ..Default::default()
    })
    .await;
    let user = verified_user(&app, &Browser::open(&app), "outage").await;
    // No session cookie: its requests need Redis for nothing but the limits.
    let guesser = Browser::open(&app);

    for outage in ["frozen", "down"] {
        if outage == "frozen" {
            // Longer than the Redis command timeout (300 ms in tests).
            redis.set_delay(Duration::from_secs(2));
        } else {
            redis.set_delay(Duration::ZERO);
            redis.cut();
        }
        for password in ["Not-The-Password-42", user.password.as_str()] {
            let signed_in = guesser.sign_in(&user.email, password).await;
            assert_eq!(signed_in.status, 503, "{outage}: {signed_in:?}");
            assert_eq!(signed_in.error(), AppError::Unavailable);
            assert!(signed_in.header("retry-after").is_some(), "{signed_in:?}");
            assert!(guesser.session_id().is_none(), "{outage}: no session");

            let body = json!({ "email": user.email, "password": password });
            let granted = guesser.token_grant("password", body).await;
            assert_eq!(granted.status, 503, "{outage}: {granted:?}");
            let error: Value = serde_json::from_str(&granted.body).unwrap();
            assert_eq!(error["error"], "temporarily_unavailable", "{granted:?}");
            assert!(granted.header("retry-after").is_some(), "{granted:?}");
        }
        let page = guesser.get("/posts").await;
        assert_eq!(page.status, 200, "{outage}: {page:?}");
        let list = guesser.call("/api/posts/list", &[("page", "1")]).await;
        assert_eq!(list.status, 200, "{outage}: {list:?}");
    }

    // Back: the right password signs in again.
    redis.restore();
    let mut status = 0;
    for _ in 0..50 {
        status = guesser.sign_in(&user.email, &user.password).await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200);
}
