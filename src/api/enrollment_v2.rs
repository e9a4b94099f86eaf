//! `/api/enrollment/v2/courses/{course_key}/…`: resource-oriented enrollments
//! (Open edX's enrollment API v2 ADR; shapes as its instructor API answers). One
//! learner is handled synchronously; several become a background task (202).

use super::errors::Dialect;
use super::http::{default_profile_image, json, ok, Ctx, Fields, Page};
use super::router::{Doc, Route};
use crate::core::bulk::{self, Action, Requester, RosterOptions};
use crate::core::catalog::{self, Course};
use crate::core::enrollment::{Outcome, Source, State};
use crate::core::records::TaskRecord;
use crate::core::roster::{self, RosterFilter, RosterRow};
use crate::core::Error;
use crate::domain::{CourseKey, Timestamp};
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

/// The course and a requester who may manage it (course staff, global staff, API key);
/// a learner is refused with PERMISSION_DENIED.
pub(super) fn course_for_manager(
    ctx: &mut Ctx,
    param: &str,
    surface: &'static str,
) -> Result<(Course, Requester), Error> {
    let raw = ctx.param(param).to_owned();
    let key = CourseKey::parse(&raw).map_err(|_| {
        Error::field(param, format!("'{raw}' is not a valid course key."))
            .with_user_message("The course identifier is not valid")
    })?;
    let caller = ctx.caller()?.clone();
    ctx.throttle(&ctx.app.auth.limits.enrollment_v2, &caller.key())?;
    let course = ctx.app.db.read(|conn| catalog::course(conn, &key))?;
    let allowed = match caller.user() {
        Some(user) => ctx.app.db.read(|conn| roster::may_manage(conn, &course, user.id, caller.is_global_staff()))?,
        None => true, // the server-to-server API key
    };
    if !allowed {
        return Err(Error::forbidden("You do not have the required permissions for this course"));
    }
    let actor = caller.user().map(|u| u.username.clone()).unwrap_or_else(|| "api-key".into());
    Ok((course, Requester { actor, surface, source: Source::Api }))
}

fn iso(t: i64) -> String {
    Timestamp::from_unix(t).to_iso()
}

fn roster_json(row: &RosterRow, requested: &[String]) -> Value {
    let mut item = json!({
        "username": row.username, "email": row.email, "first_name": row.first_name, "last_name": row.last_name,
        "mode": row.mode, "is_active": row.is_active, "created": iso(row.created),
        "enrollment_allowed": row.allowed, "auto_enroll": row.auto_enroll,
    });
    // Optional fields are computed only when asked for (Open edX's requested_fields).
    if requested.iter().any(|f| f == "completion") {
        item["completion"] = row.progress.as_ref().map(super::admin_v1::progress::progress_json).unwrap_or(Value::Null);
    }
    if requested.iter().any(|f| f == "beta_tester") {
        item["beta_tester"] = json!(false);
    }
    if requested.iter().any(|f| f == "profile_image") {
        item["profile_image"] = default_profile_image();
    }
    let lifecycle = row.lifecycle.as_ref();
    let date = |t: Option<i64>| t.map(|t| json!(iso(t))).unwrap_or(Value::Null);
    if requested.iter().any(|f| f == "status") {
        item["status"] = json!(lifecycle.map(|l| l.status.as_str()));
    }
    if requested.iter().any(|f| f == "access_start") {
        item["access_start"] = date(lifecycle.and_then(|l| l.access_start));
    }
    if requested.iter().any(|f| f == "access_end") {
        item["access_end"] = date(lifecycle.and_then(|l| l.access_end));
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
    let (course, _) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
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
    let (total, rows) = ctx.app.db.snapshot(|conn| roster::roster(conn, &course, filter, page.offset(), page.size))?;
    let body = page.body(ctx, total, rows.iter().map(|r| roster_json(r, &requested)).collect())?;
    Ok(super::http::with_link_header(ok(body.clone()), &body))
}

fn get_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
    let identifier = ctx.param("email_or_username").to_owned();
    let requested = requested_fields(ctx)?;
    let row = ctx.app.db.read(|conn| roster::roster_entry(conn, &course, &identifier))?;
    let row = row.ok_or_else(|| {
        Error::not_found(format!("{identifier} is neither enrolled nor pre-enrolled in {}.", course.record.course_key))
    })?;
    let position = match row.username.as_deref() {
        Some(username) => ctx.app.db.read(|conn| match crate::core::accounts::find_user(conn, username)? {
            Some(user) => roster::waitlist_position(conn, &course, &user),
            None => Ok(None),
        })?,
        None => None,
    };
    let mut body = roster_json(&row, &requested);
    body["waitlist_position"] = json!(position);
    Ok(ok(body))
}

fn patch_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
    let identifier = ctx.param("email_or_username").to_owned();
    let user = ctx.app.db.read(|conn| match crate::core::enrollment::resolve_identifier(conn, &identifier) {
        Ok(crate::core::enrollment::Resolved::User(user)) => Ok(Some(*user)),
        _ => Ok(None),
    })?;
    let user = user
        .ok_or_else(|| Error::not_found(format!("{identifier} has no enrollment in {}.", course.record.course_key)))?;
    super::admin_v1::waitlist::patch_one(ctx, &requester, &course, &user)
}

/// Version A's EnrollmentState: `enrolled`, `allowed`, plus `mode` and `auto_enroll`.
fn state_json(state: &State) -> Value {
    let mut body = json!({"enrolled": state.enrollment, "allowed": state.allowed, "mode": state.mode, "auto_enroll": state.auto_enroll});
    // A learner on a full course's waitlist: where they stand (1 is next).
    if let Some(position) = state.waitlist_position {
        body["waitlisted"] = json!(true);
        body["waitlist_position"] = json!(position);
    }
    body
}

/// One result row: before/after, or the identifier's own error (never the whole call's).
pub(super) fn result_json(identifier: &str, result: &Result<Outcome, Error>) -> Value {
    match result {
        Ok(outcome) => {
            json!({"identifier": identifier, "before": state_json(&outcome.before), "after": state_json(&outcome.after)})
        }
        Err(e) => {
            json!({"identifier": identifier, "before": null, "after": null, "error": e.developer_message, "error_code": e.code()})
        }
    }
}

/// Runs one roster change in its own transaction; a refusal (full, invalid identifier…)
/// becomes that row's error and writes nothing, while a fault of the server or database
/// fails the whole request (a 200 would tell the client the change was made).
pub(super) fn apply_one(
    ctx: &Ctx,
    course: &Course,
    action: Action,
    identifier: &str,
    options: &RosterOptions,
    requester: &Requester,
) -> Result<Result<Outcome, Error>, Error> {
    let result = ctx.app.db.write(|conn| bulk::apply(conn, course, action, identifier, options, requester, ctx.now));
    match result {
        Err(e) if e.is_fault() => Err(e),
        other => {
            ctx.app.jobs.wake();
            Ok(other)
        }
    }
}

fn post_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
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
    let identifiers = identifiers.expect("checked by finish");
    if identifiers.len() == 1 {
        let result = apply_one(ctx, &course, Action::Enroll, &identifiers[0], &options, &requester)?;
        return Ok(ok(json!({"action": "enroll", "results": [result_json(&identifiers[0], &result)]})));
    }
    let items: Vec<bulk::Item> = identifiers.into_iter().map(bulk::Item::plain).collect();
    start_task(ctx, &course, Action::Enroll, &items, &options, &requester)
}

/// A background task for `items` and its 202 (the v2 API's, and the roster CSV upload's).
pub(super) fn start_task(
    ctx: &Ctx,
    course: &Course,
    action: Action,
    items: &[bulk::Item],
    options: &RosterOptions,
    requester: &Requester,
) -> Result<Response, Error> {
    let task = ctx.app.db.write(|conn| bulk::create_task(conn, course, action, items, options, requester, ctx.now))?;
    ctx.app.jobs.wake();
    // From the public base URL: behind a proxy at a sub-path the prefix is kept.
    let status_url =
        format!("{}/api/enrollment/v2/courses/{}/tasks/{}", ctx.app.base_url, course.record.course_key, task.public_id);
    let body =
        json!({"task_id": task.public_id, "status_url": status_url, "action": action.as_str(), "count": task.total});
    Ok(json(202, &body).with_additional_header("Location", status_url))
}

fn delete_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
    let identifier = ctx.param("email_or_username").to_owned();
    let email_student = match ctx.query_param("email_student").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(Error::field("email_student", format!("email_student must be true or false, not '{other}'.")))
        }
    };
    let options = RosterOptions {
        mode: None,
        auto_enroll: false,
        email_students: email_student,
        reason: ctx.query_param("reason"),
        ..RosterOptions::default()
    };
    let result = apply_one(ctx, &course, Action::Unenroll, &identifier, &options, &requester)?;
    Ok(ok(json!({"action": "unenroll", "results": [result_json(&identifier, &result)]})))
}

fn task_json(ctx: &Ctx, task: &TaskRecord) -> Result<Value, Error> {
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
    let page = read("page", 1, i64::MAX / 1000)?;
    let page_size = read("page_size", 100, 1000)?;
    let items = ctx.app.db.read(|conn| bulk::task_items(conn, task, (page - 1) * page_size, page_size))?;
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
    let opt = |t: Option<i64>| t.map(|t| json!(iso(t))).unwrap_or(Value::Null);
    Ok(json!({
        "task_id": task.public_id, "course_key": task.course_key, "action": task.action, "status": task.status,
        "progress": {"total": task.total, "done": task.done, "succeeded": task.succeeded, "failed": task.failed},
        "created": iso(task.created), "started": opt(task.started), "finished": opt(task.finished),
        "results": results, "results_page": {"page": page, "page_size": page_size, "num_pages": num_pages},
    }))
}

fn get_task(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
    let id = ctx.param("task_id").to_owned();
    let task = ctx.app.db.read(|conn| bulk::task(conn, &course, &id))?;
    Ok(ok(task_json(ctx, &task)?))
}

fn delete_task(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "enrollment_v2")?;
    let id = ctx.param("task_id").to_owned();
    let task = ctx.app.db.write(|conn| bulk::cancel(conn, &course, &id, ctx.now))?;
    Ok(ok(task_json(ctx, &task)?))
}
