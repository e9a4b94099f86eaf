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
/// is told to retry, 409, rather than wait or run beside it), and, by a 64-bit hash of each
/// key with a stored answer, where that answer is (its row) and when it was stored. A key
/// whose hash is not there has no answer, so its first request reads nothing (most keys are
/// new: a client sends one per request), and a retry reads one row by its id: the table
/// needs no index of keys. It is filled from the table at start and grows with each answer
/// kept; entries older than the retention are dropped as it grows, as the purge drops their
/// rows, so it holds what the table holds. An entry can only be stale (an answer purged or
/// erased), which costs a read, never a missed replay. One process owns the database, so
/// memory suffices.
#[derive(Debug, Default)]
pub struct Registry {
    running: Mutex<HashSet<KeyScope>>,
    stored: Mutex<Answered>,
}

/// A stored answer's row and when it was stored (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    id: i64,
    created: i64,
}

/// The answered keys, by hash. Two keys sharing a 64-bit hash (not expected in practice)
/// both stay findable: the later ones go to `shared`.
#[derive(Debug, Default)]
struct Answered {
    at: HashMap<u64, Entry>,
    shared: HashMap<u64, Vec<Entry>>,
    retention_seconds: i64,
    /// Answers kept since the last sweep of expired entries.
    since_sweep: usize,
}

impl Answered {
    /// The rows that may hold a key of this hash, newest first.
    fn rows(&self, hash: u64) -> Vec<i64> {
        let mut rows: Vec<Entry> = self.shared.get(&hash).cloned().unwrap_or_default();
        rows.extend(self.at.get(&hash));
        rows.sort_by_key(|e| std::cmp::Reverse(e.id));
        rows.into_iter().map(|e| e.id).collect()
    }

    /// An entry in force under the same hash is another key's (a key in force is replayed,
    /// never answered again), so both are kept; an expired one gives way.
    fn add(&mut self, hash: u64, entry: Entry) {
        match self.at.get(&hash) {
            Some(old) if old.created >= entry.created - self.retention_seconds => {
                self.shared.entry(hash).or_default().push(entry)
            }
            _ => {
                self.at.insert(hash, entry);
            }
        }
    }

    fn sweep(&mut self, oldest: i64) {
        self.at.retain(|_, e| e.created >= oldest);
        self.shared.retain(|_, entries| {
            entries.retain(|e| e.created >= oldest);
            !entries.is_empty()
        });
    }
}

/// A key's place among the running ones, given up when dropped (after the answer's commit).
pub struct Claim<'a> {
    registry: &'a Registry,
    scope: KeyScope,
    hash: u64,
}

fn hash_of(scope: &KeyScope) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    scope.hash(&mut hasher);
    hasher.finish()
}

impl Registry {
    /// The registry of a starting server: every key answered in the last `retention_seconds`.
    pub fn load(db: &Db, now: Timestamp, retention_seconds: i64) -> Result<Registry, Error> {
        let mut stored = Answered { retention_seconds, ..Answered::default() };
        db.read(|c| {
            store::idempotency::each_since(c, now.unix() - retention_seconds, |[caller, route, key], id, created| {
                stored.add(hash_of(&KeyScope { caller, route, key }), Entry { id, created });
            })
        })?;
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
        Ok(Claim { registry: self, scope: scope.clone(), hash: hash_of(scope) })
    }

    fn rows_of(&self, claim: &Claim) -> Vec<i64> {
        self.stored.lock().unwrap_or_else(PoisonError::into_inner).rows(claim.hash)
    }

    fn answered(&self, claim: &Claim, id: i64, now: Timestamp) {
        let mut stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        stored.add(claim.hash, Entry { id, created: now.unix() });
        stored.since_sweep += 1;
        // Swept when it may have doubled since the last sweep: amortised, a constant cost
        // per answer, and never more than twice the entries the retention keeps.
        if stored.since_sweep > stored.at.len() / 2 + 1024 {
            let oldest = now.unix() - stored.retention_seconds;
            stored.sweep(oldest);
            stored.since_sweep = 0;
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.registry.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.scope);
    }
}

/// The answer stored for the claimed key in the last `retention_seconds`, if any; a key
/// sent again with a different request (`fingerprint`) is refused rather than replayed.
pub fn earlier_answer(
    db: &Db,
    claim: &Claim,
    fingerprint: &str,
    now: Timestamp,
    retention_seconds: i64,
) -> Result<Option<StoredAnswer>, Error> {
    let rows = claim.registry.rows_of(claim);
    if rows.is_empty() {
        return Ok(None);
    }
    let not_before = now.unix() - retention_seconds;
    let found = db.read(|c| {
        for id in rows {
            if let Some((fingerprint, status, headers, body)) =
                store::idempotency::find(c, id, claim.scope.columns(), not_before)?
            {
                return Ok(Some(StoredAnswer { fingerprint, status, headers, body }));
            }
        }
        Ok(None)
    })?;
    let Some(stored) = found else { return Ok(None) };
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
    claim: &Claim,
    stored: StoredAnswer,
    now: Timestamp,
) -> Result<bool, Error> {
    // Written by the thread that commits the batch, which hands back the row's id.
    let id = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let (scope, row) = (claim.scope.clone(), id.clone());
    let kept = answer.commit_with(Box::new(move |c| {
        let columns = (stored.fingerprint.as_str(), stored.status, stored.headers.as_slice(), stored.body.as_slice());
        row.store(
            store::idempotency::save(c, scope.columns(), columns, now.unix())?,
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }))?;
    if kept {
        // Before the claim is given up, so a retry finds the entry (and reads the answer).
        claim.registry.answered(claim, id.load(std::sync::atomic::Ordering::Relaxed), now);
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(n: usize) -> KeyScope {
        KeyScope { caller: "user:1:token".into(), route: "POST /x".into(), key: format!("k{n}") }
    }

    /// A long-running server keeps only the entries the retention keeps: they are swept as
    /// it grows, and a swept key is one whose row the purge removes too.
    #[test]
    fn entries_older_than_the_retention_are_swept_as_answers_are_kept() {
        let registry = Registry::default();
        registry.stored.lock().unwrap().retention_seconds = 10;
        let known = |n: usize| !registry.rows_of(&registry.claim(&scope(n)).unwrap()).is_empty();
        for n in 0..3000 {
            registry.answered(&registry.claim(&scope(n)).unwrap(), n as i64, Timestamp::from_unix(0));
        }
        assert!(known(0) && !known(999_999));
        for n in 3000..8000 {
            registry.answered(&registry.claim(&scope(n)).unwrap(), n as i64, Timestamp::from_unix(100));
        }
        assert!(!known(0), "answered at 0, expired at 10");
        assert!(known(7999));
        assert!(registry.stored.lock().unwrap().at.len() <= 5000 + 5000 / 2 + 1024);
    }

    /// Two keys with one hash both stay findable, newest row first; an expired entry gives way.
    #[test]
    fn keys_sharing_a_hash_keep_both_rows() {
        let mut answered = Answered { retention_seconds: 10, ..Answered::default() };
        answered.add(7, Entry { id: 1, created: 100 });
        answered.add(7, Entry { id: 2, created: 105 });
        assert_eq!(answered.rows(7), vec![2, 1]);
        answered.add(8, Entry { id: 3, created: 100 });
        answered.add(8, Entry { id: 4, created: 200 });
        assert_eq!(answered.rows(8), vec![4]);
        answered.sweep(150);
        assert!(answered.rows(7).is_empty() && answered.shared.is_empty());
    }
}
