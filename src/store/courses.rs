//! Courses, their modes and their staff roles.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, Default)]
pub struct CourseRecord {
    pub id: i64,
    pub course_key: String,
    pub code: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub duration_hours: Option<i64>,
    pub price_minor: i64,
    pub currency: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub enrollment_start: Option<i64>,
    pub enrollment_end: Option<i64>,
    pub invitation_only: bool,
    pub max_enrollments: Option<i64>,
    pub self_paced: bool,
    pub published: bool,
    pub created: i64,
    pub updated: i64,
    /// A new enrollment's default length in days (its `access_end`), when set.
    pub access_days: Option<i64>,
    /// `keep`, `suspend` or `unenroll`: what the expiry job does at `access_end`.
    pub expiry_action: String,
    pub expiry_notice_days: Option<i64>,
    pub waitlist: bool,
    pub waitlist_limit: Option<i64>,
    /// Whether a suspended learner keeps their seat (counts against `max_enrollments`).
    pub suspended_holds_seat: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ModeRecord {
    pub slug: String,
    pub name: String,
    pub min_price_minor: i64,
    pub currency: String,
    pub expiration_datetime: Option<i64>,
    pub description: Option<String>,
    pub sku: Option<String>,
}

const COLUMNS: &str = "id, course_key, code, title, level, duration_hours, price_minor, currency, start, end, \
    enrollment_start, enrollment_end, invitation_only, max_enrollments, self_paced, published, created, updated, \
    access_days, expiry_action, expiry_notice_days, waitlist, waitlist_limit, suspended_holds_seat";

fn from_row(r: &Row) -> rusqlite::Result<CourseRecord> {
    Ok(CourseRecord {
        id: r.get(0)?,
        course_key: r.get(1)?,
        code: r.get(2)?,
        title: r.get(3)?,
        level: r.get(4)?,
        duration_hours: r.get(5)?,
        price_minor: r.get(6)?,
        currency: r.get(7)?,
        start: r.get(8)?,
        end: r.get(9)?,
        enrollment_start: r.get(10)?,
        enrollment_end: r.get(11)?,
        invitation_only: r.get(12)?,
        max_enrollments: r.get(13)?,
        self_paced: r.get(14)?,
        published: r.get(15)?,
        created: r.get(16)?,
        updated: r.get(17)?,
        access_days: r.get(18)?,
        expiry_action: r.get(19)?,
        expiry_notice_days: r.get(20)?,
        waitlist: r.get(21)?,
        waitlist_limit: r.get(22)?,
        suspended_holds_seat: r.get(23)?,
    })
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<CourseRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM courses WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], from_row).optional()?)
}

pub fn by_key(conn: &Connection, course_key: &str) -> Result<Option<CourseRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM courses WHERE course_key = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([course_key], from_row).optional()?)
}

// Two SQL strings rather than `published = 1 OR ?1 = 0`: SQLite re-prepares a statement at
// every bind when its plan depended on a bound value, which costs more than the query.
fn published_filter(published_only: bool) -> &'static str {
    if published_only {
        "WHERE published = 1"
    } else {
        ""
    }
}

pub fn count(conn: &Connection, published_only: bool) -> Result<i64, Error> {
    let sql = format!("SELECT COUNT(*) FROM courses {}", published_filter(published_only));
    Ok(conn.prepare_cached(&sql)?.query_row([], |r| r.get(0))?)
}

/// One page in course-key order. OFFSET is fine for catalog sizes.
pub fn list(conn: &Connection, published_only: bool, offset: i64, limit: i64) -> Result<Vec<CourseRecord>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM courses {} ORDER BY course_key LIMIT ?1 OFFSET ?2",
        published_filter(published_only)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![limit, offset], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn insert(conn: &Connection, c: &CourseRecord) -> Result<i64, Error> {
    let result = conn
        .prepare_cached(
            "INSERT INTO courses (course_key, code, title, level, duration_hours, price_minor, currency, start, end, \
             enrollment_start, enrollment_end, invitation_only, max_enrollments, self_paced, published, created, updated, \
             access_days, expiry_action, expiry_notice_days, waitlist, waitlist_limit, suspended_holds_seat) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
        )?
        .execute(params![
            c.course_key,
            c.code,
            c.title,
            c.level,
            c.duration_hours,
            c.price_minor,
            c.currency,
            c.start,
            c.end,
            c.enrollment_start,
            c.enrollment_end,
            c.invitation_only,
            c.max_enrollments,
            c.self_paced,
            c.published,
            c.created,
            c.updated,
            c.access_days,
            c.expiry_action,
            c.expiry_notice_days,
            c.waitlist,
            c.waitlist_limit,
            c.suspended_holds_seat
        ]);
    match result {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(e) if super::db::is_unique_violation(&e) => {
            let mut error = Error::conflict(format!("A course with key '{}' already exists.", c.course_key));
            error.field_errors.insert("course_key".into(), error.developer_message.clone());
            Err(error)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn update(conn: &Connection, c: &CourseRecord) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE courses SET code = ?2, title = ?3, level = ?4, duration_hours = ?5, price_minor = ?6, currency = ?7, \
         start = ?8, end = ?9, enrollment_start = ?10, enrollment_end = ?11, invitation_only = ?12, max_enrollments = ?13, \
         self_paced = ?14, published = ?15, updated = ?16, access_days = ?17, expiry_action = ?18, \
         expiry_notice_days = ?19, waitlist = ?20, waitlist_limit = ?21, suspended_holds_seat = ?22 WHERE id = ?1",
    )?
    .execute(params![
        c.id,
        c.code,
        c.title,
        c.level,
        c.duration_hours,
        c.price_minor,
        c.currency,
        c.start,
        c.end,
        c.enrollment_start,
        c.enrollment_end,
        c.invitation_only,
        c.max_enrollments,
        c.self_paced,
        c.published,
        c.updated,
        c.access_days,
        c.expiry_action,
        c.expiry_notice_days,
        c.waitlist,
        c.waitlist_limit,
        c.suspended_holds_seat
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, course_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM courses WHERE id = ?1")?.execute([course_id])?;
    Ok(())
}

/// Every enrollment row, active or not: a course that ever had one is kept for the record.
pub fn has_enrollments(conn: &Connection, course_id: i64) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM enrollments WHERE course_id = ?1)")?
        .query_row([course_id], |r| r.get(0))?)
}

pub fn modes(conn: &Connection, course_id: i64) -> Result<Vec<ModeRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT slug, name, min_price_minor, currency, expiration_datetime, description, sku FROM course_modes \
         WHERE course_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([course_id], |r| {
        Ok(ModeRecord {
            slug: r.get(0)?,
            name: r.get(1)?,
            min_price_minor: r.get(2)?,
            currency: r.get(3)?,
            expiration_datetime: r.get(4)?,
            description: r.get(5)?,
            sku: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Inserts or replaces the mode with this slug.
pub fn upsert_mode(conn: &Connection, course_id: i64, m: &ModeRecord) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO course_modes (course_id, slug, name, min_price_minor, currency, expiration_datetime, description, sku) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(course_id, slug) DO UPDATE SET name = excluded.name, \
         min_price_minor = excluded.min_price_minor, currency = excluded.currency, \
         expiration_datetime = excluded.expiration_datetime, description = excluded.description, sku = excluded.sku",
    )?
    .execute(params![course_id, m.slug, m.name, m.min_price_minor, m.currency, m.expiration_datetime, m.description, m.sku])?;
    Ok(())
}

pub fn delete_mode(conn: &Connection, course_id: i64, slug: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("DELETE FROM course_modes WHERE course_id = ?1 AND slug = ?2")?
        .execute(params![course_id, slug])?
        > 0)
}

pub fn delete_modes(conn: &Connection, course_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM course_modes WHERE course_id = ?1")?.execute([course_id])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct RoleRecord {
    pub username: String,
    pub email: String,
    pub role: String,
    pub created: i64,
}

pub fn roles(conn: &Connection, course_id: i64) -> Result<Vec<RoleRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.username, u.email, r.role, r.created FROM course_roles r JOIN users u ON u.id = r.user_id \
         WHERE r.course_id = ?1 ORDER BY u.username, r.role",
    )?;
    let rows = stmt.query_map([course_id], |r| {
        Ok(RoleRecord { username: r.get(0)?, email: r.get(1)?, role: r.get(2)?, created: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Grants `role`; granting a role already held changes nothing.
pub fn grant_role(conn: &Connection, course_id: i64, user_id: i64, role: &str, now: i64) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO course_roles (course_id, user_id, role, created) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![course_id, user_id, role, now])?;
    Ok(())
}

/// Revokes `role`, or every role of the user in the course when `role` is None.
pub fn revoke_role(conn: &Connection, course_id: i64, user_id: i64, role: Option<&str>) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("DELETE FROM course_roles WHERE course_id = ?1 AND user_id = ?2 AND (?3 IS NULL OR role = ?3)")?
        .execute(params![course_id, user_id, role])?
        > 0)
}

/// The roles a user holds in one course (for permission checks).
/// The user's roles in the course (by its row id: a join on the key made SQLite
/// re-prepare the statement on every call).
pub fn user_roles_in_course(conn: &Connection, course_id: i64, user_id: i64) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare_cached("SELECT role FROM course_roles WHERE course_id = ?1 AND user_id = ?2")?;
    let rows = stmt.query_map(params![course_id, user_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every (course key, role) a user holds, for `/api/enrollment/v1/roles/`.
pub fn roles_of_user(conn: &Connection, user_id: i64) -> Result<Vec<(String, String)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.course_key, r.role FROM course_roles r JOIN courses c ON c.id = r.course_id WHERE r.user_id = ?1 ORDER BY c.course_key, r.role",
    )?;
    let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A published course by its catalog code (the checkout surface names courses this way).
pub fn published_by_code(conn: &Connection, code: &str) -> Result<Option<CourseRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM courses WHERE code = ?1 AND published = 1 ORDER BY id LIMIT 1");
    Ok(conn.prepare_cached(&sql)?.query_row([code], from_row).optional()?)
}
