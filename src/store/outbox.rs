//! The outbox: messages written with the change they announce, delivered after commit.

use crate::core::Error;
use rusqlite::{params, Connection};

pub fn enqueue(
    conn: &Connection,
    channel: &str,
    message_type: &str,
    recipient: &str,
    payload: &str,
    now: i64,
) -> Result<i64, Error> {
    conn.prepare_cached(
        "INSERT INTO outbox (channel, message_type, recipient, payload, next_attempt_at, created) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![channel, message_type, recipient, payload, now])?;
    Ok(conn.last_insert_rowid())
}
