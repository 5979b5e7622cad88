//! Prometheus metrics: served on their own (loopback) listener, never on the app port, with
//! label sets a client cannot grow.
use crate::support::TestApp;

#[tokio::test]
async fn metrics_are_not_served_on_the_app_port() {
    let app = TestApp::spawn().await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(!body.contains("http_requests_total"), "{body}");
}

#[tokio::test]
async fn invented_http_methods_add_at_most_one_label_series() {
    let app = TestApp::spawn().await;
    let invented: Vec<String> = (0..50)
        .map(|_| format!("INVENTED{}", uuid::Uuid::new_v4().simple()).to_uppercase())
        .collect();
    for method in &invented {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.client
            .request(method, app.url("/health"))
            .send()
            .await
            .expect("the server answers");
    }
    let metrics = app.metrics().await;
    assert!(
        !invented.iter().any(|m| metrics.contains(m.as_str())),
        "an invented method became a label"
    );
    // Every method label is one of a fixed set (other tests run meanwhile, so count kinds of
    // label, not series).
    let known = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER",
    ];
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
    {
        let method = line
            .split("method=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no method label: {line}"));
        assert!(known.contains(&method), "{line}");
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total{") && l.contains(r#"method="OTHER""#)),
        "{metrics}"
    );
}
