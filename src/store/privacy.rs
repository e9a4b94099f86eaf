//! Privacy requests: what an export reads about one person, the writes that retire an
//! account (README "Privacy requests"), the retirement tasks, and `rollcall check`'s
//! queries for retired accounts that still hold personal data.

use crate::error::Error;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use serde_json::{Map, Value};

/// Usernames of retired accounts start with this (Open edX's retired form).
pub const RETIRED_PREFIX: &str = "retired__user_";
/// And their emails end with this.
pub const RETIRED_DOMAIN: &str = "@retired.invalid";

fn iso(column: &str) -> String {
    format!("strftime('%Y-%m-%dT%H:%M:%SZ', {column}, 'unixepoch')")
}

/// Every row of `sql` as a JSON object keyed by column name.
fn rows(conn: &Connection, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<Map<String, Value>>, Error> {
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let mut out = Vec::new();
    // Each section names the parameters it needs (?1 user id, ?2 email, ?3 username).
    let bound = stmt.parameter_count().min(args.len());
    let mut query = stmt.query(&args[..bound])?;
    while let Some(row) = query.next()? {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(x) => Value::from(x),
                ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => Value::Null,
            };
            object.insert(name.clone(), value);
        }
        out.push(object);
    }
    Ok(out)
}

/// One section of a person's export (see `core::privacy::SECTIONS`): `user_id` and `email`
/// say whose rows; nothing here joins another learner's row.
pub fn export_section(
    conn: &Connection,
    section: &str,
    user_id: i64,
    email: &str,
    username: &str,
) -> Result<Vec<Map<String, Value>>, Error> {
    let (joined, created) = (iso("u.date_joined"), iso("created"));
    let sql = match section {
        "account" => format!(
            "SELECT u.username, u.email, u.name, u.first_name, u.last_name, u.country, u.city, u.gender, \
             u.level_of_education, u.year_of_birth, u.mailing_address, u.language, u.goals, u.bio, u.phone, \
             u.date_of_birth, u.is_active, u.is_staff, u.is_superuser, u.password_hash IS NOT NULL AS has_password, \
             {joined} AS date_joined, {} AS last_login FROM users u WHERE u.id = ?1",
            iso("u.last_login")
        ),
        "custom_fields" => "SELECT key, value FROM user_custom_fields WHERE user_id = ?1 ORDER BY key".into(),
        "enrollments" => format!(
            "SELECT e.id, c.course_key, c.title AS course_title, e.mode, e.is_active, {} AS created, {} AS updated, \
             p.completion, p.grade, p.passed, {} AS completed_at, p.certificate_url FROM enrollments e \
             JOIN courses c ON c.id = e.course_id LEFT JOIN enrollment_progress p ON p.enrollment_id = e.id \
             WHERE e.user_id = ?1 ORDER BY e.id",
            iso("e.created"),
            iso("e.updated"),
            iso("p.completed_at")
        ),
        "enrollment_attributes" => "SELECT a.enrollment_id, a.namespace, a.name, a.value FROM enrollment_attributes a \
             JOIN enrollments e ON e.id = a.enrollment_id WHERE e.user_id = ?1 ORDER BY a.enrollment_id, a.name"
            .into(),
        // The rows about this person: theirs, or under their email before they had an
        // account. `actor` is who made the change (a username, "api-key" or "system").
        "enrollment_history" => format!(
            "SELECT h.id, c.course_key, h.actor, h.surface, h.source, h.reason, h.before, h.after, {} AS created \
             FROM enrollment_history h JOIN courses c ON c.id = h.course_id \
             WHERE h.user_id = ?1 OR (h.user_id IS NULL AND h.email = ?2 COLLATE NOCASE) ORDER BY h.id",
            iso("h.created")
        ),
        "progress_history" => format!(
            "SELECT h.id, c.course_key, h.completion, h.grade, h.passed, {} AS completed_at, h.certificate_url, \
             h.actor, h.surface, {} AS created FROM progress_history h JOIN enrollments e ON e.id = h.enrollment_id \
             JOIN courses c ON c.id = e.course_id WHERE e.user_id = ?1 ORDER BY h.id",
            iso("h.completed_at"),
            iso("h.created")
        ),
        "pre_enrollments" => format!(
            "SELECT 'course' AS kind, c.course_key AS key, a.auto_enroll, a.user_id IS NOT NULL AS claimed, {} AS created \
             FROM enrollment_allowed a JOIN courses c ON c.id = a.course_id WHERE a.email = ?2 COLLATE NOCASE \
             UNION ALL SELECT 'course', p.course_key, p.auto_enroll, 0, {} FROM pending_pre_enrollments p \
             WHERE p.email = ?2 COLLATE NOCASE \
             UNION ALL SELECT 'learning_path', l.key, 1, a.user_id IS NOT NULL, {} FROM learning_path_enrollment_allowed a \
             JOIN learning_paths l ON l.id = a.learning_path_id WHERE a.email = ?2 COLLATE NOCASE",
            iso("a.created"),
            iso("p.created"),
            iso("a.created")
        ),
        "learning_path_enrollments" => format!(
            "SELECT l.key, l.display_name, e.is_active, {} AS created FROM learning_path_enrollments e \
             JOIN learning_paths l ON l.id = e.learning_path_id WHERE e.user_id = ?1 ORDER BY e.id",
            iso("e.created")
        ),
        "code_redemptions" => format!(
            "SELECT k.code, c.course_key, {} AS created FROM code_redemptions r JOIN enrollment_codes k ON k.id = r.code_id \
             JOIN courses c ON c.id = k.course_id WHERE r.user_id = ?1 ORDER BY r.id",
            iso("r.created")
        ),
        // The card as stored: its last four digits, nothing else.
        "checkout_orders" => format!(
            "SELECT o.enrollment_number, o.transaction_id, c.course_key, o.status, o.amount_minor, o.discount_minor, \
             o.currency, o.coupon_code, o.method, o.card_last_four, o.details, {} AS started_at, {} AS created \
             FROM checkout_orders o JOIN courses c ON c.id = o.course_id WHERE o.user_id = ?1 ORDER BY o.id",
            iso("o.started_at"),
            iso("o.created")
        ),
        // The payload is read to render the subject, then dropped (it may hold a link).
        "emails" => format!(
            "SELECT id, message_type, payload, status, {created} AS created, {} AS sent_at FROM outbox \
             WHERE channel = 'email' AND recipient = ?2 COLLATE NOCASE ORDER BY id",
            iso("sent_at")
        ),
        "webhook_events" => format!(
            "SELECT id, message_type AS type, CAST(recipient AS INTEGER) AS endpoint_id, status, {created} AS created, \
             {} AS sent_at FROM outbox WHERE channel = 'webhook' AND (json_extract(payload, '$.data.username') = ?3 \
             OR json_extract(payload, '$.data.email') = ?2 COLLATE NOCASE) ORDER BY id",
            iso("sent_at")
        ),
        other => return Err(Error::internal(format!("no export section {other}"))),
    };
    rows(conn, &sql, &[&user_id, &email, &username])
}

/// Whom a retirement concerns, and what they become.
pub struct Retirement<'a> {
    pub user_id: i64,
    pub old_username: &'a str,
    pub old_email: &'a str,
    pub new_username: &'a str,
    pub new_email: &'a str,
    pub new_username_key: &'a str,
    pub now: i64,
}

/// The rows of `table` whose text column `column` mentions `needle` (any case): (rowid, text).
fn mentioning(conn: &Connection, table: &str, column: &str, needle: &str) -> Result<Vec<(i64, String)>, Error> {
    let sql = format!("SELECT rowid, {column} FROM {table} WHERE instr(lower({column}), lower(?1)) > 0");
    let mut stmt = conn.prepare(&sql)?;
    let found = stmt.query_map([needle], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(found)
}

/// Rows (rowid, text) of `table.column` that mention any of `needles`.
pub fn mentions(conn: &Connection, table: &str, column: &str, needles: &[&str]) -> Result<Vec<(i64, String)>, Error> {
    let mut all: Vec<(i64, String)> = Vec::new();
    for needle in needles.iter().filter(|n| !n.is_empty()) {
        for row in mentioning(conn, table, column, needle)? {
            if !all.iter().any(|(id, _)| *id == row.0) {
                all.push(row);
            }
        }
    }
    Ok(all)
}

pub fn set_text(conn: &Connection, table: &str, column: &str, rowid: i64, text: Option<&str>) -> Result<(), Error> {
    conn.execute(&format!("UPDATE {table} SET {column} = ?2 WHERE rowid = ?1"), params![rowid, text])?;
    Ok(())
}

/// The writes of a retirement that need no judgement (the caller rewrites free text and
/// JSON that mention the person, with `mentions` and `set_text`): credentials, profile,
/// pre-enrollments, pending messages and course roles go; the account row takes the
/// retired name; enrollments, history, progress and orders stay and point at it.
pub fn retire_rows(conn: &Connection, r: &Retirement) -> Result<(), Error> {
    let id = r.user_id;
    for sql in [
        "DELETE FROM sessions WHERE user_id = ?1",
        "DELETE FROM access_tokens WHERE user_id = ?1",
        "DELETE FROM refresh_tokens WHERE user_id = ?1",
        "DELETE FROM user_custom_fields WHERE user_id = ?1",
        "DELETE FROM course_roles WHERE user_id = ?1",
        // The identity provider's id for the person; SCIM no longer knows the account.
        "UPDATE scim_users SET external_id = NULL, deleted = 1 WHERE user_id = ?1",
    ] {
        conn.execute(sql, [id])?;
    }
    // Stored answers to idempotent requests: those the person made, and any that name them.
    conn.execute(
        "DELETE FROM idempotency_keys WHERE caller LIKE ?1 OR instr(body, ?2) > 0 OR instr(body, ?3) > 0",
        params![format!("user:{id}:%"), r.old_email, r.old_username],
    )?;
    // A retired person waits for no seat: a promotion would enroll a retired account.
    let waiting: Vec<i64> = conn
        .prepare_cached("SELECT course_id FROM waitlist WHERE user_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for course_id in waiting {
        super::enrollments::waitlist_remove(conn, course_id, id)?;
    }
    for table in ["enrollment_allowed", "pending_pre_enrollments", "learning_path_enrollment_allowed"] {
        conn.execute(&format!("DELETE FROM {table} WHERE email = ?1 COLLATE NOCASE"), [r.old_email])?;
    }
    // Emails not sent yet never will be; sent ones keep their type and dates only. Jobs
    // (a checkout's course access) still run: their payloads are rewritten by the caller.
    conn.execute(
        "DELETE FROM outbox WHERE status != 'sent' AND channel = 'email' AND recipient = ?1 COLLATE NOCASE",
        [r.old_email],
    )?;
    conn.execute(
        "UPDATE outbox SET recipient = ?3, payload = CASE WHEN channel = 'email' THEN '{}' ELSE payload END, \
         last_error = NULL WHERE channel != 'webhook' AND (recipient = ?1 COLLATE NOCASE OR recipient = ?2)",
        params![r.old_email, r.old_username, r.new_email],
    )?;
    conn.execute(
        "UPDATE enrollment_history SET email = ?3 WHERE user_id = ?1 OR (user_id IS NULL AND email = ?2 COLLATE NOCASE)",
        params![id, r.old_email, r.new_email],
    )?;
    conn.execute("UPDATE enrollment_history SET actor = ?2 WHERE actor = ?1", params![r.old_username, r.new_username])?;
    conn.execute("UPDATE progress_history SET actor = ?2 WHERE actor = ?1", params![r.old_username, r.new_username])?;
    conn.execute("UPDATE tasks SET actor = ?2 WHERE actor = ?1", params![r.old_username, r.new_username])?;
    conn.execute(
        "UPDATE task_items SET identifier = CASE WHEN identifier = ?1 THEN ?3 ELSE ?4 END \
         WHERE identifier = ?1 OR identifier = ?2 COLLATE NOCASE",
        params![r.old_username, r.old_email, r.new_username, r.new_email],
    )?;
    conn.execute("UPDATE retirement_tasks SET actor = ?2 WHERE actor = ?1", params![r.old_username, r.new_username])?;
    conn.execute(
        "UPDATE retirement_items SET username = ?2 WHERE username = ?1",
        params![r.old_username, r.new_username],
    )?;
    // A certificate's address names its holder.
    conn.execute(
        "UPDATE enrollment_progress SET certificate_url = NULL WHERE enrollment_id IN (SELECT id FROM enrollments WHERE user_id = ?1)",
        [id],
    )?;
    conn.execute(
        "UPDATE progress_history SET certificate_url = NULL WHERE enrollment_id IN (SELECT id FROM enrollments WHERE user_id = ?1)",
        [id],
    )?;
    conn.execute(
        "UPDATE users SET username = ?2, email = ?3, username_key = ?4, password_hash = NULL, name = '', first_name = '', \
         last_name = '', country = NULL, city = NULL, gender = NULL, level_of_education = NULL, year_of_birth = NULL, \
         mailing_address = NULL, language = NULL, goals = NULL, bio = NULL, phone = NULL, date_of_birth = NULL, \
         is_active = 0, is_staff = 0, is_superuser = 0, last_login = NULL, credentials_valid_after = ?5 WHERE id = ?1",
        params![id, r.new_username, r.new_email, r.new_username_key, r.now],
    )?;
    Ok(())
}

/// The details of `user_id`'s checkout orders: (rowid, JSON).
pub fn order_details(conn: &Connection, user_id: i64) -> Result<Vec<(i64, String)>, Error> {
    let mut stmt = conn.prepare("SELECT id, details FROM checkout_orders WHERE user_id = ?1")?;
    let found = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(found)
}

/// `rollcall check`: for each table that holds personal data, the retired accounts that
/// still have some there (one line per table and account).
pub fn retired_with_personal_data(conn: &Connection) -> Result<Vec<String>, Error> {
    let retired = format!("u.username LIKE '{}%' ESCAPE '\\'", RETIRED_PREFIX.replace('_', "\\_"));
    let checks = [
        (
            "users",
            format!(
                "SELECT u.username FROM users u WHERE {retired} AND (u.email NOT LIKE '%{RETIRED_DOMAIN}' \
                 OR u.password_hash IS NOT NULL OR u.name != '' OR u.first_name != '' OR u.last_name != '' \
                 OR COALESCE(u.country, u.city, u.gender, u.level_of_education, u.year_of_birth, u.mailing_address, \
                 u.language, u.goals, u.bio, u.phone, u.date_of_birth) IS NOT NULL)"
            ),
        ),
        (
            "user_custom_fields",
            format!(
                "SELECT DISTINCT u.username FROM user_custom_fields f JOIN users u ON u.id = f.user_id WHERE {retired}"
            ),
        ),
        (
            "scim_users",
            format!(
                "SELECT u.username FROM scim_users s JOIN users u ON u.id = s.user_id WHERE {retired} AND s.external_id IS NOT NULL"
            ),
        ),
        (
            "sessions",
            format!("SELECT DISTINCT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE {retired}"),
        ),
        (
            "access_tokens",
            format!("SELECT DISTINCT u.username FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE {retired}"),
        ),
        (
            "refresh_tokens",
            format!(
                "SELECT DISTINCT u.username FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE {retired}"
            ),
        ),
        (
            "outbox",
            format!(
                "SELECT DISTINCT u.username FROM outbox o JOIN users u ON o.recipient = u.email WHERE {retired} \
                 AND o.channel = 'email' AND (o.status != 'sent' OR o.payload != '{{}}')"
            ),
        ),
        (
            "enrollment_progress",
            format!(
                "SELECT DISTINCT u.username FROM enrollment_progress p JOIN enrollments e ON e.id = p.enrollment_id \
                 JOIN users u ON u.id = e.user_id WHERE {retired} AND p.certificate_url IS NOT NULL"
            ),
        ),
    ];
    let mut problems = Vec::new();
    for (table, sql) in checks {
        let mut stmt = conn.prepare(&sql)?;
        for name in stmt.query_map([], |r| r.get::<_, String>(0))? {
            problems.push(format!("retired account {} keeps personal data in {table}", name?));
        }
    }
    Ok(problems)
}

// Retirement tasks.

pub struct RetirementTask {
    pub id: i64,
    pub public_id: String,
    /// Who asked: a username, "api-key", or "self-service" (the learner's own request).
    pub actor: String,
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub created: i64,
    pub started: Option<i64>,
    pub finished: Option<i64>,
}

const TASK_COLUMNS: &str = "id, public_id, actor, status, total, done, succeeded, failed, created, started, finished";

fn task_from_row(r: &rusqlite::Row) -> rusqlite::Result<RetirementTask> {
    Ok(RetirementTask {
        id: r.get(0)?,
        public_id: r.get(1)?,
        actor: r.get(2)?,
        status: r.get(3)?,
        total: r.get(4)?,
        done: r.get(5)?,
        succeeded: r.get(6)?,
        failed: r.get(7)?,
        created: r.get(8)?,
        started: r.get(9)?,
        finished: r.get(10)?,
    })
}

pub fn insert_task(
    conn: &Connection,
    public_id: &str,
    actor: &str,
    usernames: &[String],
    now: i64,
) -> Result<i64, Error> {
    conn.prepare_cached("INSERT INTO retirement_tasks (public_id, actor, total, created) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![public_id, actor, usernames.len() as i64, now])?;
    let id = conn.last_insert_rowid();
    let mut stmt =
        conn.prepare_cached("INSERT INTO retirement_items (task_id, position, username) VALUES (?1, ?2, ?3)")?;
    for (position, username) in usernames.iter().enumerate() {
        stmt.execute(params![id, position as i64, username])?;
    }
    Ok(id)
}

pub fn task_by_public_id(conn: &Connection, public_id: &str) -> Result<Option<RetirementTask>, Error> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM retirement_tasks WHERE public_id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([public_id], task_from_row).optional()?)
}

pub fn any_pending_task(conn: &Connection) -> Result<bool, Error> {
    Ok(conn.query_row("SELECT EXISTS(SELECT 1 FROM retirement_tasks WHERE status = 'pending')", [], |r| r.get(0))?)
}

pub fn claim_next_task(conn: &Connection, now: i64) -> Result<Option<RetirementTask>, Error> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM retirement_tasks WHERE status = 'pending' ORDER BY id LIMIT 1");
    let Some(task) = conn.prepare_cached(&sql)?.query_row([], task_from_row).optional()? else { return Ok(None) };
    conn.execute(
        "UPDATE retirement_tasks SET status = 'running', started = COALESCE(started, ?2) WHERE id = ?1",
        params![task.id, now],
    )?;
    Ok(Some(task))
}

pub fn requeue_running_tasks(conn: &Connection) -> Result<usize, Error> {
    Ok(conn.execute("UPDATE retirement_tasks SET status = 'pending' WHERE status = 'running'", [])?)
}

pub fn pending_items(conn: &Connection, task_id: i64, limit: i64) -> Result<Vec<(i64, String)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, username FROM retirement_items WHERE task_id = ?1 AND status = 'pending' ORDER BY position LIMIT ?2",
    )?;
    let found = stmt.query_map(params![task_id, limit], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(found)
}

/// Records an item's outcome; `username` replaces the one asked for (the retired name on
/// success, so the task keeps no trace of the old one).
pub fn finish_item(
    conn: &Connection,
    task_id: i64,
    position: i64,
    username: &str,
    succeeded: bool,
    result: &str,
) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE retirement_items SET username = ?3, status = ?4, result = ?5 WHERE task_id = ?1 AND position = ?2",
    )?
    .execute(params![task_id, position, username, if succeeded { "succeeded" } else { "failed" }, result])?;
    conn.prepare_cached(
        "UPDATE retirement_tasks SET done = done + 1, succeeded = succeeded + ?2, failed = failed + ?3 WHERE id = ?1",
    )?
    .execute(params![task_id, succeeded as i64, (!succeeded) as i64])?;
    Ok(())
}

pub fn finish_task(conn: &Connection, task_id: i64, status: &str, now: i64) -> Result<(), Error> {
    conn.execute(
        "UPDATE retirement_tasks SET status = ?2, finished = ?3 WHERE id = ?1",
        params![task_id, status, now],
    )?;
    Ok(())
}

/// One row of a retirement task: (position, username, status, result JSON).
pub type ItemRow = (i64, String, String, Option<String>);

/// Items from position `from` on.
pub fn items(conn: &Connection, task_id: i64, from: i64, limit: i64) -> Result<Vec<ItemRow>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT position, username, status, result FROM retirement_items WHERE task_id = ?1 AND position >= ?2 \
         ORDER BY position LIMIT ?3",
    )?;
    let found = stmt
        .query_map(params![task_id, from, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(found)
}
