//! Outgoing email: the SMTP transport (lettre) and turning an outbox row into a MIME message.
mod templates;

use std::time::Duration;

use app::ssr::db::outbox::EmailKind;
use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use templates::{Rendered, TemplateError, escape, render};

use crate::config::Settings;

/// Sends rendered emails over one pooled SMTP transport. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    message_id_domain: String,
    /// The base of the links the worker puts in emails it composes the content of.
    public_url: String,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    // The transport's own Debug would print the SMTP credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("message_id_domain", &self.message_id_domain)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the recipient is not a valid email address")]
    Recipient(#[source] lettre::address::AddressError),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("SMTP did not finish within {0:?}")]
    Timeout(Duration),
}

impl MailError {
    /// True when sending the same message again cannot succeed: a bad payload or address, or
    /// a 5xx answer from the SMTP server. Network trouble, timeouts and 4xx are worth a retry.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Smtp(e) => e.is_permanent(),
            Self::Timeout(_) => false,
            Self::Template(_) | Self::Recipient(_) | Self::Build(_) => true,
        }
    }
}

impl Mailer {
    /// Builds the transport from an SMTP URL (`smtp://host:port` plain, `smtps://` or
    /// `smtp://…?tls=required` with TLS, credentials as `user:password@`). Nothing connects
    /// until the first send. `timeout` bounds each network step and each whole send. Call it
    /// within a Tokio runtime: the connection pool spawns its idle-connection reaper.
    pub fn new(
        smtp_url: &str,
        from: Mailbox,
        public_url: &str,
        timeout: Duration,
    ) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from,
            message_id_domain: host_of(public_url).to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    pub fn from_settings(settings: &Settings) -> Result<Self, MailError> {
        Self::new(
            settings.smtp_url.expose_secret(),
            settings.mail.from.clone(),
            &settings.public_url,
            settings.mail.send_timeout,
        )
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The app's public URL, as configured (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The same idempotency key always gives the same `Message-ID`, so a retry after a lost
    /// acknowledgement is recognisable as the same message (by the receiver, and in tests).
    pub fn message_id(&self, idempotency_key: &str) -> String {
        let digest = app::ssr::auth::tokens::hex(&Sha256::digest(idempotency_key.as_bytes()));
        format!("<{digest}@{}>", self.message_id_domain)
    }

    /// Renders the template for `kind` into a `multipart/alternative` message (text, then HTML).
    pub fn compose(
        &self,
        kind: EmailKind,
        recipient: &str,
        payload: &Value,
        idempotency_key: &str,
    ) -> Result<Message, MailError> {
        let to: Address = recipient.trim().parse().map_err(MailError::Recipient)?;
        let rendered = render(kind, payload)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .message_id(Some(self.message_id(idempotency_key)))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))?;
        Ok(message)
    }

    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(result) => result.map(drop).map_err(MailError::Smtp),
            Err(_) => Err(MailError::Timeout(self.timeout)),
        }
    }
}

/// The host of the public URL (`https://user@host:port/path` → `host`), for Message-IDs.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.find(']') {
        Some(end) if host_port.starts_with('[') => &host_port[..=end],
        _ => host_port.split(':').next().unwrap_or(host_port),
    };
    if host.is_empty() { "localhost" } else { host }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mailer() -> Mailer {
        Mailer::new(
            "smtp://127.0.0.1:1025",
            "Palisade <no-reply@palisade.local>".parse().unwrap(),
            "https://app.example.com:8443/base",
            Duration::from_secs(5),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_message_id_is_derived_from_the_key_and_the_public_host() {
        let m = mailer();
        let id = m.message_id("verify_email:42");
        assert_eq!(id, m.message_id("verify_email:42"));
        assert_ne!(id, m.message_id("verify_email:43"));
        assert!(
            id.starts_with('<') && id.ends_with("@app.example.com>"),
            "{id}"
        );
        assert_eq!(id.len(), 1 + 64 + "@app.example.com>".len());
    }

    #[test]
    fn hosts_are_taken_from_urls() {
        assert_eq!(host_of("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(host_of("https://u:p@example.com/x?y"), "example.com");
        assert_eq!(host_of("http://[::1]:3000/"), "[::1]");
        assert_eq!(host_of("http://palisade.test"), "palisade.test");
    }

    #[tokio::test]
    async fn a_message_is_multipart_alternative_with_the_derived_id() {
        let m = mailer();
        let message = m
            .compose(
                EmailKind::ResetPassword,
                "someone@example.com",
                &json!({"link": "https://app.example.com/reset?token=t", "expires_in_minutes": 60}),
                "reset_password:1",
            )
            .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains(&format!("Message-ID: {}", m.message_id("reset_password:1"))));
        assert!(
            raw.contains("From: Palisade <no-reply@palisade.local>"),
            "{raw}"
        );
    }

    #[tokio::test]
    async fn bad_recipients_and_payloads_are_permanent_failures() {
        let m = mailer();
        let err = m
            .compose(
                EmailKind::PasswordChanged,
                "not an address",
                &json!({}),
                "k",
            )
            .unwrap_err();
        assert!(err.is_permanent());
        let err = m
            .compose(EmailKind::ResetPassword, "a@b.test", &json!({}), "k")
            .unwrap_err();
        assert!(err.is_permanent());
        assert!(!MailError::Timeout(Duration::from_secs(1)).is_permanent());
    }

    #[tokio::test]
    async fn the_debug_output_holds_no_credentials() {
        let m = Mailer::new(
            "smtp://user:hunter2@127.0.0.1:1025",
            "a@b.test".parse().unwrap(),
            "http://x.test",
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
