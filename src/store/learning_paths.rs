//! Learning paths, their course steps, enrollments and invited emails.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, Default)]
pub struct PathRecord {
    pub id: i64,
    pub key: String,
    pub display_name: String,
    pub subtitle: String,
    pub description: String,
    pub level: String,
    pub duration: String,
    pub time_commitment: String,
    pub sequential: bool,
    pub invite_only: bool,
    pub required_completion: f64,
    pub required_grade: f64,
    pub created: i64,
    pub uuid: String,
}

const COLUMNS: &str = "id, key, display_name, subtitle, description, level, duration, time_commitment, sequential, \
    invite_only, required_completion, required_grade, created, uuid";

fn from_row(r: &Row) -> rusqlite::Result<PathRecord> {
    Ok(PathRecord {
        id: r.get(0)?,
        key: r.get(1)?,
        display_name: r.get(2)?,
        subtitle: r.get(3)?,
        description: r.get(4)?,
        level: r.get(5)?,
        duration: r.get(6)?,
        time_commitment: r.get(7)?,
        sequential: r.get(8)?,
        invite_only: r.get(9)?,
        required_completion: r.get(10)?,
        required_grade: r.get(11)?,
        created: r.get(12)?,
        uuid: r.get(13)?,
    })
}

pub fn by_key(conn: &Connection, key: &str) -> Result<Option<PathRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM learning_paths WHERE key = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([key], from_row).optional()?)
}

pub fn by_uuid(conn: &Connection, uuid: &str) -> Result<Option<PathRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM learning_paths WHERE uuid = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([uuid], from_row).optional()?)
}

pub fn all(conn: &Connection) -> Result<Vec<PathRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM learning_paths ORDER BY key");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert(conn: &Connection, p: &PathRecord) -> Result<i64, Error> {
    let result = conn
        .prepare_cached(
            "INSERT INTO learning_paths (key, display_name, subtitle, description, level, duration, time_commitment, \
             sequential, invite_only, required_completion, required_grade, created, uuid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            p.key,
            p.display_name,
            p.subtitle,
            p.description,
            p.level,
            p.duration,
            p.time_commitment,
            p.sequential,
            p.invite_only,
            p.required_completion,
            p.required_grade,
            p.created,
            p.uuid
        ]);
    match result {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(e) if super::db::is_unique_violation(&e) => {
            Err(Error::conflict(format!("A learning path with key '{}' already exists.", p.key)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone)]
pub struct StepRecord {
    pub course_id: i64,
    pub course_key: String,
    pub position: i64,
    pub weight: f64,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

pub fn add_step(conn: &Connection, path_id: i64, course_id: i64, position: i64, weight: f64) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO learning_path_steps (learning_path_id, course_id, position, weight) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![path_id, course_id, position, weight])?;
    Ok(())
}

pub fn steps(conn: &Connection, path_id: i64) -> Result<Vec<StepRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.course_id, c.course_key, s.position, s.weight, c.start, c.end FROM learning_path_steps s \
         JOIN courses c ON c.id = s.course_id WHERE s.learning_path_id = ?1 ORDER BY s.position",
    )?;
    let rows = stmt.query_map([path_id], |r| {
        Ok(StepRecord {
            course_id: r.get(0)?,
            course_key: r.get(1)?,
            position: r.get(2)?,
            weight: r.get(3)?,
            start: r.get(4)?,
            end: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone)]
pub struct PathEnrollmentRecord {
    pub id: i64,
    pub path_id: i64,
    pub path_key: String,
    pub user_id: i64,
    pub username: String,
    pub is_active: bool,
    pub created: i64,
}

const ENROLLMENT_SELECT: &str = "SELECT e.id, e.learning_path_id, p.key, e.user_id, u.username, e.is_active, e.created \
    FROM learning_path_enrollments e JOIN learning_paths p ON p.id = e.learning_path_id JOIN users u ON u.id = e.user_id";

fn enrollment_from_row(r: &Row) -> rusqlite::Result<PathEnrollmentRecord> {
    Ok(PathEnrollmentRecord {
        id: r.get(0)?,
        path_id: r.get(1)?,
        path_key: r.get(2)?,
        user_id: r.get(3)?,
        username: r.get(4)?,
        is_active: r.get(5)?,
        created: r.get(6)?,
    })
}

pub fn enrollment(conn: &Connection, path_id: i64, user_id: i64) -> Result<Option<PathEnrollmentRecord>, Error> {
    let sql = format!("{ENROLLMENT_SELECT} WHERE e.learning_path_id = ?1 AND e.user_id = ?2");
    Ok(conn.prepare_cached(&sql)?.query_row(params![path_id, user_id], enrollment_from_row).optional()?)
}

/// Active enrollments, optionally of one path and/or one user.
/// Path enrollments, optionally of one path and one user; inactive ones only if asked.
pub fn enrollments(
    conn: &Connection,
    path_id: Option<i64>,
    user_id: Option<i64>,
    include_inactive: bool,
) -> Result<Vec<PathEnrollmentRecord>, Error> {
    let sql = format!(
        "{ENROLLMENT_SELECT} WHERE (?3 OR e.is_active = 1) AND (?1 IS NULL OR e.learning_path_id = ?1) AND (?2 IS NULL OR e.user_id = ?2) ORDER BY e.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![path_id, user_id, include_inactive], enrollment_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn upsert_enrollment(
    conn: &Connection,
    path_id: i64,
    user_id: i64,
    is_active: bool,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO learning_path_enrollments (learning_path_id, user_id, is_active, created) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(user_id, learning_path_id) DO UPDATE SET is_active = excluded.is_active",
    )?
    .execute(params![path_id, user_id, is_active, now])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct PathAllowedRecord {
    pub id: i64,
    pub path_id: i64,
    pub email: String,
    pub user_id: Option<i64>,
    pub is_active: bool,
}

fn allowed_from_row(r: &Row) -> rusqlite::Result<PathAllowedRecord> {
    Ok(PathAllowedRecord {
        id: r.get(0)?,
        path_id: r.get(1)?,
        email: r.get(2)?,
        user_id: r.get(3)?,
        is_active: r.get(4)?,
    })
}

pub fn allowed(conn: &Connection, path_id: i64, email: &str) -> Result<Option<PathAllowedRecord>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT id, learning_path_id, email, user_id, is_active FROM learning_path_enrollment_allowed \
             WHERE learning_path_id = ?1 AND email = ?2",
        )?
        .query_row(params![path_id, email], allowed_from_row)
        .optional()?)
}

/// Active, unclaimed invitations for an email, across paths.
pub fn pending_for_email(conn: &Connection, email: &str) -> Result<Vec<PathAllowedRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, learning_path_id, email, user_id, is_active FROM learning_path_enrollment_allowed \
         WHERE email = ?1 AND is_active = 1 AND user_id IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([email], allowed_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn upsert_allowed(conn: &Connection, path_id: i64, email: &str, is_active: bool, now: i64) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO learning_path_enrollment_allowed (learning_path_id, email, is_active, created) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(email, learning_path_id) DO UPDATE SET is_active = excluded.is_active",
    )?
    .execute(params![path_id, email, is_active, now])?;
    Ok(())
}

pub fn claim_allowed(conn: &Connection, allowed_id: i64, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE learning_path_enrollment_allowed SET user_id = ?2, is_active = 0 WHERE id = ?1")?
        .execute(params![allowed_id, user_id])?;
    Ok(())
}
