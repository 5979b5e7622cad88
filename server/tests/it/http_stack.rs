//! What every response carries, and what pages and server functions answer.
use crate::support::{PUBLIC_URL, TestApp, users::signed_in_user};

#[tokio::test]
async fn the_home_page_is_server_rendered_with_a_nonce_bearing_csp() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.text().await.unwrap();

    assert!(body.contains("<h1>Palisade</h1>"), "SSR rendered the page");
    // The resource resolved during SSR: the latest posts (none yet) came from Postgres.
    assert!(
        body.contains("data-testid=\"no-posts\""),
        "latest posts rendered: {body}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("CSP carries a nonce");
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script uses it"
    );
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
}

/// The nonce a page's CSP allows, after checking every inline script and style carries it.
fn nonce_of_page(csp: &str, body: &str) -> String {
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a page's CSP carries a nonce: {csp}"));
    // Inline scripts only: one with `src` is allowed by 'self' (e.g. /passkeys.js).
    let inline: Vec<&str> = body
        .split("<script")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| !tag.contains(" src="))
        .collect();
    assert!(!inline.is_empty(), "the page has its hydration scripts");
    let attribute = format!("nonce=\"{nonce}\"");
    for tag in &inline {
        assert!(
            tag.contains(&attribute),
            "an inline script without the CSP's nonce: {tag}"
        );
    }
    nonce.to_owned()
}

#[tokio::test]
async fn every_rendered_page_carries_the_nonce_of_its_own_scripts_signed_in_or_not() {
    let app = TestApp::spawn().await;
    let (_, browser) = signed_in_user(&app, "csp").await;
    let mut seen = std::collections::HashSet::new();
    for path in [
        "/posts/new",
        "/account",
        "/posts/new",
        "/no/such/page",
        "/posts",
    ] {
        let page = browser.get(path).await;
        let csp = page.header("content-security-policy").unwrap_or_default();
        let nonce = nonce_of_page(csp, &page.body);
        assert!(seen.insert(nonce), "{path}: a fresh nonce for every render");
    }
    // Anything that is not a page keeps the strict default, without a nonce.
    let health = app.get("/health").await;
    let csp = health.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        !csp.contains("nonce") && csp.contains("default-src 'self'"),
        "{csp}"
    );
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a uuid: {id}");
}

#[tokio::test]
async fn an_unknown_page_is_a_styled_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(body.contains("This page does not exist"));
    assert!(
        body.contains(r#"rel="stylesheet""#),
        "styled like every page"
    );
}

#[tokio::test]
async fn a_server_function_reads_postgres_as_the_anonymous_role() {
    let app = TestApp::spawn().await;
    let response = app.server_fn("/api/check_database", &[]).await;
    assert_eq!(response.status(), 200);
    let status: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status["role"], "anon");
    assert!(status["server_version"].as_str().unwrap().starts_with("15"));
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let evil = app
        .client
        .post(app.url("/api/check_database"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let cross_site = app
        .client
        .post(app.url("/api/check_database"))
        .header("Sec-Fetch-Site", "cross-site")
        .header("Origin", PUBLIC_URL)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let own = app.server_fn("/api/check_database", &[]).await;
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/check_database"))
        .header("Origin", PUBLIC_URL)
        .body(vec![b'a'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    app.get("/health").await;
    app.get("/no/such/page").await;
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total{")
                && l.contains(r#"route="/health""#)
                && l.contains(r#"status="200""#)),
        "{metrics}"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket{"));
    assert!(
        !metrics.contains("/no/such/page"),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn metrics_show_the_database_pool() {
    let app = TestApp::spawn().await;
    // A page that reads Postgres through `begin_as`.
    assert_eq!(app.get("/posts").await.status(), 200);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"db_begin_duration_seconds_bucket{kind="request""#),
        "{metrics}"
    );
    let gauge = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} missing from:\n{metrics}"))
    };
    assert!(gauge("db_pool_connections") >= 1.0);
    assert!(gauge("db_pool_idle_connections") <= gauge("db_pool_connections"));
}
