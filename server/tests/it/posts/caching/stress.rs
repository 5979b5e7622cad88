//! The posts cache under stress: one load for a burst of misses, and Postgres answering while
//! Redis is slow or down.
use super::*;

#[tokio::test]
async fn a_burst_of_misses_on_one_key_makes_one_database_query() {
    let world = ReadersApp::new().await;
    let slug = world
        .write(&world.author, "Popular post", "Everyone wants this.", true)
        .await;
    let http = reqwest::Client::new();

    for (path, field, value) in [
        ("/api/posts/get", "slug", slug.as_str()),
        ("/api/posts/list", "page", "1"),
    ] {
        world.cache().invalidate().await;
        let before = world.cache().loads();
        let errors_before = world.cache().errors();
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(50));
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let request = http
                .post(world.app.url(path))
                .header("Origin", crate::support::PUBLIC_URL)
                .form(&[(field, value)]);
            let start = start.clone();
            calls.spawn(async move {
                start.wait().await;
                let response = request.send().await.expect("the server answers");
                (response.status().as_u16(), response.text().await.unwrap())
            });
        }
        let started = std::time::Instant::now();
        let answers = calls.join_all().await;
        let took = started.elapsed();
        let (_, first) = &answers[0];
        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
            assert_eq!(body, first);
        }
        assert!(first.contains("Popular post"));
        let loads = world.cache().loads() - before;
        let errors = world.cache().errors() - errors_before;
        if errors == 0 {
            assert_eq!(loads, 1, "{path}: one load for 50 concurrent misses");
        } else {
            // Redis timed out for some readers (a starved machine): those without a generation
            // share a load for a second at a time, so the bound grows with the burst's length.
            let bound = 2 + took.as_secs() + 1;
            eprintln!("{path}: {errors} Redis timeouts in {took:?}, {loads} loads");
            assert!(
                loads <= bound,
                "{path}: {loads} loads for 50 misses ({errors} errors)"
            );
        }
    }
}

#[tokio::test]
async fn pages_render_from_postgres_while_redis_is_slow_or_down() {
    let redis = Proxy::start(addr_of(&redis_url())).await;
    let world = ReadersApp::with(Overrides {
        redis_url: Some(through(&redis_url(), redis.addr)),
        ..Default::default()
    })
    .await;
    let anon = Reader::anon();
    let slug = world
        .write(&world.author, "Still here", "Served by *Postgres*.", true)
        .await;
    warm(&world, &slug).await;

    // Slow: every command waits longer than the cache's read timeout.
    redis.set_delay(Duration::from_millis(400));
    let started = Instant::now();
    let view: Value = get_post(&world, &anon, &slug).await.json();
    assert_eq!(view["post"]["title"], "Still here");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    redis.set_delay(Duration::ZERO);

    // Down.
    redis.cut();
    for _ in 0..3 {
        let started = Instant::now();
        for path in [format!("/posts/{slug}"), "/posts".into(), "/".into()] {
            let page = world.page(&anon, &path).await;
            assert_eq!(page.status, 200, "{path}: {page:?}");
            assert!(page.body.contains("Still here"), "{path}");
        }
        let view: Value = get_post(&world, &anon, &slug).await.json();
        assert!(
            view["post"]["html"]
                .as_str()
                .unwrap()
                .contains("<em>Postgres</em>")
        );
        assert_eq!(titles(&list(&world, &anon, 1).await), ["Still here"]);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
    let metrics = world.app.metrics().await;
    assert!(
        metrics.contains("cache_errors_total{cache=\"post\"}"),
        "errors are counted"
    );

    // Back: the cache is used again.
    redis.restore();
    let mut hit = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        get_post(&world, &anon, &slug).await;
        let loads = world.cache().loads();
        let answer = get_post(&world, &anon, &slug).await;
        assert_eq!(answer.status, 200);
        if world.cache().loads() == loads {
            hit = true;
            break;
        }
    }
    assert!(hit, "served from Redis again once it is back");
}
