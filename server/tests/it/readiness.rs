//! `/ready` follows Postgres and Redis as they go and come back, without a restart.
use std::time::Duration;

use crate::support::{Overrides, Proxy, TestApp, addr_of, owner_url, redis_url, through};

async fn ready_status(app: &TestApp) -> u16 {
    app.get("/ready").await.status().as_u16()
}

/// Polls until `/ready` answers `want` (reconnects take a moment), or gives up after 10 s.
async fn eventually(app: &TestApp, want: u16) -> u16 {
    let mut last = 0;
    for _ in 0..50 {
        last = ready_status(app).await;
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    last
}

#[tokio::test]
async fn health_answers_while_the_process_is_up() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn ready_follows_redis_down_and_back_up() {
    let redis = Proxy::start(addr_of(&redis_url())).await;
    let app = TestApp::spawn_with(Overrides {
        redis_url: Some(through(&redis_url(), redis.addr)),
        ..Default::default()
    })
    .await;
    assert_eq!(ready_status(&app).await, 200);

    redis.cut();
    assert_eq!(eventually(&app, 503).await, 503, "Redis gone: not ready");
    let body = app.get("/ready").await.text().await.unwrap();
    assert!(body.contains(r#""redis":"unavailable""#), "{body}");
    assert!(body.contains(r#""postgres":"ok""#), "{body}");

    redis.restore();
    assert_eq!(eventually(&app, 200).await, 200, "Redis back: ready again");
}

#[tokio::test]
async fn ready_follows_postgres_down_and_back_up() {
    // The app's pool goes through the proxy; migrations use the owner URL directly.
    let postgres = Proxy::start(addr_of(&owner_url())).await;
    let app = TestApp::spawn_with(Overrides {
        postgres_addr: Some(postgres.addr),
        ..Default::default()
    })
    .await;
    assert_eq!(ready_status(&app).await, 200);

    postgres.cut();
    assert_eq!(eventually(&app, 503).await, 503, "Postgres gone: not ready");
    let body = app.get("/ready").await.text().await.unwrap();
    assert!(body.contains(r#""postgres":"unavailable""#), "{body}");

    postgres.restore();
    assert_eq!(
        eventually(&app, 200).await,
        200,
        "Postgres back: ready again"
    );
}
