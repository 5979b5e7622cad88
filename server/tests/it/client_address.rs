//! Which address a request is counted against: the TCP peer, unless that peer is a trusted
//! proxy (`PALISADE_TRUSTED_PROXIES`); then the right-most `X-Forwarded-For` hop that is not one.
use app::ssr::auth::ratelimit::SIGN_UP_PER_IP;

use crate::support::{Browser, Overrides, PUBLIC_URL, TestApp, fresh_loopback};

async fn app_trusting(proxies: String) -> TestApp {
    TestApp::spawn_with(Overrides {
        env: vec![("PALISADE_TRUSTED_PROXIES", proxies)],
        ..Default::default()
    })
    .await
}

/// An address in the documentation range no earlier run has used (rate limits outlive a run).
fn fresh_client() -> String {
    let b = *uuid::Uuid::new_v4().as_bytes();
    format!("2001:db8:{:x}{:02x}:{:x}{:02x}::1", b[0], b[1], b[2], b[3])
}

/// A sign-up with an address that is not one: it costs a hit of `SIGN_UP_PER_IP` and nothing
/// else. The status says whether the limit let it through (400) or not (429).
async fn sign_up(from: &Browser, forwarded_for: Option<&str>) -> u16 {
    let mut request = from
        .post("/api/auth/sign_up")
        .header("Origin", PUBLIC_URL)
        .form(&[("email", "not an address"), ("password", "irrelevant")]);
    if let Some(value) = forwarded_for {
        request = request.header("X-Forwarded-For", value);
    }
    from.send(request).await.status
}

#[tokio::test]
async fn each_client_of_a_trusted_proxy_gets_its_own_rate_limit_bucket() {
    let proxy_ip = fresh_loopback();
    let app = app_trusting(proxy_ip.to_string()).await;
    let proxy = Browser::open_at(&app, proxy_ip);
    let (alice, bob) = (fresh_client(), fresh_client());

    // Whatever Alice writes into the header herself, the proxy appends her real address.
    for n in 0..SIGN_UP_PER_IP.max {
        let spoofed = format!("{}, {alice}", fresh_client());
        assert_eq!(sign_up(&proxy, Some(&spoofed)).await, 400, "attempt {n}");
    }
    assert_eq!(sign_up(&proxy, Some(&alice)).await, 429, "Alice is limited");
    assert_eq!(sign_up(&proxy, Some(&bob)).await, 400, "Bob is not");
    assert_eq!(sign_up(&proxy, None).await, 400, "nor the proxy itself");
}

#[tokio::test]
async fn a_direct_client_cannot_choose_its_address_with_x_forwarded_for() {
    let app = app_trusting("192.0.2.1, 10.0.0.0/8".into()).await;
    let direct = Browser::open(&app);
    for n in 0..SIGN_UP_PER_IP.max {
        let claimed = fresh_client();
        assert_eq!(sign_up(&direct, Some(&claimed)).await, 400, "attempt {n}");
    }
    assert_eq!(sign_up(&direct, Some(&fresh_client())).await, 429);
}
