//! The audit log page's filters and pages, and the outbox: pending and dead rows without
//! their payloads, and reviving a dead one.
use app::{
    domain::{
        admin::{AuditPage, OutboxPage},
        audit::AuditAction,
    },
    error::AppError,
    ssr::db::{ServiceRole, begin_service, outbox},
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::support::{PeopleApp, Person, audit_of};

async fn audit(admin: &Person, filter: &[(&str, &str)]) -> AuditPage {
    admin.call("/api/admin/audit", filter).await.json()
}

fn actions(page: &AuditPage) -> Vec<&str> {
    page.entries.iter().map(|e| e.action.as_str()).collect()
}

/// The database's clock, which stamps the entries.
async fn db_now(w: &PeopleApp) -> DateTime<Utc> {
    // In a transaction, as the app runs every statement: behind PgBouncer in transaction mode
    // (scripts/stack test-rust) a prepared statement outside one may be parsed and bound on
    // two server connections.
    let mut tx = w.app.pool.begin().await.unwrap();
    let now = sqlx::query_scalar("select clock_timestamp()")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    now
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_target_action_and_time_newest_first() {
    let w = PeopleApp::new().await;
    let admin = w.admin("auditor").await;
    let other_admin = w.admin("second").await;
    let (alice, _) = w.account("alice").await;
    let (bob, _) = w.account("bob").await;
    let alice_id = alice.to_string();
    let bob_id = bob.to_string();

    admin
        .call("/api/admin/ban", &[("id", &alice_id), ("duration", "1h")])
        .await
        .assert_redirects_to(&format!("/admin/users/{alice}?done=banned"));
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = db_now(&w).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    other_admin
        .call("/api/admin/ban", &[("id", &bob_id), ("duration", "1h")])
        .await
        .assert_redirects_to(&format!("/admin/users/{bob}?done=banned"));
    admin
        .call("/api/admin/unban", &[("id", &alice_id)])
        .await
        .assert_redirects_to(&format!("/admin/users/{alice}?done=unbanned"));

    // Newest first, everything (the grants and sign-ups of the fixture included).
    let all = audit(&admin, &[]).await;
    assert_eq!(
        &actions(&all)[..3],
        [
            "admin.user_unbanned",
            "admin.user_banned",
            "admin.user_banned"
        ]
    );
    assert!(all.entries.windows(2).all(|p| p[0].at >= p[1].at));

    // By actor (email, any case), by target (username), by action, by time, combined.
    let by_admin = audit(&admin, &[("actor", &admin.email.to_uppercase())]).await;
    assert_eq!(
        actions(&by_admin),
        ["admin.user_unbanned", "admin.user_banned"]
    );
    // Sign-up gives a random handle; Alice picked her name.
    let alice_name = "alice_liddell";
    w.set_username(alice, alice_name).await;
    let about_alice = audit(&admin, &[("target", alice_name)]).await;
    assert!(
        about_alice
            .entries
            .iter()
            .all(|e| e.target_id == Some(alice))
    );
    assert_eq!(
        &actions(&about_alice)[..2],
        ["admin.user_unbanned", "admin.user_banned"]
    );
    assert_eq!(
        about_alice.entries[0].target_name.as_deref(),
        Some(alice_name)
    );
    let bans = audit(&admin, &[("action", "admin.user_banned")]).await;
    let targets: Vec<_> = bans.entries.iter().map(|e| e.target_id).collect();
    assert_eq!(targets, [Some(bob), Some(alice)]);
    let since = audit(&admin, &[("from", &between.to_rfc3339())]).await;
    assert_eq!(
        actions(&since),
        ["admin.user_unbanned", "admin.user_banned"]
    );
    let until = audit(
        &admin,
        &[
            ("until", &between.to_rfc3339()),
            ("action", "admin.user_banned"),
        ],
    )
    .await;
    assert_eq!(until.entries.len(), 1);
    assert_eq!(until.entries[0].target_id, Some(alice));
    let both = audit(
        &admin,
        &[("actor", &other_admin.id.to_string()), ("target", &bob_id)],
    )
    .await;
    assert_eq!(actions(&both), ["admin.user_banned"]);
    assert!(both.entries[0].actor_name.is_some());

    // A user nobody has is an error next to the field, not an empty log.
    let unknown = admin
        .call("/api/admin/audit", &[("actor", "nobody@nowhere.test")])
        .await;
    assert_eq!(unknown.field_error().0, "actor");
    let bad_time = admin.call("/api/admin/audit", &[("from", "soon")]).await;
    assert_eq!(bad_time.field_error().0, "from");

    // The page itself renders the entries, filters kept in the form.
    let page = admin
        .browser
        .get("/admin/audit?action=admin.user_banned")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-action="admin.user_banned""#));
    assert!(!page.body.contains(r#"data-action="admin.user_unbanned""#));
}

#[tokio::test]
async fn the_audit_filter_offers_every_action_any_writer_records() {
    let w = PeopleApp::new().await;
    let admin = w.admin("boss").await;
    let page = admin.browser.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    for action in AuditAction::ALL {
        let option = format!(r#"<option value="{}""#, action.as_str());
        assert!(page.body.contains(&option), "{option} is not offered");
    }
}

#[tokio::test]
async fn the_audit_log_pages_through_entries_with_the_same_time() {
    let w = PeopleApp::new().await;
    let admin = w.admin("pages").await;
    let target = Uuid::new_v4();
    // One transaction: thirty entries with the very same `at`.
    let mut tx = begin_service(&w.app.pool, ServiceRole::Auth).await.unwrap();
    sqlx::query(
        "insert into auth.audit_log (action, target_id, details) \
         select 'test.bulk', $1, jsonb_build_object('n', n) from generate_series(1, 30) n",
    )
    .bind(target)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let t = target.to_string();
    let first = audit(&admin, &[("target", &t)]).await;
    assert_eq!(first.entries.len(), 25);
    let next = first.next.clone().expect("more");
    let second = audit(&admin, &[("target", &t), ("after", &next)]).await;
    assert_eq!(second.entries.len(), 5);
    assert_eq!(second.next, None);
    let ns: Vec<i64> = first
        .entries
        .iter()
        .chain(&second.entries)
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.details).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        ns,
        (1..=30).rev().collect::<Vec<_>>(),
        "newest (highest id) first"
    );
    // A deleted user's entries still name them by id.
    assert!(first.entries.iter().all(|e| e.target_name.is_none()));
}

/// Queues a password-reset email (its link holds `secret`) as the auth subsystem does;
/// returns its id.
async fn queue(w: &PeopleApp, recipient: &str, secret: &str) -> i64 {
    let reset = outbox::payload::ResetPassword {
        link: format!("https://palisade.test/reset?token={secret}"),
        expires_in_minutes: 60,
    };
    queue_email(w, recipient, &reset).await
}

/// Queues an email that carries no link or code; returns its id.
async fn queue_notice(w: &PeopleApp, recipient: &str) -> i64 {
    let notice = outbox::payload::ChangeEmailNotice {
        new_email: "new@flows.test".into(),
    };
    queue_email(w, recipient, &notice).await
}

async fn queue_email<P: outbox::Payload>(w: &PeopleApp, recipient: &str, payload: &P) -> i64 {
    let mut tx = begin_service(&w.app.pool, ServiceRole::Auth).await.unwrap();
    let email = outbox::OutboxEmail::new(recipient, format!("test:{}", Uuid::new_v4()), payload);
    outbox::enqueue(&mut tx, &email).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin_service(&w.app.pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    let id = sqlx::query_scalar("select id from public.outbox where recipient = $1")
        .bind(recipient)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// (attempts, dead, due now) of an outbox row, as the worker sees it.
async fn state_of(w: &PeopleApp, id: i64) -> (i32, bool, bool) {
    let mut tx = begin_service(&w.app.pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    let state = sqlx::query_as(
        "select attempts, dead_at is not null, next_attempt_at <= now() \
           from public.outbox where id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    state
}

#[tokio::test]
async fn the_outbox_lists_pending_and_dead_mail_without_payloads_and_a_dead_one_can_be_retried() {
    let w = PeopleApp::new().await;
    let admin = w.admin("postmaster").await;
    let secret = Uuid::new_v4().simple().to_string();
    let pending = queue(&w, "waiting@flows.test", &secret).await;
    // A dead email whose link was removed cannot be retried (tested below): this one has none.
    let dead = queue_notice(&w, "bounced@flows.test").await;
    let sent = queue(&w, "delivered@flows.test", &secret).await;
    let mut tx = begin_service(&w.app.pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    sqlx::query(
        "update public.outbox set attempts = 8, dead_at = now(), last_error = 'mailbox full' \
          where id = $1",
    )
    .bind(dead)
    .execute(&mut *tx)
    .await
    .unwrap();
    outbox::mark_sent(&mut tx, sent).await.unwrap();
    tx.commit().await.unwrap();

    let list = async |view: &str| {
        let answer = admin.call("/api/admin/outbox", &[("view", view)]).await;
        assert!(
            !answer.body.contains(&secret),
            "a payload leaked: {answer:?}"
        );
        assert!(!answer.body.contains("payload"), "{answer:?}");
        answer.json::<OutboxPage>()
    };
    let shown = list("pending").await;
    assert_eq!((shown.pending, shown.dead), (1, 1));
    assert_eq!(
        shown.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [pending]
    );
    let shown = list("dead").await;
    assert_eq!(shown.items.len(), 1);
    let row = &shown.items[0];
    assert_eq!((row.id, row.attempts), (dead, 8));
    assert_eq!(row.recipient, "bounced@flows.test");
    assert_eq!(row.last_error.as_deref(), Some("mailbox full"));
    let page = admin.browser.get("/admin/outbox?view=dead").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("bounced@flows.test") && !page.body.contains(&secret));

    admin
        .call("/api/admin/outbox_retry", &[("id", &dead.to_string())])
        .await
        .assert_redirects_to("/admin/outbox?view=dead&done=retried");
    assert_eq!(state_of(&w, dead).await, (0, false, true));
    let shown = list("pending").await;
    assert_eq!((shown.pending, shown.dead), (2, 0));

    // Only dead rows come back: a pending, a sent or an unknown one is refused.
    for id in [dead, sent, 999_999] {
        let answer = admin
            .call("/api/admin/outbox_retry", &[("id", &id.to_string())])
            .await;
        assert!(
            matches!(answer.error(), AppError::Conflict(_)),
            "{id}: {answer:?}"
        );
    }
    let retried = audit_of(&w.app, admin.id)
        .await
        .into_iter()
        .filter(|e| e.action == "admin.outbox_retried")
        .collect::<Vec<_>>();
    assert_eq!(retried.len(), 1);
    assert_eq!(
        retried[0].details,
        serde_json::json!({"outbox_id": dead, "kind": "change_email_notice"})
    );
    assert_eq!(retried[0].ip, Some(admin.browser.ip.to_string()));
    assert_eq!(
        retried[0].user_agent.as_deref(),
        Some(admin.browser.user_agent.as_str())
    );
}

#[tokio::test]
async fn a_dead_email_whose_link_was_removed_cannot_be_retried_and_the_page_never_shows_it() {
    let w = PeopleApp::new().await;
    let admin = w.admin("postmaster").await;
    let secret = Uuid::new_v4().simple().to_string();
    let id = queue(&w, "gave-up@flows.test", &secret).await;
    let mut tx = begin_service(&w.app.pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    outbox::mark_dead(&mut tx, id, "attempt 8 of 8: mailbox full")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let shown = admin.call("/api/admin/outbox", &[("view", "dead")]).await;
    assert!(!shown.body.contains(&secret), "{shown:?}");
    let shown: OutboxPage = shown.json();
    assert_eq!(shown.items.len(), 1);
    assert_eq!(shown.items[0].recipient, "gave-up@flows.test");
    let page = admin.browser.get("/admin/outbox?view=dead").await;
    assert!(page.body.contains("gave-up@flows.test") && !page.body.contains(&secret));

    // Sending it again could only send a reset email without its link.
    let answer = admin
        .call("/api/admin/outbox_retry", &[("id", &id.to_string())])
        .await;
    assert!(
        matches!(answer.error(), AppError::Conflict(_)),
        "{answer:?}"
    );
    assert!(state_of(&w, id).await.1, "still dead");
    assert!(
        !audit_of(&w.app, admin.id)
            .await
            .iter()
            .any(|e| e.action == "admin.outbox_retried")
    );
}
