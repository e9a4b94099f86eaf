//! Idempotency keys' stored answers: a key replays only the request it was first sent with,
//! and an answer is written in the transaction of the work it answers (`store::db`'s
//! `AnswerScope`). When a request carries a key, and what a replay sends, is the API's
//! (`api/idempotency.rs`).

use crate::core::{Error, ErrorKind};
use crate::domain::Timestamp;
use crate::store::db::AnswerScope;
use crate::store::{self, Db};

pub use crate::store::idempotency::{KeyScope, StoredAnswer};
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

/// The keys whose first request is running now: a second one is told to retry (409)
/// rather than wait or run beside it. One process owns the database, so memory suffices.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<KeyScope>>);

/// A key's place in `InFlight`, given up when dropped (after the answer's commit).
pub struct Claim<'a> {
    in_flight: &'a InFlight,
    scope: KeyScope,
}

impl InFlight {
    pub fn claim(&self, scope: &KeyScope) -> Result<Claim<'_>, Error> {
        let mut running = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !running.insert(scope.clone()) {
            return Err(Error::conflict(
                "A request with this Idempotency-Key is still being processed; retry after it has finished.",
            )
            .with_code("IDEMPOTENCY_KEY_IN_USE"));
        }
        Ok(Claim { in_flight: self, scope: scope.clone() })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.in_flight.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.scope);
    }
}

/// The answer stored for `scope` in the last `retention_seconds`, if any; a key sent again
/// with a different request (`fingerprint`) is refused rather than replayed.
pub fn earlier_answer(
    db: &Db,
    scope: &KeyScope,
    fingerprint: &str,
    now: Timestamp,
    retention_seconds: i64,
) -> Result<Option<StoredAnswer>, Error> {
    let not_before = now.unix() - retention_seconds;
    let Some(stored) = db.read(|c| store::idempotency::find(c, scope, not_before))? else { return Ok(None) };
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
    scope: &KeyScope,
    stored: &StoredAnswer,
    now: Timestamp,
) -> Result<bool, Error> {
    answer.commit_with(|c| store::idempotency::save(c, scope, stored, now.unix()))
}
