//! Emails reach MailDev exactly once, as text and HTML, escaped, whoever races for them.
use super::*;

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
