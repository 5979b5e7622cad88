//! The read replica (`DATABASE_REPLICA_URL`): public anonymous reads go to it once it has
//! replayed the last post write; signed-in reads never do; a dead replica costs public reads
//! nothing but a fall back to the primary, and `/ready` says "degraded", not failing.
//! (A real streaming replica, stopped and started, is in `scripts/stack proof`.)
use serde_json::Value;

use crate::support::{Overrides, ReadersApp, Replica};

async fn world(replica: Replica) -> ReadersApp {
    ReadersApp::with(Overrides {
        replica,
        ..Overrides::default()
    })
    .await
}

async fn ready(world: &ReadersApp) -> (u16, Value) {
    let response = world.app.get("/ready").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Waits for the lag monitor's first verdict (it asks every 500 ms).
async fn ready_says(world: &ReadersApp, replica: &str) -> Value {
    for _ in 0..100 {
        let (_, body) = ready(world).await;
        if body["replica"] == replica {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "/ready never said replica {replica}: {:?}",
        ready(world).await
    );
}

fn titles(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn public_reads_go_to_a_caught_up_replica_and_signed_in_reads_never_do() {
    let w = world(Replica::ThePrimary).await;
    ready_says(&w, "ok").await;
    let replica = w.app.replica.as_ref().expect("a replica is configured");
    let slug = w
        .write(&w.author, "Read from the replica", "Body.", true)
        .await;

    let before = replica.reads();
    let list: Value = w
        .call(&crate::support::Reader::anon(), "/api/posts/list", &[])
        .await
        .json();
    assert_eq!(titles(&list), ["Read from the replica"]);
    assert_eq!(replica.reads(), before + 1, "the anonymous list's load");

    let before = replica.reads();
    let mine: Value = w.call(&w.author, "/api/posts/mine", &[]).await.json();
    assert!(mine.to_string().contains(&slug), "{mine}");
    w.call(&w.author, "/api/posts/editable", &[("slug", &slug)])
        .await;
    assert_eq!(
        replica.reads(),
        before,
        "the author's own reads stay on the primary"
    );
}

#[tokio::test]
async fn with_the_replica_down_public_reads_come_from_the_primary_and_ready_says_degraded() {
    // Nothing listens on port 1: the replica's pool fails at once and its breaker opens.
    let w = world(Replica::At(
        "postgres://authenticator@127.0.0.1:1/palisade".into(),
    ))
    .await;
    w.write(&w.author, "Served by the primary", "Body.", true)
        .await;

    let list: Value = w
        .call(&crate::support::Reader::anon(), "/api/posts/list", &[])
        .await
        .json();
    assert_eq!(titles(&list), ["Served by the primary"]);
    let body = ready_says(&w, "degraded").await;
    let (status, _) = ready(&w).await;
    assert_eq!(
        status, 200,
        "a degraded replica does not make the instance unready"
    );
    assert_eq!(body["postgres"], "ok");
    assert_eq!(w.app.replica.as_ref().unwrap().reads(), 0);
}

#[tokio::test]
async fn without_a_replica_ready_says_off() {
    let w = world(Replica::None).await;
    let (status, body) = ready(&w).await;
    assert_eq!((status, &body["replica"]), (200, &Value::from("off")));
}
