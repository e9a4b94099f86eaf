//! Bulk tasks and their per-identifier items.

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub id: i64,
    pub public_id: String,
    pub course_id: i64,
    pub course_key: String,
    pub action: String,
    pub options: String,
    pub actor: String,
    pub surface: String,
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub created: i64,
    pub started: Option<i64>,
    pub finished: Option<i64>,
}

const SELECT: &str = "SELECT t.id, t.public_id, t.course_id, c.course_key, t.action, t.options, t.actor, t.surface, t.status, \
    t.total, t.done, t.succeeded, t.failed, t.created, t.started, t.finished FROM tasks t JOIN courses c ON c.id = t.course_id";

fn from_row(r: &Row) -> rusqlite::Result<TaskRecord> {
    Ok(TaskRecord {
        id: r.get(0)?,
        public_id: r.get(1)?,
        course_id: r.get(2)?,
        course_key: r.get(3)?,
        action: r.get(4)?,
        options: r.get(5)?,
        actor: r.get(6)?,
        surface: r.get(7)?,
        status: r.get(8)?,
        total: r.get(9)?,
        done: r.get(10)?,
        succeeded: r.get(11)?,
        failed: r.get(12)?,
        created: r.get(13)?,
        started: r.get(14)?,
        finished: r.get(15)?,
    })
}

pub struct NewTask<'a> {
    pub public_id: &'a str,
    pub course_id: i64,
    pub action: &'a str,
    pub options: &'a str,
    pub actor: &'a str,
    pub surface: &'a str,
}

/// The task and its items: (identifier, the item's own options as JSON, if any).
pub fn insert(conn: &Connection, task: &NewTask, items: &[(String, Option<String>)], now: i64) -> Result<i64, Error> {
    conn.prepare_cached(
        "INSERT INTO tasks (public_id, course_id, action, options, actor, surface, total, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![task.public_id, task.course_id, task.action, task.options, task.actor, task.surface, items.len() as i64, now])?;
    let id = conn.last_insert_rowid();
    let mut stmt =
        conn.prepare_cached("INSERT INTO task_items (task_id, position, identifier, options) VALUES (?1, ?2, ?3, ?4)")?;
    for (position, (identifier, options)) in items.iter().enumerate() {
        stmt.execute(params![id, position as i64, identifier, options])?;
    }
    Ok(id)
}

pub fn by_public_id(conn: &Connection, public_id: &str) -> Result<Option<TaskRecord>, Error> {
    let sql = format!("{SELECT} WHERE t.public_id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([public_id], from_row).optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<TaskRecord>, Error> {
    let sql = format!("{SELECT} WHERE t.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], from_row).optional()?)
}

/// Claims the oldest pending task for a worker (marks it running).
pub fn claim_next(conn: &Connection, now: i64) -> Result<Option<TaskRecord>, Error> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM tasks WHERE status = 'pending' ORDER BY id LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    conn.prepare_cached("UPDATE tasks SET status = 'running', started = COALESCE(started, ?2) WHERE id = ?1")?
        .execute(params![id, now])?;
    by_id(conn, id)
}

/// After a restart no worker holds a task: running ones go back to pending and resume.
pub fn requeue_running(conn: &Connection) -> Result<usize, Error> {
    Ok(conn.prepare_cached("UPDATE tasks SET status = 'pending' WHERE status = 'running'")?.execute([])?)
}

/// Pending items from `from_position` on. Items are processed in position order, so the
/// caller passes the count done so far and the scan never revisits finished items.
pub fn pending_items(
    conn: &Connection,
    task_id: i64,
    from_position: i64,
    limit: i64,
) -> Result<Vec<(i64, String, Option<String>)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, identifier, options FROM task_items WHERE task_id = ?1 AND position >= ?2 AND status = 'pending' ORDER BY position LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![task_id, from_position, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn finish_item(conn: &Connection, task_id: i64, position: i64, succeeded: bool, result: &str) -> Result<(), Error> {
    conn.prepare_cached("UPDATE task_items SET status = ?3, result = ?4 WHERE task_id = ?1 AND position = ?2")?
        .execute(params![task_id, position, if succeeded { "succeeded" } else { "failed" }, result])?;
    conn.prepare_cached(
        "UPDATE tasks SET done = done + 1, succeeded = succeeded + ?2, failed = failed + ?3 WHERE id = ?1",
    )?
    .execute(params![task_id, succeeded as i64, (!succeeded) as i64])?;
    Ok(())
}

pub fn set_status(conn: &Connection, task_id: i64, status: &str, finished: Option<i64>) -> Result<(), Error> {
    conn.prepare_cached("UPDATE tasks SET status = ?2, finished = COALESCE(?3, finished) WHERE id = ?1")?
        .execute(params![task_id, status, finished])?;
    Ok(())
}

pub struct ItemRecord {
    pub position: i64,
    pub identifier: String,
    pub status: String,
    pub result: Option<String>,
}

/// Items in position order, one page (seek on the primary key).
pub fn items(conn: &Connection, task_id: i64, from_position: i64, limit: i64) -> Result<Vec<ItemRecord>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, identifier, status, result FROM task_items WHERE task_id = ?1 AND position >= ?2 ORDER BY position LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![task_id, from_position, limit], |r| {
        Ok(ItemRecord { position: r.get(0)?, identifier: r.get(1)?, status: r.get(2)?, result: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a task waits for a worker (a read, so idle workers never take the write lock).
pub fn any_pending(conn: &Connection) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM tasks WHERE status = 'pending')")?
        .query_row([], |r| r.get(0))?)
}

/// The newest tasks first; with `staff_of`, only those of the courses that user has a
/// staff role in.
pub fn recent(conn: &Connection, staff_of: Option<i64>, limit: i64) -> Result<Vec<TaskRecord>, Error> {
    let sql = format!(
        "{SELECT} WHERE ?1 IS NULL OR t.course_id IN (SELECT course_id FROM course_roles WHERE user_id = ?1) \
         ORDER BY t.id DESC LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![staff_of, limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
