//! `/api/admin/v1/courses…`: the catalog, its modes and course staff.

use super::super::http::{self, as_string, created, no_content, ok, Ctx, Fields, Page};
use super::admin;
use crate::core::catalog::{self, Course, Removal};
use crate::core::course_definition::{parse_course_fields, parse_mode};
use crate::core::Error;
use crate::domain::{CourseKey, Username};
use rouille::Response;
use serde_json::{json, Value};

pub(super) fn course_key(ctx: &Ctx) -> Result<CourseKey, Error> {
    CourseKey::parse(ctx.param("course_key")).map_err(|e| Error::field("course_key", e.0))
}

pub(super) fn mode_json(m: &catalog::Mode) -> Value {
    json!({
        "slug": m.slug, "name": m.name, "min_price": m.min_price.amount_string(), "currency": m.min_price.currency().as_str(),
        "expiration_datetime": m.expiration, "description": m.description, "sku": m.sku,
    })
}

pub(super) fn course_json(c: &Course) -> Value {
    json!({
        "course_key": c.key, "code": c.code, "title": c.title, "level": c.level, "duration_hours": c.duration_hours,
        "price": c.price.amount_string(), "currency": c.price.currency().as_str(),
        "start": c.start, "end": c.end, "enrollment_start": c.enrollment_start, "enrollment_end": c.enrollment_end,
        "invitation_only": c.invitation_only, "max_enrollments": c.max_enrollments, "self_paced": c.self_paced,
        "published": c.published, "modes": c.modes.iter().map(mode_json).collect::<Vec<_>>(),
        "access_days": c.access_days, "expiry_action": c.expiry_action, "expiry_notice_days": c.expiry_notice_days,
        "waitlist": c.waitlist, "waitlist_limit": c.waitlist_limit, "suspended_holds_seat": c.suspended_holds_seat,
        "created": c.created, "updated": c.updated,
    })
}

pub(super) fn get_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let page = Page::from_query(ctx, 25, 100)?;
    let (total, courses) = catalog::courses_page(&ctx.env.db, false, page.offset(), page.size)?;
    let body = page.body(ctx, total, courses.iter().map(course_json).collect())?;
    Ok(http::with_link_header(ok(body.clone()), &body))
}

pub(super) fn post_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let (key, fields) = parse_course_fields(&ctx.json_body()?)?;
    let key = key.ok_or_else(|| Error::field("course_key", "course_key is required."))?;
    if fields.title.is_none() {
        return Err(Error::field("title", "title is required."));
    }
    let course = catalog::create_course(&ctx.env.db, &key, &fields, ctx.now)?;
    Ok(created(course_json(&course)))
}

pub(super) fn get_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    Ok(ok(course_json(&catalog::show_course(&ctx.env.db, &key)?)))
}

pub(super) fn patch_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (new_key, fields) = parse_course_fields(&ctx.json_body()?)?;
    if new_key.is_some_and(|k| k != key) {
        return Err(Error::field("course_key", "A course key cannot be changed."));
    }
    Ok(ok(course_json(&catalog::update_course(&ctx.env.db, &key, &fields, ctx.now)?)))
}

pub(super) fn delete_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let purge = ctx.query_param("purge").is_some_and(|v| v == "true" || v == "1");
    match catalog::remove_course(&ctx.env.db, &key, purge, ctx.now)? {
        Removal::Unpublished | Removal::Deleted => Ok(no_content()),
    }
}

pub(super) fn modes_json(course: &Course) -> Value {
    json!({"course_key": course.key, "modes": course.modes.iter().map(mode_json).collect::<Vec<_>>()})
}

pub(super) fn get_modes(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    Ok(ok(modes_json(&catalog::show_course(&ctx.env.db, &key)?)))
}

pub(super) fn post_modes(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let body = ctx.json_body()?;
    let course = catalog::add_mode(&ctx.env.db, &key, |currency| {
        parse_mode(&body, currency).map_err(|m| Error::field("mode", m))
    })?;
    Ok(created(modes_json(&course)))
}

pub(super) fn delete_mode(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let slug = ctx.param("slug").to_owned();
    catalog::remove_mode(&ctx.env.db, &key, &slug)?;
    Ok(no_content())
}

pub(super) fn staff_json(key: &CourseKey, roles: &[catalog::StaffMember]) -> Value {
    json!({
        "course_key": key.as_str(),
        "staff": roles.iter().map(|r| json!({"username": r.username, "email": r.email, "role": r.role, "created": r.created})).collect::<Vec<_>>(),
    })
}

pub(super) fn get_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let roles = catalog::course_staff(&ctx.env.db, &key)?;
    Ok(ok(staff_json(&key, &roles)))
}

pub(super) fn staff_input(ctx: &Ctx, role_required: bool) -> Result<(Username, Option<String>), Error> {
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["username", "role"]);
    let username = f.required("username", |v| Username::existing(&as_string(v)?).map_err(|e| e.0));
    let role = if role_required { f.required("role", as_string) } else { f.get("role", as_string).flatten() };
    f.finish()?;
    Ok((username.expect("checked by finish"), role))
}

pub(super) fn post_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (username, role) = staff_input(ctx, true)?;
    let role = role.unwrap_or_default();
    let roles = catalog::grant_course_role(&ctx.env.db, &key, &username, &role, ctx.now)?;
    Ok(created(staff_json(&key, &roles)))
}

pub(super) fn delete_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (username, role) = staff_input(ctx, false)?;
    catalog::revoke_course_role(&ctx.env.db, &key, &username, role.as_deref())?;
    Ok(no_content())
}
