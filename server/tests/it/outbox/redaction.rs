//! Sent or dead rows lose their one-time links and codes.
use super::*;

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
    let worker = worker_through(
        &app.pool,
        &smtp,
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
