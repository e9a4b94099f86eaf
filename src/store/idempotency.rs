//! The stored first answers of requests that carried an `Idempotency-Key` (api/idempotency.rs
//! decides when to store and replay them).

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension};

/// Who sent a key, to which route, and the key itself: a key means something only within
/// its caller and route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyScope {
    pub caller: String,
    pub route: String,
    pub key: String,
}

/// A stored answer: what the first request was (its fingerprint) and what it got.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub fingerprint: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The answer stored for `scope` at or after `not_before` (older ones are forgotten).
pub fn find(conn: &Connection, scope: &KeyScope, not_before: i64) -> Result<Option<StoredAnswer>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT fingerprint, status, headers, body FROM idempotency_keys \
             WHERE caller = ?1 AND route = ?2 AND key = ?3 AND created >= ?4",
        )?
        .query_row(params![scope.caller, scope.route, scope.key, not_before], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u16>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?))
        })
        .optional()?;
    let Some((fingerprint, status, headers, body)) = row else { return Ok(None) };
    let headers = serde_json::from_str(&headers).map_err(|e| Error::internal(format!("stored headers: {e}")))?;
    Ok(Some(StoredAnswer { fingerprint, status, headers, body }))
}

/// Stores the answer for `scope`, replacing an expired one the purge has not removed yet.
pub fn save(conn: &Connection, scope: &KeyScope, answer: &StoredAnswer, now: i64) -> Result<(), Error> {
    let headers = serde_json::to_string(&answer.headers).map_err(Error::internal)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys (caller, route, key, fingerprint, status, headers, body, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        scope.caller,
        scope.route,
        scope.key,
        answer.fingerprint,
        answer.status,
        headers,
        answer.body,
        now
    ])?;
    Ok(())
}

/// Removes the answers stored before `before`; returns how many.
/// Every key with an answer stored since `not_before`, with when (the registry's start).
pub fn each_scope_since(conn: &Connection, not_before: i64, mut f: impl FnMut(KeyScope, i64)) -> Result<(), Error> {
    let mut statement = conn.prepare("SELECT caller, route, key, created FROM idempotency_keys WHERE created >= ?1")?;
    let mut rows = statement.query([not_before])?;
    while let Some(r) = rows.next()? {
        f(KeyScope { caller: r.get(0)?, route: r.get(1)?, key: r.get(2)? }, r.get(3)?);
    }
    Ok(())
}

pub fn purge(conn: &Connection, before: i64) -> Result<usize, Error> {
    Ok(conn.prepare_cached("DELETE FROM idempotency_keys WHERE created < ?1")?.execute([before])?)
}
