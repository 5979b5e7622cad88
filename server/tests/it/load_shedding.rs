//! Past `PALISADE_MAX_IN_FLIGHT` requests in flight, the next one is answered 503 with
//! `Retry-After` at once, in its surface's error shape; probes and metrics are never shed.
use std::time::Duration;

use app::error::AppError;
use serde_json::Value;
use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::support::{Browser, Overrides, PUBLIC_URL, TestApp};

/// A server function call whose body never finishes arriving: in flight until dropped.
async fn hold_one_request(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /api/check_database HTTP/1.1\r\nHost: {}\r\nOrigin: {PUBLIC_URL}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na=",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    stream
}

#[tokio::test]
async fn past_the_in_flight_limit_requests_answer_503_at_once_and_probes_and_metrics_still_answer()
{
    let app = TestApp::spawn_with(Overrides {
        env: vec![("PALISADE_MAX_IN_FLIGHT", "1".into())],
        ..Default::default()
    })
    .await;
    let browser = Browser::open(&app);
    assert_eq!(
        browser.get("/").await.status,
        200,
        "one at a time is served"
    );

    let held = hold_one_request(&app).await;
    // The held request reaches the limit once the server has read its head.
    let mut page = browser.get("/").await;
    for _ in 0..50 {
        if page.status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = browser.get("/").await;
    }
    assert_eq!(page.status, 503, "{page:?}");
    assert!(page.header("retry-after").is_some(), "{page:?}");
    assert!(page.body.contains("Palisade is busy"), "{page:?}");

    let call = browser.call("/api/check_database", &[]).await;
    assert_eq!(call.status, 503, "{call:?}");
    assert_eq!(call.error(), AppError::Unavailable);
    assert!(call.header("retry-after").is_some(), "{call:?}");

    let user = browser.get("/auth/v1/user").await;
    assert_eq!(user.status, 503, "{user:?}");
    let error: Value = serde_json::from_str(&user.body).unwrap();
    assert_eq!(error["error"], "temporarily_unavailable", "{user:?}");

    assert_eq!(
        app.get("/health").await.status(),
        200,
        "health is never shed"
    );
    assert_eq!(app.get("/ready").await.status(), 200, "ready is never shed");
    let metrics = app.metrics().await;
    assert!(metrics.contains("http_requests_shed_total"), "{metrics}");

    // The held request ends (the client goes away): its place is free again.
    drop(held);
    let mut status = 0;
    for _ in 0..50 {
        status = browser.get("/").await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "served again once the held request ended");
}

#[tokio::test]
async fn under_the_default_limit_concurrent_requests_are_all_served() {
    let app = TestApp::spawn().await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (http, url) = (app.client.clone(), app.url("/"));
        calls.spawn(async move { http.get(url).send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = calls.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
}
