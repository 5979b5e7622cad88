//! While SMTP fails: attempts recorded, retried with backoff, finally parked and kept.
use super::*;

/// One email queued for a recipient tagged `tag`, and an SMTP relay that is cut.
async fn queued_while_smtp_is_cut(app: &TestApp, tag: &str) -> (Proxy, String) {
    let smtp = Proxy::start(addr_of(&smtp_url())).await;
    smtp.cut();
    let to = recipient(tag);
    enqueue(&app.pool, &[notice(&to, &format!("{tag}:{to}"))]).await;
    (smtp, to)
}

#[tokio::test]
async fn while_smtp_is_down_attempts_are_recorded_and_the_email_goes_out_once_it_is_back() {
    let app = TestApp::spawn().await;
    let (smtp, to) = queued_while_smtp_is_cut(&app, "smtp-down").await;
    let settings = OutboxSettings {
        max_attempts: 8,
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(2),
        ..fast()
    };
    let worker = worker_through(&app.pool, &smtp, settings);

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
    let (smtp, to) = queued_while_smtp_is_cut(&app, "dead").await;
    let settings = OutboxSettings {
        max_attempts: 2,
        ..fast()
    };
    let worker = worker_through(&app.pool, &smtp, settings);

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
