//! `/api/admin/v1/courses/{course_key}/enrollments.csv` and `…/history`: a course's roster
//! as CSV (streamed, for spreadsheets), a CSV of learners to enroll or unenroll (a task, as
//! the v2 API starts), and the enrollment history. Course staff of the course and global
//! staff, as the v2 roster.

use super::super::http::{self, ok, Ctx};
use super::super::shared::{course_and_manager, csv_body, task_accepted};
use crate::core::bulk::{self, TaskRequest};
use crate::core::catalog::Course;
use crate::core::records::Db;
use crate::core::roster::{self, HistoryEntry, HistoryFilter, RosterChunks, RosterRow};
use crate::core::Error;
use crate::domain::Timestamp;
use rouille::{Response, ResponseBody};
use serde_json::{json, Value};
use std::io::Read;

pub const CSV_HEADER: [&str; 7] = ["username", "email", "name", "mode", "status", "enrolled_at", "updated_at"];

/// Rows fetched per read of the streamed roster.
const CHUNK: i64 = 1000;

// The CSV parsers now live in `shared`; the console still names them here.
pub use super::super::shared::{parse_learner_csv, roster_options};

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
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    Ok(roster_csv_download(roster::managed_roster_chunks(&ctx.app.db, &key, &caller)?))
}

/// The streamed CSV download of a course the console already checked.
pub fn roster_csv_response(db: Db, course: Course) -> Response {
    roster_csv_download(RosterChunks::new(db, course))
}

/// The streamed CSV download (the admin API's and the console's link).
fn roster_csv_download(chunks: RosterChunks) -> Response {
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(CSV_HEADER).expect("a Vec takes any write");
    let header = header.into_inner().expect("a Vec takes any write");
    let file = format!("{}-roster.csv", chunks.course().record.course_key.replace([':', '+', '/'], "_"));
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

/// The query's options, then the body's type, then each CSV line: every problem after the
/// course's 404 and 403, as the upload always answered.
pub(super) fn post_roster_csv(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let request = roster_options(|name| ctx.query_param(name)).and_then(|(action, options)| {
        let items = parse_learner_csv(&csv_body(ctx)?)?;
        Ok(TaskRequest { action, items, options })
    });
    let action = request.as_ref().map(|r| r.action).ok();
    let (course, task) = bulk::create_task_as_manager(&ctx.app.db, &key, &caller, "admin_csv", request, ctx.now)?;
    ctx.app.jobs.wake();
    Ok(task_accepted(ctx, &course.record.course_key, action.expect("a task was started"), &task))
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
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let query = history_query(|name| ctx.query_param(name));
    let wanted = query.clone();
    let (course, entries) = roster::managed_history(&ctx.app.db, &key, &caller, wanted)?;
    let (filter, _, size) = query?;
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
