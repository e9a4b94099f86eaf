//! Enrollments, pre-enrollments (enrollment_allowed), their attributes and history.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone)]
pub struct EnrollmentRecord {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub course_id: i64,
    pub course_key: String,
    pub mode: String,
    /// On the roster (any status but `inactive`); not "has access now", which is
    /// `core::enrollment::has_access` of `lifecycle`.
    pub is_active: bool,
    pub created: i64,
    pub lifecycle: Lifecycle,
}

/// An enrollment's status and access dates (unix seconds, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lifecycle {
    /// `active`, `suspended`, `expired` or `inactive`.
    pub status: String,
    pub access_start: Option<i64>,
    pub access_end: Option<i64>,
}

const SELECT: &str = "SELECT e.id, e.user_id, u.username, e.course_id, c.course_key, e.mode, e.is_active, e.created, \
    e.status, e.access_start, e.access_end \
    FROM enrollments e JOIN users u ON u.id = e.user_id JOIN courses c ON c.id = e.course_id";

fn from_row(r: &Row) -> rusqlite::Result<EnrollmentRecord> {
    Ok(EnrollmentRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        username: r.get(2)?,
        course_id: r.get(3)?,
        course_key: r.get(4)?,
        mode: r.get(5)?,
        is_active: r.get(6)?,
        created: r.get(7)?,
        lifecycle: Lifecycle { status: r.get(8)?, access_start: r.get(9)?, access_end: r.get(10)? },
    })
}

pub fn get(conn: &Connection, user_id: i64, course_id: i64) -> Result<Option<EnrollmentRecord>, Error> {
    // No join in the WHERE: with one (`… JOIN courses c ON c.id = e.course_id WHERE
    // e.course_id = ?2`), SQLite re-prepared this statement on every call (perf showed
    // sqlite3Reprepare at a fifth of the write path's CPU).
    let sql = "SELECT e.id, e.user_id, (SELECT username FROM users WHERE id = e.user_id), e.course_id, \
        (SELECT course_key FROM courses WHERE id = e.course_id), e.mode, e.is_active, e.created, \
        e.status, e.access_start, e.access_end FROM enrollments e WHERE e.user_id = ?1 AND e.course_id = ?2";
    Ok(conn.prepare_cached(sql)?.query_row(params![user_id, course_id], from_row).optional()?)
}

/// Inserts or updates the user's one row for the course.
pub fn upsert(
    conn: &Connection,
    user_id: i64,
    course_id: i64,
    mode: &str,
    is_active: bool,
    now: i64,
) -> Result<i64, Error> {
    // The next position comes from the course's counter (kept by a trigger on every insert,
    // schema.sql): reading the highest position off the enrollments index instead
    // (`ORDER BY course_seq DESC LIMIT 1`, or MAX()) was re-prepared by SQLite on every
    // call, a fifth of enroll-v2's throughput (BENCHMARKS.md).
    let last_seq: i64 = conn
        .prepare_cached("SELECT enrollment_seq FROM courses WHERE id = ?1")?
        .query_row([course_id], |r| r.get(0))?;
    let next_seq = last_seq + 1;
    conn.prepare_cached(
        "INSERT INTO enrollments (user_id, course_id, mode, is_active, status, course_seq, created, updated) \
         VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 THEN 'active' ELSE 'inactive' END, ?6, ?5, ?5) \
         ON CONFLICT(user_id, course_id) DO UPDATE SET mode = excluded.mode, is_active = excluded.is_active, \
         status = CASE WHEN excluded.is_active THEN 'active' ELSE 'inactive' END, updated = excluded.updated",
    )?
    .execute(params![user_id, course_id, mode, is_active, now, next_seq])?;
    Ok(conn
        .prepare_cached("SELECT id FROM enrollments WHERE user_id = ?1 AND course_id = ?2")?
        .query_row(params![user_id, course_id], |r| r.get(0))?)
}

/// Learners holding a seat (counted against `max_enrollments`): every row on the roster,
/// a suspended one only when `suspended_holds_seat`; course staff are not counted.
pub fn count_active_learners(conn: &Connection, course_id: i64, suspended_holds_seat: bool) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM enrollments e WHERE e.course_id = ?1 AND e.is_active = 1 \
             AND (?2 OR e.status != 'suspended') \
             AND NOT EXISTS (SELECT 1 FROM course_roles r WHERE r.course_id = e.course_id AND r.user_id = e.user_id)",
        )?
        .query_row(params![course_id, suspended_holds_seat], |r| r.get(0))?)
}

/// Sets an enrollment's status (keeping `is_active` = on the roster) and dates; a new
/// `access_end` earns a new expiry notice.
pub fn set_lifecycle(conn: &Connection, enrollment_id: i64, lifecycle: &Lifecycle, now: i64) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE enrollments SET status = ?2, is_active = (?2 != 'inactive'), access_start = ?3, \
         expiry_notified = CASE WHEN access_end IS ?4 THEN expiry_notified ELSE NULL END, access_end = ?4, \
         updated = ?5 WHERE id = ?1",
    )?
    .execute(params![enrollment_id, lifecycle.status, lifecycle.access_start, lifecycle.access_end, now])?;
    Ok(())
}

/// Active enrollments whose `access_end` has passed, oldest end first: (user id, course id).
pub fn due_to_expire(conn: &Connection, now: i64, limit: i64) -> Result<Vec<(i64, i64)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, course_id FROM enrollments WHERE access_end IS NOT NULL AND status = 'active' \
         AND access_end <= ?1 ORDER BY access_end, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Active enrollments inside their course's notice period and not yet told (only
/// `enrollment_id` when given): (enrollment id, user id, course id, access_end).
pub fn due_a_notice(
    conn: &Connection,
    now: i64,
    enrollment_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, i64, i64, i64)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.user_id, e.course_id, e.access_end FROM enrollments e JOIN courses c ON c.id = e.course_id \
         WHERE e.access_end IS NOT NULL AND e.status = 'active' AND e.expiry_notified IS NULL \
         AND c.expiry_notice_days IS NOT NULL AND e.access_end > ?1 AND e.access_end - c.expiry_notice_days * 86400 <= ?1 \
         AND (?3 IS NULL OR e.id = ?3) ORDER BY e.access_end, e.id LIMIT ?2",
    )?;
    let rows =
        stmt.query_map(params![now, limit, enrollment_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn mark_notified(conn: &Connection, enrollment_id: i64, now: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE enrollments SET expiry_notified = ?2 WHERE id = ?1")?
        .execute(params![enrollment_id, now])?;
    Ok(())
}

/// One learner waiting for a seat.
#[derive(Debug, Clone)]
pub struct WaitlistEntry {
    pub user_id: i64,
    pub username: String,
    pub email: String,
    pub position: i64,
    pub mode: String,
    pub access_start: Option<i64>,
    pub access_end: Option<i64>,
    pub created: i64,
}

const WAITLIST_SELECT: &str =
    "SELECT w.user_id, u.username, u.email, w.position, w.mode, w.access_start, w.access_end, \
    w.created FROM waitlist w JOIN users u ON u.id = w.user_id";

fn waitlist_from_row(r: &Row) -> rusqlite::Result<WaitlistEntry> {
    Ok(WaitlistEntry {
        user_id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        position: r.get(3)?,
        mode: r.get(4)?,
        access_start: r.get(5)?,
        access_end: r.get(6)?,
        created: r.get(7)?,
    })
}

pub fn waitlist_count(conn: &Connection, course_id: i64) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM waitlist WHERE course_id = ?1")?
        .query_row([course_id], |r| r.get(0))?)
}

/// The learner's place (1 is next), if they wait.
pub fn waitlist_position(conn: &Connection, course_id: i64, user_id: i64) -> Result<Option<i64>, Error> {
    Ok(conn
        .prepare_cached("SELECT position FROM waitlist WHERE course_id = ?1 AND user_id = ?2")?
        .query_row(params![course_id, user_id], |r| r.get(0))
        .optional()?)
}

/// Puts the learner last; their position.
pub fn waitlist_add(conn: &Connection, course_id: i64, user_id: i64, entry: &WaitlistEntry) -> Result<i64, Error> {
    let position = waitlist_count(conn, course_id)? + 1;
    conn.prepare_cached(
        "INSERT INTO waitlist (course_id, user_id, position, mode, access_start, access_end, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        course_id,
        user_id,
        position,
        entry.mode,
        entry.access_start,
        entry.access_end,
        entry.created
    ])?;
    Ok(position)
}

pub fn waitlist(conn: &Connection, course_id: i64) -> Result<Vec<WaitlistEntry>, Error> {
    let sql = format!("{WAITLIST_SELECT} WHERE w.course_id = ?1 ORDER BY w.position");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([course_id], waitlist_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn waitlist_first(conn: &Connection, course_id: i64) -> Result<Option<WaitlistEntry>, Error> {
    let sql = format!("{WAITLIST_SELECT} WHERE w.course_id = ?1 ORDER BY w.position LIMIT 1");
    Ok(conn.prepare_cached(&sql)?.query_row([course_id], waitlist_from_row).optional()?)
}

/// Takes the learner off the list and closes the gap; false when they were not on it.
pub fn waitlist_remove(conn: &Connection, course_id: i64, user_id: i64) -> Result<bool, Error> {
    let Some(position) = waitlist_position(conn, course_id, user_id)? else { return Ok(false) };
    conn.prepare_cached("DELETE FROM waitlist WHERE course_id = ?1 AND user_id = ?2")?
        .execute(params![course_id, user_id])?;
    conn.prepare_cached("UPDATE waitlist SET position = position - 1 WHERE course_id = ?1 AND position > ?2")?
        .execute(params![course_id, position])?;
    Ok(true)
}

/// Moves a waiting learner to `to` (1-based, already within the list), shifting those between.
pub fn waitlist_move(conn: &Connection, course_id: i64, user_id: i64, from: i64, to: i64) -> Result<(), Error> {
    if to < from {
        conn.prepare_cached(
            "UPDATE waitlist SET position = position + 1 WHERE course_id = ?1 AND position >= ?2 AND position < ?3",
        )?
        .execute(params![course_id, to, from])?;
    } else if to > from {
        conn.prepare_cached(
            "UPDATE waitlist SET position = position - 1 WHERE course_id = ?1 AND position > ?2 AND position <= ?3",
        )?
        .execute(params![course_id, from, to])?;
    }
    conn.prepare_cached("UPDATE waitlist SET position = ?3 WHERE course_id = ?1 AND user_id = ?2")?
        .execute(params![course_id, user_id, to])?;
    Ok(())
}

/// A user's active enrollments in creation order.
pub fn active_for_user(conn: &Connection, user_id: i64) -> Result<Vec<EnrollmentRecord>, Error> {
    let sql = format!("{SELECT} WHERE e.user_id = ?1 AND e.is_active = 1 ORDER BY e.created, e.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([user_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Filters for the staff enrollment list; empty lists mean "any".
#[derive(Debug, Default)]
pub struct ListFilter {
    pub course_key: Option<String>,
    /// Substring matches on the course key (Open edX's `course_ids` uses `icontains`).
    pub course_key_contains: Vec<String>,
    pub usernames: Vec<String>,
    pub emails: Vec<String>,
}

/// One page of enrollments, newest first, seeking by id: `before_id` pages forward (older),
/// `after_id` pages backward (newer). Stable while rows are being inserted.
pub fn list(
    conn: &Connection,
    filter: &ListFilter,
    before_id: Option<i64>,
    after_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EnrollmentRecord>, Error> {
    use rusqlite::types::Value;
    // Appends `clause` with its `?` numbered for `value`.
    fn bind(sql: &mut String, values: &mut Vec<Value>, clause: &str, value: Value) {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", values.len())));
    }
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut values: Vec<Value> = Vec::new();
    if let Some(key) = &filter.course_key {
        bind(&mut sql, &mut values, " AND c.course_key = ?", key.clone().into());
    }
    for (column, items, like) in [
        ("c.course_key", &filter.course_key_contains, true),
        ("u.username", &filter.usernames, false),
        ("u.email", &filter.emails, false),
    ] {
        if items.is_empty() {
            continue;
        }
        sql.push_str(" AND (0");
        for item in items {
            if like {
                let escaped = item.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                bind(&mut sql, &mut values, &format!(" OR {column} LIKE ? ESCAPE '\\'"), format!("%{escaped}%").into());
            } else {
                bind(&mut sql, &mut values, &format!(" OR {column} = ?"), item.clone().into());
            }
        }
        sql.push(')');
    }
    let ascending = after_id.is_some();
    if let Some(id) = before_id {
        bind(&mut sql, &mut values, " AND e.id < ?", id.into());
    }
    if let Some(id) = after_id {
        bind(&mut sql, &mut values, " AND e.id > ?", id.into());
    }
    sql.push_str(if ascending { " ORDER BY e.id ASC" } else { " ORDER BY e.id DESC" });
    bind(&mut sql, &mut values, " LIMIT ?", limit.into());
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), from_row)?;
    let mut list: Vec<EnrollmentRecord> = rows.collect::<Result<_, _>>()?;
    if ascending {
        list.reverse();
    }
    Ok(list)
}

pub fn attributes(conn: &Connection, enrollment_id: i64) -> Result<Vec<(String, String, String)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT namespace, name, value FROM enrollment_attributes WHERE enrollment_id = ?1 ORDER BY namespace, name",
    )?;
    let rows = stmt.query_map([enrollment_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_attribute(
    conn: &Connection,
    enrollment_id: i64,
    namespace: &str,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO enrollment_attributes (enrollment_id, namespace, name, value) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(enrollment_id, namespace, name) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![enrollment_id, namespace, name, value])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AllowedRecord {
    pub id: i64,
    pub email: String,
    pub course_id: i64,
    pub course_key: String,
    pub auto_enroll: bool,
    pub user_id: Option<i64>,
    pub created: i64,
}

const ALLOWED_SELECT: &str = "SELECT a.id, a.email, a.course_id, c.course_key, a.auto_enroll, a.user_id, a.created \
    FROM enrollment_allowed a JOIN courses c ON c.id = a.course_id";

fn allowed_from_row(r: &Row) -> rusqlite::Result<AllowedRecord> {
    Ok(AllowedRecord {
        id: r.get(0)?,
        email: r.get(1)?,
        course_id: r.get(2)?,
        course_key: r.get(3)?,
        auto_enroll: r.get(4)?,
        user_id: r.get(5)?,
        created: r.get(6)?,
    })
}

pub fn allowed(conn: &Connection, email: &str, course_id: i64) -> Result<Option<AllowedRecord>, Error> {
    // Join-free, as in `get`: the join made SQLite re-prepare it on every call.
    let sql =
        "SELECT a.id, a.email, a.course_id, (SELECT course_key FROM courses WHERE id = a.course_id), a.auto_enroll, \
        a.user_id, a.created FROM enrollment_allowed a WHERE a.email = ?1 AND a.course_id = ?2";
    Ok(conn.prepare_cached(sql)?.query_row(params![email, course_id], allowed_from_row).optional()?)
}

pub fn allowed_for_email(conn: &Connection, email: &str) -> Result<Vec<AllowedRecord>, Error> {
    let sql = format!("{ALLOWED_SELECT} WHERE a.email = ?1 ORDER BY a.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([email], allowed_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creates the pre-enrollment or updates its auto_enroll flag.
pub fn upsert_allowed(
    conn: &Connection,
    email: &str,
    course_id: i64,
    auto_enroll: bool,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO enrollment_allowed (email, course_id, auto_enroll, created) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(email, course_id) DO UPDATE SET auto_enroll = excluded.auto_enroll",
    )?
    .execute(params![email, course_id, auto_enroll, now])?;
    Ok(())
}

pub fn claim_allowed(conn: &Connection, allowed_id: i64, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE enrollment_allowed SET user_id = ?2 WHERE id = ?1 AND user_id IS NULL")?
        .execute(params![allowed_id, user_id])?;
    Ok(())
}

pub fn delete_allowed(conn: &Connection, allowed_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM enrollment_allowed WHERE id = ?1")?.execute([allowed_id])?;
    Ok(())
}

pub struct HistoryRow<'a> {
    pub course_id: i64,
    pub user_id: Option<i64>,
    pub email: &'a str,
    pub actor: &'a str,
    pub surface: &'a str,
    pub source: &'a str,
    pub reason: Option<&'a str>,
    pub before: &'a str,
    pub after: &'a str,
    pub created: i64,
}

pub fn append_history(conn: &Connection, h: &HistoryRow) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO enrollment_history (course_id, user_id, email, actor, surface, source, reason, before, after, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![h.course_id, h.user_id, h.email, h.actor, h.surface, h.source, h.reason, h.before, h.after, h.created])?;
    Ok(())
}

/// One roster row: an enrollment with its user, or a pre-enrollment (no user yet).
#[derive(Debug, Clone)]
pub struct RosterRow {
    pub username: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub name: String,
    pub mode: Option<String>,
    pub is_active: bool,
    pub created: i64,
    /// When the enrollment (or pre-enrollment) last changed.
    pub updated: i64,
    /// What the learner has achieved, when it was recorded.
    pub progress: Option<crate::store::progress::ProgressRecord>,
    pub allowed: bool,
    pub auto_enroll: bool,
    /// The enrollment's status and dates (None for a pre-enrollment).
    pub lifecycle: Option<Lifecycle>,
}

const ROSTER_SELECT: &str =
    "SELECT u.username, u.email, u.first_name, u.last_name, u.name, e.mode, e.is_active, e.created, \
    a.id IS NOT NULL, COALESCE(a.auto_enroll, 0), e.updated, \
    p.enrollment_id, p.completion, p.grade, p.passed, p.completed_at, p.certificate_url, p.updated, \
    e.status, e.access_start, e.access_end \
    FROM enrollments e JOIN users u ON u.id = e.user_id \
    LEFT JOIN enrollment_allowed a ON a.course_id = e.course_id AND a.email = u.email \
    LEFT JOIN enrollment_progress p ON p.enrollment_id = e.id";

fn roster_from_row(r: &Row) -> rusqlite::Result<RosterRow> {
    Ok(RosterRow {
        username: r.get(0)?,
        email: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        name: r.get(4)?,
        mode: r.get(5)?,
        is_active: r.get(6)?,
        created: r.get(7)?,
        allowed: r.get(8)?,
        auto_enroll: r.get(9)?,
        updated: r.get(10)?,
        progress: match r.get::<_, Option<i64>>(11)? {
            Some(enrollment_id) => Some(crate::store::progress::ProgressRecord {
                enrollment_id,
                completion: r.get(12)?,
                grade: r.get(13)?,
                passed: r.get(14)?,
                completed_at: r.get(15)?,
                certificate_url: r.get(16)?,
                updated: r.get(17)?,
            }),
            None => None,
        },
        lifecycle: Some(Lifecycle { status: r.get(18)?, access_start: r.get(19)?, access_end: r.get(20)? }),
    })
}

/// Every enrollment row of a course, active or not (rows are never deleted, so the
/// highest position is the count).
pub fn roster_count_all(conn: &Connection, course_id: i64) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(course_seq), 0) FROM enrollments WHERE course_id = ?1")?
        .query_row([course_id], |r| r.get(0))?)
}

/// Page of all enrollments in creation order: a seek on (course_id, course_seq), so
/// page 10,000 costs what page 1 does.
pub fn roster_page_all(conn: &Connection, course_id: i64, start: i64, limit: i64) -> Result<Vec<RosterRow>, Error> {
    let sql = format!("{ROSTER_SELECT} WHERE e.course_id = ?1 AND e.course_seq > ?2 ORDER BY e.course_seq LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![course_id, start, limit], roster_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn roster_count_by_activity(conn: &Connection, course_id: i64, active: bool) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(CASE WHEN ?2 THEN active ELSE inactive END), 0) FROM roster_blocks WHERE course_id = ?1",
        )?
        .query_row(params![course_id, active], |r| r.get(0))?)
}

/// Page of active (or inactive) enrollments. The filter breaks the positions' density, so
/// the per-block counts (`roster_blocks`, kept by triggers) find the block that holds the
/// page's first row; the index then skips fewer than 1,024 rows of that block.
pub fn roster_page_by_activity(
    conn: &Connection,
    course_id: i64,
    active: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<RosterRow>, Error> {
    // A walk over the course's blocks in order (one per 1,024 positions: 977 for a
    // million rows) that stops at the page's; cheaper than a window function, which
    // would sum and sort them all.
    let mut start = None;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT block, CASE WHEN ?2 THEN active ELSE inactive END FROM roster_blocks WHERE course_id = ?1 ORDER BY block",
        )?;
        let mut rows = stmt.query(params![course_id, active])?;
        let mut before = 0i64;
        while let Some(row) = rows.next()? {
            let (block, here): (i64, i64) = (row.get(0)?, row.get(1)?);
            if before + here > offset {
                start = Some((block, before));
                break;
            }
            before += here;
        }
    }
    let Some((block, before)) = start else { return Ok(Vec::new()) };
    let sql = format!(
        "{ROSTER_SELECT} WHERE e.course_id = ?1 AND e.is_active = ?2 AND e.course_seq >= ?3 ORDER BY e.course_seq LIMIT ?4 OFFSET ?5"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![course_id, active, block << 10, limit, offset - before], roster_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Active enrollments whose username, email, first or last name contains `term`
/// (case-insensitive, as Open edX's instructor v2 search filter): a count and a page.
pub fn roster_search(
    conn: &Connection,
    course_id: i64,
    term: &str,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<RosterRow>), Error> {
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let like = format!("%{escaped}%");
    let filter =
        "e.course_id = ?1 AND e.is_active = 1 AND (u.username LIKE ?2 ESCAPE '\\' OR u.email LIKE ?2 ESCAPE '\\' \
        OR u.first_name LIKE ?2 ESCAPE '\\' OR u.last_name LIKE ?2 ESCAPE '\\')";
    let count: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM enrollments e JOIN users u ON u.id = e.user_id WHERE {filter}"))?
        .query_row(params![course_id, like], |r| r.get(0))?;
    let sql = format!("{ROSTER_SELECT} WHERE {filter} ORDER BY e.course_seq LIMIT ?3 OFFSET ?4");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![course_id, like, limit, offset], roster_from_row)?;
    Ok((count, rows.collect::<Result<_, _>>()?))
}

/// Pre-enrollments not yet claimed by a user: the learners still to register.
pub fn pre_enrollment_count(conn: &Connection, course_id: i64) -> Result<i64, Error> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM enrollment_allowed WHERE course_id = ?1 AND user_id IS NULL")?
        .query_row([course_id], |r| r.get(0))?)
}

pub fn pre_enrollment_page(
    conn: &Connection,
    course_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<RosterRow>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT email, auto_enroll, created FROM enrollment_allowed WHERE course_id = ?1 AND user_id IS NULL ORDER BY id LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(params![course_id, limit, offset], |r| {
        Ok(RosterRow {
            username: None,
            email: r.get(0)?,
            first_name: String::new(),
            last_name: String::new(),
            name: String::new(),
            mode: None,
            is_active: false,
            created: r.get(2)?,
            updated: r.get(2)?,
            progress: None,
            allowed: true,
            auto_enroll: r.get(1)?,
            lifecycle: None,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Enrollments (any state) with optional course, username and creation-time bounds, for
/// Appsembler's analytics export.
pub fn batch(
    conn: &Connection,
    course_key: Option<&str>,
    username: Option<&str>,
    after: Option<i64>,
    before: Option<i64>,
) -> Result<Vec<EnrollmentRecord>, Error> {
    let sql = format!(
        "{SELECT} WHERE (?1 IS NULL OR c.course_key = ?1) AND (?2 IS NULL OR u.username = ?2) \
         AND (?3 IS NULL OR e.created > ?3) AND (?4 IS NULL OR e.created < ?4) ORDER BY e.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![course_key, username, after, before], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn pending_from_row(r: &Row) -> rusqlite::Result<AllowedRecord> {
    Ok(AllowedRecord {
        id: r.get(0)?,
        email: r.get(1)?,
        course_id: 0,
        course_key: r.get(2)?,
        auto_enroll: r.get(3)?,
        user_id: None,
        created: r.get(4)?,
    })
}

/// False when the email is already pending for that course key.
pub fn insert_pending(
    conn: &Connection,
    email: &str,
    course_key: &str,
    auto_enroll: bool,
    now: i64,
) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO pending_pre_enrollments (email, course_key, auto_enroll, created) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(email, course_key) DO NOTHING",
        )?
        .execute(params![email, course_key, auto_enroll, now])?
        > 0)
}

pub fn pending_for_email(conn: &Connection, email: &str) -> Result<Vec<AllowedRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, email, course_key, auto_enroll, created FROM pending_pre_enrollments WHERE email = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([email], pending_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn pending_for_course(conn: &Connection, course_key: &str) -> Result<Vec<AllowedRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, email, course_key, auto_enroll, created FROM pending_pre_enrollments WHERE course_key = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([course_key], pending_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// False when there was none.
pub fn delete_pending(conn: &Connection, email: &str, course_key: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("DELETE FROM pending_pre_enrollments WHERE email = ?1 AND course_key = ?2")?
        .execute(params![email, course_key])?
        > 0)
}

/// One enrollment-history entry, with the learner's username when there is a user.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub id: i64,
    pub username: Option<String>,
    pub email: String,
    pub actor: String,
    pub surface: String,
    pub source: String,
    pub reason: Option<String>,
    pub before: String,
    pub after: String,
    pub created: i64,
}

/// Newest first, entries older than `before_id` (a seek on (course_id, id)), of the learner
/// `username` or `email` names when given, at or after `since` (Unix time) when given.
pub fn history(
    conn: &Connection,
    course_id: i64,
    username: Option<&str>,
    email: Option<&str>,
    since: Option<i64>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.id, u.username, h.email, h.actor, h.surface, h.source, h.reason, h.before, h.after, h.created \
         FROM enrollment_history h LEFT JOIN users u ON u.id = h.user_id \
         WHERE h.course_id = ?1 AND h.id < ?2 AND h.created >= ?3 \
         AND (?4 IS NULL OR u.username = ?4) AND (?5 IS NULL OR h.email = ?5 COLLATE NOCASE) \
         ORDER BY h.id DESC LIMIT ?6",
    )?;
    let rows = stmt.query_map(
        params![course_id, before_id.unwrap_or(i64::MAX), since.unwrap_or(i64::MIN), username, email, limit],
        |r| {
            Ok(HistoryEntry {
                id: r.get(0)?,
                username: r.get(1)?,
                email: r.get(2)?,
                actor: r.get(3)?,
                surface: r.get(4)?,
                source: r.get(5)?,
                reason: r.get(6)?,
                before: r.get(7)?,
                after: r.get(8)?,
                created: r.get(9)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
