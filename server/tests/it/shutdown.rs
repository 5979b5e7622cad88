//! A stop signal lets in-flight requests finish, and the process stops within the deadline.
use std::time::{Duration, Instant};

use crate::support::{Overrides, Proxy, TestApp, addr_of, owner_url};

#[tokio::test]
async fn in_flight_requests_finish_after_the_stop_signal() {
    let postgres = Proxy::start(addr_of(&owner_url())).await;
    let mut app = TestApp::spawn_with(Overrides {
        postgres_addr: Some(postgres.addr),
        ..Default::default()
    })
    .await;
    // Warm the pool, then make every database round trip slow.
    assert_eq!(
        app.server_fn("/api/check_database", &[]).await.status(),
        200
    );
    postgres.set_delay(Duration::from_millis(300));

    let slow = {
        let (client, url) = (app.client.clone(), app.url("/api/check_database"));
        tokio::spawn(async move {
            client
                .post(url)
                .header("Origin", crate::support::PUBLIC_URL)
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    let server = app.stop();

    let response = slow
        .await
        .unwrap()
        .expect("the in-flight request was answered");
    assert_eq!(response.status(), 200);
    tokio::time::timeout(Duration::from_secs(6), server)
        .await
        .expect("stopped within the grace period")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[tokio::test]
async fn a_request_that_outlives_the_grace_period_does_not_hold_the_process() {
    let postgres = Proxy::start(addr_of(&owner_url())).await;
    let mut app = TestApp::spawn_with(Overrides {
        postgres_addr: Some(postgres.addr),
        shutdown_grace_ms: 300,
        ..Default::default()
    })
    .await;
    assert_eq!(
        app.server_fn("/api/check_database", &[]).await.status(),
        200
    );
    postgres.set_delay(Duration::from_secs(5));
    let (client, url) = (app.client.clone(), app.url("/api/check_database"));
    let _stuck = tokio::spawn(async move {
        client
            .post(url)
            .header("Origin", crate::support::PUBLIC_URL)
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let server = app.stop();
    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("the deadline ends the wait")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
}
