//! What the use cases run against, built once at start-up (`Server::build`) and shared by
//! every request: the settings, the database, `auth`'s secrets and counters, and the signal
//! that wakes the background workers when work is written for them.

use crate::config::Config;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

pub struct Env {
    pub config: Config,
    pub db: crate::store::Db,
    pub auth: crate::auth::Auth,
    /// The per-minute counters of sign-ins, tokens and each surface's callers.
    pub limits: super::rate_limit::Limits,
    /// How clients reach us, without a trailing slash.
    pub base_url: String,
    /// Wakes the background workers when new work is written.
    pub jobs: Signal,
    /// `checkout.coupons`, parsed (and checked) at start-up.
    pub coupons: Vec<(String, u32)>,
    /// `email.templates_dir`, loaded and checked at start-up.
    pub templates: super::emails::Templates,
    /// Idempotency keys running now, and which have answers.
    pub idempotency: super::idempotency::Registry,
}

impl Env {
    /// A write that leaves work for the background workers (emails, webhooks, tasks): one
    /// transaction, and the workers woken once it is committed.
    pub fn write_for_workers<T: Send>(
        &self,
        f: impl FnOnce(&crate::store::Conn) -> Result<T, super::Error> + Send,
    ) -> Result<T, super::Error> {
        let done = self.db.write(f)?;
        self.jobs.wake();
        Ok(done)
    }
}

/// Wakes idle workers when new work is written (they also poll, so a missed wake-up only
/// delays work).
#[derive(Default)]
pub struct Signal {
    pending: Mutex<bool>,
    ready: Condvar,
}

impl Signal {
    pub fn wake(&self) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.ready.notify_all();
    }

    /// Waits for a wake-up, or `timeout`; what a worker with nothing to do does.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut guard, _) =
            self.ready.wait_timeout_while(guard, timeout, |pending| !*pending).unwrap_or_else(PoisonError::into_inner);
        *guard = false;
    }
}
