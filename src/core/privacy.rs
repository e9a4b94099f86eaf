//! Privacy requests (README "Privacy requests"): a person's data as one JSON document, and
//! retirement, which removes the person and keeps the school's numbers: the account takes
//! Open edX's retired forms (`retired__user_<hash>`, `…@retired.invalid`), everything that
//! names the person is deleted or rewritten in one transaction, and enrollments, history,
//! progress and orders stay, pointing at the retired identity.

use crate::core::accounts::{self, Actor, ChangeKind};
use crate::core::emails::{Site, Templates};
use crate::core::{Env, Error};
use crate::domain::{Timestamp, Username};
use crate::store::privacy::RetirementTask as TaskRow;
use crate::store::privacy::{self as store_privacy, Retirement, RETIRED_DOMAIN, RETIRED_PREFIX};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Read;

/// The export's sections, in document order (the `UserExport` schema in the OpenAPI
/// document describes each).
pub const SECTIONS: [&str; 12] = [
    "account",
    "custom_fields",
    "enrollments",
    "enrollment_attributes",
    "enrollment_history",
    "progress_history",
    "pre_enrollments",
    "learning_path_enrollments",
    "code_redemptions",
    "checkout_orders",
    "emails",
    "webhook_events",
];

/// Renders an email's subject from its type and payload (the outbox's templates).
pub type Subject = Box<dyn Fn(&str, &Value) -> Option<String> + Send>;

/// Subjects as the outbox renders them (the school's templates included).
pub fn subjects(school_name: String, base_url: String, lms_base_url: String, templates: Templates) -> Subject {
    Box::new(move |message_type, payload| {
        let lms = lms_base_url.trim_end_matches('/');
        let site =
            Site { school_name: &school_name, base_url: &base_url, lms_base_url: (!lms.is_empty()).then_some(lms) };
        crate::core::emails::render_with(message_type, payload, &site, &templates).map(|r| r.subject)
    })
}

/// One section of `user`'s export.
pub fn export_section(conn: &Conn, user: &UserRecord, section: &str, subject: &Subject) -> Result<Value, Error> {
    let mut rows = store_privacy::export_section(conn, section, user.id, &user.email, &user.username)?;
    for row in &mut rows {
        for field in ["before", "after", "details"] {
            if let Some(Value::String(text)) = row.get(field) {
                let parsed = serde_json::from_str(text).unwrap_or(Value::Null);
                row.insert(field.into(), parsed);
            }
        }
        // The subject only: a payload may hold a credential link (set-password).
        if let Some(Value::String(payload)) = row.remove("payload") {
            let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
            let kind = row.get("message_type").and_then(Value::as_str).unwrap_or("").to_owned();
            row.insert("subject".into(), json!(subject(&kind, &payload)));
        }
    }
    if section == "account" {
        return Ok(rows.pop().map(Value::Object).unwrap_or(Value::Null));
    }
    Ok(Value::Array(rows.into_iter().map(Value::Object).collect()))
}

/// The export as a byte stream: one section read (and written) at a time, so a learner
/// with a long history is never held whole.
pub struct Export {
    db: Db,
    user: UserRecord,
    subject: Subject,
    next: usize,
    buffer: Vec<u8>,
    at: usize,
}

impl Export {
    pub fn new(db: Db, user: UserRecord, subject: Subject, now: Timestamp) -> Export {
        let head = format!(
            "{{\"format\":\"rollcall-user-export/1\",\"generated_at\":{},\"username\":{}",
            json!(now.to_iso()),
            json!(user.username)
        );
        Export { db, user, subject, next: 0, buffer: head.into_bytes(), at: 0 }
    }

    /// Whose data this is (the download's file name).
    pub fn username(&self) -> &str {
        &self.user.username
    }
}

impl Read for Export {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buffer.len() {
            if self.next > SECTIONS.len() {
                return Ok(0);
            }
            self.buffer.clear();
            self.at = 0;
            if self.next == SECTIONS.len() {
                self.buffer.extend_from_slice(b"}\n");
            } else {
                let section = SECTIONS[self.next];
                let value =
                    self.db.read(|conn| export_section(conn, &self.user, section, &self.subject)).map_err(|e| {
                        // The status line is sent already: the client sees the connection end.
                        log::error!("export of section {section}: {}", e.developer_message);
                        std::io::Error::other(e.developer_message)
                    })?;
                self.buffer.extend_from_slice(format!(",{}:", json!(section)).as_bytes());
                serde_json::to_writer(&mut self.buffer, &value)?;
            }
            self.next += 1;
        }
        let n = out.len().min(self.buffer.len() - self.at);
        out[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The account a privacy request names: exact username, as Open edX's retirement API.
pub fn account(conn: &Conn, username: &str) -> Result<UserRecord, Error> {
    store::users::by_username(conn, username)?.ok_or_else(|| Error::not_found(format!("No account {username}.")))
}

/// The export of the account the viewer names, to be read as it is sent: only the person
/// themself or staff may have it, and an unknown account is a 404 before any byte.
pub fn export(
    db: &Db,
    viewer: &accounts::Viewer,
    username: &str,
    subject: Subject,
    now: Timestamp,
) -> Result<Export, Error> {
    if !viewer.sees_whole(username) {
        return Err(Error::forbidden("Only the person themself or staff may export an account's data."));
    }
    let user = db.read(|conn| account(conn, username))?;
    Ok(Export::new(db.clone(), user, subject, now))
}

pub fn is_retired(user: &UserRecord) -> bool {
    user.username.starts_with(RETIRED_PREFIX) && user.email.ends_with(RETIRED_DOMAIN)
}

/// What a retirement did (the old names are for the caller's in-memory clean-up only:
/// rate-limit keys).
pub struct Retired {
    pub username: String,
    pub old_username: String,
    pub old_email: String,
}

/// After a committed retirement (one, or a task's batch): the in-memory traces go (the
/// rate-limit keys named by the old username and email), and the WAL is emptied unless
/// Litestream owns checkpoints, so no old frame keeps what was erased.
pub fn forget_traces(db: &Db, limits: &super::rate_limit::Limits, retired: &[Retired]) {
    if retired.is_empty() {
        return;
    }
    for person in retired {
        limits.forget_login(&person.old_username);
        limits.forget_login(&person.old_email);
    }
    if let Err(e) = db.checkpoint_truncate() {
        log::warn!("checkpoint after a retirement: {e}");
    }
}

/// Whether `text` holds `needle` (any case) as a whole word: `ann` in "ann's move" but not
/// in "planning", so that free text about others is not blanked for a short username.
fn mentions(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let (text, needle) = (text.to_lowercase(), needle.to_lowercase());
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '@' | '+'));
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !word(before) && !word(after)
    })
}

struct Person<'a> {
    old_username: &'a str,
    old_email: &'a str,
    names: Vec<&'a str>,
    new_username: &'a str,
    new_email: &'a str,
}

impl Person<'_> {
    fn needles(&self) -> Vec<&str> {
        let mut all = vec![self.old_username, self.old_email];
        all.extend(self.names.iter().copied());
        all
    }

    fn mentioned_in(&self, text: &str) -> bool {
        self.needles().iter().any(|n| mentions(text, n))
    }

    /// Rewrites JSON strings that name the person: their username or email becomes the
    /// retired one, any other text naming them becomes "". Returns whether it changed.
    fn scrub(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => {
                let replacement = if s.eq_ignore_ascii_case(self.old_username) {
                    self.new_username.to_owned()
                } else if s.eq_ignore_ascii_case(self.old_email) {
                    self.new_email.to_owned()
                } else if self.mentioned_in(s) {
                    String::new()
                } else {
                    return false;
                };
                *s = replacement;
                true
            }
            Value::Array(items) => items.iter_mut().fold(false, |changed, v| self.scrub(v) | changed),
            Value::Object(map) => map.values_mut().fold(false, |changed, v| self.scrub(v) | changed),
            _ => false,
        }
    }

    /// Rewrites every row of `table.column` (JSON, or free text when not JSON) that names
    /// the person.
    fn scrub_column(&self, conn: &Conn, table: &str, column: &str) -> Result<(), Error> {
        for (rowid, text) in store_privacy::mentions(conn, table, column, &self.needles())? {
            let json = serde_json::from_str::<Value>(&text).ok().filter(|v| v.is_object() || v.is_array());
            if let Some(mut value) = json {
                if self.scrub(&mut value) {
                    store_privacy::set_text(conn, table, column, rowid, Some(&value.to_string()))?;
                }
            } else if self.mentioned_in(&text) {
                store_privacy::set_text(conn, table, column, rowid, None)?;
            }
        }
        Ok(())
    }
}

/// Retires `username` now, in one write of its own (`retire`).
pub fn retire_now(db: &Db, actor: &Actor, username: &str, now: Timestamp) -> Result<Retired, Error> {
    db.write(|conn| retire(conn, actor, username, now))
}

/// Retires `username` in the caller's transaction. Staff may retire learners and staff,
/// a superuser anyone (`accounts::check_may_change`); an account already retired is a 409.
pub fn retire(conn: &Conn, actor: &Actor, username: &str, now: Timestamp) -> Result<Retired, Error> {
    let user = account(conn, username)?;
    if is_retired(&user) {
        return Err(Error::conflict(format!("{username} is already retired.")).with_code("already_retired"));
    }
    accounts::check_may_change(actor, &user, ChangeKind { activity: true, ..ChangeKind::default() })?;
    let new_username = loop {
        let hash = crate::domain::hex(&crate::auth::secrets::random_bytes(20));
        let candidate = format!("{RETIRED_PREFIX}{hash}");
        if store::users::by_username(conn, &candidate)?.is_none() {
            break candidate;
        }
    };
    let new_email = format!("{new_username}{RETIRED_DOMAIN}");
    let full_name = format!("{} {}", user.first_name, user.last_name);
    // A name is matched in free text only when it is long enough not to be a common word.
    let names: Vec<&str> = [user.name.as_str(), full_name.trim(), user.first_name.as_str(), user.last_name.as_str()]
        .into_iter()
        .filter(|n| n.chars().count() >= 4)
        .collect();
    let person = Person {
        old_username: &user.username,
        old_email: &user.email,
        names,
        new_username: &new_username,
        new_email: &new_email,
    };
    store_privacy::retire_rows(
        conn,
        &Retirement {
            user_id: user.id,
            old_username: &user.username,
            old_email: &user.email,
            new_username: &new_username,
            new_email: &new_email,
            new_username_key: &Username::similarity_key(&new_username),
            now: now.unix(),
        },
    )?;
    // Copies of the person in free text and JSON: history reasons, webhook and job
    // payloads, task rows and their options.
    for (table, column) in [
        ("enrollment_history", "reason"),
        ("outbox", "payload"),
        ("outbox", "last_error"),
        ("tasks", "options"),
        ("task_items", "options"),
        ("task_items", "result"),
        ("retirement_items", "result"),
    ] {
        person.scrub_column(conn, table, column)?;
    }
    // An order keeps what was bought and paid; the student's notes, custom fields and the
    // request's metadata (an IP address) go.
    for (id, details) in store_privacy::order_details(conn, user.id)? {
        let details: Value = serde_json::from_str(&details).unwrap_or(Value::Null);
        let kept = json!({"modules": details.get("modules"), "grant_certificate": details.get("grant_certificate")});
        store_privacy::set_text(conn, "checkout_orders", "details", id, Some(&kept.to_string()))?;
    }
    crate::core::webhooks::emit(conn, "user.retired", json!({"username": new_username}), now)?;
    log::info!("an account was retired as {new_username}");
    Ok(Retired { username: new_username, old_username: user.username, old_email: user.email })
}

/// Retires `username` in a transaction of its own (staff on the console and the account
/// API; the rules are `retire`'s).
pub fn retire_account(db: &Db, actor: &Actor, username: &str, now: Timestamp) -> Result<Retired, Error> {
    db.write(|conn| retire(conn, actor, username, now))
}

/// The learner's own way out (`deactivate_logout`): the account is deactivated, every
/// session and token ends, and its retirement is queued for the background workers.
pub fn deactivate_and_queue(conn: &Conn, user: &UserRecord, now: Timestamp) -> Result<TaskRow, Error> {
    if is_retired(user) {
        return Err(Error::conflict("This account is already retired.").with_code("already_retired"));
    }
    store::users::deactivate(conn, user.id)?;
    accounts::end_credentials(conn, user, now)?;
    create_task(conn, SELF_SERVICE, std::slice::from_ref(&user.username), now)
}

/// `deactivate_and_queue` for the signed-in learner, who proves it is them with their
/// password (`tokens::current_password_matches`: an Argon2 verification, counted against
/// the failed-login limit). It runs between a read of the account and the write, so the
/// single writer never waits for it; the write reads the account again and deactivates it
/// as it then is.
pub fn deactivate_own_account(
    env: &Env,
    user_id: i64,
    password: &str,
    now: Timestamp,
) -> Result<RetirementTask, Error> {
    let gone = || Error::forbidden("This account no longer exists.");
    let user = env.db.read(|conn| store::users::by_id(conn, user_id))?.ok_or_else(gone)?;
    if !super::tokens::current_password_matches(env, &user, password, now.unix())? {
        return Err(Error::forbidden("Could not verify user password.").with_code("invalid_password"));
    }
    env.write_for_workers(|conn| {
        let user = store::users::by_id(conn, user_id)?.ok_or_else(gone)?;
        deactivate_and_queue(conn, &user, now).map(RetirementTask::from)
    })
}

/// A retirement task as the account API reports it: how far it got, not who asked.
#[derive(Debug, Clone)]
pub struct RetirementTask {
    pub public_id: String,
    pub status: String,
    pub created: Timestamp,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    /// Accounts named; of those, handled so far, and of those, retired or not.
    pub total: i64,
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
}

impl From<TaskRow> for RetirementTask {
    fn from(t: TaskRow) -> RetirementTask {
        RetirementTask {
            public_id: t.public_id,
            status: t.status,
            created: Timestamp::from_unix(t.created),
            started: t.started.map(Timestamp::from_unix),
            finished: t.finished.map(Timestamp::from_unix),
            total: t.total,
            done: t.done,
            succeeded: t.succeeded,
            failed: t.failed,
        }
    }
}

/// The actor of a retirement the learner asked for themself.
const SELF_SERVICE: &str = "self-service";

/// Most usernames one bulk request may name.
pub const MAX_BULK: usize = 10_000;

pub fn create_task(conn: &Conn, actor: &str, usernames: &[String], now: Timestamp) -> Result<TaskRow, Error> {
    let public_id = crate::core::bulk::uuid_v4();
    store_privacy::insert_task(conn, &public_id, actor, usernames, now.unix())?;
    store_privacy::task_by_public_id(conn, &public_id)?.ok_or_else(|| Error::internal("task vanished after insert"))
}

/// Queues the retirement of many accounts as one task, in one write.
pub fn queue_retirements(
    env: &Env,
    actor: &str,
    usernames: &[String],
    now: Timestamp,
) -> Result<RetirementTask, Error> {
    env.write_for_workers(|conn| create_task(conn, actor, usernames, now)).map(RetirementTask::from)
}

pub fn task(conn: &Conn, public_id: &str) -> Result<TaskRow, Error> {
    store_privacy::task_by_public_id(conn, public_id)?
        .ok_or_else(|| Error::not_found(format!("No retirement task {public_id}.")))
}

/// A retirement task and its first `MAX_BULK` items' results, read together.
pub fn task_with_items(db: &Db, public_id: &str) -> Result<(RetirementTask, Vec<ItemView>), Error> {
    db.snapshot(|conn| {
        let task = task(conn, public_id)?;
        let items = task_items(conn, &task, 0, MAX_BULK as i64)?;
        Ok((task.into(), items))
    })
}

#[derive(Debug, Serialize)]
pub struct ItemView {
    pub position: i64,
    /// The retired username once retired; the name asked for otherwise.
    pub username: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

pub fn task_items(conn: &Conn, task: &TaskRow, from: i64, limit: i64) -> Result<Vec<ItemView>, Error> {
    Ok(store_privacy::items(conn, task.id, from, limit)?
        .into_iter()
        .map(|(position, username, status, result)| {
            let result: Value = result.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or(Value::Null);
            let text = |k: &str| result.get(k).and_then(Value::as_str).map(str::to_owned);
            ItemView { position, username, status, error: text("error"), error_code: text("error_code") }
        })
        .collect())
}

pub fn any_pending_task(conn: &Conn) -> Result<bool, Error> {
    store_privacy::any_pending_task(conn)
}

pub fn claim_next_task(conn: &Conn, now: Timestamp) -> Result<Option<TaskRow>, Error> {
    store_privacy::claim_next_task(conn, now.unix())
}

pub fn requeue_interrupted(conn: &Conn) -> Result<usize, Error> {
    store_privacy::requeue_running_tasks(conn)
}

/// Who a task retires as: a learner's own request may retire their account whatever its
/// flags; otherwise the rights of the account that asked (a superuser's task may retire
/// superusers).
fn task_actor(conn: &Conn, actor: &str) -> Result<Actor, Error> {
    if actor == SELF_SERVICE {
        return Ok(Actor::SYSTEM);
    }
    let superuser = store::users::by_username(conn, actor)?.is_some_and(|u| u.is_superuser);
    Ok(Actor { user_id: None, is_staff: true, is_superuser: superuser })
}

/// Retires up to `batch` pending items of `task` in this transaction (each in its own
/// savepoint, its result written with it, so a crash repeats nothing and loses nothing).
/// Returns the accounts retired, and whether the task has more.
pub fn run_batch(conn: &Conn, task: &TaskRow, batch: i64, now: Timestamp) -> Result<(Vec<Retired>, bool), Error> {
    let items = store_privacy::pending_items(conn, task.id, batch)?;
    if items.is_empty() {
        store_privacy::finish_task(conn, task.id, "succeeded", now.unix())?;
        return Ok((Vec::new(), false));
    }
    let actor = task_actor(conn, &task.actor)?;
    let mut retired = Vec::new();
    let started = std::time::Instant::now();
    for (position, username) in items {
        if started.elapsed() > std::time::Duration::from_millis(200) {
            break;
        }
        match store::db::savepoint(conn, || retire(conn, &actor, &username, now))? {
            Ok(done) => {
                store_privacy::finish_item(conn, task.id, position, &done.username, true, "{}")?;
                retired.push(done);
            }
            Err(e) if e.kind == crate::core::ErrorKind::Internal => return Err(e),
            Err(e) => {
                let result = json!({"error": e.developer_message, "error_code": e.code()}).to_string();
                store_privacy::finish_item(conn, task.id, position, &username, false, &result)?;
            }
        }
    }
    Ok((retired, true))
}

/// Marks a task failed after an internal error (retired accounts stay retired).
pub fn fail_task(conn: &Conn, task: &TaskRow, now: Timestamp) -> Result<(), Error> {
    store_privacy::finish_task(conn, task.id, "failed", now.unix())
}

/// `rollcall check`: retired accounts that still hold personal data somewhere.
pub fn retired_with_personal_data(conn: &Conn) -> Result<Vec<String>, Error> {
    store_privacy::retired_with_personal_data(conn)
}
