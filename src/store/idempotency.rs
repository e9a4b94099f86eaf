//! The stored first answers of requests that carried an `Idempotency-Key` (api/idempotency.rs
//! decides when to store and replay them).

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension};

/// A key's row: who sent it, to which route, and the key (`core::idempotency::KeyScope`).
pub type Key<'a> = [&'a str; 3];

/// A stored answer's columns: the first request's fingerprint, then its status, headers
/// and body (`core::idempotency::StoredAnswer`).
pub type Answer = (String, u16, Vec<(String, String)>, Vec<u8>);

/// The answer stored in row `id` for the key at or after `not_before` (older ones are
/// forgotten; a row of another key is not this one's).
pub fn find(
    conn: &Connection,
    id: i64,
    [caller, route, key]: Key<'_>,
    not_before: i64,
) -> Result<Option<Answer>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT fingerprint, status, headers, body FROM idempotency_keys \
             WHERE id = ?1 AND caller = ?2 AND route = ?3 AND key = ?4 AND created >= ?5",
        )?
        .query_row(params![id, caller, route, key, not_before], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u16>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?))
        })
        .optional()?;
    let Some((fingerprint, status, headers, body)) = row else { return Ok(None) };
    let headers = serde_json::from_str(&headers).map_err(|e| Error::internal(format!("stored headers: {e}")))?;
    Ok(Some((fingerprint, status, headers, body)))
}

/// Appends the answer for the key (`fingerprint`, status, headers, body); an expired one of
/// the same key stays until the purge, found by no lookup. Returns its row id.
pub fn save(
    conn: &Connection,
    [caller, route, key]: Key<'_>,
    (fingerprint, status, headers, body): (&str, u16, &[(String, String)], &[u8]),
    now: i64,
) -> Result<i64, Error> {
    let headers = serde_json::to_string(headers).map_err(Error::internal)?;
    conn.prepare_cached(
        "INSERT INTO idempotency_keys (caller, route, key, fingerprint, status, headers, body, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![caller, route, key, fingerprint, status, headers, body, now])?;
    Ok(conn.last_insert_rowid())
}

/// Every answer stored since `not_before`: its scope, row id and when (the registry's start).
pub fn each_since(conn: &Connection, not_before: i64, mut f: impl FnMut([String; 3], i64, i64)) -> Result<(), Error> {
    let mut statement =
        conn.prepare("SELECT caller, route, key, id, created FROM idempotency_keys WHERE created >= ?1 ORDER BY id")?;
    let mut rows = statement.query([not_before])?;
    while let Some(r) = rows.next()? {
        f([r.get(0)?, r.get(1)?, r.get(2)?], r.get(3)?, r.get(4)?);
    }
    Ok(())
}

/// Removes the answers stored before `before`; returns how many. Rows are appended, so the
/// expired ones are the rowids below the first that is not: finding it reads only rows
/// being removed, with no index on `created` to keep up. (Should the clock step back, a
/// later row stamped earlier waits for a later purge; lookups check `created` anyway.)
pub fn purge(conn: &Connection, before: i64) -> Result<usize, Error> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM idempotency_keys WHERE id < coalesce(\
             (SELECT id FROM idempotency_keys WHERE created >= ?1 ORDER BY id LIMIT 1), \
             (SELECT max(id) + 1 FROM idempotency_keys))",
        )?
        .execute([before])?)
}
