//! `/api/enrollment/v1/…`: Open edX's LMS v1 enrollment API, as integrations written for
//! Open edX call it (edx-platform's enrollment views; the
//! requests of the WooCommerce integration are what its tests send). Errors are `{"message": …}`; statuses
//! and messages are Open edX's, with an `error_code` added where Open edX lumps causes.

use super::errors::Dialect;
use super::http::{json, ok, Ctx};
use super::router::{Doc, Route};
use crate::core::catalog::{self, Course};
use crate::core::enrollment::{
    self as core_enrollment, Access, Change, LmsEnrollOutcome, LmsEnrollRequest, NamedLearner, Source,
};
use crate::core::roster::{self, ListFilter};
use crate::core::Error;
use crate::domain::{CourseKey, Email, Timestamp, Username};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "lms-v1",
        auth: true,
        request,
        status: 200,
        response,
        query: &[],
    };
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::LmsV1, handler, doc };
    vec![
        r("GET", "/api/enrollment/v1/enrollment", get_enrollment_list,
            Doc { query: &[("user", "username (default: the caller)")], ..doc("A user's active enrollments (an array)", None, Some("V1EnrollmentList")) }),
        r("POST", "/api/enrollment/v1/enrollment", post_enrollment,
            doc("Enroll, change mode or (staff, with is_active=false) unenroll; 200 with the existing enrollment on a duplicate", Some("V1EnrollmentRequest"), Some("V1Enrollment"))),
        r("GET", "/api/enrollment/v1/enrollment/{username_and_course_id}", get_enrollment,
            doc("One enrollment: `{username},{course_id}` or `{course_id}` for the caller; JSON null when there is none", None, Some("V1EnrollmentOrNull"))),
        Route { method: "GET", path: "/api/enrollment/v1/enrollments", dialect: Dialect::Developer, handler: get_enrollments,
            doc: Doc { query: &[("course_id", "one course key"), ("course_ids", "comma-separated, substring match"), ("username", "comma-separated, at most 100"), ("email", "comma-separated"), ("cursor", "from next/previous"), ("page_size", "at most 100")],
                ..doc("Staff: every enrollment, newest first, cursor-paginated", None, Some("V1EnrollmentCursorPage")) } },
        Route { method: "GET", path: "/api/enrollment/v1/course/{course_id}", dialect: Dialect::LmsV1, handler: get_course,
            doc: Doc { auth: false, query: &[("include_expired", "1: include expired modes")], ..doc("Public: a course's enrollment details and modes", None, Some("V1CourseDetails")) } },
        r("GET", "/api/enrollment/v1/enrollment_allowed/", get_enrollment_allowed,
            Doc { query: &[("email", "default: the caller's email")], ..doc("Staff: pre-enrollments of an email", None, Some("V1EnrollmentAllowedList")) }),
        r("POST", "/api/enrollment/v1/enrollment_allowed/", post_enrollment_allowed,
            Doc { status: 201, ..doc("Staff: pre-enroll an email (auto_enroll: enrolled on registration)", Some("V1EnrollmentAllowedRequest"), Some("V1EnrollmentAllowed")) }),
        r("DELETE", "/api/enrollment/v1/enrollment_allowed/", delete_enrollment_allowed,
            Doc { status: 204, ..doc("Staff: remove a pre-enrollment", Some("V1EnrollmentAllowedRequest"), None) }),
        r("POST", "/api/enrollment/v1/unenroll/", post_unenroll,
            doc("Account retirement: unenroll a user from every course (superusers and the API key)", Some("V1UnenrollRequest"), Some("V1RetiredOrgs"))),
        r("GET", "/api/enrollment/v1/waitlist/{course_id}", get_waitlist_place,
            doc("The caller's place on a course's waitlist; 404 when they are not on it", None, Some("V1WaitlistPlace"))),
        r("DELETE", "/api/enrollment/v1/waitlist/{course_id}", delete_waitlist_place,
            Doc { status: 204, ..doc("Leave a course's waitlist", None, None) }),
        r("GET", "/api/enrollment/v1/roles/", get_roles,
            Doc { query: &[("course_id", "only roles in this course")], ..doc("The caller's course roles", None, Some("V1Roles")) }),
    ]
}

/// The authenticated caller, throttled as Open edX's EnrollmentUserThrottle (API-key
/// callers are not throttled).
struct Caller {
    user: Option<crate::domain::User>,
    api_key: bool,
    global_staff: bool,
}

impl Caller {
    /// Open edX's "API key or GlobalStaff" test for acting on other users.
    fn privileged(&self) -> bool {
        self.api_key || self.global_staff
    }

    fn username(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.username.as_str())
    }

    fn actor(&self) -> String {
        self.username().map(str::to_owned).unwrap_or_else(|| "api-key".into())
    }
}

fn caller(ctx: &mut Ctx) -> Result<Caller, Error> {
    let principal = ctx.caller()?.clone();
    let caller = Caller {
        user: principal.user().cloned(),
        api_key: principal.user().is_none(),
        global_staff: principal.is_global_staff(),
    };
    if !caller.api_key {
        let limits = &ctx.env.limits;
        let limiter = if caller.global_staff { &limits.lms_v1_staff } else { &limits.lms_v1 };
        ctx.throttle(limiter, &principal.key())?;
    }
    Ok(caller)
}

fn staff_only(caller: &Caller) -> Result<(), Error> {
    if caller.privileged() {
        Ok(())
    } else {
        Err(Error::forbidden("You do not have permission to perform this action."))
    }
}

fn message(status: u16, text: String) -> Response {
    json(status, &json!({"message": text}))
}

/// Open edX's ModeSerializer; `min_price` is a whole number there, so a price with cents
/// is given as a decimal number rather than truncated.
fn mode_json(m: &catalog::Mode) -> Value {
    let price = m.min_price.amount_string();
    let min_price: Value = match price.split_once('.') {
        Some((whole, cents)) if cents.chars().all(|c| c == '0') => {
            json!(whole.parse::<i64>().unwrap_or(0))
        }
        _ => serde_json::from_str(&price).unwrap_or(json!(0)),
    };
    json!({"slug": m.slug, "name": m.name, "min_price": min_price, "suggested_prices": "", "currency": m.min_price.currency().as_str().to_lowercase(),
        "expiration_datetime": m.expiration, "description": m.description, "sku": m.sku, "bulk_sku": null})
}

/// Open edX's CourseSerializer (`course_details`).
fn course_details(course: &Course, now: Timestamp, include_expired: bool) -> Value {
    let modes: Vec<Value> = if course.modes.is_empty() {
        vec![json!({"slug": "audit", "name": "Audit", "min_price": 0, "suggested_prices": "", "currency": "usd",
            "expiration_datetime": null, "description": null, "sku": null, "bulk_sku": null})]
    } else {
        course.modes.iter().filter(|m| include_expired || m.expiration.is_none_or(|t| t > now)).map(mode_json).collect()
    };
    json!({
        "course_id": course.key, "course_name": course.title,
        "enrollment_start": course.enrollment_start, "enrollment_end": course.enrollment_end,
        "course_start": course.start, "course_end": course.end, "invite_only": course.invitation_only,
        "course_modes": modes, "pacing_type": if course.self_paced { "Self Paced" } else { "Instructor Paced" },
    })
}

fn enrollment_json(e: &roster::Enrollment, course: &Course, now: Timestamp) -> Value {
    // Exactly CourseEnrollmentSerializer's fields (openedx/core/djangoapps/enrollments/
    // serializers.py); enrollment attributes are stored but not part of this object.
    // `is_active` is "has access now" (an expired or suspended enrollment is inactive here).
    let is_active = core_enrollment::has_access(&e.lifecycle, now);
    json!({"created": e.created, "mode": e.mode, "is_active": is_active, "user": e.username,
        "course_details": course_details(course, now, false)})
}

fn get_enrollment_list(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let username = match ctx.query_param("user") {
        Some(u) => u,
        None => caller
            .username()
            .map(str::to_owned)
            .ok_or_else(|| Error::validation("user is required for API-key callers."))?,
    };
    let is_self = caller.username() == Some(username.as_str());
    let visible_to = if is_self || caller.privileged() { None } else { caller.user.as_ref().map(|u| u.id) };
    let rows = roster::active_enrollments(&ctx.env.db, &username, visible_to)?;
    Ok(ok(json!(rows.iter().map(|(e, c)| enrollment_json(e, c, ctx.now)).collect::<Vec<_>>())))
}

fn get_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let reference = ctx.param("username_and_course_id").to_owned();
    let (username, course_id) = match reference.split_once(',') {
        Some((u, c)) => (u.to_owned(), c.to_owned()),
        None => (caller.username().unwrap_or_default().to_owned(), reference.clone()),
    };
    // "Do not let them deduce the existence of an enrollment" (Open edX).
    if caller.username() != Some(username.as_str()) && !caller.privileged() {
        return Ok(Response::empty_404());
    }
    let failed = || {
        Error::validation(format!(
            "An error occurred while retrieving enrollments for user '{username}' in course '{course_id}'"
        ))
    };
    let Ok(key) = CourseKey::parse(&course_id) else {
        return Err(failed());
    };
    Ok(ok(match roster::enrollment_of(&ctx.env.db, &username, &key)? {
        Some((e, course)) => enrollment_json(&e, &course, ctx.now),
        None => Value::Null,
    }))
}

/// A boolean-or-null field; anything else is reported with Open edX's wording.
fn optional_bool(body: &Value, field: &str, what: &str) -> Result<Option<bool>, Error> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => {
            let shown = other.as_str().map(str::to_owned).unwrap_or_else(|| other.to_string());
            Err(Error::validation(format!("'{shown}' is an invalid {what} status.")))
        }
    }
}

fn parse_attributes(body: &Value) -> Result<Vec<(String, String, String)>, Response> {
    let Some(list) = body.get("enrollment_attributes").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let invalid = |text: String| json(400, &json!({"message": text, "localizedMessage": text}));
    let list = list.as_array().ok_or_else(|| invalid("enrollment_attributes must be a list".into()))?;
    list.iter()
        .map(|item| {
            let field = |name: &str| {
                item.get(name)
                    .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                    .ok_or_else(|| invalid(format!("'{name}' not in enrollment attribute")))
            };
            Ok((field("namespace")?, field("name")?, field("value")?))
        })
        .collect()
}

fn post_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let body = ctx.json_body()?;
    if !body.is_object() {
        return Err(Error::validation("The request body must be a JSON object."));
    }
    let Some(course_id) = body.pointer("/course_details/course_id").and_then(Value::as_str).map(str::to_owned) else {
        return Ok(message(400, "Course ID must be specified to create a new enrollment.".into()));
    };
    let no_course = || message(400, format!("No course '{course_id}' found for enrollment"));
    let Ok(key) = CourseKey::parse(&course_id) else {
        return Ok(no_course());
    };
    let object = body.as_object().expect("checked above");
    let text = |name: &str| super::body::text_field(object, name).map_err(|e| Error::validation(e.developer_message));
    // Open edX looks `user` up as a username: a number or boolean names nobody, and must
    // not fall back to the caller (it did: `"user": 12345` enrolled the caller).
    if object.get("user").is_some_and(|u| !u.is_string() && !u.is_null()) {
        return Err(Error::validation("'user' must be a username (a string)."));
    }
    let requested_user = text("user")?;
    let email = text("email")?;
    if requested_user.as_deref().is_some_and(|u| Some(u) != caller.username()) && !caller.privileged() {
        return Ok(Response::empty_404());
    }
    if requested_user.is_none() && email.is_some() && !caller.privileged() {
        return Ok(Response::empty_404());
    }
    let mode = text("mode")?;
    if mode.as_deref().is_some_and(|m| m != "audit" && m != "honor") && !caller.privileged() {
        return Ok(message(
            403,
            format!("User does not have permission to create enrollment with mode [{}].", mode.unwrap_or_default()),
        ));
    }
    let is_active = optional_bool(&body, "is_active", "enrollment activation")?;
    let force = optional_bool(&body, "force_enrollment", "force enrollment")?.unwrap_or(false);
    // Open edX refuses a full course; a caller that opts in gets a waitlist place instead.
    let waitlist = optional_bool(&body, "waitlist", "waitlist")?.unwrap_or(false);
    let attributes = match parse_attributes(&body) {
        Ok(a) => a,
        Err(response) => return Ok(response),
    };
    let actor = caller.actor();
    let change = Change { actor: &actor, surface: "lms_v1", source: Source::Api, reason: None, notify: false };
    let now = ctx.now;
    let self_service = requested_user.as_deref().is_none_or(|u| Some(u) == caller.username())
        && email.is_none()
        && !caller.privileged();
    // force_enrollment is honoured for global staff only, not for the API key (Open edX).
    let access =
        if self_service { Access::SelfService } else { Access::OnBehalf { force: force && caller.global_staff } };
    let learner = match (&requested_user, &email) {
        (Some(username), _) => NamedLearner::Username(username),
        (None, Some(email)) => NamedLearner::Email(email),
        (None, None) => NamedLearner::Caller(caller.username()),
    };
    // Only staff and the API key change `is_active` (Open edX's EnrollmentListView.post:
    // a learner's `is_active: false` is an ordinary enroll request, and the enrollment
    // stays active). Deactivating someone never enrolled creates the enrollment
    // inactive (ecommerce's refund path relies on it).
    let deactivate = is_active == Some(false) && caller.privileged();
    let request = LmsEnrollRequest {
        learner,
        course: &key,
        mode: mode.as_deref(),
        deactivate,
        access,
        waitlist,
        attributes: &attributes,
    };
    Ok(match core_enrollment::enroll_for_lms(&ctx.env.db, &request, &change, now)? {
        LmsEnrollOutcome::UnknownUsername => {
            message(406, format!("The user {} does not exist.", requested_user.unwrap_or_default()))
        }
        LmsEnrollOutcome::UnknownEmail => {
            message(406, format!("The user with the email address {} does not exist.", email.unwrap_or_default()))
        }
        LmsEnrollOutcome::NoLearner => message(400, "Specify the user to enroll.".into()),
        LmsEnrollOutcome::UnknownCourse => no_course(),
        LmsEnrollOutcome::ModeUnavailable { course, error } => json(
            400,
            &json!({"message": error.developer_message, "course_details": course_details(&course, now, false)}),
        ),
        LmsEnrollOutcome::Refused { username, error } => {
            // Open edX answers both with one generic message; the code tells them apart.
            let mut generic = Error::validation(format!(
                "An error occurred while creating the new course enrollment for user '{username}' in course '{key}'"
            ));
            generic.code = error.code;
            return Err(generic);
        }
        LmsEnrollOutcome::Waitlisted { username, position } => json(
            202,
            &json!({"user": username, "course_id": key.as_str(), "waitlisted": true, "waitlist_position": position}),
        ),
        LmsEnrollOutcome::Enrolled { enrollment, course } => ok(enrollment_json(&enrollment, &course, now)),
    })
}

/// `cursor` = base64url of `before:<id>` (older page) or `after:<id>` (newer page).
fn parse_cursor(raw: &str) -> Option<(bool, i64)> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (direction, id) = decoded.split_once(':')?;
    Some((direction == "before", id.parse().ok()?))
}

fn get_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    staff_only(&caller)?;
    let query = ctx.query();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let csv = |name: &str| {
        param(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut filter = ListFilter::default();
    if let Some(course_id) = param("course_id") {
        let key = CourseKey::parse(&course_id)
            .map_err(|_| Error::field("course_id", format!("'{course_id}' is not a valid course id.")))?;
        filter.course_key = Some(key);
    }
    filter.course_key_contains = csv("course_ids");
    filter.usernames = csv("username");
    if filter.usernames.len() > 100 {
        return Err(Error::field(
            "username",
            format!("Too many usernames in a single request - {}. A maximum of 100 is allowed", filter.usernames.len()),
        ));
    }
    for username in &filter.usernames {
        Username::existing(username).map_err(|e| Error::field("username", e.0))?;
    }
    filter.emails = csv("email");
    let page_size = match param("page_size") {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::field("page_size", "page_size must be a positive whole number."))?
            .min(100),
        None => 100,
    };
    let cursor = match param("cursor") {
        Some(raw) => {
            Some(parse_cursor(&raw).ok_or_else(|| Error::not_found("Invalid cursor").with_code("invalid_cursor"))?)
        }
        None => None,
    };
    let (before, after) = match cursor {
        Some((true, id)) => (Some(id), None),
        Some((false, id)) => (None, Some(id)),
        None => (None, None),
    };
    // One extra row tells whether there is a page beyond this one.
    let mut rows = roster::list_enrollments(&ctx.env.db, &filter, before, after, page_size + 1)?;
    let more = rows.len() as i64 > page_size;
    if more {
        if after.is_some() {
            rows.remove(0);
        } else {
            rows.pop();
        }
    }
    let link = |direction: &str, id: i64| {
        let mut pairs: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| format!("{}={}", super::http::percent_encode(k), super::http::percent_encode(v)))
            .collect();
        pairs.push(format!("cursor={}", URL_SAFE_NO_PAD.encode(format!("{direction}:{id}"))));
        json!(format!("{}{}?{}", ctx.env.base_url, ctx.req.url(), pairs.join("&")))
    };
    let (has_next, has_previous) = match (before, after) {
        (None, None) => (more, false),
        (Some(_), _) => (more, true),
        (_, Some(_)) => (true, more),
    };
    let next = match rows.last() {
        Some(last) if has_next => link("before", last.id),
        _ => Value::Null,
    };
    let previous = match rows.first() {
        Some(first) if has_previous => link("after", first.id),
        _ => Value::Null,
    };
    let results: Vec<Value> = rows
        .iter()
        .map(|e| json!({"created": e.created, "mode": e.mode, "is_active": core_enrollment::has_access(&e.lifecycle, ctx.now), "user": e.username, "course_id": e.course_key}))
        .collect();
    let body = json!({"next": next, "previous": previous, "results": results});
    Ok(super::http::with_link_header(ok(body.clone()), &body))
}

fn get_course(ctx: &mut Ctx) -> Result<Response, Error> {
    let course_id = ctx.param("course_id").to_owned();
    let missing = || Error::validation(format!("No course found for course ID '{course_id}'"));
    let key = CourseKey::parse(&course_id).map_err(|_| missing())?;
    let include_expired =
        ctx.query_param("include_expired").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let course = catalog::published_course(&ctx.env.db, &key)?.ok_or_else(missing)?;
    Ok(ok(course_details(&course, ctx.now, include_expired)))
}

fn allowed_json(a: &roster::PreEnrollment) -> Value {
    json!({"email": a.email, "course_id": a.course_key, "auto_enroll": a.auto_enroll, "user": a.user_id, "created": a.created})
}

fn get_enrollment_allowed(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    staff_only(&caller)?;
    let email = match ctx.query_param("email") {
        Some(e) => e,
        None => caller.user.as_ref().map(|u| u.email.clone()).unwrap_or_default(),
    };
    let list = roster::pre_enrollments_for(&ctx.env.db, &email)?;
    Ok(ok(json!(list.iter().map(allowed_json).collect::<Vec<_>>())))
}

/// `{"email", "course_id"}` from a pre-enrollment request; Open edX's one message when
/// either is missing.
fn allowed_request(ctx: &Ctx) -> Result<(Email, CourseKey, bool), Error> {
    let body = ctx.json_body()?;
    let object = body.as_object().ok_or_else(|| Error::validation("The request body must be an object."))?;
    let text = |name: &str| -> Result<Option<String>, Error> {
        let value = super::body::text_field(object, name).map_err(|e| Error::validation(e.developer_message))?;
        Ok(value.filter(|s| !s.is_empty()))
    };
    let (Some(email), Some(course_id)) = (text("email")?, text("course_id")?) else {
        return Err(Error::validation("Please provide a value for 'email' and 'course_id' in the request data."));
    };
    let email = Email::parse(&email)?;
    // Open edX stores any course id string here; an unknown course is refused instead, so
    // that a typo cannot create a pre-enrollment nobody can use.
    let key = CourseKey::parse(&course_id).map_err(|e| Error::validation(e.0))?;
    // A serializer BooleanField in Open edX's EnrollmentAllowedView: forms send "true".
    let auto_enroll = super::body::flag_field(object, "auto_enroll")
        .map_err(|_| Error::validation(format!("'{}' is an invalid auto enroll status.", object["auto_enroll"])))?
        .unwrap_or(false);
    Ok((email, key, auto_enroll))
}

fn post_enrollment_allowed(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    staff_only(&caller)?;
    let (email, key, auto_enroll) = allowed_request(ctx)?;
    let actor = caller.actor();
    let change = Change { actor: &actor, surface: "lms_v1", source: Source::Api, reason: None, notify: false };
    // Open edX does not look the course up: a course created later takes the pre-enrollment.
    let record = core_enrollment::pre_enroll_by_key_now(&ctx.env.db, &email, &key, auto_enroll, &change, ctx.now)?;
    Ok(json(201, &allowed_json(&record)))
}

fn delete_enrollment_allowed(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    staff_only(&caller)?;
    let (email, key, _) = allowed_request(ctx)?;
    let actor = caller.actor();
    let change = Change { actor: &actor, surface: "lms_v1", source: Source::Api, reason: None, notify: false };
    core_enrollment::delete_pre_enrollment_by_key(&ctx.env.db, &email, &key, &change, ctx.now)?;
    Ok(Response::empty_204())
}

fn get_roles(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let course_filter = ctx.query_param("course_id");
    let roles = match &caller.user {
        Some(user) => catalog::own_roles(&ctx.env.db, user.id)?,
        None => Vec::new(),
    };
    let roles: Vec<Value> = roles
        .iter()
        .filter(|(key, _)| course_filter.as_deref().is_none_or(|f| f == key))
        .map(|(key, role)| {
            let org = CourseKey::parse(key).map(|k| k.org().to_owned()).unwrap_or_default();
            json!({"org": org, "course_id": key, "role": role})
        })
        .collect();
    Ok(ok(json!({"roles": roles, "is_staff": caller.global_staff})))
}

/// Open edX's retirement endpoint: 200 with the organizations of the courses left, 204 when
/// there was nothing to leave. Only the retirement service may call it; here, superusers
/// and the server API key.
fn post_unenroll(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    if !(caller.api_key || caller.user.as_ref().is_some_and(|u| u.is_superuser)) {
        return Err(Error::forbidden("You do not have permission to perform this action."));
    }
    let body = ctx.body_object()?;
    let username = super::body::text_field(&body, "username").map_err(|e| Error::validation(e.developer_message))?;
    let Some(username) = username.filter(|u| !u.is_empty()) else {
        return Ok(json(404, &json!("Username not specified.")));
    };
    let actor = caller.actor();
    let change = Change {
        actor: &actor,
        surface: "lms_v1",
        source: Source::Api,
        reason: Some("account retirement"),
        notify: false,
    };
    let left = core_enrollment::unenroll_everywhere(&ctx.env.db, &username, &change, ctx.now)?;
    let Some(left) = left else { return Ok(json(404, &json!("No retirement request status for username."))) };
    if left.is_empty() {
        return Ok(Response::empty_204());
    }
    let mut orgs: Vec<String> = left.iter().map(|c| c.key.org().to_owned()).collect();
    orgs.dedup();
    Ok(ok(json!(orgs)))
}

/// The calling learner's username and the course key of a waitlist route.
fn waitlist_learner(ctx: &mut Ctx) -> Result<(String, CourseKey), Error> {
    let caller = caller(ctx)?;
    let username = caller.username().ok_or_else(|| Error::validation("The waitlist routes are a learner's own."))?;
    let raw = ctx.param("course_id").to_owned();
    let key =
        CourseKey::parse(&raw).map_err(|_| Error::field("course_id", format!("'{raw}' is not a valid course id.")))?;
    Ok((username.to_owned(), key))
}

fn get_waitlist_place(ctx: &mut Ctx) -> Result<Response, Error> {
    let (username, key) = waitlist_learner(ctx)?;
    let (user, course, position) = crate::core::lifecycle::own_waitlist_place(&ctx.env.db, &username, &key)?;
    Ok(ok(json!({"user": user.username, "course_id": course.key, "waitlist_position": position})))
}

fn delete_waitlist_place(ctx: &mut Ctx) -> Result<Response, Error> {
    let (username, key) = waitlist_learner(ctx)?;
    let change = Change { actor: &username, surface: "lms_v1", source: Source::Waitlist, reason: None, notify: false };
    crate::core::lifecycle::leave_own_waitlist(&ctx.env.db, &username, &key, &change, ctx.now)?;
    Ok(Response::empty_204())
}
