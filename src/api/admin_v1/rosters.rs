//! `/api/admin/v1/courses/{course_key}/enrollments.csv` and `…/history`: a course's roster
//! as CSV (streamed, for spreadsheets), a CSV of learners to enroll or unenroll (a task, as
//! the v2 API starts), and the enrollment history. Course staff of the course and global
//! staff, as the v2 roster.

use super::super::http::{self, ok, Ctx};
use super::super::shared::{
    course_and_manager, csv_body, history_query, parse_learner_csv, roster_csv_download, roster_options, task_accepted,
};
use crate::core::bulk::{self, TaskRequest};
use crate::core::roster::{self, HistoryEntry};
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

pub(super) fn get_roster_csv(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    Ok(roster_csv_download(roster::managed_roster_chunks(&ctx.env.db, &key, &caller)?))
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
    let (course, task) = bulk::create_task_as_manager(ctx.env, &key, &caller, "admin_csv", request, ctx.now)?;
    Ok(task_accepted(ctx, course.key.as_str(), action.expect("a task was started"), &task))
}

pub fn history_json(h: &HistoryEntry) -> Value {
    let state = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    json!({
        "id": h.id, "created": h.created, "username": h.username, "email": h.email,
        "actor": h.actor, "surface": h.surface, "source": h.source, "reason": h.reason,
        "before": state(&h.before), "after": state(&h.after),
    })
}

pub(super) fn get_history(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let query = history_query(|name| ctx.query_param(name));
    let wanted = query.clone();
    let (course, entries) = roster::managed_history(&ctx.env.db, &key, &caller, wanted)?;
    let (filter, _, size) = query?;
    let next = match entries.last() {
        Some(last) if entries.len() as i64 == size => {
            let mut url = format!(
                "{}/api/admin/v1/courses/{}/history?before={}&page_size={size}",
                ctx.env.base_url,
                http::percent_encode(course.key.as_str()),
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
