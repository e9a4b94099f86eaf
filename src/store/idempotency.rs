//! The stored first answers of requests that carried an `Idempotency-Key` (api/idempotency.rs
//! decides when to store and replay them).

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension};

/// A key's row: who sent it, to which route, and the key (`core::idempotency::KeyScope`).
pub type Key<'a> = [&'a str; 3];

/// A stored answer's columns: the first request's fingerprint, then its status, headers
/// and body (`core::idempotency::StoredAnswer`).
pub type Answer = (String, u16, Vec<(String, String)>, Vec<u8>);

/// The answer stored for the key at or after `not_before` (older ones are forgotten).
pub fn find(conn: &Connection, [caller, route, key]: Key<'_>, not_before: i64) -> Result<Option<Answer>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT fingerprint, status, headers, body FROM idempotency_keys \
             WHERE caller = ?1 AND route = ?2 AND key = ?3 AND created >= ?4",
        )?
        .query_row(params![caller, route, key, not_before], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u16>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?))
        })
        .optional()?;
    let Some((fingerprint, status, headers, body)) = row else { return Ok(None) };
    let headers = serde_json::from_str(&headers).map_err(|e| Error::internal(format!("stored headers: {e}")))?;
    Ok(Some((fingerprint, status, headers, body)))
}

/// Stores the answer for the key (`fingerprint`, status, headers, body), replacing an
/// expired one the purge has not removed yet.
pub fn save(
    conn: &Connection,
    [caller, route, key]: Key<'_>,
    (fingerprint, status, headers, body): (&str, u16, &[(String, String)], &[u8]),
    now: i64,
) -> Result<(), Error> {
    let headers = serde_json::to_string(headers).map_err(Error::internal)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys (caller, route, key, fingerprint, status, headers, body, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![caller, route, key, fingerprint, status, headers, body, now])?;
    Ok(())
}

/// Removes the answers stored before `before`; returns how many.
/// Every key with an answer stored since `not_before`, with when (the registry's start).
pub fn each_scope_since(conn: &Connection, not_before: i64, mut f: impl FnMut([String; 3], i64)) -> Result<(), Error> {
    let mut statement = conn.prepare("SELECT caller, route, key, created FROM idempotency_keys WHERE created >= ?1")?;
    let mut rows = statement.query([not_before])?;
    while let Some(r) = rows.next()? {
        f([r.get(0)?, r.get(1)?, r.get(2)?], r.get(3)?);
    }
    Ok(())
}

pub fn purge(conn: &Connection, before: i64) -> Result<usize, Error> {
    Ok(conn.prepare_cached("DELETE FROM idempotency_keys WHERE created < ?1")?.execute([before])?)
}
