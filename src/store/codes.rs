//! Enrollment codes and their redemptions.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub id: i64,
    pub code: String,
    pub course_id: i64,
    pub mode_slug: Option<String>,
    pub is_valid: bool,
}

/// Inserts a code; false when it is already taken (the caller draws another).
pub fn insert(
    conn: &Connection,
    code: &str,
    course_id: i64,
    created_by: Option<i64>,
    mode_slug: Option<&str>,
    now: i64,
) -> Result<bool, Error> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO enrollment_codes (code, course_id, created_by, mode_slug, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![code, course_id, created_by, mode_slug, now])?;
    Ok(inserted == 1)
}

pub fn by_code(conn: &Connection, code: &str) -> Result<Option<CodeRecord>, Error> {
    Ok(conn
        .prepare_cached("SELECT id, code, course_id, mode_slug, is_valid FROM enrollment_codes WHERE code = ?1")?
        .query_row([code], |r| {
            Ok(CodeRecord {
                id: r.get(0)?,
                code: r.get(1)?,
                course_id: r.get(2)?,
                mode_slug: r.get(3)?,
                is_valid: r.get(4)?,
            })
        })
        .optional()?)
}

pub fn set_valid(conn: &Connection, code_id: i64, valid: bool) -> Result<(), Error> {
    conn.prepare_cached("UPDATE enrollment_codes SET is_valid = ?2 WHERE id = ?1")?.execute(params![code_id, valid])?;
    Ok(())
}

pub fn add_redemption(
    conn: &Connection,
    code_id: i64,
    user_id: i64,
    enrollment_id: Option<i64>,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO code_redemptions (code_id, user_id, enrollment_id, created) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![code_id, user_id, enrollment_id, now])?;
    Ok(())
}

/// The users who redeemed a code.
pub fn redeemers(conn: &Connection, code_id: i64) -> Result<Vec<i64>, Error> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT user_id FROM code_redemptions WHERE code_id = ?1")?;
    let rows = stmt.query_map([code_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete_redemptions(conn: &Connection, code_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM code_redemptions WHERE code_id = ?1")?.execute([code_id])?;
    Ok(())
}

/// A course's codes, newest first, with how often each was redeemed.
pub fn for_course(conn: &Connection, course_id: i64, limit: i64) -> Result<Vec<(CodeRecord, i64, i64)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.code, c.course_id, c.mode_slug, c.is_valid, c.created, \
         (SELECT COUNT(*) FROM code_redemptions r WHERE r.code_id = c.id) \
         FROM enrollment_codes c WHERE c.course_id = ?1 ORDER BY c.id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![course_id, limit], |r| {
        Ok((
            CodeRecord {
                id: r.get(0)?,
                code: r.get(1)?,
                course_id: r.get(2)?,
                mode_slug: r.get(3)?,
                is_valid: r.get(4)?,
            },
            r.get(5)?,
            r.get(6)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
