//! Postgres away: after the first request finds no connection, the circuit opens and every
//! request that needs Postgres answers 503 at once (without asking the pool, so without
//! waiting out its acquire timeout), cached pages stay up, `/ready` and the metric say so, and
//! the circuit closes by itself once Postgres answers the probe again.
use std::time::Duration;

use app::error::AppError;

use crate::support::{Overrides, Proxy, Reader, ReadersApp, addr_of, owner_url};

fn settings() -> Vec<(&'static str, String)> {
    vec![
        ("PALISADE_DB_ACQUIRE_TIMEOUT_MS", "1000".into()),
        ("PALISADE_DB_CIRCUIT_PROBE_MS", "200".into()),
    ]
}

#[tokio::test]
async fn while_postgres_is_cut_requests_answer_503_without_asking_the_pool_cached_pages_stay_up_and_the_circuit_closes_when_it_is_back()
 {
    let postgres = Proxy::start(addr_of(&owner_url())).await;
    let world = ReadersApp::with(Overrides {
        postgres_addr: Some(postgres.addr),
        env: settings(),
        ..Default::default()
    })
    .await;
    let (anon, breaker) = (Reader::anon(), world.app.breaker.clone());
    let slug = world
        .write(
            &world.author,
            "Cached",
            "Served while Postgres is away.",
            true,
        )
        .await;
    for path in ["/".to_string(), format!("/posts/{slug}")] {
        assert_eq!(world.page(&anon, &path).await.status, 200, "{path}");
    }
    assert!(!breaker.is_open());
    let ready = world.app.get("/ready").await.text().await.unwrap();
    assert!(ready.contains(r#""postgres_circuit":"closed""#), "{ready}");

    postgres.cut();
    // The first request to need Postgres finds no connection and opens the circuit.
    let first = world.call(&anon, "/api/check_database", &[]).await;
    assert_eq!(first.status, 503, "{first:?}");
    assert!(breaker.is_open(), "the circuit opened");

    let (attempts, rejected) = (breaker.attempts(), breaker.rejected());
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (http, url) = (
            world.app.client.clone(),
            world.app.url("/api/check_database"),
        );
        calls.spawn(async move {
            let response = http
                .post(url)
                .header("Origin", crate::support::PUBLIC_URL)
                .send()
                .await
                .expect("the server answers");
            let retry_after = response.headers().get("retry-after").is_some();
            let status = response.status().as_u16();
            let error: AppError = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            (status, retry_after, error)
        });
    }
    while let Some(answer) = calls.join_next().await {
        assert_eq!(answer.unwrap(), (503, true, AppError::Unavailable));
    }
    assert_eq!(
        breaker.attempts(),
        attempts,
        "no request asked the pool (none waited for its acquire timeout)"
    );
    assert_eq!(breaker.rejected(), rejected + 20);

    // What the cache holds is still served.
    for path in ["/".to_string(), format!("/posts/{slug}")] {
        let page = world.page(&anon, &path).await;
        assert_eq!(page.status, 200, "{path}: {page:?}");
        assert!(page.body.contains("Cached"), "{path}");
    }
    let ready = world.app.get("/ready").await;
    assert_eq!(ready.status(), 503);
    let ready = ready.text().await.unwrap();
    assert!(ready.contains(r#""postgres_circuit":"open""#), "{ready}");
    assert!(ready.contains(r#""postgres":"unavailable""#), "{ready}");
    let metrics = world.app.metrics().await;
    assert!(metrics.contains("db_circuit_open 1"), "{metrics}");

    // Back: the probe finds Postgres and closes the circuit, without a restart.
    postgres.restore();
    for _ in 0..100 {
        if !breaker.is_open() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!breaker.is_open(), "the circuit closed again");
    let again = world.call(&anon, "/api/check_database", &[]).await;
    assert_eq!(again.status, 200, "{again:?}");
    let ready = world.app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    assert!(
        ready
            .text()
            .await
            .unwrap()
            .contains(r#""postgres_circuit":"closed""#)
    );
}
