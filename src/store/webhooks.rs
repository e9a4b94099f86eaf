//! Webhook endpoints.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone)]
pub struct EndpointRecord {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub active: bool,
    pub created: i64,
    /// The circuit breaker: failed deliveries in a row, and until when deliveries wait.
    pub consecutive_failures: i64,
    pub paused_until: i64,
}

const COLUMNS: &str = "id, url, secret, active, created, consecutive_failures, paused_until";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<EndpointRecord> {
    Ok(EndpointRecord {
        id: r.get(0)?,
        url: r.get(1)?,
        secret: r.get(2)?,
        active: r.get(3)?,
        created: r.get(4)?,
        consecutive_failures: r.get(5)?,
        paused_until: r.get(6)?,
    })
}

pub fn insert(conn: &Connection, url: &str, secret: &str, now: i64) -> Result<i64, Error> {
    conn.prepare_cached("INSERT INTO webhook_endpoints (url, secret, created) VALUES (?1, ?2, ?3)")?
        .execute(params![url, secret, now])?;
    Ok(conn.last_insert_rowid())
}

pub fn all(conn: &Connection) -> Result<Vec<EndpointRecord>, Error> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn active_ids(conn: &Connection) -> Result<Vec<i64>, Error> {
    let mut stmt = conn.prepare_cached("SELECT id FROM webhook_endpoints WHERE active = 1 ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<EndpointRecord>, Error> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

pub fn delete(conn: &Connection, id: i64) -> Result<bool, Error> {
    Ok(conn.prepare_cached("DELETE FROM webhook_endpoints WHERE id = ?1")?.execute([id])? > 0)
}

pub fn set_failures(conn: &Connection, id: i64, failures: i64, paused_until: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE webhook_endpoints SET consecutive_failures = ?2, paused_until = ?3 WHERE id = ?1")?
        .execute(params![id, failures, paused_until])?;
    Ok(())
}
