//! The outbox end to end: emails queued in a transaction reach the real MailDev exactly once,
//! failures are retried with backoff and finally parked. MailDev is shared by tests running in
//! parallel, so every test has recipients of its own and looks only at those.
mod delivery;
mod failures;
mod redaction;

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

/// A worker that sends through `smtp`, a proxy the test can cut and restore.
fn worker_through(pool: &PgPool, smtp: &Proxy, settings: OutboxSettings) -> Worker {
    Worker::start(pool, mailer(&format!("smtp://{}", smtp.addr)), settings)
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
