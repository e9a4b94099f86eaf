//! Sliding-window request counters per key (address, account, caller): the current
//! minute's count plus the previous minute's, weighted by how much of it still overlaps,
//! so a burst cannot double its allowance across a minute boundary. One limit keeps a
//! fixed window, as the original it copies does (`Limiter::fixed`). In memory: a restart
//! forgets them, which is acceptable for abuse limits on one box.

use crate::config::RateLimitConfig;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

const WINDOW_SECONDS: i64 = 60;

pub struct Limiter {
    per_minute: u32,
    /// Whether the previous minute still counts (false: a fixed window).
    sliding: bool,
    /// key → (start of the current window, hits in it, hits in the window before)
    windows: Mutex<HashMap<String, (i64, u32, u32)>>,
}

impl Limiter {
    fn new(per_minute: u32) -> Limiter {
        Limiter { per_minute, sliding: true, windows: Mutex::new(HashMap::new()) }
    }

    /// A count that starts again at each minute, as django-ratelimit's.
    fn fixed(per_minute: u32) -> Limiter {
        Limiter { sliding: false, ..Limiter::new(per_minute) }
    }

    /// Counts one hit for `key` and returns what is left of the allowance; `Err(seconds to
    /// wait)` once it is spent.
    pub fn hit(&self, key: &str, now: i64) -> Result<u32, u64> {
        self.count(key, now, true)
    }

    /// Like `hit`, without counting: for limits on failures, checked before they happen.
    pub fn peek(&self, key: &str, now: i64) -> Result<u32, u64> {
        self.count(key, now, false)
    }

    fn count(&self, key: &str, now: i64, add: bool) -> Result<u32, u64> {
        let window = now - now.rem_euclid(WINDOW_SECONDS);
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _, _)| *start >= window - WINDOW_SECONDS);
        }
        let entry = windows.entry(key.to_owned()).or_insert((window, 0, 0));
        if entry.0 != window {
            let previous = if entry.0 == window - WINDOW_SECONDS { entry.1 } else { 0 };
            *entry = (window, 0, previous);
        }
        // The share of the previous window that the last 60 seconds still cover.
        let overlap = if self.sliding { (WINDOW_SECONDS - (now - window)) as f64 / WINDOW_SECONDS as f64 } else { 0.0 };
        let estimate = entry.1 as f64 + entry.2 as f64 * overlap;
        if estimate >= self.per_minute as f64 {
            return Err((window + WINDOW_SECONDS - now).max(1) as u64);
        }
        if !add {
            return Ok((self.per_minute as f64 - estimate).max(0.0) as u32);
        }
        entry.1 += 1;
        Ok((self.per_minute as f64 - estimate - 1.0).max(0.0) as u32)
    }

    /// Drops every key that starts with `prefix` (a retired person's login attempts).
    fn forget_prefix(&self, prefix: &str) {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner).retain(|key, _| !key.starts_with(prefix));
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }
}

/// One limiter per way in; all of them pass everything when limits are turned off.
pub struct Limits {
    pub enabled: bool,
    pub login: Limiter,
    pub token: Limiter,
    pub admin: Limiter,
    pub lms_v1: Limiter,
    pub lms_v1_staff: Limiter,
    pub enrollment_v2: Limiter,
    pub appsembler: Limiter,
    pub learning_paths: Limiter,
    pub checkout: Limiter,
    /// Failed logins from one address.
    pub login_address: Limiter,
    /// Invalid enrollment codes (Appsembler's brute-force limit).
    pub code_failures: Limiter,
}

impl Limits {
    pub fn new(c: &RateLimitConfig) -> Limits {
        Limits {
            enabled: c.enabled,
            login: Limiter::new(c.login_per_minute),
            token: Limiter::new(c.token_per_minute),
            admin: Limiter::new(c.admin_per_minute),
            lms_v1: Limiter::new(c.lms_v1_per_minute),
            lms_v1_staff: Limiter::new(c.lms_v1_staff_per_minute),
            enrollment_v2: Limiter::new(c.enrollment_v2_per_minute),
            appsembler: Limiter::new(c.appsembler_per_minute),
            learning_paths: Limiter::new(c.learning_paths_per_minute),
            checkout: Limiter::new(c.checkout_per_minute),
            login_address: Limiter::new(c.login_address_per_minute),
            // django-ratelimit's `6/m` (Appsembler's enroll-user) refuses once the count is
            // *above* 6: the 7th failure still gets its answer, the 8th attempt is refused.
            code_failures: Limiter::fixed(c.code_failures_per_minute + 1),
        }
    }

    /// Forgets the failed-login counters kept under a login name (a username or an email):
    /// a retired person's name must not outlive them in memory either.
    pub fn forget_login(&self, login: &str) {
        self.login.forget_prefix(&format!("pair:{}|", login.to_lowercase()));
    }

    /// `Ok(Some(remaining))` within the limit, `Ok(None)` when limits are off.
    pub fn check(&self, limiter: &Limiter, key: &str, now: i64) -> Result<Option<u32>, u64> {
        if self.enabled {
            limiter.hit(key, now).map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Limiter;

    #[test]
    fn counts_per_key_and_slides_across_minute_boundaries() {
        let l = Limiter::new(2);
        assert!(l.hit("a", 118).is_ok());
        assert!(l.hit("a", 119).is_ok());
        assert!(l.hit("a", 119).is_err());
        assert!(l.hit("b", 119).is_ok(), "keys are counted apart");
        assert!(l.hit("a", 120).is_err(), "a new minute does not reset a burst just before it");
        assert!(l.hit("a", 150).is_ok(), "half the old window has slid out");
        assert!(l.hit("a", 400).is_ok());
        assert_eq!(l.peek("c", 400), Ok(2));
        assert_eq!(l.peek("c", 400), Ok(2), "peeking counts nothing");
    }

    #[test]
    fn a_fixed_window_starts_again_each_minute() {
        let l = Limiter::fixed(2);
        assert!(l.hit("a", 118).is_ok() && l.hit("a", 119).is_ok());
        assert!(l.hit("a", 119).is_err());
        assert!(l.hit("a", 120).is_ok(), "the previous minute no longer counts");
    }
}
