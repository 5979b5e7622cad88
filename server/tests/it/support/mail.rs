//! The emails a test caused: delivered to the real MailDev by a delivery loop of the test's own,
//! or read straight from the outbox rows. MailDev is shared by every test (and every engineer),
//! so a test only ever asks for the addresses it made up, and never clears anything.
use std::time::Duration;

use app::ssr::{
    auth::flows::requests,
    db::{ServiceRole, begin_service},
    settings::AuthSettings,
};
use serde::Deserialize;
use serde_json::Value;
use server::{config::OutboxSettings, mailer::Mailer, worker::run_worker};
use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use super::app::PUBLIC_URL;

pub fn smtp_url() -> String {
    std::env::var("SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:1025".into())
}

pub fn maildev_url() -> String {
    std::env::var("MAILDEV_API_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:1080".into())
        .trim_end_matches('/')
        .to_owned()
}

/// An outbox delivery loop for one app's database (the test harness starts none), polling
/// every few milliseconds. Stops when dropped.
pub struct Worker {
    stop: Option<oneshot::Sender<()>>,
    _task: JoinHandle<()>,
}

impl Worker {
    pub fn start(pool: &PgPool) -> Self {
        let mailer = Mailer::new(
            &smtp_url(),
            "Palisade <no-reply@palisade.local>".parse().unwrap(),
            PUBLIC_URL,
            Duration::from_secs(5),
        )
        .expect("mailer");
        let settings = OutboxSettings {
            worker_enabled: true,
            poll_interval: Duration::from_millis(20),
            batch_size: 10,
            max_attempts: 3,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_worker(pool.clone(), mailer, settings, async move {
            let _ = stopped.await;
        }));
        Self {
            stop: Some(stop),
            _task: task,
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One email as MailDev shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct Email {
    pub subject: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub html: String,
}

impl Email {
    /// The first `PUBLIC_URL{path}?token=…` link in the text part.
    pub fn link(&self, path: &str) -> String {
        let start = format!("{PUBLIC_URL}{path}?token=");
        let at = self
            .text
            .find(&start)
            .unwrap_or_else(|| panic!("no {start} link in:\n{}", self.text));
        self.text[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

/// Every email MailDev holds for exactly this address (MailDev filters on `to.address`).
pub async fn inbox(address: &str) -> Vec<Email> {
    reqwest::Client::new()
        .get(format!("{}/api/email", maildev_url()))
        .query(&[("to.address", address)])
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("MailDev must be running (scripts/services start)")
        .json()
        .await
        .expect("MailDev lists emails as JSON")
}

/// Waits (at most 15 s) until `address` has received an email whose subject starts with
/// `subject`, and returns it; several matching emails are a failure.
pub async fn wait_for(address: &str, subject: &str) -> Email {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut matching: Vec<Email> = inbox(address)
            .await
            .into_iter()
            .filter(|m| m.subject.starts_with(subject))
            .collect();
        match matching.len() {
            0 => {}
            1 => return matching.remove(0),
            n => panic!("{n} emails \"{subject}\" to {address}: {matching:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "no email \"{subject}\" reached {address} in MailDev"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An email as the auth flows queued it: `kind` (e.g. `verify_email`) and its payload (links,
/// codes).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Queued {
    pub kind: String,
    pub payload: Value,
}

impl Queued {
    /// The token of the payload's `link`.
    pub fn token(&self) -> String {
        let link = self.payload["link"]
            .as_str()
            .unwrap_or_else(|| panic!("no link in {self:?}"));
        link.split_once("?token=")
            .unwrap_or_else(|| panic!("no token in {link}"))
            .1
            .to_string()
    }

    /// The payload's 6-digit `code`.
    pub fn code(&self) -> String {
        self.payload["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code in {self:?}"))
            .to_string()
    }
}

/// Does the worker's first step: "forgot password" and "resend" only queue a request, which
/// the worker turns into an email (or into nothing, for an unknown address).
pub async fn resolve_account_requests(pool: &PgPool) {
    let settings = AuthSettings::for_public_url(PUBLIC_URL);
    while requests::process_due(pool, &settings, 100).await.unwrap() > 0 {}
}

/// The outbox rows for `recipient`, oldest first, read as the delivery loop's role (the only
/// one that may read payloads), once the account requests queued so far are resolved.
pub async fn queued(pool: &PgPool, recipient: &str) -> Vec<Queued> {
    resolve_account_requests(pool).await;
    let mut tx = begin_service(pool, ServiceRole::OutboxWorker)
        .await
        .unwrap();
    let rows = sqlx::query_as("select kind, payload from outbox where recipient = $1 order by id")
        .bind(recipient)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

/// The newest email of `kind` queued for `recipient`.
pub async fn latest(pool: &PgPool, recipient: &str, kind: &str) -> Queued {
    queued(pool, recipient)
        .await
        .into_iter()
        .rev()
        .find(|q| q.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} email queued for {recipient}"))
}

/// The kinds queued for `recipient`, oldest first.
pub async fn kinds(pool: &PgPool, recipient: &str) -> Vec<String> {
    queued(pool, recipient)
        .await
        .into_iter()
        .map(|q| q.kind)
        .collect()
}
