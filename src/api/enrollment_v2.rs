//! `/api/enrollment/v2/courses/{course_key}/…`: resource-oriented enrollments
//! (Open edX's enrollment API v2 ADR; shapes as its instructor API answers). One
//! learner is handled synchronously; several become a background task (202).

use super::errors::Dialect;
use super::http::{default_profile_image, ok, Ctx, Fields, Page};
use super::router::{Doc, Route};
use super::shared::{course_and_manager, parse_outcome, progress_json, result_json, state_json, task_accepted};
use crate::core::bulk::{self, Action, RosterChange, RosterOptions, TaskItem, TaskRequest};
use crate::core::lifecycle::{self, LearnerName};
use crate::core::roster::{self, RosterFilter, RosterQuery, RosterRow};
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, status, response| Doc {
        summary,
        tag: "enrollment-v2",
        auth: true,
        request,
        status,
        response,
        query: &[],
    };
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::V2, handler, doc };
    vec![
        r(
            "GET",
            "/api/enrollment/v2/courses/{course_key}/enrollments",
            get_enrollments,
            Doc {
                query: &[
                    ("page", "1-based page (default 1)"),
                    ("page_size", "default 25, at most 100"),
                    ("status", "all (default), active, inactive or pre_enrolled"),
                    ("requested_fields", "beta_tester,profile_image,completion,status,access_start,access_end"),
                ],
                ..doc("A course's roster, paged", None, 200, Some("V2EnrollmentPage"))
            },
        ),
        r(
            "POST",
            "/api/enrollment/v2/courses/{course_key}/enrollments",
            post_enrollments,
            doc(
                "Enroll learners: one identifier answers 200 at once; several start a task and answer 202",
                Some("V2EnrollRequest"),
                200,
                Some("V2OperationResult"),
            ),
        ),
        r(
            "GET",
            "/api/enrollment/v2/courses/{course_key}/enrollments/{email_or_username}",
            get_enrollment,
            doc("One learner's enrollment or pre-enrollment", None, 200, Some("V2Enrollment")),
        ),
        r(
            "PATCH",
            "/api/enrollment/v2/courses/{course_key}/enrollments/{email_or_username}",
            patch_enrollment,
            doc(
                "Change one enrollment's status and access dates",
                Some("EnrollmentLifecyclePatch"),
                200,
                Some("EnrollmentLifecycle"),
            ),
        ),
        r(
            "DELETE",
            "/api/enrollment/v2/courses/{course_key}/enrollments/{email_or_username}",
            delete_enrollment,
            Doc {
                query: &[("email_student", "true: email the learner"), ("reason", "included in the email")],
                ..doc("Unenroll one learner (and remove their pre-enrollment)", None, 200, Some("V2OperationResult"))
            },
        ),
        r(
            "GET",
            "/api/enrollment/v2/courses/{course_key}/tasks/{task_id}",
            get_task,
            Doc {
                query: &[("page", "page of per-identifier results"), ("page_size", "default 100, at most 1000")],
                ..doc("A background task's status, progress and results", None, 200, Some("V2Task"))
            },
        ),
        r(
            "DELETE",
            "/api/enrollment/v2/courses/{course_key}/tasks/{task_id}",
            delete_task,
            doc("Cancel a pending or running task (work already done stays done)", None, 200, Some("V2Task")),
        ),
    ]
}

fn roster_json(row: &RosterRow, requested: &[String]) -> Value {
    let mut item = json!({
        "username": row.username, "email": row.email, "first_name": row.first_name, "last_name": row.last_name,
        "mode": row.mode, "is_active": row.is_active, "created": row.created,
        "enrollment_allowed": row.allowed, "auto_enroll": row.auto_enroll,
    });
    // Optional fields are computed only when asked for (Open edX's requested_fields).
    if requested.iter().any(|f| f == "completion") {
        item["completion"] = row.progress.as_ref().map(progress_json).unwrap_or(Value::Null);
    }
    if requested.iter().any(|f| f == "beta_tester") {
        item["beta_tester"] = json!(false);
    }
    if requested.iter().any(|f| f == "profile_image") {
        item["profile_image"] = default_profile_image();
    }
    let lifecycle = row.lifecycle.as_ref();
    if requested.iter().any(|f| f == "status") {
        item["status"] = json!(lifecycle.map(|l| l.status.as_str()));
    }
    if requested.iter().any(|f| f == "access_start") {
        item["access_start"] = json!(lifecycle.and_then(|l| l.access_start));
    }
    if requested.iter().any(|f| f == "access_end") {
        item["access_end"] = json!(lifecycle.and_then(|l| l.access_end));
    }
    item
}

fn requested_fields(ctx: &Ctx) -> Result<Vec<String>, Error> {
    let fields: Vec<String> = ctx
        .query_param("requested_fields")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let known = ["beta_tester", "profile_image", "completion", "status", "access_start", "access_end"];
    if let Some(bad) = fields.iter().find(|f| !known.contains(&f.as_str())) {
        return Err(Error::field(
            "requested_fields",
            format!("Unknown optional field '{bad}'; available: {}.", known.join(", ")),
        ));
    }
    Ok(fields)
}

fn get_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let query = roster_query(ctx);
    let wanted = query.as_ref().map(|(wanted, _, _)| wanted.clone()).map_err(Error::clone);
    let (total, rows) = roster::managed_roster(&ctx.env.db, &key, &caller, wanted)?;
    let (_, page, requested) = query?;
    let body = page.body(ctx, total, rows.iter().map(|r| roster_json(r, &requested)).collect())?;
    Ok(super::http::with_link_header(ok(body.clone()), &body))
}

/// The roster page's query as the core reads it, the page (to render) and the fields asked for.
fn roster_query(ctx: &Ctx) -> Result<(RosterQuery, Page, Vec<String>), Error> {
    let page = Page::from_query(ctx, 25, 100)?;
    let filter = match ctx.query_param("status").as_deref() {
        None | Some("all") => RosterFilter::All,
        Some("active") => RosterFilter::Active,
        Some("inactive") => RosterFilter::Inactive,
        Some("pre_enrolled") => RosterFilter::PreEnrolled,
        Some(other) => {
            return Err(Error::field(
                "status",
                format!("status must be all, active, inactive or pre_enrolled, not '{other}'."),
            ))
        }
    };
    let requested = requested_fields(ctx)?;
    let query = RosterQuery { filter, search: None, offset: page.offset(), limit: page.size };
    Ok((query, page, requested))
}

fn get_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let identifier = ctx.param("email_or_username").to_owned();
    let requested = requested_fields(ctx);
    let (row, position) =
        roster::managed_roster_entry(&ctx.env.db, &key, &caller, &identifier, parse_outcome(&requested))?;
    let mut body = roster_json(&row, &requested?);
    body["waitlist_position"] = json!(position);
    Ok(ok(body))
}

fn patch_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let identifier = ctx.param("email_or_username").to_owned();
    let patch = ctx.json_body().and_then(|body| super::shared::parse_lifecycle_patch(&body));
    let learner = LearnerName::Identifier(&identifier);
    let enrollment = lifecycle::update_enrollment_as_manager(ctx.env, &key, &caller, SURFACE, learner, patch, ctx.now)?;
    Ok(ok(super::shared::enrollment_json(&enrollment, ctx.now)))
}

/// One identifier is enrolled at once (200); several start a task (202). The body's
/// problems are answered after the course's 404 and 403 (the core checks those first).
fn post_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let (env, now) = (ctx.env, ctx.now);
    match enroll_request(ctx) {
        Ok((identifiers, options)) if identifiers.len() > 1 => {
            let items = identifiers.into_iter().map(bulk::Item::plain).collect();
            let request = TaskRequest { action: Action::Enroll, items, options };
            let (course, task) = bulk::create_task_as_manager(env, &key, &caller, SURFACE, Ok(request), now)?;
            Ok(task_accepted(ctx, course.key.as_str(), Action::Enroll, &task))
        }
        request => {
            let request =
                request.map(|(identifiers, options)| RosterChange { action: Action::Enroll, identifiers, options });
            let identifier = request.as_ref().map(|r| r.identifiers[0].clone()).unwrap_or_default();
            let results = bulk::apply_as_manager(env, &key, &caller, SURFACE, request, now)?;
            Ok(ok(json!({"action": "enroll", "results": [result_json(&identifier, &results[0])]})))
        }
    }
}

/// The surface a v2 change is recorded under.
const SURFACE: &str = "enrollment_v2";

/// The POST body: the identifiers (at least one) and the options for all of them.
fn enroll_request(ctx: &Ctx) -> Result<(Vec<String>, RosterOptions), Error> {
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["identifiers", "mode", "auto_enroll", "email_students", "reason", "access_start", "access_end"]);
    let identifiers = f.required("identifiers", |v| {
        let list = v.as_array().ok_or("must be a list of emails or usernames")?;
        if list.is_empty() {
            return Err("must name at least one learner".to_owned());
        }
        list.iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty() && s.len() <= 255)
                    .ok_or("each identifier must be a non-empty string of at most 255 characters".to_owned())
            })
            .collect::<Result<Vec<String>, String>>()
    });
    let options = RosterOptions {
        mode: f.get("mode", super::http::as_string).flatten(),
        auto_enroll: f.required_value("auto_enroll", super::http::as_bool).unwrap_or(false),
        email_students: f.required_value("email_students", super::http::as_bool).unwrap_or(false),
        reason: f.get("reason", super::http::as_string).flatten(),
        access_start: f.get("access_start", super::http::as_timestamp).flatten().map(|t| t.unix()),
        access_end: f.get("access_end", super::http::as_timestamp).flatten().map(|t| t.unix()),
    };
    f.finish()?;
    Ok((identifiers.expect("checked by finish"), options))
}

fn delete_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let identifier = ctx.param("email_or_username").to_owned();
    let request = match ctx.query_param("email_student").as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => {
            Err(Error::field("email_student", format!("email_student must be true or false, not '{other}'.")))
        }
    }
    .map(|email_students| {
        let options = RosterOptions { email_students, reason: ctx.query_param("reason"), ..RosterOptions::default() };
        RosterChange { action: Action::Unenroll, identifiers: vec![identifier.clone()], options }
    });
    let results = bulk::apply_as_manager(ctx.env, &key, &caller, SURFACE, request, ctx.now)?;
    Ok(ok(json!({"action": "unenroll", "results": [result_json(&identifier, &results[0])]})))
}

/// The task view's page of results: (page, page size) from the query.
fn results_page(ctx: &Ctx) -> Result<(i64, i64), Error> {
    let read = |name: &str, default: i64, max: i64| -> Result<i64, Error> {
        match ctx.query_param(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .map(|n| n.min(max))
                .ok_or_else(|| Error::field(name, format!("{name} must be a positive whole number."))),
        }
    };
    Ok((read("page", 1, i64::MAX / 1000)?, read("page_size", 100, 1000)?))
}

/// The page as the core reads it: (first item, how many).
fn items_wanted(page: &Result<(i64, i64), Error>) -> Result<(i64, i64), Error> {
    page.clone().map(|(page, page_size)| ((page - 1) * page_size, page_size))
}

fn task_json(task: &bulk::Task, items: &[TaskItem], (page, page_size): (i64, i64)) -> Value {
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut row = json!({"identifier": item.identifier, "status": item.status});
            if let Some(r) = &item.result {
                row["before"] = r.before.as_ref().map(state_json).unwrap_or(Value::Null);
                row["after"] = r.after.as_ref().map(state_json).unwrap_or(Value::Null);
                if let Some(error) = &r.error {
                    row["error"] = json!(error);
                    row["error_code"] = json!(r.error_code);
                }
            }
            row
        })
        .collect();
    let num_pages = ((task.total + page_size - 1) / page_size).max(1);
    json!({
        "task_id": task.public_id, "course_key": task.course_key, "action": task.action, "status": task.status,
        "progress": {"total": task.total, "done": task.done, "succeeded": task.succeeded, "failed": task.failed},
        "created": task.created, "started": task.started, "finished": task.finished,
        "results": results, "results_page": {"page": page, "page_size": page_size, "num_pages": num_pages},
    })
}

fn get_task(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let id = ctx.param("task_id").to_owned();
    let page = results_page(ctx);
    let (task, items) = bulk::managed_task(&ctx.env.db, &key, &caller, &id, items_wanted(&page))?;
    Ok(ok(task_json(&task, &items, page?)))
}

fn delete_task(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let id = ctx.param("task_id").to_owned();
    let page = results_page(ctx);
    let (task, items) = bulk::cancel_managed_task(&ctx.env.db, &key, &caller, &id, items_wanted(&page), ctx.now)?;
    Ok(ok(task_json(&task, &items, page?)))
}
