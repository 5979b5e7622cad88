//! Rate limits against the real Redis: counts, windows, the sign-in backoff, and what each
//! does when Redis is away (guessing limits fail closed, the others open).
use std::time::{Duration, Instant};

use app::{
    error::AppError,
    ssr::auth::ratelimit::{self, Limit},
};
use fred::clients::Pool;
use uuid::Uuid;

use crate::support::{Proxy, addr_of, redis_pool, redis_url, through};

/// A key no other test (or earlier run) has used.
fn unique(what: &str) -> String {
    format!("{what}-{}@example.com", Uuid::new_v4().simple())
}

fn retry_after(result: Result<(), AppError>) -> u64 {
    match result {
        Err(AppError::RateLimited { retry_after_secs }) => retry_after_secs,
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

const THREE_A_MINUTE: Limit = Limit {
    name: "it_three_a_minute",
    max: 3,
    window: Duration::from_secs(60),
};

#[tokio::test]
async fn a_limit_allows_max_hits_then_refuses_with_the_time_left() {
    let metrics = server::metrics::handle();
    let redis = redis_pool(&redis_url()).await;
    let key = unique("hit");
    for _ in 0..3 {
        ratelimit::hit(&redis, &THREE_A_MINUTE, &key).await.unwrap();
    }
    let wait = retry_after(ratelimit::hit(&redis, &THREE_A_MINUTE, &key).await);
    assert!((55..=60).contains(&wait), "retry after {wait}");
    // Counted per key; and the key (an email here) never appears in Redis.
    ratelimit::hit(&redis, &THREE_A_MINUTE, &unique("other"))
        .await
        .unwrap();
    assert!(
        metrics
            .render()
            .contains(r#"rate_limit_rejections_total{limit="it_three_a_minute"}"#)
    );
}

#[tokio::test]
async fn the_window_ends() {
    let redis = redis_pool(&redis_url()).await;
    let once_a_second = Limit {
        name: "it_once_a_second",
        max: 1,
        window: Duration::from_secs(1),
    };
    let key = unique("window");
    ratelimit::hit(&redis, &once_a_second, &key).await.unwrap();
    assert_eq!(
        retry_after(ratelimit::hit(&redis, &once_a_second, &key).await),
        1
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ratelimit::hit(&redis, &once_a_second, &key).await.unwrap();
}

#[tokio::test]
async fn guessing_limits_fail_closed_and_the_others_open_while_redis_is_down() {
    let metrics = server::metrics::handle();
    let proxy = Proxy::start(addr_of(&redis_url())).await;
    let redis = redis_pool(&through(&redis_url(), proxy.addr)).await;
    let never = Limit {
        name: "it_never",
        max: 0,
        window: Duration::from_secs(60),
    };
    let key = unique("open");
    assert!(ratelimit::hit(&redis, &never, &key).await.is_err());

    proxy.cut();
    let started = Instant::now();
    assert_eq!(
        ratelimit::hit(&redis, &never, &key).await,
        Err(AppError::Unavailable),
        "closed: no answer from Redis, no guess"
    );
    assert_eq!(
        ratelimit::check_sign_in(&redis, &key, "192.0.2.1").await,
        Err(AppError::Unavailable)
    );
    ratelimit::hit_or_pass(&redis, &never, &key)
        .await
        .expect("open: let through");
    ratelimit::failed_sign_in(&redis, &key, "192.0.2.1").await;
    ratelimit::cleared_sign_in(&redis, &key, "192.0.2.1").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "each call gives up after the command timeout: {:?}",
        started.elapsed()
    );
    assert!(
        metrics
            .render()
            .contains(r#"rate_limit_errors_total{limit="it_never"}"#)
    );
}

async fn fail(redis: &Pool, account: &str, ip: &str, times: usize) {
    for _ in 0..times {
        ratelimit::failed_sign_in(redis, account, ip).await;
    }
}

#[tokio::test]
async fn failed_sign_ins_back_off_exponentially_for_that_account_and_ip_only() {
    let redis = redis_pool(&redis_url()).await;
    let account = unique("victim");
    let (attacker, owner) = ("198.51.100.66", "203.0.113.7");

    fail(&redis, &account, attacker, 5).await;
    ratelimit::check_sign_in(&redis, &account, attacker)
        .await
        .expect("five failures are free");

    let mut waits = Vec::new();
    for _ in 0..4 {
        fail(&redis, &account, attacker, 1).await;
        waits.push(retry_after(
            ratelimit::check_sign_in(&redis, &account, attacker).await,
        ));
    }
    assert_eq!(waits, [2, 4, 8, 16], "2^(n-5) seconds");
    fail(&redis, &account, attacker, 20).await;
    assert_eq!(
        retry_after(ratelimit::check_sign_in(&redis, &account, attacker).await),
        15 * 60,
        "capped at 15 minutes"
    );

    // The owner, elsewhere, is not slowed down, and their success does not help the attacker.
    ratelimit::check_sign_in(&redis, &account, owner)
        .await
        .unwrap();
    ratelimit::cleared_sign_in(&redis, &account, owner).await;
    assert!(
        ratelimit::check_sign_in(&redis, &account, attacker)
            .await
            .is_err()
    );
    // Mixed case is the same account.
    assert!(
        ratelimit::check_sign_in(&redis, &account.to_uppercase(), attacker)
            .await
            .is_err()
    );

    // A success from the attacker's IP (say, the owner travelling) clears that pair.
    ratelimit::cleared_sign_in(&redis, &account, attacker).await;
    ratelimit::check_sign_in(&redis, &account, attacker)
        .await
        .unwrap();
}

#[tokio::test]
async fn spraying_from_many_ips_locks_new_ips_out_but_not_the_owners_usual_one() {
    let redis = redis_pool(&redis_url()).await;
    let account = unique("sprayed");
    let home = "203.0.113.8";
    ratelimit::cleared_sign_in(&redis, &account, home).await;

    let max = ratelimit::SIGN_IN_PER_ACCOUNT.max as usize;
    for i in 0..max {
        let ip = format!("10.{}.{}.1", i / 250, i % 250);
        fail(&redis, &account, &ip, 1).await;
    }

    let wait = retry_after(ratelimit::check_sign_in(&redis, &account, "198.51.100.1").await);
    assert!(
        wait > 3000 && wait <= 3600,
        "until the hour is over: {wait}"
    );
    ratelimit::check_sign_in(&redis, &account, home)
        .await
        .expect("the owner's usual IP still gets in");
}
