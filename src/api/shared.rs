//! What several surfaces parse and render alike: the course key of a staff roster call
//! and its caller, roster and progress CSV bodies (and the streamed roster download), the
//! enrollment PATCH body, progress and roster-change results, a started task's 202, a
//! catalog course, a learner's export. (The course definition is the core's.)
//! Surfaces import this, never each other.

use super::http::{self, json, Ctx, Fields};
use crate::core::bulk::{self, Action, Item, ItemOptions, RosterOptions};
use crate::core::catalog::Course;
use crate::core::enrollment::{Outcome, State};
use crate::core::lifecycle::{AccessDates, LifecyclePatch};
use crate::core::privacy;
use crate::core::progress::Progress;
use crate::core::roster::{self, HistoryFilter, RosterChunks, RosterRow};
use crate::core::{Error, ErrorKind};
use crate::domain::Principal;
use crate::domain::{CourseKey, Timestamp, Username};
use rouille::{Response, ResponseBody};
use serde_json::{json, Value};
use std::io::Read;

/// The course key in path parameter `param` (a bad one is a field error naming it) and the
/// caller of a staff roster call, counted against the roster rate limit. The core use case
/// then answers 404 for an unknown course before 403 for a caller who may not manage it.
pub fn course_and_manager(ctx: &mut Ctx, param: &str) -> Result<(CourseKey, Principal), Error> {
    let raw = ctx.param(param).to_owned();
    let key = CourseKey::parse(&raw).map_err(|_| {
        Error::field(param, format!("'{raw}' is not a valid course key."))
            .with_user_message("The course identifier is not valid")
    })?;
    let caller = ctx.caller()?.clone();
    ctx.throttle(&ctx.env.limits.enrollment_v2, &caller.key())?;
    Ok((key, caller))
}

/// A parse's outcome without its value, for a core use case that answers the parse's error
/// only after the course's own.
pub fn parse_outcome<T>(parsed: &Result<T, Error>) -> Result<(), Error> {
    parsed.as_ref().map(|_| ()).map_err(Error::clone)
}

pub fn progress_json(p: &Progress) -> Value {
    json!({
        "completion": p.completion, "grade": p.grade, "passed": p.passed, "completed_at": p.completed_at,
        "certificate_url": p.certificate_url, "updated_at": p.updated,
    })
}

/// Version A's EnrollmentState: `enrolled`, `allowed`, plus `mode` and `auto_enroll`.
pub fn state_json(state: &State) -> Value {
    let mut body = json!({"enrolled": state.enrollment, "allowed": state.allowed, "mode": state.mode, "auto_enroll": state.auto_enroll});
    // A learner on a full course's waitlist: where they stand (1 is next).
    if let Some(position) = state.waitlist_position {
        body["waitlisted"] = json!(true);
        body["waitlist_position"] = json!(position);
    }
    body
}

/// Open edX's `EmailEnrollmentState.to_dict()` (the instructor dashboard's and Appsembler's).
pub fn edx_state_json(state: &State) -> Value {
    json!({"user": state.user, "enrollment": state.enrollment, "allowed": state.allowed, "auto_enroll": state.auto_enroll})
}

/// One result row: before/after, or the identifier's own error (never the whole call's).
pub fn result_json(identifier: &str, result: &Result<Outcome, Error>) -> Value {
    match result {
        Ok(outcome) => {
            json!({"identifier": identifier, "before": state_json(&outcome.before), "after": state_json(&outcome.after)})
        }
        Err(e) => {
            json!({"identifier": identifier, "before": null, "after": null, "error": e.developer_message, "error_code": e.code()})
        }
    }
}

/// A started task's 202, pointing at its status (the v2 API's, and the admin CSV uploads').
pub fn task_accepted(ctx: &Ctx, course_key: &str, action: Action, task: &bulk::Task) -> Response {
    // From the public base URL: behind a proxy at a sub-path the prefix is kept.
    let status_url = format!("{}/api/enrollment/v2/courses/{}/tasks/{}", ctx.env.base_url, course_key, task.public_id);
    let body =
        json!({"task_id": task.public_id, "status_url": status_url, "action": action.as_str(), "count": task.total});
    json(202, &body).with_additional_header("Location", status_url)
}

/// One enrollment's lifecycle as the admin and v2 PATCH answer it.
pub fn enrollment_json(e: &roster::Enrollment, now: Timestamp) -> Value {
    json!({"username": e.username, "course_key": e.course_key, "mode": e.mode,
        "is_active": crate::core::enrollment::has_access(&e.lifecycle, now), "status": e.lifecycle.status,
        "access_start": e.lifecycle.access_start, "access_end": e.lifecycle.access_end})
}

/// The PATCH body: any of `status`, `access_start`, `access_end` (null clears a date).
pub fn parse_lifecycle_patch(body: &Value) -> Result<LifecyclePatch, Error> {
    let mut f = Fields::of(body)?;
    f.reject_unknown(&["status", "access_start", "access_end"]);
    let status = f.required_value("status", http::as_string);
    let dates =
        AccessDates { start: f.get("access_start", http::as_timestamp), end: f.get("access_end", http::as_timestamp) };
    f.finish()?;
    if status.is_none() && dates.is_empty() {
        return Err(Error::validation("Give status, access_start or access_end."));
    }
    Ok(LifecyclePatch { status, dates })
}

/// The learners of an uploaded CSV: (identifier, that row's mode). The header row names an
/// `identifier`, `username` or `email` column (any case; the first non-empty of them on a
/// row is used) and may name a `mode`. Every problem is a 400 naming its line.
pub fn parse_learner_csv(body: &[u8]) -> Result<Vec<Item>, Error> {
    let bad = |message: String| Error::field("file", message);
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(body);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(bad(format!("line 1 is not CSV: {}", csv_error(&e)))),
    };
    let column = |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
    let identifier_columns: Vec<usize> = ["identifier", "username", "email"].iter().filter_map(|n| column(n)).collect();
    if identifier_columns.is_empty() {
        return Err(bad(format!(
            "line 1, the header row, names no email, username or identifier column (it has: {}).",
            headers.iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let mode_column = column("mode");
    let (start_column, end_column) = (column("access_start"), column("access_end"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(format!("line {} is not CSV: {}", line_of(&e), csv_error(&e))))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let identifier = identifier_columns.iter().filter_map(|&i| record.get(i)).find(|v| !v.is_empty());
        let Some(identifier) = identifier else {
            return Err(bad(format!("line {line} has no email, username or identifier.")));
        };
        if identifier.contains(['\n', '\r']) {
            // The csv crate reads an unclosed quote to the end of the file as one field.
            return Err(bad(format!("line {line} is not CSV: a quoted field runs across lines (a quote left open?).")));
        }
        if identifier.len() > 255 {
            return Err(bad(format!("line {line}: an identifier is at most 255 characters.")));
        }
        let mode = mode_column.and_then(|i| record.get(i)).filter(|m| !m.is_empty()).map(str::to_owned);
        let date = |column: Option<usize>, name: &str| -> Result<Option<i64>, Error> {
            match column.and_then(|i| record.get(i)).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => crate::domain::Timestamp::parse(v)
                    .map(|t| Some(t.unix()))
                    .map_err(|_| bad(format!("line {line}: {name} '{v}' is not an ISO 8601 date and time."))),
            }
        };
        let access_start = date(start_column, "access_start")?;
        let access_end = date(end_column, "access_end")?;
        if let (Some(s), Some(e)) = (access_start, access_end) {
            if e <= s {
                return Err(bad(format!("line {line}: access_end must be later than access_start.")));
            }
        }
        let own = ItemOptions { mode, progress: None, access_start, access_end };
        rows.push(Item { identifier: identifier.to_owned(), own });
    }
    if rows.is_empty() {
        return Err(bad("the file has a header row but no learners.".into()));
    }
    Ok(rows)
}

fn line_of(e: &csv::Error) -> u64 {
    e.position().map(|p| p.line()).unwrap_or(0)
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("it has {len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

/// `action`, `auto_enroll`, `email_students` and `reason`: from the query string of the API
/// call, or the console's form fields.
pub fn roster_options(get: impl Fn(&str) -> Option<String>) -> Result<(Action, RosterOptions), Error> {
    let flag = |name: &str| -> Result<bool, Error> {
        match get(name).as_deref().map(str::trim) {
            None | Some("") | Some("false") | Some("0") | Some("off") => Ok(false),
            Some("true") | Some("1") | Some("on") => Ok(true),
            Some(other) => Err(Error::field(name, format!("{name} must be true or false, not '{other}'."))),
        }
    };
    let action = match get("action").as_deref().map(str::trim) {
        None | Some("") | Some("enroll") => Action::Enroll,
        Some("unenroll") => Action::Unenroll,
        Some(other) => {
            return Err(Error::field("action", format!("action must be enroll or unenroll, not '{other}'.")))
        }
    };
    let reason = get("reason").map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let reason = reason
        .map(|r| crate::domain::Text::<1000>::parse(&r).map(|_| r))
        .transpose()
        .map_err(|e| Error::field("reason", format!("reason: {}", e.0)))?;
    let options = RosterOptions {
        mode: None,
        auto_enroll: flag("auto_enroll")?,
        email_students: flag("email_students")?,
        reason,
        ..RosterOptions::default()
    };
    Ok((action, options))
}

/// A CSV upload's body (text/csv, or text a spreadsheet saved as plain text), within the
/// server's size and time limits.
pub fn csv_body(ctx: &Ctx) -> Result<Vec<u8>, Error> {
    let media = super::body::media_type(ctx.req.header("Content-Type").unwrap_or(""));
    if !matches!(media.as_str(), "text/csv" | "application/csv" | "text/plain") {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            format!("Unsupported media type \"{media}\" in request; send text/csv."),
        ));
    }
    ctx.body_bytes()
}

pub(crate) fn course_json(c: &Course) -> Value {
    json!({
        "id": c.key,
        "course_id": c.key,
        "name": c.title,
        "org": c.key.org(),
        "number": c.key.course(),
        "start": c.start,
        "end": c.end,
        "enrollment_start": c.enrollment_start,
        "enrollment_end": c.enrollment_end,
        "pacing": if c.self_paced { "self" } else { "instructor" },
        "invitation_only": c.invitation_only,
        "hidden": false,
        "code": c.code,
        "level": c.level,
        "effort": c.duration_hours.map(|h| format!("{h}:00")),
        "duration_hours": c.duration_hours,
        "price": c.price.amount_string(),
        "currency": c.price.currency().as_str(),
        "modes": c.modes.iter().map(|m| json!({"slug": m.slug, "name": m.name})).collect::<Vec<_>>(),
    })
}

/// The streamed export download of the account `viewer` names (the console's button
/// answers the same).
pub(crate) fn export_response(
    app: &crate::core::Env,
    viewer: &crate::core::accounts::Viewer,
    username: &str,
    now: crate::domain::Timestamp,
) -> Result<Response, Error> {
    let subjects = privacy::subjects(
        app.config.server.school_name.clone(),
        app.base_url.clone(),
        app.config.email.lms_base_url.clone(),
        app.templates.clone(),
    );
    let export = privacy::export(&app.db, viewer, username, subjects, now)?;
    let name = export.username().replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
    let file = format!("{name}-export.json");
    Ok(Response {
        status_code: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Disposition".into(), format!("attachment; filename=\"{file}\"").into()),
            ("Cache-Control".into(), "no-store".into()),
        ],
        data: rouille::ResponseBody::from_reader(export),
        upgrade: None,
    })
}

pub(crate) fn status(row: &RosterRow) -> &'static str {
    match (row.username.is_some(), row.is_active) {
        (false, _) => "pre_enrolled",
        (true, true) => "active",
        (true, false) => "inactive",
    }
}

/// `username`, `email`, `since` (ISO 8601) and `before` (an entry id) from a query.
pub(crate) fn history_query(get: impl Fn(&str) -> Option<String>) -> Result<(HistoryFilter, Option<i64>, i64), Error> {
    let text = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let since = match text("since") {
        None => None,
        Some(v) => Some(
            Timestamp::parse(&v)
                .map_err(|_| Error::field("since", format!("since must be an ISO 8601 date or time, not '{v}'.")))?,
        ),
    };
    let number = |name: &str| http::positive_number(name, text(name));
    let filter = HistoryFilter { username: text("username"), email: text("email"), since };
    Ok((filter, number("before")?, number("page_size")?.unwrap_or(50).min(500)))
}

/// The streamed CSV download (the admin API's and the console's link).
pub(crate) fn roster_csv_download(chunks: RosterChunks) -> Response {
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(CSV_HEADER).expect("a Vec takes any write");
    let header = header.into_inner().expect("a Vec takes any write");
    let file = format!("{}-roster.csv", chunks.course().key.as_str().replace([':', '+', '/'], "_"));
    let reader = RosterCsv { chunks, buffer: header, at: 0 };
    Response {
        status_code: 200,
        headers: vec![
            ("Content-Type".into(), "text/csv; charset=utf-8".into()),
            ("Content-Disposition".into(), format!("attachment; filename=\"{file}\"").into()),
            ("Cache-Control".into(), "no-store".into()),
        ],
        data: ResponseBody::from_reader(reader),
        upgrade: None,
    }
}

pub const CSV_HEADER: [&str; 7] = ["username", "email", "name", "mode", "status", "enrolled_at", "updated_at"];

/// Rows fetched per read of the streamed roster.
const CHUNK: i64 = 1000;

/// The roster as CSV, read a chunk at a time as the client takes it (`RosterChunks`).
struct RosterCsv {
    chunks: RosterChunks,
    buffer: Vec<u8>,
    at: usize,
}

impl Read for RosterCsv {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buffer.len() {
            let chunk = self.chunks.next_chunk(CHUNK).map_err(|e| std::io::Error::other(e.developer_message))?;
            let Some(rows) = chunk else { break };
            self.buffer = csv_lines(&rows)?;
            self.at = 0;
        }
        let n = out.len().min(self.buffer.len() - self.at);
        out[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A spreadsheet runs a cell that starts with = + - @ (or tab, CR) as a formula (CSV
/// injection): every such cell gets a leading quote (OWASP's rule). Usernames (imported
/// ones may start with `-` or `+`) and emails come from people too, so no column is spared.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_lines(rows: &[RosterRow]) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 80));
    for row in rows {
        let name = if row.name.is_empty() { format!("{} {}", row.first_name, row.last_name) } else { row.name.clone() };
        writer.write_record(
            [
                row.username.as_ref().map_or("", Username::as_str),
                row.email.as_str(),
                name.trim(),
                row.mode.as_deref().unwrap_or(""),
                status(row),
                &row.created.to_iso(),
                &row.updated.to_iso(),
            ]
            .map(inert),
        )?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}
