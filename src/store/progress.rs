//! Enrollment progress (completion, grade, certificate) and its history.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRecord {
    pub enrollment_id: i64,
    pub completion: f64,
    pub grade: f64,
    pub passed: bool,
    pub completed_at: Option<i64>,
    pub certificate_url: Option<String>,
    pub updated: i64,
}

fn from_row(r: &Row) -> rusqlite::Result<ProgressRecord> {
    Ok(ProgressRecord {
        enrollment_id: r.get(0)?,
        completion: r.get(1)?,
        grade: r.get(2)?,
        passed: r.get(3)?,
        completed_at: r.get(4)?,
        certificate_url: r.get(5)?,
        updated: r.get(6)?,
    })
}

pub fn get(conn: &Connection, enrollment_id: i64) -> Result<Option<ProgressRecord>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT enrollment_id, completion, grade, passed, completed_at, certificate_url, updated \
             FROM enrollment_progress WHERE enrollment_id = ?1",
        )?
        .query_row([enrollment_id], from_row)
        .optional()?)
}

/// The record and its history row, in the caller's transaction.
pub fn put(conn: &Connection, p: &ProgressRecord, actor: &str, surface: &str) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO enrollment_progress (enrollment_id, completion, grade, passed, completed_at, certificate_url, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (enrollment_id) DO UPDATE SET completion = excluded.completion, \
         grade = excluded.grade, passed = excluded.passed, completed_at = excluded.completed_at, \
         certificate_url = excluded.certificate_url, updated = excluded.updated",
    )?
    .execute(params![p.enrollment_id, p.completion, p.grade, p.passed, p.completed_at, p.certificate_url, p.updated])?;
    conn.prepare_cached(
        "INSERT INTO progress_history (enrollment_id, completion, grade, passed, completed_at, certificate_url, actor, surface, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        p.enrollment_id,
        p.completion,
        p.grade,
        p.passed,
        p.completed_at,
        p.certificate_url,
        actor,
        surface,
        p.updated
    ])?;
    Ok(())
}

/// The user's progress in one course, when they are enrolled and it was recorded.
pub fn for_user_in(conn: &Connection, user_id: i64, course_id: i64) -> Result<Option<ProgressRecord>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT p.enrollment_id, p.completion, p.grade, p.passed, p.completed_at, p.certificate_url, p.updated \
             FROM enrollments e JOIN enrollment_progress p ON p.enrollment_id = e.id WHERE e.user_id = ?1 AND e.course_id = ?2",
        )?
        .query_row(params![user_id, course_id], from_row)
        .optional()?)
}
