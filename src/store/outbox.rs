//! The outbox: messages written with the change they announce, delivered after commit.

use crate::error::Error;
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

#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub id: i64,
    pub channel: String,
    pub message_type: String,
    pub recipient: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created: i64,
    pub sent_at: Option<i64>,
}

const SELECT: &str = "SELECT id, channel, message_type, recipient, payload, status, attempts, last_error, next_attempt_at, created, sent_at FROM outbox";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: r.get(0)?,
        channel: r.get(1)?,
        message_type: r.get(2)?,
        recipient: r.get(3)?,
        payload: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        last_error: r.get(7)?,
        next_attempt_at: r.get(8)?,
        created: r.get(9)?,
        sent_at: r.get(10)?,
    })
}

/// Pending messages whose time has come, oldest first: webhooks (`webhooks = true`), whose
/// endpoint's circuit is closed, or everything else (emails, jobs). The two kinds have
/// their own workers, so a slow receiver never delays an email.
pub fn due(conn: &Connection, now: i64, limit: i64, webhooks: bool) -> Result<Vec<MessageRecord>, Error> {
    let sql = format!(
        "{SELECT} WHERE status = 'pending' AND next_attempt_at <= ?1 AND (channel = 'webhook') = ?3 \
         AND (?3 = 0 OR recipient NOT IN (SELECT CAST(id AS TEXT) FROM webhook_endpoints WHERE paused_until > ?1)) \
         ORDER BY next_attempt_at, id LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![now, limit, webhooks], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Drops what is still queued for one recipient of a channel (a deleted webhook endpoint).
pub fn drop_pending(conn: &Connection, channel: &str, recipient: &str) -> Result<usize, Error> {
    Ok(conn
        .prepare_cached("DELETE FROM outbox WHERE channel = ?1 AND recipient = ?2 AND status = 'pending'")?
        .execute(params![channel, recipient])?)
}

/// Replaces a message's payload (a delivered message's credential link is removed).
pub fn set_payload(conn: &Connection, id: i64, payload: &str) -> Result<(), Error> {
    conn.prepare_cached("UPDATE outbox SET payload = ?2 WHERE id = ?1")?.execute(params![id, payload])?;
    Ok(())
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<MessageRecord>, Error> {
    use rusqlite::OptionalExtension;
    let sql = format!("{SELECT} WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], from_row).optional()?)
}

pub fn count(conn: &Connection, status: Option<&str>) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM outbox WHERE ?1 IS NULL OR status = ?1")?
        .query_row([status], |r| r.get(0))?)
}

/// Newest first, `before_id` seeks to older pages.
pub fn list(
    conn: &Connection,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageRecord>, Error> {
    let sql = format!("{SELECT} WHERE (?1 IS NULL OR status = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![status, before_id.unwrap_or(i64::MAX), limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn mark_sent(conn: &Connection, id: i64, now: i64) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    Ok(())
}

/// Records a failed attempt: retried at `next_attempt_at`, or given up (`failed`).
pub fn mark_attempt_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    next_attempt_at: i64,
    give_up: bool,
) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3, status = CASE WHEN ?4 THEN 'failed' ELSE 'pending' END WHERE id = ?1",
    )?
    .execute(params![id, error, next_attempt_at, give_up])?;
    Ok(())
}

/// Puts a message back in the queue, due now.
pub fn requeue(conn: &Connection, id: i64, now: i64) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("UPDATE outbox SET status = 'pending', next_attempt_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?
        > 0)
}

pub fn mark_attempt_lease(conn: &Connection, id: i64, until: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1")?.execute(params![id, until])?;
    Ok(())
}

/// Whether anything of one kind (see `due`) is due: a read, so idle workers never take
/// the write lock.
pub fn any_due(conn: &Connection, now: i64, webhooks: bool) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 \
             AND (channel = 'webhook') = ?2)",
        )?
        .query_row(params![now, webhooks], |r| r.get(0))?)
}
