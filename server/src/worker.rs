//! The outbox delivery loop: claims due emails as `outbox_worker`, sends them outside the
//! claiming transaction, and records each outcome. Safe to run in several instances at once.
use std::{error::Error, future::Future, pin::pin, time::Duration};

use app::ssr::{
    auth::flows::requests,
    db::{
        self, DbError, ServiceRole,
        outbox::{self, ClaimedEmail, EmailKind},
    },
    settings::AuthSettings,
};
use rand::Rng;
use sqlx::{PgPool, postgres::PgPoolOptions};
use tokio::{task::JoinSet, time::Instant};
use tracing::Instrument;

use crate::{config::OutboxSettings, mailer::Mailer};

/// How often the queue gauges are refreshed (every instance reports the whole queue).
const GAUGE_INTERVAL: Duration = Duration::from_secs(10);
/// A claim lasts the send timeout plus this, the time to record the outcome. If the worker dies
/// in between, the email becomes due again when the lease ends.
const LEASE_MARGIN: Duration = Duration::from_secs(60);
/// `last_error` is for people reading the queue; SMTP answers can be long.
const MAX_ERROR_CHARS: usize = 1000;
/// Connections of the worker's own pool: one claims, the others record outcomes.
const POOL_SIZE: u32 = 3;

/// A small pool of the worker's own, with the app pool's connection settings: a burst of
/// requests cannot starve deliveries (nor the reverse), and the worker can still record its
/// last outcomes after the HTTP server has closed its pool at shutdown.
pub fn dedicated_pool(app_pool: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(app_pool.options().get_acquire_timeout())
        .connect_lazy_with((*app_pool.connect_options()).clone())
}

/// Delivers due emails until `shutdown` resolves; the batch in flight is finished first (each
/// send is bounded by the mailer's timeout). Errors are logged and retried, never returned.
pub async fn run_worker(
    pool: PgPool,
    mailer: Mailer,
    settings: OutboxSettings,
    shutdown: impl Future<Output = ()>,
) {
    describe_metrics();
    let mut shutdown = pin!(shutdown);
    let mut gauges_due = Instant::now();
    let mut database_ok = true;
    // Links and lifetimes of the emails it writes for account requests: the server's own
    // auth settings derive from the same public URL.
    let auth = AuthSettings::for_public_url(mailer.public_url());
    tracing::info!(
        batch_size = settings.batch_size,
        max_attempts = settings.max_attempts,
        poll_interval = ?settings.poll_interval,
        "outbox worker started"
    );
    loop {
        if Instant::now() >= gauges_due {
            refresh_gauges(&pool).await;
            gauges_due = Instant::now() + GAUGE_INTERVAL;
        }
        // First, so the emails they queue go out in this same round.
        let requests_full = resolve_account_requests(&pool, &auth, &settings).await;
        let pause = match process_batch(&pool, &mailer, &settings).await {
            Ok(claimed) => {
                if !database_ok {
                    tracing::info!("outbox worker reaches the database again");
                    database_ok = true;
                }
                // A full batch means more may be due: go on at once.
                if requests_full || claimed >= settings.batch_size as usize {
                    Duration::ZERO
                } else {
                    settings.poll_interval
                }
            }
            Err(e) => {
                // Once per outage, not once per poll.
                if database_ok {
                    tracing::warn!(
                        error = %chain(&e),
                        "outbox worker cannot claim emails; will keep trying"
                    );
                    database_ok = false;
                }
                settings.poll_interval
            }
        };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("outbox worker stopped");
}

/// Claims up to one batch, commits the claim, then sends the claimed emails concurrently and
/// records each outcome as soon as it is known. Returns how many rows were claimed.
#[tracing::instrument(name = "outbox.batch", skip_all, fields(claimed = tracing::field::Empty))]
async fn process_batch(
    pool: &PgPool,
    mailer: &Mailer,
    settings: &OutboxSettings,
) -> Result<usize, DbError> {
    let lease = mailer.timeout() + LEASE_MARGIN;
    let mut tx = db::begin_service(pool, ServiceRole::OutboxWorker).await?;
    let rows = outbox::claim_due(&mut tx, settings.batch_size.into(), lease).await?;
    tx.commit().await?;
    let claimed = rows.len();
    tracing::Span::current().record("claimed", claimed);

    let mut deliveries = JoinSet::new();
    for row in rows {
        let (pool, mailer, settings) = (pool.clone(), mailer.clone(), settings.clone());
        deliveries
            .spawn(async move { deliver(&pool, &mailer, &settings, row).await }.in_current_span());
    }
    while let Some(joined) = deliveries.join_next().await {
        if let Err(e) = joined {
            // The row's lease runs out and it is tried again.
            tracing::error!(error = %e, "an email delivery task panicked");
        }
    }
    Ok(claimed)
}

/// Resolves up to one batch of "forgot password" / "resend" requests (see
/// `app::ssr::auth::flows::requests`). Returns whether the batch was full (more may wait).
async fn resolve_account_requests(
    pool: &PgPool,
    auth: &AuthSettings,
    settings: &OutboxSettings,
) -> bool {
    match requests::process_due(pool, auth, settings.batch_size.into()).await {
        Ok(taken) => taken >= settings.batch_size as usize,
        // A database outage: the claim below fails too and says so, once.
        Err(e) => {
            tracing::debug!(error = %chain(&e), "cannot resolve account requests");
            false
        }
    }
}

/// What became of one claimed email.
enum Outcome {
    Sent,
    Retry { error: String, after: Duration },
    Dead { error: String },
}

async fn deliver(pool: &PgPool, mailer: &Mailer, settings: &OutboxSettings, row: ClaimedEmail) {
    let attempt = u32::try_from(row.attempts).unwrap_or(u32::MAX);
    let max = settings.max_attempts;
    let failure = if attempt > max {
        // Earlier claims ended without an outcome: the worker stopped while sending.
        Some((
            format!("no outcome recorded after {} attempts", attempt - 1),
            true,
        ))
    } else {
        match EmailKind::parse(&row.kind) {
            // Perhaps queued by a newer instance during a rolling deploy: leave it to that one.
            None => Some(("unknown kind".to_owned(), false)),
            Some(kind) => {
                let sent = match mailer.compose(
                    kind,
                    &row.recipient,
                    &row.payload,
                    &row.idempotency_key,
                ) {
                    Ok(message) => mailer.send(message).await,
                    Err(e) => Err(e),
                };
                sent.err().map(|e| (e.to_string(), e.is_permanent()))
            }
        }
    };
    let outcome = match failure {
        None => Outcome::Sent,
        Some((error, permanent)) if permanent || attempt >= max => Outcome::Dead {
            error: truncate(format!("attempt {attempt} of {max}: {error}")),
        },
        Some((error, _)) => Outcome::Retry {
            error: truncate(format!("attempt {attempt} of {max}: {error}")),
            after: backoff(attempt, settings.backoff_base, settings.backoff_max),
        },
    };

    // A label from the known kinds only: `outbox.kind` is free text to the database.
    let kind = EmailKind::parse(&row.kind).map_or("unknown", EmailKind::as_str);
    match &outcome {
        Outcome::Sent => {
            metrics::counter!("outbox_sent_total", "kind" => kind).increment(1);
            tracing::debug!(outbox_id = row.id, kind = %row.kind, attempt, "email sent");
        }
        Outcome::Retry { error, after } => {
            metrics::counter!("outbox_failed_total", "kind" => kind).increment(1);
            tracing::warn!(
                outbox_id = row.id,
                kind = %row.kind,
                attempt,
                retry_in = ?after,
                %error,
                "email not sent; will retry"
            );
        }
        Outcome::Dead { error } => {
            if attempt <= max {
                metrics::counter!("outbox_failed_total", "kind" => kind).increment(1);
            }
            metrics::counter!("outbox_dead_total", "kind" => kind).increment(1);
            tracing::error!(
                outbox_id = row.id,
                kind = %row.kind,
                attempt,
                %error,
                "email not sent; giving up"
            );
        }
    }
    record(pool, &row, &outcome).await;
}

/// Writes the outcome, retrying briefly: if it is lost, the email is sent again when its lease
/// ends (with the same Message-ID).
async fn record(pool: &PgPool, row: &ClaimedEmail, outcome: &Outcome) {
    const TRIES: u32 = 3;
    for try_number in 1..=TRIES {
        let result = async {
            let mut tx = db::begin_service(pool, ServiceRole::OutboxWorker).await?;
            match outcome {
                Outcome::Sent => outbox::mark_sent(&mut tx, row.id).await?,
                Outcome::Retry { error, after } => {
                    outbox::schedule_retry(&mut tx, row.id, error, *after).await?
                }
                Outcome::Dead { error } => outbox::mark_dead(&mut tx, row.id, error).await?,
            }
            db::commit(tx).await
        }
        .await;
        match result {
            Ok(()) => return,
            Err(e) if try_number == TRIES => tracing::error!(
                outbox_id = row.id,
                kind = %row.kind,
                error = %chain(&e),
                "cannot record an email's outcome; it is retried when its lease ends"
            ),
            Err(_) => tokio::time::sleep(Duration::from_millis(200 * u64::from(try_number))).await,
        }
    }
}

/// The wait before the next attempt after `failures` failed ones: `base`, doubling each time,
/// capped at `max`, then ±20% at random so emails that failed together do not retry together.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    let exponential = base.saturating_mul(1 << doublings).min(max);
    let jitter = rand::rng().random_range(0.8..=1.2);
    Duration::try_from_secs_f64(exponential.as_secs_f64() * jitter)
        .unwrap_or(max)
        .min(max)
}

async fn refresh_gauges(pool: &PgPool) {
    let stats = async {
        let mut tx = db::begin_service(pool, ServiceRole::OutboxWorker).await?;
        let stats = outbox::queue_stats(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, DbError>(stats)
    }
    .await;
    match stats {
        Ok(stats) => {
            metrics::gauge!("outbox_pending").set(stats.pending as f64);
            metrics::gauge!("outbox_oldest_pending_age_seconds")
                .set(stats.oldest_pending_age.as_secs_f64());
        }
        // The claim fails too and says so; no second log line per outage.
        Err(e) => tracing::debug!(error = %chain(&e), "cannot read the outbox depth"),
    }
}

fn describe_metrics() {
    metrics::describe_counter!("outbox_sent_total", "Emails accepted by the SMTP server");
    metrics::describe_counter!("outbox_failed_total", "Failed delivery attempts");
    metrics::describe_counter!("outbox_dead_total", "Emails given up on (dead_at set)");
    metrics::describe_gauge!("outbox_pending", "Emails neither sent nor given up on");
    metrics::describe_gauge!(
        "outbox_oldest_pending_age_seconds",
        "Age of the oldest email neither sent nor given up on"
    );
}

fn truncate(mut s: String) -> String {
    if let Some((at, _)) = s.char_indices().nth(MAX_ERROR_CHARS) {
        s.truncate(at);
    }
    s
}

/// An error and its sources on one line.
fn chain(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_within_twenty_percent() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(3600));
        for (failures, expected) in [(1, 5.0), (2, 10.0), (3, 20.0), (8, 640.0)] {
            for _ in 0..50 {
                let d = backoff(failures, base, max).as_secs_f64();
                assert!(
                    (expected * 0.8..=expected * 1.2).contains(&d),
                    "{failures}: {d}"
                );
            }
        }
    }

    #[test]
    fn backoff_never_exceeds_the_cap() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(3600));
        for failures in [11, 12, 40, u32::MAX] {
            let d = backoff(failures, base, max);
            assert!(d <= max && d >= max.mul_f64(0.8), "{failures}: {d:?}");
        }
        let huge = Duration::from_millis(u64::MAX);
        assert!(backoff(3, huge, huge) <= huge);
    }

    #[test]
    fn long_errors_are_cut_on_a_char_boundary() {
        let s = truncate("é".repeat(2 * MAX_ERROR_CHARS));
        assert_eq!(s.chars().count(), MAX_ERROR_CHARS);
        assert_eq!(truncate("short".into()), "short");
    }
}
