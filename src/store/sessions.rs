//! Browser sessions, keyed by the SHA-256 of the cookie value.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension};

pub struct SessionRecord {
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: i64,
}

pub fn insert(
    conn: &Connection,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, created) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id_hash, user_id, csrf_token, expires_at, now])?;
    Ok(())
}

pub fn by_hash(conn: &Connection, id_hash: &str) -> Result<Option<SessionRecord>, Error> {
    Ok(conn
        .prepare_cached("SELECT user_id, csrf_token, expires_at FROM sessions WHERE id_hash = ?1")?
        .query_row([id_hash], |r| {
            Ok(SessionRecord { user_id: r.get(0)?, csrf_token: r.get(1)?, expires_at: r.get(2)? })
        })
        .optional()?)
}

pub fn delete(conn: &Connection, id_hash: &str) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")?.execute([id_hash])?;
    Ok(())
}

pub fn delete_for_user(conn: &Connection, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([user_id])?;
    Ok(())
}
