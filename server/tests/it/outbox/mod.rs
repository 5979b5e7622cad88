//! The outbox end to end: emails queued in a transaction reach the real MailDev exactly once,
//! failures are retried with backoff and finally parked. MailDev is shared by tests running in
//! parallel, so every test has recipients of its own and looks only at those.
use std::time::Duration;

use app::ssr::db::{
    ServiceRole, begin_service,
    outbox::{self, EmailKind, OutboxEmail, payload},
};
use serde_json::{Value, json};
use server::{config::OutboxSettings, mailer::Mailer, worker::run_worker};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use crate::support::{PUBLIC_URL, Proxy, TestApp, addr_of};

fn smtp_url() -> String {
    std::env::var("SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:1025".into())
}

fn maildev_url() -> String {
    std::env::var("MAILDEV_API_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:1080".into())
        .trim_end_matches('/')
        .to_owned()
}

/// Milliseconds instead of seconds, so retries happen within a test.
fn fast() -> OutboxSettings {
    OutboxSettings {
        worker_enabled: true,
        poll_interval: Duration::from_millis(20),
        batch_size: 5,
        max_attempts: 3,
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
    }
}

fn mailer(smtp_url: &str) -> Mailer {
    Mailer::new(
        smtp_url,
        "Palisade <no-reply@palisade.local>".parse().unwrap(),
        PUBLIC_URL,
        Duration::from_secs(5),
    )
    .expect("mailer")
}

/// A delivery loop running in the background until stopped or dropped.
struct Worker {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Worker {
    fn start(pool: &PgPool, mailer: Mailer, settings: OutboxSettings) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_worker(pool.clone(), mailer, settings, async move {
            let _ = stopped.await;
        }));
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task.take().unwrap())
            .await
            .expect("the worker stops when asked")
            .expect("the worker does not panic");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn recipient(tag: &str) -> String {
    format!("{tag}-{}@outbox.test", uuid::Uuid::new_v4().simple())
}

fn notice(to: &str, key: &str) -> OutboxEmail {
    OutboxEmail::new(
        to,
        key,
        &payload::ChangeEmailNotice {
            new_email: "new@outbox.test".into(),
        },
    )
}

/// Queues emails the way the auth subsystem does: as `auth_service`, in one transaction.
async fn enqueue(pool: &PgPool, emails: &[OutboxEmail]) {
    let mut tx = begin_service(pool, ServiceRole::Auth).await.unwrap();
    for email in emails {
        outbox::enqueue(&mut tx, email).await.expect("enqueue");
    }
    tx.commit().await.unwrap();
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    attempts: i32,
    last_error: Option<String>,
    sent: bool,
    dead: bool,
    /// `next_attempt_at > now()`
    waiting: bool,
}

/// The outbox rows of a recipient, read as the worker's role (the only one that sees them all).
async fn rows(pool: &PgPool, recipient: &str) -> Vec<Row> {
    let mut tx = begin_service(pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    let rows = sqlx::query_as(
        "select attempts, last_error, sent_at is not null as sent, dead_at is not null as dead, \
                next_attempt_at > now() as waiting \
           from outbox where recipient = $1 order by id",
    )
    .bind(recipient)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rows
}

/// What MailDev holds for recipients matching `to` (an address, or a prefix ending in `-`).
async fn mails(to: &str) -> Vec<Value> {
    let all: Vec<Value> = reqwest::get(format!("{}/api/email", maildev_url()))
        .await
        .expect("MailDev must be running (scripts/services start)")
        .json()
        .await
        .expect("MailDev lists emails as JSON");
    all.into_iter()
        .filter(|m| {
            m["to"].as_array().into_iter().flatten().any(|a| {
                let address = a["address"].as_str().unwrap_or_default();
                address == to || (to.ends_with('-') && address.starts_with(to))
            })
        })
        .collect()
}

async fn raw_source(mail: &Value) -> String {
    let id = mail["id"].as_str().unwrap();
    reqwest::get(format!("{}/api/email/{id}/download", maildev_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Polls `check` until it gives a value, for at most 15 s.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_mail_to(to: &str) -> Value {
    let mut found = eventually("the email in MailDev", async || {
        let m = mails(to).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(found.len(), 1, "exactly one email to {to}");
    found.remove(0)
}

/// Long enough for dozens of polls of a `fast()` worker.
async fn a_while() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[tokio::test]
async fn an_enqueued_email_is_delivered_once_with_text_html_and_a_stable_message_id() {
    let app = TestApp::spawn().await;
    let to = recipient("verify");
    let key = format!("verify_email:{}", uuid::Uuid::new_v4());
    let link = format!("{PUBLIC_URL}/verify?token=tok123");
    enqueue(
        &app.pool,
        &[OutboxEmail::new(
            &to,
            &key,
            &payload::VerifyEmail {
                link: link.clone(),
                code: Some("123456".into()),
                expires_in_hours: 24,
            },
        )],
    )
    .await;
    let worker = Worker::start(&app.pool, mailer(&smtp_url()), fast());

    let mail = one_mail_to(&to).await;
    assert_eq!(mail["subject"], "Confirm your email address - Palisade");
    assert_eq!(mail["from"][0]["address"], "no-reply@palisade.local");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&link) && text.contains("123456"), "{text}");
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains(&format!(r#"href="{link}""#)), "{html}");
    assert!(html.contains("123456"), "{html}");
    let host = crate::support::PUBLIC_URL.trim_start_matches("http://");
    let expected_id = format!("<{}@{host}>", hex::encode(Sha256::digest(key.as_bytes())));
    assert_eq!(mail["headers"]["message-id"], expected_id.as_str());
    let source = raw_source(&mail).await;
    assert!(source.contains("multipart/alternative"), "{source}");

    let row = eventually("the row marked sent", async || {
        rows(&app.pool, &to).await.pop().filter(|r| r.sent)
    })
    .await;
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.is_none());
    a_while().await;
    assert_eq!(mails(&to).await.len(), 1, "sent once, not again");
    worker.stop().await;

    // The recorder is process-wide (shared with parallel tests): check names, not values.
    let metrics = app.metrics().await;
    for name in [
        r#"outbox_sent_total{kind="verify_email"}"#,
        "outbox_pending ",
        "outbox_oldest_pending_age_seconds ",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
}

#[tokio::test]
async fn the_same_idempotency_key_sends_one_email() {
    let app = TestApp::spawn().await;
    let to = recipient("twice");
    let key = format!("notice:{}", uuid::Uuid::new_v4());
    enqueue(&app.pool, &[notice(&to, &key), notice(&to, &key)]).await;
    enqueue(&app.pool, &[notice(&to, &key)]).await;
    assert_eq!(rows(&app.pool, &to).await.len(), 1, "one row per key");

    let worker = Worker::start(&app.pool, mailer(&smtp_url()), fast());
    one_mail_to(&to).await;
    a_while().await;
    assert_eq!(mails(&to).await.len(), 1);
    worker.stop().await;
}

#[tokio::test]
async fn a_rolled_back_transaction_sends_nothing() {
    let app = TestApp::spawn().await;
    let (lost, canary) = (recipient("rolled-back"), recipient("canary"));
    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    outbox::enqueue(&mut tx, &notice(&lost, &format!("lost:{lost}")))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    enqueue(&app.pool, &[notice(&canary, &format!("canary:{canary}"))]).await;

    let worker = Worker::start(&app.pool, mailer(&smtp_url()), fast());
    one_mail_to(&canary).await;
    a_while().await;
    assert!(rows(&app.pool, &lost).await.is_empty());
    assert!(mails(&lost).await.is_empty());
    worker.stop().await;
}

#[tokio::test]
async fn while_smtp_is_down_attempts_are_recorded_and_the_email_goes_out_once_it_is_back() {
    let app = TestApp::spawn().await;
    let smtp = Proxy::start(addr_of(&smtp_url())).await;
    smtp.cut();
    let to = recipient("smtp-down");
    enqueue(&app.pool, &[notice(&to, &format!("down:{to}"))]).await;
    let settings = OutboxSettings {
        max_attempts: 8,
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(2),
        ..fast()
    };
    let worker = Worker::start(
        &app.pool,
        mailer(&format!("smtp://{}", smtp.addr)),
        settings,
    );

    let row = eventually("a failed attempt", async || {
        rows(&app.pool, &to)
            .await
            .pop()
            .filter(|r| r.last_error.is_some())
    })
    .await;
    assert_eq!(row.attempts, 1);
    assert!(!row.sent && !row.dead);
    assert!(row.waiting, "the next attempt is scheduled in the future");
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .contains("attempt 1 of 8"),
        "{row:?}"
    );
    assert!(mails(&to).await.is_empty());

    smtp.restore();
    one_mail_to(&to).await;
    let row = eventually("the row marked sent", async || {
        rows(&app.pool, &to).await.pop().filter(|r| r.sent)
    })
    .await;
    assert!(row.attempts >= 2, "{row:?}");
    assert!(!row.dead);
    worker.stop().await;
}

#[tokio::test]
async fn after_max_attempts_an_email_is_dead_and_no_longer_retried() {
    let app = TestApp::spawn().await;
    let smtp = Proxy::start(addr_of(&smtp_url())).await;
    smtp.cut();
    let to = recipient("dead");
    enqueue(&app.pool, &[notice(&to, &format!("dead:{to}"))]).await;
    let settings = OutboxSettings {
        max_attempts: 2,
        ..fast()
    };
    let worker = Worker::start(
        &app.pool,
        mailer(&format!("smtp://{}", smtp.addr)),
        settings,
    );

    let row = eventually("the row given up on", async || {
        rows(&app.pool, &to).await.pop().filter(|r| r.dead)
    })
    .await;
    assert_eq!(row.attempts, 2);
    assert!(!row.sent);
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .contains("attempt 2 of 2"),
        "{row:?}"
    );

    smtp.restore();
    a_while().await;
    let rows = rows(&app.pool, &to).await;
    assert_eq!(rows.len(), 1, "kept, not deleted");
    assert_eq!(rows[0].attempts, 2, "not tried again");
    assert!(mails(&to).await.is_empty());
    worker.stop().await;
}

#[tokio::test]
async fn an_email_that_cannot_be_rendered_is_dead_at_once() {
    let app = TestApp::spawn().await;
    let to = recipient("unrenderable");
    let email = OutboxEmail {
        kind: EmailKind::ResetPassword,
        recipient: to.clone(),
        payload: json!({"expires_in_minutes": 60}),
        idempotency_key: format!("bad:{to}"),
    };
    enqueue(&app.pool, &[email]).await;
    let worker = Worker::start(&app.pool, mailer(&smtp_url()), fast());

    let row = eventually("the row given up on", async || {
        rows(&app.pool, &to).await.pop().filter(|r| r.dead)
    })
    .await;
    assert_eq!(row.attempts, 1, "a template error is not retried");
    let error = row.last_error.unwrap();
    assert!(
        error.contains("reset_password") && error.contains("link"),
        "{error}"
    );
    worker.stop().await;
}

#[tokio::test]
async fn two_workers_racing_over_twenty_emails_deliver_each_exactly_once() {
    let app = TestApp::spawn().await;
    let run = format!("race-{}-", uuid::Uuid::new_v4().simple());
    let recipients: Vec<String> = (0..20).map(|i| format!("{run}{i}@outbox.test")).collect();
    let emails: Vec<OutboxEmail> = recipients
        .iter()
        .map(|to| notice(to, &format!("race:{to}")))
        .collect();
    enqueue(&app.pool, &emails).await;

    let settings = OutboxSettings {
        batch_size: 3,
        poll_interval: Duration::from_millis(5),
        ..fast()
    };
    let first = Worker::start(&app.pool, mailer(&smtp_url()), settings.clone());
    let second = Worker::start(&app.pool, mailer(&smtp_url()), settings);

    eventually("all twenty rows sent", async || {
        let mut sent = 0;
        for to in &recipients {
            sent += rows(&app.pool, to).await.iter().filter(|r| r.sent).count();
        }
        (sent == 20).then_some(())
    })
    .await;
    a_while().await;
    let delivered = mails(&run).await;
    for to in &recipients {
        let count = delivered
            .iter()
            .filter(|m| m["to"][0]["address"] == to.as_str())
            .count();
        assert_eq!(count, 1, "{to} got {count} emails");
        let rows = rows(&app.pool, to).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].attempts, 1, "claimed once: {to}");
    }
    assert_eq!(delivered.len(), 20);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn html_escapes_a_payload_value_containing_a_script_tag() {
    let app = TestApp::spawn().await;
    let to = recipient("escape");
    let evil = "<script>alert('owned')</script>@evil.test";
    enqueue(
        &app.pool,
        &[OutboxEmail::new(
            &to,
            format!("escape:{to}"),
            &payload::ChangeEmailNotice {
                new_email: evil.into(),
            },
        )],
    )
    .await;
    let worker = Worker::start(&app.pool, mailer(&smtp_url()), fast());

    let mail = one_mail_to(&to).await;
    let html = mail["html"].as_str().unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;@evil.test"),
        "{html}"
    );
    assert!(mail["text"].as_str().unwrap().contains(evil));
    worker.stop().await;
}

/// What stays of a row's payload.
async fn stored_payload(pool: &PgPool, recipient: &str) -> Value {
    stored(pool, recipient, "payload").await
}

/// Whether the database says it removed something from the row's payload.
async fn redacted(pool: &PgPool, recipient: &str) -> bool {
    stored(pool, recipient, "redacted_at is not null").await
}

async fn stored<T>(pool: &PgPool, recipient: &str, column: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut tx = begin_service(pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    let value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select {column} from outbox where recipient = $1"
    )))
    .bind(recipient)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    value
}

#[tokio::test]
async fn links_and_codes_are_removed_from_a_row_once_it_is_sent_or_given_up_on() {
    let app = TestApp::spawn().await;
    let smtp = Proxy::start(addr_of(&smtp_url())).await;
    let worker = Worker::start(
        &app.pool,
        mailer(&format!("smtp://{}", smtp.addr)),
        OutboxSettings {
            max_attempts: 1,
            ..fast()
        },
    );
    let token = uuid::Uuid::new_v4().simple().to_string();
    let link = format!("{PUBLIC_URL}/verify?token={token}");

    // Delivered: the mail has the link and code, the row no longer does.
    let delivered = recipient("redacted-sent");
    let verify = payload::VerifyEmail {
        link: link.clone(),
        code: Some("654321".into()),
        expires_in_hours: 24,
    };
    let notice_to = recipient("kept");
    enqueue(
        &app.pool,
        &[
            OutboxEmail::new(&delivered, format!("v:{delivered}"), &verify),
            notice(&notice_to, &format!("n:{notice_to}")),
        ],
    )
    .await;
    let mail = one_mail_to(&delivered).await;
    assert!(mail["text"].as_str().unwrap().contains(&link));
    let row = eventually("the row marked sent", async || {
        rows(&app.pool, &delivered).await.pop().filter(|r| r.sent)
    })
    .await;
    assert_eq!(row.attempts, 1, "the delivery facts stay");
    assert_eq!(
        stored_payload(&app.pool, &delivered).await,
        json!({"expires_in_hours": 24})
    );
    assert!(redacted(&app.pool, &delivered).await);
    // A payload without a credential is kept as it was.
    one_mail_to(&notice_to).await;
    eventually("the notice marked sent", async || {
        rows(&app.pool, &notice_to).await.pop().filter(|r| r.sent)
    })
    .await;
    assert_eq!(
        stored_payload(&app.pool, &notice_to).await,
        json!({"new_email": "new@outbox.test"})
    );
    assert!(!redacted(&app.pool, &notice_to).await);

    // Given up on: nobody will receive the link, and the row does not keep it either.
    smtp.cut();
    let parked = recipient("redacted-dead");
    let reset = payload::ResetPassword {
        link: format!("{PUBLIC_URL}/reset?token={token}"),
        expires_in_minutes: 60,
    };
    enqueue(
        &app.pool,
        &[OutboxEmail::new(&parked, format!("r:{parked}"), &reset)],
    )
    .await;
    eventually("the row given up on", async || {
        rows(&app.pool, &parked).await.pop().filter(|r| r.dead)
    })
    .await;
    assert_eq!(
        stored_payload(&app.pool, &parked).await,
        json!({"expires_in_minutes": 60})
    );
    assert!(redacted(&app.pool, &parked).await);
    worker.stop().await;
}
