//! Idempotency keys' stored answers: a key replays only the request it was first sent with,
//! and an answer is written in the transaction of the work it answers (`store::db`'s
//! `AnswerScope`). When a request carries a key, and what a replay sends, is the API's
//! (`api/idempotency.rs`).

use crate::core::{Error, ErrorKind};
use crate::domain::Timestamp;
use crate::store::db::AnswerScope;
use crate::store::{self, Db};

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

/// Who sent a key, to which route, and the key itself: a key means something only within
/// its caller and route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyScope {
    pub caller: String,
    pub route: String,
    pub key: String,
}

impl KeyScope {
    fn columns(&self) -> store::idempotency::Key<'_> {
        [&self.caller, &self.route, &self.key]
    }
}

/// A stored answer: what the first request was (its fingerprint) and what it got.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub fingerprint: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the process knows of keys: those whose first request is running now (a second one
/// is told to retry, 409, rather than wait or run beside it), and a 64-bit hash of every
/// key with a stored answer. A key whose hash is not there has no answer, so its first
/// request reads nothing (most keys are new: a client sends one per request). It is filled
/// from the table at start and grows with each answer kept; hashes older than the
/// retention are dropped as it grows, as the purge drops their rows, so it holds what the
/// table holds. A hash can only be stale (an answer purged or erased), which costs a read,
/// never a missed replay. One process owns the database, so memory suffices.
#[derive(Debug, Default)]
pub struct Registry {
    running: Mutex<HashSet<KeyScope>>,
    stored: Mutex<Answered>,
}

/// When each answered key's answer was stored (unix seconds), by the key's hash.
#[derive(Debug, Default)]
struct Answered {
    at: HashMap<u64, i64>,
    retention_seconds: i64,
    /// Answers kept since the last sweep of expired hashes.
    since_sweep: usize,
}

/// A key's place among the running ones, given up when dropped (after the answer's commit).
pub struct Claim<'a> {
    registry: &'a Registry,
    scope: KeyScope,
}

fn hash_of(scope: &KeyScope) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    scope.hash(&mut hasher);
    hasher.finish()
}

impl Registry {
    /// The registry of a starting server: every key answered in the last `retention_seconds`.
    pub fn load(db: &Db, now: Timestamp, retention_seconds: i64) -> Result<Registry, Error> {
        let mut at = HashMap::new();
        db.read(|c| {
            store::idempotency::each_scope_since(c, now.unix() - retention_seconds, |[caller, route, key], created| {
                at.insert(hash_of(&KeyScope { caller, route, key }), created);
            })
        })?;
        let stored = Answered { at, retention_seconds, since_sweep: 0 };
        Ok(Registry { running: Mutex::default(), stored: Mutex::new(stored) })
    }

    pub fn claim(&self, scope: &KeyScope) -> Result<Claim<'_>, Error> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if !running.insert(scope.clone()) {
            return Err(Error::conflict(
                "A request with this Idempotency-Key is still being processed; retry after it has finished.",
            )
            .with_code("IDEMPOTENCY_KEY_IN_USE"));
        }
        Ok(Claim { registry: self, scope: scope.clone() })
    }

    fn may_have_answer(&self, scope: &KeyScope) -> bool {
        self.stored.lock().unwrap_or_else(PoisonError::into_inner).at.contains_key(&hash_of(scope))
    }

    fn answered(&self, scope: &KeyScope, now: Timestamp) {
        let mut stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        stored.at.insert(hash_of(scope), now.unix());
        stored.since_sweep += 1;
        // Swept when it may have doubled since the last sweep: amortised, a constant cost
        // per answer, and never more than twice the hashes the retention keeps.
        if stored.since_sweep > stored.at.len() / 2 + 1024 {
            let oldest = now.unix() - stored.retention_seconds;
            stored.at.retain(|_, created| *created >= oldest);
            stored.since_sweep = 0;
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.registry.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.scope);
    }
}

/// The answer stored for `scope` in the last `retention_seconds`, if any; a key sent again
/// with a different request (`fingerprint`) is refused rather than replayed.
pub fn earlier_answer(
    db: &Db,
    registry: &Registry,
    scope: &KeyScope,
    fingerprint: &str,
    now: Timestamp,
    retention_seconds: i64,
) -> Result<Option<StoredAnswer>, Error> {
    if !registry.may_have_answer(scope) {
        return Ok(None);
    }
    let not_before = now.unix() - retention_seconds;
    let Some((first_fingerprint, status, headers, body)) =
        db.read(|c| store::idempotency::find(c, scope.columns(), not_before))?
    else {
        return Ok(None);
    };
    let stored = StoredAnswer { fingerprint: first_fingerprint, status, headers, body };
    if stored.fingerprint != fingerprint {
        return Err(Error::new(
            ErrorKind::Unprocessable,
            "This Idempotency-Key was already used with a different request (method, path or body); use a new key for a new request.",
        )
        .with_code("IDEMPOTENCY_KEY_REUSED"));
    }
    Ok(Some(stored))
}

/// Opens the scope whose writes wait for their answer (see `AnswerScope`), before the
/// request's work runs on this thread.
pub fn expect_answer(db: &Db) -> AnswerScope<'_> {
    db.answer_scope()
}

/// Writes the answer in the batch that holds the request's writes and waits for its commit
/// (nothing, Ok(false), when the request wrote nothing). Fails only when that commit failed,
/// and then the request's writes are gone too.
pub fn keep_answer(
    answer: AnswerScope<'_>,
    registry: &Registry,
    scope: &KeyScope,
    stored: &StoredAnswer,
    now: Timestamp,
) -> Result<bool, Error> {
    let columns = (stored.fingerprint.as_str(), stored.status, stored.headers.as_slice(), stored.body.as_slice());
    let kept = answer.commit_with(|c| store::idempotency::save(c, scope.columns(), columns, now.unix()))?;
    if kept {
        // Before the claim is given up, so a retry finds the hash (and reads the answer).
        registry.answered(scope, now);
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(n: usize) -> KeyScope {
        KeyScope { caller: "user:1:token".into(), route: "POST /x".into(), key: format!("k{n}") }
    }

    /// A long-running server keeps only the hashes the retention keeps: the set is swept as
    /// it grows, and a swept key is one whose row the purge removes too.
    #[test]
    fn hashes_older_than_the_retention_are_swept_as_answers_are_kept() {
        let registry = Registry::default();
        registry.stored.lock().unwrap().retention_seconds = 10;
        for n in 0..3000 {
            registry.answered(&scope(n), Timestamp::from_unix(0));
        }
        assert!(registry.may_have_answer(&scope(0)) && !registry.may_have_answer(&scope(999_999)));
        for n in 3000..8000 {
            registry.answered(&scope(n), Timestamp::from_unix(100));
        }
        assert!(!registry.may_have_answer(&scope(0)), "answered at 0, expired at 10");
        assert!(registry.may_have_answer(&scope(7999)));
        assert!(registry.stored.lock().unwrap().at.len() <= 5000 + 5000 / 2 + 1024);
    }
}
