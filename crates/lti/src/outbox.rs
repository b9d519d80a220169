//! Score delivery: a worker claims due outbox rows under a lease (so instances sharing a
//! PostgreSQL database never send the same row at once), posts them, and retries failures with
//! exponential backoff. Rows survive restarts; a row whose owner died is retaken when its lease
//! runs out.

use std::time::Duration;

use rand::Rng as _;
use tokio::sync::watch;

use super::SharedApp;
use super::ags::{self, Outcome};

/// After this many failed attempts a row is set aside (kept, marked dead) instead of retried.
const MAX_ATTEMPTS: i64 = 30;

/// Runs until `shutdown` turns true.
pub async fn run(app: SharedApp, mut shutdown: watch::Receiver<bool>) {
    let lease_ms = app.cfg.tuning.lease.as_millis() as i64;
    let mut purge_due = tokio::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if tokio::time::Instant::now() >= purge_due {
            if let Err(e) = app.store.purge_expired(super::now_ms()).await {
                tracing::warn!(error = %format!("{e:#}"), "purging expired rows failed");
            }
            purge_due = tokio::time::Instant::now() + Duration::from_secs(300);
        }
        // Drain everything due, then sleep until woken or the next poll.
        loop {
            if *shutdown.borrow() {
                return;
            }
            let row = match app
                .store
                .claim_outbox(&app.instance_id, super::now_ms(), lease_ms)
                .await
            {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "outbox claim failed");
                    break;
                }
            };
            deliver(&app, row).await;
        }
        tokio::select! {
            _ = app.outbox_wake.notified() => {}
            _ = tokio::time::sleep(app.cfg.tuning.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn deliver(app: &SharedApp, row: super::store::OutboxRow) {
    let outcome = match app
        .platforms
        .find(&app.store, &row.issuer, Some(&row.client_id))
        .await
    {
        Ok(p) => ags::post_score(app, &p, &row).await,
        Err(r) => Outcome::Retry(format!("platform registration: {}", r.detail)),
    };
    let owner = &app.instance_id;
    let result = match &outcome {
        Outcome::Delivered | Outcome::AlreadyNewer => {
            tracing::info!(session = %row.session, attempts = row.attempts + 1, outcome = ?outcome, "score delivered");
            app.store.outbox_delivered(&row.key, owner).await
        }
        Outcome::Retry(err) | Outcome::Permanent(err) => {
            let attempts = row.attempts + 1;
            let dead = matches!(outcome, Outcome::Permanent(_)) || attempts >= MAX_ATTEMPTS;
            let delay = backoff(app, attempts);
            tracing::warn!(session = %row.session, attempts, retry_in_ms = delay.as_millis() as u64, dead, error = %err, "score not delivered");
            app.store
                .outbox_failed(
                    &row.key,
                    owner,
                    super::now_ms() + delay.as_millis() as i64,
                    err,
                    dead,
                )
                .await
        }
    };
    if let Err(e) = result {
        // The lease runs out and the row is retried; the platform ignores a duplicate
        // (same timestamp), so a lost update here costs one extra request, not a score.
        tracing::error!(error = %format!("{e:#}"), "recording the delivery failed");
    }
}

/// Exponential backoff with jitter: base·2^(n-1), capped, ±20 %.
fn backoff(app: &SharedApp, attempts: i64) -> Duration {
    let base = app.cfg.tuning.retry_base.as_millis() as f64;
    let max = app.cfg.tuning.retry_max.as_millis() as f64;
    let exp = (attempts - 1).clamp(0, 30) as i32;
    let ms = (base * 2f64.powi(exp)).min(max);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::from_millis((ms * jitter) as u64)
}
