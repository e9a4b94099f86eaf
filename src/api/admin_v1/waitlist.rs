//! `/api/admin/v1/courses/{course_key}/waitlist…` and `…/enrollments/{username}` (PATCH):
//! staff list, add, reorder and remove waiting learners, and change one enrollment's
//! status and access dates. Course staff of the course, global staff and service clients,
//! as the v2 roster. The PATCH body and view are `shared`'s (the v2 API's PATCH answers alike).

use super::super::http::{self, no_content, ok, Ctx, Fields};
use super::super::shared::{course_and_manager, enrollment_json, parse_lifecycle_patch};
use crate::core::bulk::Requester;
use crate::core::catalog::Course;
use crate::core::enrollment::Change;
use crate::core::lifecycle::{self, LearnerName};
use crate::core::roster::WaitlistEntry;
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

/// The surface an admin waitlist or enrollment change is recorded under.
const SURFACE: &str = "admin";

/// The change a staff member's waitlist or enrollment edit records (the console's too).
pub fn change(requester: &Requester) -> Change<'_> {
    requester.change()
}

fn entry_json(e: &WaitlistEntry) -> Value {
    json!({"username": e.username, "email": e.email, "position": e.position, "mode": e.mode,
        "access_start": e.access_start, "access_end": e.access_end, "created": e.created})
}

fn waitlist_json(course: &Course, list: &[WaitlistEntry]) -> Value {
    json!({"course_key": course.key, "count": list.len(),
        "results": list.iter().map(entry_json).collect::<Vec<_>>()})
}

/// A body of one required field and nothing else.
fn one_field<T>(ctx: &Ctx, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Result<T, Error> {
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&[name]);
    let value = f.required(name, parse);
    f.finish()?;
    Ok(value.expect("checked by finish"))
}

pub(super) fn patch_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let username = ctx.param("username").to_owned();
    let patch = ctx.json_body().and_then(|body| parse_lifecycle_patch(&body));
    let learner = LearnerName::Username(&username);
    let enrollment = lifecycle::update_enrollment_as_manager(ctx.env, &key, &caller, SURFACE, learner, patch, ctx.now)?;
    Ok(ok(enrollment_json(&enrollment, ctx.now)))
}

pub(super) fn get_waitlist(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let (course, list) = lifecycle::managed_waitlist(&ctx.env.db, &key, &caller)?;
    Ok(ok(waitlist_json(&course, &list)))
}

pub(super) fn post_waitlist(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let username = one_field(ctx, "username", http::as_string);
    let (user, outcome) = lifecycle::add_to_waitlist_as_manager(ctx.env, &key, &caller, SURFACE, username, ctx.now)?;
    Ok(http::json(
        201,
        &json!({"username": user.username, "waitlist_position": outcome.after.waitlist_position, "enrolled": outcome.after.enrollment}),
    ))
}

pub(super) fn patch_waitlist_entry(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let username = ctx.param("username").to_owned();
    let position = one_field(ctx, "position", http::as_int);
    let (course, list) = lifecycle::move_in_waitlist_as_manager(&ctx.env.db, &key, &caller, &username, position)?;
    Ok(ok(waitlist_json(&course, &list)))
}

pub(super) fn delete_waitlist_entry(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_key")?;
    let username = ctx.param("username").to_owned();
    lifecycle::leave_waitlist_as_manager(&ctx.env.db, &key, &caller, SURFACE, &username, ctx.now)?;
    Ok(no_content())
}
