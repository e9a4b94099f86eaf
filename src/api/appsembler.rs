//! `/appsembler_api/v0/…`: Appsembler's API (specs/appsembler-api.md), with the behaviour
//! its existing clients see (reference/appsembler-and-learning-paths.md §1): status codes,
//! key names (including `"user_id "` with a trailing space on `accounts/create`) and
//! messages as the original code returns them, where that differs from its docs.

use super::errors::Dialect;
use super::http::{json, ok, Ctx, Page};
use super::router::{Doc, Route};
use crate::auth::{self, Principal};
use crate::core::accounts::{self, Actor, NewUser, ProfileChanges};
use crate::core::bulk::{self, Action, Requester, RosterOptions};
use crate::core::enrollment::{Source, State};
use crate::core::{catalog, codes, roster, Error, ErrorKind};
use crate::domain::{CourseKey, Email, Timestamp, Username};
use crate::store::users::{Profile, UserRecord};
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "appsembler",
        auth: true,
        request,
        status: 200,
        response,
        query: &[],
    };
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::Appsembler, handler, doc };
    let analytics: &'static [(&str, &str)] =
        &[("updated_min", "joined/enrolled after (ISO date or date-time)"), ("updated_max", "before")];
    vec![
        r(
            "POST",
            "/appsembler_api/v0/accounts/create",
            post_accounts_create,
            doc("Create an active account", Some("AppsemblerCreateAccount"), Some("AppsemblerUserId")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/accounts/user_without_password",
            post_user_without_password,
            doc(
                "Create an inactive account from an email and a name; a set-password email activates it",
                Some("AppsemblerUserWithoutPassword"),
                Some("AppsemblerUserId"),
            ),
        ),
        r(
            "POST",
            "/appsembler_api/v0/accounts/connect",
            post_accounts_connect,
            doc("Change an account's email, password or name", Some("AppsemblerConnect"), Some("AppsemblerUserId")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/accounts/update_user",
            post_update_user,
            doc(
                "Update an account's email, profile and custom fields",
                Some("AppsemblerUpdateUser"),
                Some("AppsemblerSuccess"),
            ),
        ),
        r(
            "GET",
            "/appsembler_api/v0/accounts/get-user/{username}",
            get_user,
            doc("Whether a username exists", None, Some("AppsemblerUserId")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/enrollment-codes/generate",
            post_codes_generate,
            doc("Generate enrollment codes for a course", Some("AppsemblerGenerateCodes"), Some("AppsemblerCodes")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/enrollment-codes/enroll-user",
            post_codes_enroll_user,
            doc("Enroll a user with a code", Some("AppsemblerRedeemCode"), Some("AppsemblerSuccess")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/enrollment-codes/status",
            post_codes_status,
            doc("Cancel or restore a code", Some("AppsemblerCodeStatus"), Some("AppsemblerSuccess")),
        ),
        r(
            "POST",
            "/appsembler_api/v0/bulk-enrollment/bulk-enroll",
            post_bulk_enroll,
            doc(
                "Enroll or unenroll many learners in many courses",
                Some("AppsemblerBulkEnroll"),
                Some("AppsemblerBulkResult"),
            ),
        ),
        r(
            "GET",
            "/appsembler_api/v0/analytics/accounts/batch",
            get_analytics_accounts,
            Doc { query: analytics, ..doc("Accounts, by join date", None, Some("AppsemblerAccounts")) },
        ),
        r(
            "GET",
            "/appsembler_api/v0/analytics/enrollment/batch",
            get_analytics_enrollments,
            Doc {
                query: &[
                    ("course_id", "one course"),
                    ("username", "one user"),
                    ("updated_min", "enrolled after"),
                    ("updated_max", "enrolled before"),
                ],
                ..doc("Enrollments, by enrollment date", None, Some("AppsemblerEnrollments"))
            },
        ),
        Route {
            method: "GET",
            path: "/appsembler_api/v0/search_courses",
            dialect: Dialect::Appsembler,
            handler: get_search_courses,
            doc: Doc {
                auth: false,
                query: &[
                    ("search_term", "words in the title, code or key"),
                    ("org", "organization"),
                    ("page", "1-based"),
                    ("page_size", "at most 100"),
                ],
                ..doc("Search the published catalog", None, Some("PublicCoursePage"))
            },
        },
    ]
}

fn user_message(status: u16, message: &str) -> Response {
    json(status, &json!({"user_message": message}))
}

/// The request body as JSON or a form (the original accepts both), as a JSON object.
fn body(ctx: &Ctx) -> Result<serde_json::Map<String, Value>, Error> {
    let pairs = ctx.form_or_json_body()?;
    Ok(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

fn field(body: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// Open edX's IsStaffOrOwner: staff, or a caller naming itself as `username`.
fn staff_or_owner(ctx: &mut Ctx, named: Option<&str>) -> Result<Principal, Error> {
    let principal = ctx.caller()?.clone();
    ctx.throttle(&ctx.app.auth.limits.appsembler, &principal.key())?;
    let own = principal.user().is_some_and(|u| named == Some(u.username.as_str()));
    if principal.is_global_staff() || matches!(principal, Principal::ApiKey) || own {
        Ok(principal)
    } else {
        Err(Error::forbidden("You do not have permission to perform this action."))
    }
}

fn actor(principal: &Principal) -> Actor {
    Actor { is_superuser: principal.is_superuser() }
}

fn post_accounts_create(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, field(&body, "username").as_deref())?;
    let (Some(username), Some(password), Some(email), Some(name)) =
        (field(&body, "username"), field(&body, "password"), field(&body, "email"), field(&body, "name"))
    else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    let (Ok(username), Ok(email)) = (Username::parse(&username), Email::parse(&email)) else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    if password.is_empty() || name.trim().is_empty() {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    }
    let exists = ctx.app.db.read(|c| {
        Ok(crate::store::users::by_username(c, username.as_str())?.is_some()
            || accounts::user_by_email(c, email.as_str())?.is_some())
    })?;
    if exists {
        return Ok(user_message(409, "User already exists"));
    }
    let hash = ctx.app.auth.passwords.hash(&password);
    let new = NewUser {
        username,
        email,
        password_hash: Some(hash),
        name,
        first_name: String::new(),
        last_name: String::new(),
        profile: Profile::default(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    };
    match ctx.app.db.write(|c| accounts::create_user(c, &actor(&principal), new, ctx.now)) {
        // The key's trailing space is the original's; its clients read it that way.
        Ok(user) => Ok(ok(json!({"user_id ": user.id}))),
        Err(e) if e.kind == ErrorKind::Conflict => Ok(user_message(409, "User already exists")),
        Err(e) => Err(e),
    }
}

/// The original's username from an email: the local part's letters and digits, plus three
/// random digits while that is taken.
fn username_from_email(conn: &crate::store::Conn, email: &Email) -> Result<Username, Error> {
    let base: String =
        email.as_str().split('@').next().unwrap_or("").chars().filter(|c| c.is_alphanumeric()).take(27).collect();
    let base = if base.chars().count() < 2 { "learner".to_owned() } else { base };
    let mut candidate = base.clone();
    for _ in 0..50 {
        if crate::store::users::by_username(conn, &candidate)?.is_none() {
            return Ok(Username::parse(&candidate)?);
        }
        let digits = auth::secrets::random_bytes(2);
        candidate = format!("{base}{}", 100 + (u16::from_le_bytes([digits[0], digits[1]]) % 900));
    }
    Err(Error::internal("no free username"))
}

fn post_user_without_password(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    let (Some(email), Some(name)) = (field(&body, "email"), field(&body, "name")) else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    let exists = ctx.app.db.read(|c| Ok(accounts::user_by_email(c, email.trim())?.is_some()))?;
    if exists {
        return Ok(user_message(409, "User already exists"));
    }
    let Ok(email) = Email::parse(&email) else { return Ok(user_message(400, "Wrong email format")) };
    let year_of_birth = match field(&body, "year_of_birth") {
        Some(y) => match y.parse::<i64>() {
            Ok(y) if (1900..=2100).contains(&y) => Some(y),
            _ => return Ok(user_message(400, "Wrong parameters on user creation")),
        },
        None => None,
    };
    let profile = Profile {
        country: field(&body, "country"),
        city: field(&body, "city"),
        gender: field(&body, "gender"),
        goals: field(&body, "goals"),
        level_of_education: field(&body, "level_of_education"),
        year_of_birth,
        ..Profile::default()
    };
    let base_url = ctx.app.base_url.clone();
    let user = ctx.app.db.write(|c| {
        let username = username_from_email(c, &email)?;
        let new = NewUser {
            username,
            email,
            password_hash: None,
            name,
            first_name: String::new(),
            last_name: String::new(),
            profile,
            is_active: false,
            is_staff: false,
            is_superuser: false,
        };
        let user = accounts::create_user(c, &actor(&principal), new, ctx.now)?;
        let expires = ctx.now.unix() + 72 * 3600;
        let token =
            auth::links::sign(&ctx.app.auth.link_secret, user.id, expires, user.password_hash.as_deref().unwrap_or(""));
        accounts::send_set_password_link(c, &user, &format!("{base_url}/account/set-password?token={token}"), ctx.now)?;
        Ok(user)
    })?;
    ctx.app.jobs.wake();
    Ok(ok(json!({"user_id": user.id, "username": user.username})))
}

fn post_accounts_connect(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let username = field(&body, "username");
    let principal = staff_or_owner(ctx, username.as_deref())?;
    let Some(username) = username else { return Ok(user_message(400, "Wrong parameters on user connection")) };
    let Some(user) = ctx.app.db.read(|c| crate::store::users::by_username(c, &username))? else {
        return Ok(Response::empty_404());
    };
    let password = field(&body, "password").filter(|p| !p.trim().is_empty());
    let name = field(&body, "name").filter(|n| !n.trim().is_empty());
    let email = match field(&body, "email").filter(|e| !e.trim().is_empty() && *e != user.email) {
        None => None,
        Some(raw) => match Email::parse(&raw) {
            Ok(e) => Some(e),
            // 409 for a malformed email is the original's answer.
            Err(_) => return Ok(user_message(409, "Invalid email format")),
        },
    };
    if let Some(email) = &email {
        if ctx.app.db.read(|c| accounts::user_by_email(c, email.as_str()))?.is_some() {
            return Ok(user_message(409, &format!("The email {email} is in use by another user")));
        }
    }
    let changes = accounts::UserChanges {
        email,
        password_hash: password.map(|p| ctx.app.auth.passwords.hash(&p)),
        name,
        ..Default::default()
    };
    let username = Username::parse(&user.username)?;
    let user =
        ctx.app.db.write(|c| accounts::update_user(c, &Actor { is_superuser: true }, &username, changes, ctx.now))?;
    let _ = principal;
    Ok(ok(json!({"user_id": user.id})))
}

/// Profile fields in the order the original reports them.
const PROFILE_FIELDS: [&str; 10] = [
    "name",
    "level_of_education",
    "gender",
    "mailing_address",
    "city",
    "country",
    "goals",
    "bio",
    "year_of_birth",
    "language",
];

fn post_update_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    staff_or_owner(ctx, None)?;
    let lookup = field(&body, "user_lookup").map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    let Some(lookup) = lookup else {
        return Ok(json(400, &json!({"lookup_error": "No user lookup has been provided"})));
    };
    let user: Option<UserRecord> = ctx.app.db.read(|c| {
        Ok(match crate::store::users::by_username(c, &lookup)? {
            Some(u) => Some(u),
            None => accounts::user_by_email(c, &lookup)?,
        })
    })?;
    let Some(user) = user else {
        return Ok(json(404, &json!({"user_not_found": "The user for the Given username or email doesn't exists"})));
    };
    let mut updated: Vec<(String, String)> = Vec::new();
    let mut changes = ProfileChanges::default();
    let invalid = |message: String| Ok(json(400, &json!({"integrity_error": message})));
    if let Some(raw) = field(&body, "email").filter(|e| *e != user.email) {
        let Ok(email) = Email::parse(&raw) else { return invalid("Valid e-mail address required.".into()) };
        if ctx.app.db.read(|c| accounts::user_by_email(c, email.as_str()))?.is_some() {
            return invalid("An account with this e-mail already exists.".into());
        }
        updated.push(("email".into(), email.to_string()));
        changes.email = Some(email);
    }
    for name in PROFILE_FIELDS {
        let Some(value) = field(&body, name) else { continue };
        let checked = match name {
            "gender" if !["m", "f", "o"].contains(&value.as_str()) => {
                Err(format!("gender must be m, f or o, not '{value}'."))
            }
            "level_of_education"
                if !["p", "m", "b", "a", "hs", "jhs", "el", "none", "other"].contains(&value.as_str()) =>
            {
                Err(format!("'{value}' is not a valid level_of_education."))
            }
            "country" if value.len() != 2 => Err(format!("country must be a 2-letter ISO code, not '{value}'.")),
            "year_of_birth" if value.parse::<i64>().map_or(true, |y| !(1900..=2100).contains(&y)) => {
                Err(format!("'{value}' is not a year."))
            }
            _ => Ok(()),
        };
        if let Err(message) = checked {
            return invalid(message);
        }
        let text = Some(value.clone());
        match name {
            "name" => changes.name = Some(value.clone()),
            "level_of_education" => changes.level_of_education = Some(text),
            "gender" => changes.gender = Some(text),
            "mailing_address" => changes.mailing_address = Some(text),
            "city" => changes.city = Some(text),
            "country" => changes.country = Some(Some(value.to_ascii_uppercase())),
            "goals" => changes.goals = Some(text),
            "bio" => changes.bio = Some(text),
            "year_of_birth" => changes.year_of_birth = Some(value.parse().ok()),
            _ => changes.language = Some(text),
        }
        updated.push((name.to_owned(), value));
    }
    // Any other string field is a custom registration field (Appsembler's extension form).
    for (key, value) in &body {
        if key != "user_lookup" && key != "email" && !PROFILE_FIELDS.contains(&key.as_str()) && key.len() <= 100 {
            if let Some(v) = value.as_str() {
                changes.custom_fields.push((key.clone(), v.to_owned()));
                updated.push((key.clone(), v.to_owned()));
            }
        }
    }
    ctx.app.db.write(|c| accounts::update_profile(c, &user.username, changes, ctx.now))?;
    let list: Vec<String> = updated.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(ok(json!({"success": format!("The following fields has been updated: {}", list.join(", "))})))
}

fn get_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let username = ctx.param("username").to_owned();
    staff_or_owner(ctx, Some(&username))?;
    let exists = ctx.app.db.read(|c| crate::store::users::by_username(c, &username))?.is_some();
    // The original answers with the username under "user_id".
    Ok(if exists { ok(json!({"user_id": username})) } else { Response::empty_404() })
}

fn post_codes_generate(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    let course_id = field(&body, "course_id").unwrap_or_default();
    let key = CourseKey::parse(&course_id)
        .map_err(|_| Error::validation(format!("'{course_id}' is not a valid course id.")))?;
    let total = field(&body, "total_registration_codes").unwrap_or_default();
    // "2.7" counts as 2, as the original's int(float(…)).
    let count = total
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| n as usize)
        .ok_or_else(|| Error::validation("total_registration_codes must be a number."))?;
    let creator = principal.user().map(|u| u.id);
    let codes = ctx.app.db.write(|c| {
        let course = catalog::course(c, &key)?;
        codes::generate(c, &course, count, creator, ctx.now)
    })?;
    Ok(ok(json!({"course_id": course_id, "codes": codes, "course_url": format!("/courses/{course_id}/about")})))
}

fn post_codes_enroll_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    staff_or_owner(ctx, None)?;
    let email = field(&body, "email").unwrap_or_default();
    let code = field(&body, "enrollment_code").unwrap_or_default();
    let result = ctx.app.db.write(|c| Ok(codes::redeem(c, email.trim(), code.trim(), ctx.now)))?;
    Ok(match result {
        Ok(()) => ok(json!({"success": true})),
        Err(reason) => json(400, &json!({"success": false, "reason": reason})),
    })
}

fn post_codes_status(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    let code = field(&body, "enrollment_code").unwrap_or_default();
    let valid = match field(&body, "action").as_deref() {
        Some("cancel") => false,
        Some("restore") => true,
        _ => return Ok(json(400, &json!({"success": false, "reason": "action must be 'cancel' or 'restore'"}))),
    };
    let actor = principal.user().map(|u| u.username.clone()).unwrap_or_else(|| "api-key".into());
    match ctx.app.db.write(|c| codes::set_status(c, &code, valid, &actor, ctx.now))? {
        Some(()) => Ok(ok(json!({"success": true}))),
        None => {
            Ok(json(400, &json!({"success": false, "reason": format!("The enrollment code ({code}) was not found")})))
        }
    }
}

fn state_json(state: &State) -> Value {
    json!({"user": state.user, "enrollment": state.enrollment, "allowed": state.allowed, "auto_enroll": state.auto_enroll})
}

fn truthy(value: Option<String>) -> bool {
    value.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"))
}

fn post_bulk_enroll(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = ctx.caller()?.clone();
    ctx.throttle(&ctx.app.auth.limits.appsembler, &principal.key())?;
    let mut missing = Error::validation("Some fields are invalid.");
    for name in ["identifiers", "courses", "action"] {
        if field(&body, name).is_none_or(|v| v.trim().is_empty()) {
            missing.field_errors.insert(name.into(), "This field is required.".into());
        }
    }
    let action = match field(&body, "action").as_deref() {
        Some("enroll") => Some(Action::Enroll),
        Some("unenroll") => Some(Action::Unenroll),
        Some(other) if !other.is_empty() => {
            missing.field_errors.insert("action".into(), format!("\"{other}\" is not a valid choice."));
            None
        }
        _ => None,
    };
    let courses: Vec<String> = field(&body, "courses")
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let mut keys = Vec::new();
    for course in &courses {
        match CourseKey::parse(course) {
            Ok(k) => keys.push(k),
            Err(_) => {
                missing.field_errors.insert("courses".into(), format!("Course key not valid: {course}"));
            }
        }
    }
    if !missing.field_errors.is_empty() {
        return Err(missing);
    }
    let action = action.expect("checked above");
    let identifiers: Vec<String> = field(&body, "identifiers")
        .unwrap_or_default()
        .split([',', '\n'])
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect();
    let auto_enroll = truthy(field(&body, "auto_enroll"));
    let email_students = truthy(field(&body, "email_students"));
    let options = RosterOptions { mode: None, auto_enroll, email_students, reason: None };
    let requester = Requester {
        actor: principal.user().map(|u| u.username.clone()).unwrap_or_else(|| "api-key".into()),
        surface: "appsembler",
        source: Source::Bulk,
    };
    let mut per_course = serde_json::Map::new();
    for key in &keys {
        let course = ctx.app.db.read(|c| catalog::course(c, key)).map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                Error::not_found("Not found.")
            } else {
                e
            }
        })?;
        // The per-course check the original leaves to edx's students_update_enrollment.
        let allowed = match principal.user() {
            Some(user) => ctx.app.db.read(|c| roster::may_manage(c, &course, user.id, principal.is_global_staff()))?,
            None => true,
        };
        if !allowed {
            return Err(Error::forbidden("You do not have permission to perform this action."));
        }
        let mut results = Vec::with_capacity(identifiers.len());
        for identifier in &identifiers {
            let row = match ctx
                .app
                .db
                .write(|c| bulk::apply(c, &course, action, identifier, &options, &requester, ctx.now))
            {
                Ok(o) => {
                    json!({"identifier": identifier, "before": state_json(&o.before), "after": state_json(&o.after)})
                }
                Err(e) if e.code() == "INVALID_IDENTIFIER" => {
                    json!({"identifier": identifier, "invalidIdentifier": true})
                }
                Err(e) if e.kind == ErrorKind::Internal => return Err(e),
                Err(_) => json!({"identifier": identifier, "error": true}),
            };
            results.push(row);
        }
        per_course.insert(
            key.to_string(),
            json!({"action": action.as_str(), "results": results, "auto_enroll": auto_enroll}),
        );
    }
    ctx.app.jobs.wake();
    Ok(ok(
        json!({"action": action.as_str(), "courses": per_course, "email_students": email_students, "auto_enroll": auto_enroll}),
    ))
}

/// An ISO date or date-time query bound; a bad one is a 400 (the original answers 500).
fn bound(ctx: &Ctx, name: &str) -> Result<Option<Timestamp>, Error> {
    ctx.query_param(name)
        .map(|v| Timestamp::parse(&v).map_err(|e| Error::validation(format!("{name}: {}", e.0))))
        .transpose()
}

fn get_analytics_accounts(ctx: &mut Ctx) -> Result<Response, Error> {
    staff_or_owner(ctx, None)?;
    let (after, before) = (bound(ctx, "updated_min")?, bound(ctx, "updated_max")?);
    let users = ctx.app.db.read(|c| accounts::joined_between(c, after, before))?;
    let list: Vec<Value> = users
        .iter()
        .map(|u| json!({"id": u.id, "username": u.username, "email": u.email, "is_active": u.is_active, "date_joined": Timestamp::from_unix(u.date_joined).to_iso()}))
        .collect();
    Ok(ok(json!(list)))
}

fn get_analytics_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    staff_or_owner(ctx, None)?;
    let (after, before) = (bound(ctx, "updated_min")?, bound(ctx, "updated_max")?);
    // A '+' in an unencoded course id arrives as a space; the original restores it too.
    let course = ctx.query_param("course_id").map(|c| c.replace(' ', "+"));
    if let Some(c) = &course {
        CourseKey::parse(c).map_err(|_| Error::validation(format!("'{c}' is not a valid course id.")))?;
    }
    let username = ctx.query_param("username");
    let rows =
        ctx.app.db.read(|c| roster::enrollment_batch(c, course.as_deref(), username.as_deref(), after, before))?;
    let list: Vec<Value> = rows
        .iter()
        .map(|e| json!({"username": e.username, "course_id": e.course_key, "user_id": e.user_id, "enrollment_id": e.id, "date_enrolled": Timestamp::from_unix(e.created).to_iso()}))
        .collect();
    Ok(ok(json!(list)))
}

fn get_search_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    let page = Page::from_query(ctx, 10, 100)?;
    let term = ctx.query_param("search_term").unwrap_or_default().to_lowercase();
    let org = ctx.query_param("org");
    let (_, all) = ctx.app.db.snapshot(|c| catalog::list(c, true, 0, i64::MAX))?;
    let matches: Vec<_> = all
        .iter()
        .filter(|c| {
            let r = &c.record;
            let haystack =
                format!("{} {} {}", r.title, r.code.clone().unwrap_or_default(), r.course_key).to_lowercase();
            let org_ok = org
                .as_deref()
                .is_none_or(|o| CourseKey::parse(&r.course_key).is_ok_and(|k| k.org().eq_ignore_ascii_case(o)));
            org_ok && term.split_whitespace().all(|w| haystack.contains(w))
        })
        .collect();
    let total = matches.len() as i64;
    let results = matches
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|c| super::courses_v1::course_json(c))
        .collect();
    let flat = page.body(ctx, total, results)?;
    Ok(ok(
        json!({"results": flat["results"], "pagination": {"next": flat["next"], "previous": flat["previous"], "count": flat["count"], "num_pages": flat["num_pages"]}}),
    ))
}
