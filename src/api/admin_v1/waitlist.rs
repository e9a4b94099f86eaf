//! `/api/admin/v1/courses/{course_key}/waitlist…` and `…/enrollments/{username}` (PATCH):
//! staff list, add, reorder and remove waiting learners, and change one enrollment's
//! status and access dates. Course staff of the course, global staff and service clients,
//! as the v2 roster. The v2 API's PATCH shares the body parser and the view here.

use super::super::enrollment_v2::course_for_manager;
use super::super::http::{self, no_content, ok, Ctx, Fields};
use crate::core::bulk::Requester;
use crate::core::enrollment::{self, Change, Outcome};
use crate::core::lifecycle::{self, AccessDates, LifecyclePatch};
use crate::core::records::{EnrollmentRecord, UserRecord};
use crate::core::roster::WaitlistEntry;
use crate::core::Error;
use crate::domain::Timestamp;
use rouille::Response;
use serde_json::{json, Value};

fn iso(t: Option<i64>) -> Value {
    t.map(|t| json!(Timestamp::from_unix(t).to_iso())).unwrap_or(Value::Null)
}

fn learner(ctx: &Ctx) -> Result<UserRecord, Error> {
    let username = ctx.param("username").to_owned();
    ctx.app
        .db
        .read(|c| crate::core::accounts::find_user(c, &username))?
        .ok_or_else(|| Error::not_found(format!("No user '{username}'.")))
}

/// The change a staff member's waitlist or enrollment edit records (the console's too).
pub fn change(requester: &Requester) -> Change<'_> {
    Change {
        actor: &requester.actor,
        surface: requester.surface,
        source: requester.source,
        reason: None,
        notify: false,
    }
}

fn entry_json(e: &WaitlistEntry) -> Value {
    json!({"username": e.username, "email": e.email, "position": e.position, "mode": e.mode,
        "access_start": iso(e.access_start), "access_end": iso(e.access_end), "created": iso(Some(e.created))})
}

/// One enrollment's lifecycle as the admin and v2 PATCH answer it.
pub fn enrollment_json(e: &EnrollmentRecord, now: Timestamp) -> Value {
    json!({"username": e.username, "course_key": e.course_key, "mode": e.mode,
        "is_active": enrollment::has_access(&e.lifecycle, now), "status": e.lifecycle.status,
        "access_start": iso(e.lifecycle.access_start), "access_end": iso(e.lifecycle.access_end)})
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

/// Applies a PATCH to one learner's enrollment and answers the enrollment.
pub fn patch_one(
    ctx: &Ctx,
    requester: &Requester,
    course_param: &crate::core::catalog::Course,
    user: &UserRecord,
) -> Result<Response, Error> {
    let patch = parse_lifecycle_patch(&ctx.json_body()?)?;
    let change = change(requester);
    let outcome: Outcome =
        ctx.app.db.write(|c| lifecycle::update_enrollment(c, course_param, user, &patch, &change, ctx.now))?;
    ctx.app.jobs.wake();
    let enrollment = outcome.enrollment.ok_or_else(|| Error::internal("enrollment missing after PATCH"))?;
    Ok(ok(enrollment_json(&enrollment, ctx.now)))
}

pub(super) fn patch_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "admin")?;
    let user = learner(ctx)?;
    patch_one(ctx, &requester, &course, &user)
}

pub(super) fn get_waitlist(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "admin")?;
    let list = ctx.app.db.read(|c| lifecycle::waitlist(c, &course))?;
    Ok(ok(json!({"course_key": course.record.course_key, "count": list.len(),
        "results": list.iter().map(entry_json).collect::<Vec<_>>()})))
}

pub(super) fn post_waitlist(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "admin")?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["username"]);
    let username = f.required("username", http::as_string);
    f.finish()?;
    let username = username.expect("checked by finish");
    let user = ctx
        .app
        .db
        .read(|c| crate::core::accounts::find_user(c, &username))?
        .ok_or_else(|| Error::field("username", format!("No user '{username}'.")))?;
    let change = change(&requester);
    let outcome = ctx.app.db.write(|c| lifecycle::add_to_waitlist(c, &course, &user, &change, ctx.now))?;
    ctx.app.jobs.wake();
    Ok(http::json(
        201,
        &json!({"username": user.username, "waitlist_position": outcome.after.waitlist_position, "enrolled": outcome.after.enrollment}),
    ))
}

pub(super) fn patch_waitlist_entry(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, _) = course_for_manager(ctx, "course_key", "admin")?;
    let user = learner(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["position"]);
    let position = f.required("position", http::as_int);
    f.finish()?;
    let position = position.expect("checked by finish");
    ctx.app.db.write(|c| lifecycle::move_in_waitlist(c, &course, &user, position))?;
    let list = ctx.app.db.read(|c| lifecycle::waitlist(c, &course))?;
    Ok(ok(json!({"course_key": course.record.course_key, "count": list.len(),
        "results": list.iter().map(entry_json).collect::<Vec<_>>()})))
}

pub(super) fn delete_waitlist_entry(ctx: &mut Ctx) -> Result<Response, Error> {
    let (course, requester) = course_for_manager(ctx, "course_key", "admin")?;
    let user = learner(ctx)?;
    let change = change(&requester);
    ctx.app.db.write(|c| lifecycle::leave_waitlist(c, &course, &user, &change, ctx.now))?;
    Ok(no_content())
}
