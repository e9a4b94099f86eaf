//! `/api/admin/v1/…`: the school admin's catalog, users and OAuth clients. Superusers and
//! global staff only; errors in the v2 format (DESIGN.md "Error dialects").

use super::errors::Dialect;
use super::http::{self, as_bool, as_int, as_string, as_timestamp, created, no_content, ok, Ctx, Fields, Page};
use super::router::{Doc, Route};
use crate::auth;
use crate::core::accounts::{self, Actor, NewUser, UserChanges};
use crate::core::catalog::{self, Course, CourseFields, Mode, Removal};
use crate::core::Error;
use crate::domain::{CourseKey, Currency, Email, Money, Timestamp, Username};
use crate::store::users::{Profile, UserRecord};
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::V2, handler, doc };
    let doc = |summary, request, status, response| Doc {
        summary,
        tag: "admin",
        auth: true,
        request,
        status,
        response,
        query: &[],
    };
    let paged: &'static [(&str, &str)] = &[("page", "1-based page number"), ("page_size", "items per page (max 100)")];
    vec![
        r(
            "GET",
            "/api/admin/v1/courses",
            get_courses,
            Doc { query: paged, ..doc("List every course, published or not", None, 200, Some("AdminCoursePage")) },
        ),
        r(
            "POST",
            "/api/admin/v1/courses",
            post_courses,
            doc("Create a course", Some("AdminCourseInput"), 201, Some("AdminCourse")),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}",
            get_course,
            doc("Get one course", None, 200, Some("AdminCourse")),
        ),
        r(
            "PATCH",
            "/api/admin/v1/courses/{course_key}",
            patch_course,
            doc(
                "Change some of a course's fields (modes, when given, are replaced)",
                Some("AdminCourseInput"),
                200,
                Some("AdminCourse"),
            ),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}",
            delete_course,
            Doc {
                query: &[("purge", "true: delete a course that never had an enrollment, instead of unpublishing it")],
                ..doc("Unpublish a course", None, 204, None)
            },
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/modes",
            get_modes,
            doc("List a course's modes", None, 200, Some("CourseModeList")),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/modes",
            post_modes,
            doc("Add or replace a mode", Some("CourseMode"), 201, Some("CourseModeList")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}/modes/{slug}",
            delete_mode,
            doc("Remove a mode", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/courses/{course_key}/staff",
            get_staff,
            doc("List the course's instructors and staff", None, 200, Some("CourseStaffList")),
        ),
        r(
            "POST",
            "/api/admin/v1/courses/{course_key}/staff",
            post_staff,
            doc("Grant a course role", Some("CourseStaffInput"), 201, Some("CourseStaffList")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/courses/{course_key}/staff",
            delete_staff,
            doc(
                "Revoke a course role (all of the user's roles when `role` is omitted)",
                Some("CourseStaffInput"),
                204,
                None,
            ),
        ),
        r(
            "GET",
            "/api/admin/v1/users",
            get_users,
            Doc { query: paged, ..doc("List users", None, 200, Some("AdminUserPage")) },
        ),
        r(
            "POST",
            "/api/admin/v1/users",
            post_users,
            doc("Create a user", Some("AdminUserInput"), 201, Some("AdminUser")),
        ),
        r("GET", "/api/admin/v1/users/{username}", get_user, doc("Get one user", None, 200, Some("AdminUser"))),
        r(
            "PATCH",
            "/api/admin/v1/users/{username}",
            patch_user,
            doc("Change a user", Some("AdminUserInput"), 200, Some("AdminUser")),
        ),
        r(
            "DELETE",
            "/api/admin/v1/users/{username}",
            delete_user,
            doc("Deactivate a user (the account is kept)", None, 200, Some("AdminUser")),
        ),
        r(
            "GET",
            "/api/admin/v1/oauth-clients",
            get_clients,
            doc("List OAuth clients (secrets are never shown again)", None, 200, Some("OAuthClientList")),
        ),
        r(
            "POST",
            "/api/admin/v1/oauth-clients",
            post_clients,
            doc(
                "Create an OAuth client acting as a user; the secret is shown once",
                Some("OAuthClientInput"),
                201,
                Some("OAuthClientCreated"),
            ),
        ),
        r(
            "DELETE",
            "/api/admin/v1/oauth-clients/{client_id}",
            delete_client,
            doc("Delete a client; its tokens stop working", None, 204, None),
        ),
        r(
            "GET",
            "/api/admin/v1/outbox",
            get_outbox,
            Doc {
                query: &[
                    ("status", "pending, sent or failed"),
                    ("before", "id to page from (newest first)"),
                    ("page_size", "at most 100"),
                ],
                ..doc("Outgoing emails and their delivery state", None, 200, Some("OutboxPage"))
            },
        ),
        r(
            "POST",
            "/api/admin/v1/outbox/{id}/retry",
            post_outbox_retry,
            doc("Deliver a pending or failed email again now", None, 200, Some("OutboxMessage")),
        ),
    ]
}

/// Superuser or global staff, within the admin rate limit.
fn admin(ctx: &mut Ctx) -> Result<Actor, Error> {
    let caller = ctx.caller()?;
    if !caller.is_global_staff() {
        return Err(Error::forbidden("Only superusers and global staff may use the admin API."));
    }
    let actor = Actor { is_superuser: caller.is_superuser() };
    let key = caller.key();
    ctx.throttle(&ctx.app.auth.limits.admin, &key)?;
    Ok(actor)
}

fn course_key(ctx: &Ctx) -> Result<CourseKey, Error> {
    CourseKey::parse(ctx.param("course_key")).map_err(|e| Error::field("course_key", e.0))
}

fn iso(t: Option<i64>) -> Value {
    t.map(|t| json!(Timestamp::from_unix(t).to_iso())).unwrap_or(Value::Null)
}

fn money(minor: i64, currency: &str) -> String {
    Currency::parse(currency).map(|c| Money::from_minor(minor, c).amount_string()).unwrap_or_else(|_| minor.to_string())
}

fn mode_json(m: &crate::store::courses::ModeRecord) -> Value {
    json!({
        "slug": m.slug, "name": m.name, "min_price": money(m.min_price_minor, &m.currency), "currency": m.currency,
        "expiration_datetime": iso(m.expiration_datetime), "description": m.description, "sku": m.sku,
    })
}

fn course_json(c: &Course) -> Value {
    let r = &c.record;
    json!({
        "course_key": r.course_key, "code": r.code, "title": r.title, "level": r.level, "duration_hours": r.duration_hours,
        "price": money(r.price_minor, &r.currency), "currency": r.currency,
        "start": iso(r.start), "end": iso(r.end), "enrollment_start": iso(r.enrollment_start), "enrollment_end": iso(r.enrollment_end),
        "invitation_only": r.invitation_only, "max_enrollments": r.max_enrollments, "self_paced": r.self_paced,
        "published": r.published, "modes": c.modes.iter().map(mode_json).collect::<Vec<_>>(),
        "created": iso(Some(r.created)), "updated": iso(Some(r.updated)),
    })
}

const COURSE_FIELDS: [&str; 15] = [
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
];

fn parse_mode(v: &Value, default_currency: Currency) -> Result<Mode, String> {
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
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let expiration = match o.get("expiration_datetime") {
        None | Some(Value::Null) => None,
        Some(v) => Some(as_timestamp(v)?),
    };
    let name = text("name").unwrap_or_else(|| {
        let mut chars = slug.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
    });
    Ok(Mode { slug, name, min_price, expiration, description: text("description"), sku: text("sku") })
}

/// A price as "299.00" or a whole number; never a float (rounding would lose cents).
fn parse_money(v: &Value, currency: Currency) -> Result<Money, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return Err("must be a decimal string such as \"299.00\"".into()),
    };
    Money::parse(&text, currency).map_err(|e| e.0)
}

/// One parser for create and PATCH: absent fields stay `None`.
fn parse_course_fields(body: &Value) -> Result<(Option<CourseKey>, CourseFields), Error> {
    let mut f = Fields::of(body)?;
    let mut known = COURSE_FIELDS.to_vec();
    known.push("modes");
    f.reject_unknown(&known);
    let key = f.get("course_key", |v| CourseKey::parse(&as_string(v)?).map_err(|e| e.0)).flatten();
    let currency = f.get("currency", |v| Currency::parse(&as_string(v)?).map_err(|e| e.0)).flatten();
    let price_currency = currency.unwrap_or(Currency::USD);
    let text = |f: &mut Fields, name: &str| f.get(name, as_string);
    let fields = CourseFields {
        code: text(&mut f, "code"),
        title: f.required_value("title", as_string),
        level: text(&mut f, "level"),
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
    };
    if currency.is_some() && !f.has("price") {
        f.fail("currency", "Give currency together with price.");
    }
    f.finish()?;
    Ok((key, fields))
}

fn get_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let page = Page::from_query(ctx, 25, 100)?;
    let (total, courses) = ctx.app.db.snapshot(|c| catalog::list(c, false, page.offset(), page.size))?;
    let body = page.body(ctx, total, courses.iter().map(course_json).collect())?;
    Ok(http::with_link_header(ok(body.clone()), &body))
}

fn post_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let (key, fields) = parse_course_fields(&ctx.json_body()?)?;
    let key = key.ok_or_else(|| Error::field("course_key", "course_key is required."))?;
    if fields.title.is_none() {
        return Err(Error::field("title", "title is required."));
    }
    let course = ctx.app.db.write(|c| catalog::create(c, &key, &fields, ctx.now))?;
    Ok(created(course_json(&course)))
}

fn get_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    Ok(ok(course_json(&ctx.app.db.read(|c| catalog::course(c, &key))?)))
}

fn patch_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (new_key, fields) = parse_course_fields(&ctx.json_body()?)?;
    if new_key.is_some_and(|k| k != key) {
        return Err(Error::field("course_key", "A course key cannot be changed."));
    }
    Ok(ok(course_json(&ctx.app.db.write(|c| catalog::update(c, &key, &fields, ctx.now))?)))
}

fn delete_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let purge = ctx.query_param("purge").is_some_and(|v| v == "true" || v == "1");
    match ctx.app.db.write(|c| catalog::remove(c, &key, purge, ctx.now))? {
        Removal::Unpublished | Removal::Deleted => Ok(no_content()),
    }
}

fn modes_json(course: &Course) -> Value {
    json!({"course_key": course.record.course_key, "modes": course.modes.iter().map(mode_json).collect::<Vec<_>>()})
}

fn get_modes(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    Ok(ok(modes_json(&ctx.app.db.read(|c| catalog::course(c, &key))?)))
}

fn post_modes(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let body = ctx.json_body()?;
    let course = ctx.app.db.write(|c| {
        let currency = Currency::parse(&catalog::course(c, &key)?.record.currency).unwrap_or(Currency::USD);
        let mode = parse_mode(&body, currency).map_err(|m| Error::field("mode", m))?;
        catalog::put_mode(c, &key, &mode)
    })?;
    Ok(created(modes_json(&course)))
}

fn delete_mode(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let slug = ctx.param("slug").to_owned();
    ctx.app.db.write(|c| catalog::delete_mode(c, &key, &slug))?;
    Ok(no_content())
}

fn staff_json(key: &CourseKey, roles: &[crate::store::courses::RoleRecord]) -> Value {
    json!({
        "course_key": key.as_str(),
        "staff": roles.iter().map(|r| json!({"username": r.username, "email": r.email, "role": r.role, "created": iso(Some(r.created))})).collect::<Vec<_>>(),
    })
}

fn get_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let roles = ctx.app.db.read(|c| catalog::staff(c, &key))?;
    Ok(ok(staff_json(&key, &roles)))
}

fn staff_input(ctx: &Ctx, role_required: bool) -> Result<(Username, Option<String>), Error> {
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["username", "role"]);
    let username = f.required("username", |v| Username::parse(&as_string(v)?).map_err(|e| e.0));
    let role = if role_required { f.required("role", as_string) } else { f.get("role", as_string).flatten() };
    f.finish()?;
    Ok((username.expect("checked by finish"), role))
}

fn post_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (username, role) = staff_input(ctx, true)?;
    let role = role.unwrap_or_default();
    let roles = ctx.app.db.write(|c| catalog::grant_role(c, &key, &username, &role, ctx.now))?;
    Ok(created(staff_json(&key, &roles)))
}

fn delete_staff(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let key = course_key(ctx)?;
    let (username, role) = staff_input(ctx, false)?;
    ctx.app.db.write(|c| catalog::revoke_role(c, &key, &username, role.as_deref()))?;
    Ok(no_content())
}

fn user_json(u: &UserRecord) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "name": u.name, "first_name": u.first_name, "last_name": u.last_name,
        "is_staff": u.is_staff, "is_superuser": u.is_superuser, "is_active": u.is_active,
        "date_joined": iso(Some(u.date_joined)), "last_login": iso(u.last_login),
    })
}

const USER_FIELDS: [&str; 9] =
    ["username", "email", "name", "first_name", "last_name", "password", "is_staff", "is_superuser", "is_active"];

fn check_password(p: String) -> Result<String, String> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err("must be 8 to 1024 characters".into());
    }
    Ok(p)
}

fn get_users(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let page = Page::from_query(ctx, 25, 100)?;
    let (total, users) = ctx.app.db.snapshot(|c| accounts::list_users(c, page.offset(), page.size))?;
    let body = page.body(ctx, total, users.iter().map(user_json).collect())?;
    Ok(http::with_link_header(ok(body.clone()), &body))
}

fn post_users(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&USER_FIELDS);
    let username = f.required("username", |v| Username::parse(&as_string(v)?).map_err(|e| e.0));
    let email = f.required("email", |v| Email::parse(&as_string(v)?).map_err(|e| e.0));
    let password = f.get("password", |v| check_password(as_string(v)?)).flatten();
    let text = |f: &mut Fields, n: &str| f.get(n, as_string).flatten().unwrap_or_default();
    let (name, first_name, last_name) = (text(&mut f, "name"), text(&mut f, "first_name"), text(&mut f, "last_name"));
    let flag = |f: &mut Fields, n: &str, d: bool| f.required_value(n, as_bool).unwrap_or(d);
    let (is_staff, is_superuser, is_active) =
        (flag(&mut f, "is_staff", false), flag(&mut f, "is_superuser", false), flag(&mut f, "is_active", true));
    f.finish()?;
    let password_hash = password.map(|p| ctx.app.auth.passwords.hash(&p));
    let new = NewUser {
        username: username.expect("checked"),
        email: email.expect("checked"),
        password_hash,
        name,
        first_name,
        last_name,
        profile: Profile::default(),
        is_active,
        is_staff,
        is_superuser,
    };
    let user = ctx.app.db.write(|c| accounts::create_user(c, &actor, new, ctx.now))?;
    Ok(created(user_json(&user)))
}

fn username_param(ctx: &Ctx) -> Result<Username, Error> {
    Username::parse(ctx.param("username"))
        .map_err(|_| Error::not_found(format!("The user {} does not exist.", ctx.param("username"))))
}

fn get_user(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let username = username_param(ctx)?;
    Ok(ok(user_json(&ctx.app.db.read(|c| accounts::user_by_username(c, username.as_str()))?)))
}

fn patch_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let username = username_param(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&USER_FIELDS);
    if f.has("username") {
        f.fail("username", "A username cannot be changed.");
    }
    let password = f.required_value("password", |v| check_password(as_string(v)?));
    let changes = UserChanges {
        email: f.required_value("email", |v| Email::parse(&as_string(v)?).map_err(|e| e.0)),
        password_hash: None,
        name: f.required_value("name", as_string),
        first_name: f.required_value("first_name", as_string),
        last_name: f.required_value("last_name", as_string),
        is_active: f.required_value("is_active", as_bool),
        is_staff: f.required_value("is_staff", as_bool),
        is_superuser: f.required_value("is_superuser", as_bool),
    };
    f.finish()?;
    let changes = UserChanges { password_hash: password.map(|p| ctx.app.auth.passwords.hash(&p)), ..changes };
    let user = ctx.app.db.write(|c| accounts::update_user(c, &actor, &username, changes, ctx.now))?;
    Ok(ok(user_json(&user)))
}

fn delete_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let username = username_param(ctx)?;
    if ctx.caller()?.user().is_some_and(|u| u.username == username.as_str()) {
        return Err(Error::validation("You cannot deactivate your own account."));
    }
    let changes = UserChanges { is_active: Some(false), ..UserChanges::default() };
    let user = ctx.app.db.write(|c| accounts::update_user(c, &actor, &username, changes, ctx.now))?;
    Ok(ok(user_json(&user)))
}

fn client_json(c: &crate::store::clients::ClientRecord) -> Value {
    json!({"client_id": c.client_id, "name": c.name, "user": c.username, "created": iso(Some(c.created))})
}

fn get_clients(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let clients = ctx.app.db.read(crate::store::clients::list)?;
    Ok(ok(json!({"results": clients.iter().map(client_json).collect::<Vec<_>>()})))
}

fn post_clients(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["name", "user"]);
    let name = f.required("name", as_string);
    let user = f.required("user", as_string);
    f.finish()?;
    let (name, user) = (name.expect("checked"), user.expect("checked"));
    let client = ctx.app.db.write(|c| {
        let target = accounts::user_by_username(c, &user).map_err(|e| Error::field("user", e.developer_message))?;
        if (target.is_superuser || target.is_staff) && !actor.is_superuser {
            return Err(Error::forbidden("Only a superuser may create clients acting as staff or superusers."));
        }
        auth::clients::create(c, &name, &user, ctx.now.unix())
    })?;
    let mut body = client_json(&client.record);
    body["client_secret"] = json!(client.client_secret);
    Ok(created(body))
}

fn delete_client(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let client_id = ctx.param("client_id").to_owned();
    if !ctx.app.db.write(|c| crate::store::clients::delete(c, &client_id))? {
        return Err(Error::not_found(format!("No OAuth client '{client_id}' exists.")));
    }
    Ok(no_content())
}

fn outbox_json(m: &crate::store::outbox::MessageRecord) -> Value {
    json!({
        "id": m.id, "channel": m.channel, "message_type": m.message_type, "recipient": m.recipient,
        "payload": serde_json::from_str::<Value>(&m.payload).unwrap_or(Value::Null), "status": m.status, "attempts": m.attempts,
        "last_error": m.last_error, "next_attempt_at": iso(Some(m.next_attempt_at)), "created": iso(Some(m.created)), "sent_at": iso(m.sent_at),
    })
}

fn get_outbox(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let status = ctx.query_param("status");
    let number = |name: &str| -> Result<Option<i64>, Error> {
        ctx.query_param(name)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| Error::field(name, format!("{name} must be a positive whole number.")))
            })
            .transpose()
    };
    let before = number("before")?;
    let size = number("page_size")?.unwrap_or(25).min(100);
    let (count, messages) = ctx.app.db.snapshot(|c| crate::core::outbox::list(c, status.as_deref(), before, size))?;
    let next = match messages.last() {
        Some(last) if messages.len() as i64 == size => {
            let mut url = format!("{}/api/admin/v1/outbox?before={}&page_size={size}", ctx.app.base_url, last.id);
            if let Some(s) = &status {
                url.push_str(&format!("&status={}", http::percent_encode(s)));
            }
            json!(url)
        }
        _ => Value::Null,
    };
    let body = json!({"count": count, "next": next, "results": messages.iter().map(outbox_json).collect::<Vec<_>>()});
    Ok(http::with_link_header(ok(body.clone()), &body))
}

fn post_outbox_retry(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let id: i64 =
        ctx.param("id").parse().map_err(|_| Error::not_found(format!("No outbox message {}.", ctx.param("id"))))?;
    let message = ctx.app.db.write(|c| crate::core::outbox::retry(c, id, ctx.now))?;
    ctx.app.jobs.wake();
    Ok(ok(outbox_json(&message)))
}
