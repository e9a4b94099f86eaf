//! `/api/admin/v1/courses/{course_key}/enrollments/{username}/progress` and
//! `…/{course_key}/progress.csv`: an LMS or a grading system pushes what a learner has
//! achieved (one learner, or a CSV of many as a task). Course staff of the course, global
//! staff and service clients, as the v2 roster.

use super::super::http::{self, ok, Ctx, Fields};
use super::super::shared::{course_and_manager, csv_body, progress_json, task_accepted};
use crate::core::bulk::{self, Action, Item, ItemOptions, RosterOptions, StoredReport, TaskRequest};
use crate::core::progress::{self, Report};
use crate::core::Error;
use crate::domain::{Fraction, Timestamp};
use rouille::Response;
use serde_json::Value;

fn share(v: &Value) -> Result<Fraction, String> {
    let n = v.as_f64().ok_or("must be a number between 0 and 1")?;
    Fraction::parse(n).map_err(|e| e.0)
}

fn certificate_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if !(raw.starts_with("https://") || raw.starts_with("http://"))
        || raw.chars().count() > crate::domain::URL_MAX_CHARS
        || raw.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return Err("must be an http(s) URL of at most 2,000 characters".into());
    }
    Ok(raw.to_owned())
}

/// The PUT body: `completion` required; `grade` (default 0), `passed` (default false),
/// `completed_at`, `certificate_url` optional. A PUT replaces the whole record.
fn parse_report(body: &Value) -> Result<Report, Error> {
    let mut f = Fields::of(body)?;
    f.reject_unknown(&["completion", "grade", "passed", "completed_at", "certificate_url"]);
    let completion = f.required("completion", share);
    let grade = f.get("grade", share).flatten().unwrap_or_default();
    let passed = f.get("passed", http::as_bool).flatten().unwrap_or(false);
    let completed_at = f.get("completed_at", http::as_timestamp).flatten();
    let certificate_url = f.get("certificate_url", |v| certificate_url(&http::as_string(v)?)).flatten();
    f.finish()?;
    Ok(Report { completion: completion.expect("checked by finish"), grade, passed, completed_at, certificate_url })
}

pub(super) fn get_progress(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let username = ctx.param("username").to_owned();
    Ok(ok(progress_json(&progress::managed_progress(&ctx.env.db, &key, &caller, &username)?)))
}

pub(super) fn put_progress(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let report = ctx.json_body().and_then(|body| parse_report(&body));
    let username = ctx.param("username").to_owned();
    let record = progress::record_as_manager(ctx.env, &key, &caller, "admin", &username, report, ctx.now)?;
    Ok(ok(progress_json(&record)))
}

/// A progress CSV: `username,completion,grade,passed,completed_at` (and optionally
/// `certificate_url`); every row is checked before anything is written, and a problem is a
/// 400 naming its line.
pub fn parse_progress_csv(body: &[u8]) -> Result<Vec<Item>, Error> {
    let bad = |message: String| Error::field("file", message);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body);
    let headers = reader.headers().map_err(|e| bad(format!("line 1 is not CSV: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
    let (Some(username), Some(completion)) = (column("username"), column("completion")) else {
        return Err(bad("line 1, the header row, must name a username and a completion column.".into()));
    };
    let (grade, passed, completed_at, url) =
        (column("grade"), column("passed"), column("completed_at"), column("certificate_url"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| bad(format!("line {} is not CSV: {e}", e.position().map(|p| p.line()).unwrap_or(0))))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|v| !v.is_empty());
        let at = |what: &str, e: String| bad(format!("line {line}, {what}: {e}"));
        let name = cell(Some(username)).ok_or_else(|| bad(format!("line {line} has no username.")))?;
        let report = Report {
            completion: Fraction::parse_text(cell(Some(completion)).unwrap_or(""))
                .map_err(|e| at("completion", e.0))?,
            grade: cell(grade).map(Fraction::parse_text).transpose().map_err(|e| at("grade", e.0))?.unwrap_or_default(),
            passed: match cell(passed).map(str::to_ascii_lowercase).as_deref() {
                None | Some("false") | Some("0") | Some("no") => false,
                Some("true") | Some("1") | Some("yes") => true,
                Some(other) => return Err(at("passed", format!("'{other}' is not true or false"))),
            },
            completed_at: cell(completed_at).map(Timestamp::parse).transpose().map_err(|e| at("completed_at", e.0))?,
            certificate_url: cell(url).map(certificate_url).transpose().map_err(|e| at("certificate_url", e))?,
        };
        let own = ItemOptions { progress: Some(StoredReport::of(&report)), ..ItemOptions::default() };
        rows.push(Item { identifier: name.to_owned(), own });
    }
    if rows.is_empty() {
        return Err(bad("the file has a header row but no learners.".into()));
    }
    Ok(rows)
}

pub(super) fn post_progress_csv(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let request = csv_body(ctx).and_then(|body| parse_progress_csv(&body)).map(|items| TaskRequest {
        action: Action::Progress,
        items,
        options: RosterOptions::default(),
    });
    let surface = "admin_progress_csv";
    let (course, task) = bulk::create_task_as_manager(ctx.env, &key, &caller, surface, request, ctx.now)?;
    Ok(task_accepted(ctx, course.key.as_str(), Action::Progress, &task))
}
