//! `/api/admin/v1/courses…`: the catalog, its modes and course staff.

use super::super::http::{
    self, as_bool, as_int, as_string, as_text, as_timestamp, created, no_content, ok, Ctx, Fields, Page,
};
use super::money;
use super::{admin, iso};
use crate::core::catalog::{self, Course, CourseFields, Mode, Removal};
use crate::core::Error;
use crate::domain::{CourseCode, CourseKey, Currency, Label, Money, Title, Username};
use rouille::Response;
use serde_json::{json, Value};

pub(super) fn course_key(ctx: &Ctx) -> Result<CourseKey, Error> {
    CourseKey::parse(ctx.param("course_key")).map_err(|e| Error::field("course_key", e.0))
}

pub(super) fn mode_json(m: &crate::core::records::ModeRecord) -> Value {
    json!({
        "slug": m.slug, "name": m.name, "min_price": money(m.min_price_minor, &m.currency), "currency": m.currency,
        "expiration_datetime": iso(m.expiration_datetime), "description": m.description, "sku": m.sku,
    })
}

pub(super) fn course_json(c: &Course) -> Value {
    let r = &c.record;
    json!({
        "course_key": r.course_key, "code": r.code, "title": r.title, "level": r.level, "duration_hours": r.duration_hours,
        "price": money(r.price_minor, &r.currency), "currency": r.currency,
        "start": iso(r.start), "end": iso(r.end), "enrollment_start": iso(r.enrollment_start), "enrollment_end": iso(r.enrollment_end),
        "invitation_only": r.invitation_only, "max_enrollments": r.max_enrollments, "self_paced": r.self_paced,
        "published": r.published, "modes": c.modes.iter().map(mode_json).collect::<Vec<_>>(),
        "access_days": r.access_days, "expiry_action": r.expiry_action, "expiry_notice_days": r.expiry_notice_days,
        "waitlist": r.waitlist, "waitlist_limit": r.waitlist_limit, "suspended_holds_seat": r.suspended_holds_seat,
        "created": iso(Some(r.created)), "updated": iso(Some(r.updated)),
    })
}

const COURSE_FIELDS: [&str; 21] = [
    "course_key",
    "code",
    "title",
    "level",
    "duration_hours",
    "price",
    "currency",
    "start",
    "end",
    "enrollment_start",
    "enrollment_end",
    "invitation_only",
    "max_enrollments",
    "self_paced",
    "published",
    "access_days",
    "expiry_action",
    "expiry_notice_days",
    "waitlist",
    "waitlist_limit",
    "suspended_holds_seat",
];

pub(super) fn parse_mode(v: &Value, default_currency: Currency) -> Result<Mode, String> {
    let o = v.as_object().ok_or("each mode must be an object")?;
    let slug = o.get("slug").and_then(Value::as_str).ok_or("each mode needs a slug")?.to_owned();
    if slug.is_empty() || slug.len() > 100 || !slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("mode slug '{slug}' must be 1 to 100 letters, digits, '-' or '_'"));
    }
    let currency = match o.get("currency").and_then(Value::as_str) {
        Some(c) => Currency::parse(c).map_err(|e| e.0)?,
        None => default_currency,
    };
    let min_price = match o.get("min_price") {
        None | Some(Value::Null) => Money::zero(currency),
        Some(p) => parse_money(p, currency)?,
    };
    let text = |k: &str| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => as_text::<Title>(v).map(Some).map_err(|e| format!("{k}: {e}")),
        }
    };
    let expiration = match o.get("expiration_datetime") {
        None | Some(Value::Null) => None,
        Some(v) => Some(as_timestamp(v)?),
    };
    let name = text("name")?.unwrap_or_else(|| {
        let mut chars = slug.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
    });
    Ok(Mode { slug, name, min_price, expiration, description: text("description")?, sku: text("sku")? })
}

/// A price as "299.00" or a whole number; never a float (rounding would lose cents).
pub(super) fn parse_money(v: &Value, currency: Currency) -> Result<Money, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return Err("must be a decimal string such as \"299.00\"".into()),
    };
    Money::parse(&text, currency).map_err(|e| e.0)
}

/// One parser for create and PATCH: absent fields stay `None`.
pub fn parse_course_fields(body: &Value) -> Result<(Option<CourseKey>, CourseFields), Error> {
    let mut f = Fields::of(body)?;
    let mut known = COURSE_FIELDS.to_vec();
    known.push("modes");
    f.reject_unknown(&known);
    let key = f.get("course_key", |v| CourseKey::parse(&as_string(v)?).map_err(|e| e.0)).flatten();
    let currency = f.get("currency", |v| Currency::parse(&as_string(v)?).map_err(|e| e.0)).flatten();
    let price_currency = currency.unwrap_or(Currency::USD);
    let fields = CourseFields {
        code: f.get("code", as_text::<CourseCode>),
        title: f.required_value("title", as_text::<Title>),
        level: f.get("level", as_text::<Label>),
        duration_hours: f.get("duration_hours", as_int),
        price: f.required_value("price", |v| parse_money(v, price_currency)),
        start: f.get("start", as_timestamp),
        end: f.get("end", as_timestamp),
        enrollment_start: f.get("enrollment_start", as_timestamp),
        enrollment_end: f.get("enrollment_end", as_timestamp),
        invitation_only: f.required_value("invitation_only", as_bool),
        max_enrollments: f.get("max_enrollments", as_int),
        self_paced: f.required_value("self_paced", as_bool),
        published: f.required_value("published", as_bool),
        modes: f.required_value("modes", |v| {
            v.as_array().ok_or("must be a list of modes")?.iter().map(|m| parse_mode(m, price_currency)).collect()
        }),
        access_days: f.get("access_days", as_int),
        expiry_action: f.required_value("expiry_action", as_string),
        expiry_notice_days: f.get("expiry_notice_days", as_int),
        waitlist: f.required_value("waitlist", as_bool),
        waitlist_limit: f.get("waitlist_limit", as_int),
        suspended_holds_seat: f.required_value("suspended_holds_seat", as_bool),
    };
    if currency.is_some() && !f.has("price") {
        f.fail("currency", "Give currency together with price.");
    }
    f.finish()?;
    Ok((key, fields))
}

pub(super) fn get_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let page = Page::from_query(ctx, 25, 100)?;
    let (total, courses) = catalog::courses_page(&ctx.app.db, false, page.offset(), page.size)?;
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
    let course = catalog::create_course(&ctx.app.db, &key, &fields, ctx.now)?;
    Ok(created(course_json(&course)))
}

pub(super) fn get_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    Ok(ok(course_json(&catalog::show_course(&ctx.app.db, &key)?)))
}

pub(super) fn patch_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (new_key, fields) = parse_course_fields(&ctx.json_body()?)?;
    if new_key.is_some_and(|k| k != key) {
        return Err(Error::field("course_key", "A course key cannot be changed."));
    }
    Ok(ok(course_json(&catalog::update_course(&ctx.app.db, &key, &fields, ctx.now)?)))
}

pub(super) fn delete_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let purge = ctx.query_param("purge").is_some_and(|v| v == "true" || v == "1");
    match catalog::remove_course(&ctx.app.db, &key, purge, ctx.now)? {
        Removal::Unpublished | Removal::Deleted => Ok(no_content()),
    }
}

pub(super) fn modes_json(course: &Course) -> Value {
    json!({"course_key": course.record.course_key, "modes": course.modes.iter().map(mode_json).collect::<Vec<_>>()})
}

pub(super) fn get_modes(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    Ok(ok(modes_json(&catalog::show_course(&ctx.app.db, &key)?)))
}

pub(super) fn post_modes(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let body = ctx.json_body()?;
    let course = catalog::add_mode(&ctx.app.db, &key, |currency| {
        parse_mode(&body, currency).map_err(|m| Error::field("mode", m))
    })?;
    Ok(created(modes_json(&course)))
}

pub(super) fn delete_mode(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let slug = ctx.param("slug").to_owned();
    catalog::remove_mode(&ctx.app.db, &key, &slug)?;
    Ok(no_content())
}

pub(super) fn staff_json(key: &CourseKey, roles: &[crate::core::records::RoleRecord]) -> Value {
    json!({
        "course_key": key.as_str(),
        "staff": roles.iter().map(|r| json!({"username": r.username, "email": r.email, "role": r.role, "created": iso(Some(r.created))})).collect::<Vec<_>>(),
    })
}

pub(super) fn get_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let roles = catalog::course_staff(&ctx.app.db, &key)?;
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
    let roles = catalog::grant_course_role(&ctx.app.db, &key, &username, &role, ctx.now)?;
    Ok(created(staff_json(&key, &roles)))
}

pub(super) fn delete_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (username, role) = staff_input(ctx, false)?;
    catalog::revoke_course_role(&ctx.app.db, &key, &username, role.as_deref())?;
    Ok(no_content())
}
