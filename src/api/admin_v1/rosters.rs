//! `/api/admin/v1/courses/{course_key}/enrollments.csv` and `…/history`: a course's roster
//! as CSV (streamed, for spreadsheets), a CSV of learners to enroll or unenroll (a task, as
//! the v2 API starts), and the enrollment history. Course staff of the course and global
//! staff, as the v2 roster.

use super::super::enrollment_v2::{course_for_manager, start_task};
use super::super::http::{self, ok, Ctx};
use crate::core::bulk::{Action, Item, ItemOptions, RosterOptions};
use crate::core::catalog::Course;
use crate::core::records::Db;
use crate::core::roster::{self, HistoryEntry, HistoryFilter, RosterRow};
use crate::core::{Error, ErrorKind};
use crate::domain::Timestamp;
use rouille::{Response, ResponseBody};
use serde_json::{json, Value};
use std::io::Read;

pub const CSV_HEADER: [&str; 7] = ["username", "email", "name", "mode", "status", "enrolled_at", "updated_at"];

/// Rows fetched per read of the streamed roster.
const CHUNK: i64 = 1000;

/// The roster, read a chunk at a time as the client takes it. Each chunk is its own read
/// transaction: a roster that changes during a long download shows each row once, as of
/// when its chunk was read.
struct RosterCsv {
    db: Db,
    course: Course,
    after: i64,
    buffer: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for RosterCsv {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buffer.len() && !self.done {
            let rows = self
                .db
                .read(|conn| roster::roster_chunk(conn, &self.course, self.after, CHUNK))
                .map_err(|e| std::io::Error::other(e.developer_message))?;
            self.after += rows.len() as i64;
            self.done = (rows.len() as i64) < CHUNK;
            self.buffer = csv_lines(&rows)?;
            self.at = 0;
        }
        let n = out.len().min(self.buffer.len() - self.at);
        out[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

pub fn status(row: &RosterRow) -> &'static str {
    match (row.username.is_some(), row.is_active) {
        (false, _) => "pre_enrolled",
        (true, true) => "active",
        (true, false) => "inactive",
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
                row.username.as_deref().unwrap_or(""),
                &row.email,
                name.trim(),
                row.mode.as_deref().unwrap_or(""),
                status(row),
                &Timestamp::from_unix(row.created).to_iso(),
                &Timestamp::from_unix(row.updated).to_iso(),
            ]
            .map(inert),
        )?;
    }
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

pub(super) fn get_roster_csv(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "admin")?;
    Ok(roster_csv_response(ctx.app.db.clone(), course))
}

/// The streamed CSV download (the console's link answers the same).
pub fn roster_csv_response(db: Db, course: Course) -> Response {
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(CSV_HEADER).expect("a Vec takes any write");
    let header = header.into_inner().expect("a Vec takes any write");
    let file = format!("{}-roster.csv", course.record.course_key.replace([':', '+', '/'], "_"));
    let reader = RosterCsv { db, course, after: 0, buffer: header, at: 0, done: false };
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
pub(super) fn csv_body(ctx: &Ctx) -> Result<Vec<u8>, Error> {
    let media = super::super::body::media_type(ctx.req.header("Content-Type").unwrap_or(""));
    if !matches!(media.as_str(), "text/csv" | "application/csv" | "text/plain") {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            format!("Unsupported media type \"{media}\" in request; send text/csv."),
        ));
    }
    ctx.body_bytes()
}

pub(super) fn post_roster_csv(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "admin")?;
    let (action, options) = roster_options(|name| ctx.query_param(name))?;
    let body = csv_body(ctx)?;
    let rows = parse_learner_csv(&body)?;
    let requester = crate::core::bulk::Requester { surface: "admin_csv", ..requester };
    start_task(ctx, &course, action, &rows, &options, &requester)
}

pub fn history_json(h: &HistoryEntry) -> Value {
    let state = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    json!({
        "id": h.id, "created": Timestamp::from_unix(h.created).to_iso(), "username": h.username, "email": h.email,
        "actor": h.actor, "surface": h.surface, "source": h.source, "reason": h.reason,
        "before": state(&h.before), "after": state(&h.after),
    })
}

/// `username`, `email`, `since` (ISO 8601) and `before` (an entry id) from a query.
pub fn history_query(get: impl Fn(&str) -> Option<String>) -> Result<(HistoryFilter, Option<i64>, i64), Error> {
    let text = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let since = match text("since") {
        None => None,
        Some(v) => Some(
            Timestamp::parse(&v)
                .map_err(|_| Error::field("since", format!("since must be an ISO 8601 date or time, not '{v}'.")))?
                .unix(),
        ),
    };
    let number = |name: &str| http::positive_number(name, text(name));
    let filter = HistoryFilter { username: text("username"), email: text("email"), since };
    Ok((filter, number("before")?, number("page_size")?.unwrap_or(50).min(500)))
}

pub(super) fn get_history(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "admin")?;
    let (filter, before, size) = history_query(|name| ctx.query_param(name))?;
    let entries = ctx.app.db.read(|conn| roster::history(conn, &course, &filter, before, size))?;
    let next = match entries.last() {
        Some(last) if entries.len() as i64 == size => {
            let mut url = format!(
                "{}/api/admin/v1/courses/{}/history?before={}&page_size={size}",
                ctx.app.base_url,
                http::percent_encode(&course.record.course_key),
                last.id
            );
            for (name, value) in [("username", &filter.username), ("email", &filter.email)] {
                if let Some(v) = value {
                    url.push_str(&format!("&{name}={}", http::percent_encode(v)));
                }
            }
            if let Some(since) = ctx.query_param("since") {
                url.push_str(&format!("&since={}", http::percent_encode(&since)));
            }
            json!(url)
        }
        _ => Value::Null,
    };
    let body = json!({"next": next, "results": entries.iter().map(history_json).collect::<Vec<_>>()});
    Ok(http::with_link_header(ok(body.clone()), &body))
}
