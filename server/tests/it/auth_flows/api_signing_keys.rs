//! Access tokens are ES256 under a published, rotating key: the JWKS, `kid`s, and a rotation
//! that keeps the previous key's tokens valid until it is retired.
use base64::Engine as _;
use reqwest::Method;
use serde_json::Value;

use super::api_contract::{code, grant};
use crate::support::{Browser, TestApp, verified_user};

/// The `kid` of a JWT's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(header["alg"], "ES256");
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn access_tokens_are_es256_published_in_the_jwks_and_survive_a_key_rotation() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app);
    let user = verified_user(&app, &browser, "jwks").await;
    let jwks_of = || async {
        let answer = browser.get("/auth/v1/.well-known/jwks.json").await;
        assert_eq!(answer.header("cache-control"), Some("public, max-age=600"));
        answer.json::<Value>()["keys"].as_array().unwrap().clone()
    };
    let kids = |keys: &[Value]| -> Vec<String> {
        keys.iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };

    let before = jwks_of().await;
    assert_eq!(
        before.len(),
        2,
        "the signing key and the next one: {before:?}"
    );
    for key in &before {
        assert_eq!(
            (key["kty"].as_str(), key["alg"].as_str()),
            (Some("EC"), Some("ES256"))
        );
        assert!(key.get("d").is_none(), "never a private part");
    }
    let granted: Value = grant(&browser, &user.email, &user.password).await.json();
    let old = granted["access_token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&old), kids(&before)[0]);

    // An operator rotates (as `palisade keys rotate` does); the instance reloads.
    let mut tx = app::ssr::db::begin_service(&app.pool, app::ssr::db::ServiceRole::Auth)
        .await
        .unwrap();
    let signing = app::ssr::db::signing_keys::rotate(&mut tx, chrono::Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(signing, 2);
    app::ssr::auth::key_store::load(&app.pool, &app.jwt)
        .await
        .unwrap();

    let after = jwks_of().await;
    assert_eq!(
        after.len(),
        3,
        "previous, current and a new next: {after:?}"
    );
    let granted: Value = grant(&browser, &user.email, &user.password).await.json();
    let new = granted["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        kid_of(&new),
        kids(&before)[1],
        "the key published before now signs"
    );
    for token in [&old, &new] {
        let me = browser
            .send(
                browser
                    .request(Method::GET, "/auth/v1/user")
                    .bearer_auth(token),
            )
            .await;
        assert_eq!(me.status, 200, "{me:?}");
    }

    // Once the old generation is retired (a rotation after its tokens' lifetime; here the
    // cut-off is now), its tokens are refused.
    let mut tx = app::ssr::db::begin_service(&app.pool, app::ssr::db::ServiceRole::Auth)
        .await
        .unwrap();
    app::ssr::db::signing_keys::rotate(&mut tx, chrono::Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app::ssr::auth::key_store::load(&app.pool, &app.jwt)
        .await
        .unwrap();
    assert!(!kids(&jwks_of().await).contains(&kids(&before)[0]));
    let refused = browser
        .send(
            browser
                .request(Method::GET, "/auth/v1/user")
                .bearer_auth(&old),
        )
        .await;
    assert_eq!(code(&refused, 401), "bad_jwt");
}
