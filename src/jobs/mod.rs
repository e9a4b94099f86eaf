//! Background workers: a fixed pool of threads that runs bulk enrollment tasks from the
//! `tasks` table and delivers the outbox. Work lives in the database, so nothing is lost
//! when the process dies; a restart resumes it.

pub mod expiry;
pub mod outbox;
pub mod retirement;
pub mod tasks;

use crate::config::Config;
use crate::core::emails::Templates;
use crate::core::env::Signal;
use crate::core::rate_limit::Limits;
use crate::store::Db;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// What the workers use of the application, and nothing more: `jobs` does not depend on
/// the whole `App` (the HTTP layer's state and the idempotency registry are not theirs).
/// `app.rs` implements it for `App`.
pub trait Context: Sync {
    fn db(&self) -> &Db;
    fn config(&self) -> &Config;
    /// How clients reach us (links in emails), without a trailing slash.
    fn base_url(&self) -> &str;
    fn mailer(&self) -> &outbox::Mailer;
    fn templates(&self) -> &Templates;
    /// Wakes idle workers; a worker with nothing to do waits on it.
    fn signal(&self) -> &Signal;
    /// The in-memory rate-limit counters, which a retirement clears of the person's names.
    fn rate_limits(&self) -> &Limits;
}

/// Starts `workers` threads for bulk tasks, emails and jobs, and `webhook_workers` for
/// webhooks alone (a slow receiver then never holds up an email or a task); they finish
/// the step in hand and stop when `stop` is set.
pub fn start<C: Context + Send + 'static>(
    app: Arc<OnceLock<C>>,
    workers: usize,
    webhook_workers: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut handles = Vec::with_capacity(workers);
    if let Some(cx) = app.get() {
        match cx.db().write(crate::core::bulk::requeue_interrupted) {
            Ok(0) => {}
            Ok(n) => log::info!("resuming {n} interrupted task(s)"),
            Err(e) => log::error!("could not requeue interrupted tasks: {e}"),
        }
        match cx.db().write(crate::core::privacy::requeue_interrupted) {
            Ok(0) => {}
            Ok(n) => log::info!("resuming {n} interrupted retirement task(s)"),
            Err(e) => log::error!("could not requeue interrupted retirement tasks: {e}"),
        }
    }
    for n in 0..workers + webhook_workers {
        let app = app.clone();
        let stop = stop.clone();
        let webhooks = n >= workers;
        let name = if webhooks { format!("webhooks-{}", n - workers) } else { format!("worker-{n}") };
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let Some(cx) = app.get() else { return };
            let mut last_purge = std::time::Instant::now();
            while !stop.load(Ordering::SeqCst) {
                // A panic in one step must not end the worker; the step's transaction rolled back.
                let worked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    if webhooks {
                        outbox::step(cx, &stop, true)
                    } else {
                        if n == 0 {
                            purge_idempotency_keys(cx, &mut last_purge);
                        }
                        tasks::step(cx, &stop) | retirement::step(cx) | outbox::step(cx, &stop, false)
                    }
                }))
                .unwrap_or_else(|_| {
                    log::error!("a background step panicked; continuing");
                    false
                });
                if !worked {
                    cx.signal().wait(Duration::from_millis(500));
                }
            }
        });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => log::error!("could not start background worker: {e}"),
        }
    }
    let spawned = std::thread::Builder::new().name("expiry".into()).spawn(move || {
        let Some(cx) = app.get() else { return };
        let tick = Duration::from_secs(cx.config().jobs.expiry_tick_seconds);
        while !stop.load(Ordering::SeqCst) {
            let started = std::time::Instant::now();
            let changed =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| expiry::tick(cx))).unwrap_or_else(|_| {
                    log::error!("the expiry job panicked; continuing");
                    0
                });
            if changed > 0 {
                log::info!("expiry job: {changed} enrollment(s) expired or notified");
            }
            // Short sleeps, so a stop is seen within a tenth of a second.
            while !stop.load(Ordering::SeqCst) && started.elapsed() < tick {
                std::thread::sleep(Duration::from_millis(100).min(tick));
            }
        }
    });
    match spawned {
        Ok(handle) => handles.push(handle),
        Err(e) => log::error!("could not start the expiry job: {e}"),
    }
    handles
}

/// Removes the idempotency keys older than `idempotency.retention_hours` (lookups already
/// ignore them), at most once a minute, or once per retention when that is shorter.
fn purge_idempotency_keys(cx: &dyn Context, last: &mut std::time::Instant) {
    let retention = cx.config().idempotency.retention_seconds();
    let every = Duration::from_secs(retention.clamp(1, 60) as u64);
    if last.elapsed() < every {
        return;
    }
    *last = std::time::Instant::now();
    let before = crate::domain::Timestamp::now().unix() - retention;
    match cx.db().write(|conn| crate::store::idempotency::purge(conn, before)) {
        Ok(0) => {}
        Ok(n) => log::debug!("purged {n} expired idempotency key(s)"),
        Err(e) => log::error!("could not purge expired idempotency keys: {e}"),
    }
}
