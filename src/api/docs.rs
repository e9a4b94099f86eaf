//! `/api-docs/openapi.json` (OpenAPI 3.1) and `/api-docs/` (a page that needs no internet).
//! Paths are generated from the router's table, so a route cannot exist undocumented;
//! the schemas below describe the bodies.

use super::errors::Dialect;
use super::http::Ctx;
use super::router::{self, Doc, Route};
use crate::core::Error;
use crate::domain::{CourseCode, Description, Label, Title, TEXT_PATTERN, URL_MAX_CHARS};
use rouille::Response;
use serde_json::{json, Map, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, response| Doc {
        summary,
        tag: "docs",
        auth: false,
        request: None,
        status: 200,
        response: Some(response),
        query: &[],
    };
    vec![
        Route {
            method: "GET",
            path: "/api-docs/openapi.json",
            dialect: Dialect::Drf,
            handler: get_openapi,
            doc: doc("This OpenAPI 3.1 document", "OpenApiDocument"),
        },
        Route {
            method: "GET",
            path: "/api-docs/",
            dialect: Dialect::Drf,
            handler: get_docs_page,
            doc: doc("Readable API documentation", "Html"),
        },
    ]
}

/// One API surface as the reference groups it: its routes are those of its tags.
pub struct Surface {
    pub id: &'static str,
    pub title: &'static str,
    pub tags: &'static [&'static str],
    /// Where its URLs start.
    pub prefix: &'static str,
    /// One line for the front page.
    pub summary: &'static str,
    /// Who calls it, how they authenticate, and its error format.
    pub intro: &'static str,
}

/// The surfaces in the reference's order.
pub const SURFACES: [Surface; 10] = [
    Surface {
        id: "authentication",
        title: "Authentication",
        tags: &["auth"],
        prefix: "/oauth2/",
        summary: "OAuth2 tokens (JWT or opaque Bearer) for every other surface, and browser sessions.",
        intro: "Every integration starts here. POST /oauth2/access_token with client_credentials (a client acting as its user) or password, form-encoded or with HTTP Basic client authentication; token_type=jwt gives an HS256 JWT with Open edX's claims (send it as Authorization: JWT …), otherwise an opaque token (Authorization: Bearer …). Browsers sign in at /login and get an HttpOnly session cookie; unsafe requests then need the X-CSRFToken header. Errors are RFC 6749's {\"error\", \"error_description\"}.",
    },
    Surface {
        id: "lms-v1",
        title: "Open edX LMS v1",
        tags: &["lms-v1", "accounts", "catalog"],
        prefix: "/api/enrollment/v1/",
        summary: "Open edX's enrollment, enrollment_allowed, account and course APIs, for integrations written for Open edX.",
        intro: "For integrations written against Open edX (WooCommerce and other shop plugins, SSO bridges, reporting). Same URLs, methods, bodies and status codes as Open edX: a JWT or Bearer token, or X-Edx-Api-Key for server-to-server calls. Errors are Open edX's: {\"message\": …} from the enrollment views, DRF's {\"detail\": …} for authentication, permission and throttling, {\"developer_message\": …} from the account views.",
    },
    Surface {
        id: "enrollment-v2",
        title: "Enrollment v2 and tasks",
        tags: &["enrollment-v2"],
        prefix: "/api/enrollment/v2/",
        summary: "Resource-oriented enrollments: one learner synchronously, many as a background task.",
        intro: "For a course's staff and for systems that enroll in bulk: one identifier answers 200 with before/after states, several start a task (202 with its status URL) that you poll; pre-enrollment of emails, modes, DRF paging. A JWT or Bearer token of course staff or global staff. Errors are {error_code, developer_message, user_message, status_code, field_errors}.",
    },
    Surface {
        id: "instructor-v2",
        title: "Instructor v2",
        tags: &["instructor-v2"],
        prefix: "/api/instructor/v2/",
        summary: "Open edX's instructor dashboard routes: learner lists and enrollment changes.",
        intro: "What Open edX's instructor dashboard (MFE) calls: the course's learners and enrollments/modify. Course staff or global staff, by JWT, Bearer or session. Errors in Open edX's shapes.",
    },
    Surface {
        id: "appsembler",
        title: "Appsembler",
        tags: &["appsembler"],
        prefix: "/appsembler_api/v0/",
        summary: "Appsembler's accounts, enrollment codes, bulk enrollment and analytics API.",
        intro: "For clients of Appsembler's legacy API (Tahoe sites, their Zapier and CRM integrations): the original's URLs and key names, including its quirks. Bearer token of global staff (or of the account itself where the original allows). Errors are {\"user_message\": …}, DRF's {\"detail\": …} for authentication and {\"field\": [\"…\"]} for bad fields.",
    },
    Surface {
        id: "learning-paths",
        title: "Learning paths",
        tags: &["learning-paths"],
        prefix: "/api/learning_paths/v1/",
        summary: "The learning-paths plugin's API: paths of courses, enrollment, progress, grades, programs.",
        intro: "What the learning-paths plugin's frontend and course-discovery call: visible paths, enrolling in a path and then its courses, bulk enrollment by email, a learner's progress and grade, paths as Programs. Any signed-in user (staff for others' records). Errors are DRF's {\"detail\": …}.",
    },
    Surface {
        id: "checkout",
        title: "Checkout",
        tags: &["checkout"],
        prefix: "/api/v1/enrollments",
        summary: "One nested-JSON call that creates a student, takes a (simulated) payment and enrolls.",
        intro: "For a shop or a sign-up form: student, course, payment and enrollment in one body, all or nothing; card numbers are checked (Luhn) and never stored (only the last four). A Bearer or JWT token of global staff or a service client; 10 calls a minute. Errors are {success: false, message, errors: {\"student.email\": […]}, error_code}, 422 for validation.",
    },
    Surface {
        id: "admin",
        title: "Admin",
        tags: &["admin"],
        prefix: "/api/admin/v1/",
        summary: "The school's catalog, users, OAuth clients, roster CSV, history, progress, outbox and webhooks.",
        intro: "For the school's own scripts (the admin console uses the same rules): courses and modes, course staff, users, OAuth clients (secret shown once), the roster as CSV and CSV uploads, the enrollment history, completion and grades, the outbox and webhooks. Superusers and global staff; a course's staff for its roster, history and progress. Errors are v2's {error_code, developer_message, user_message, status_code, field_errors}.",
    },
    Surface {
        id: "scim",
        title: "SCIM provisioning",
        tags: &["scim"],
        prefix: "/scim/v2/",
        summary: "SCIM 2.0 for identity providers (Entra ID, Okta): accounts and groups that enroll in linked courses.",
        intro: "For the school's identity provider: it creates, updates and deactivates accounts (Users) and keeps Groups; a group linked to courses (admin API: /api/admin/v1/scim-groups) enrolls its members and unenrolls those who leave. RFC 7643/7644: filters with eq and and, paging, PATCH, ETags. Authorization: Bearer <SCIM token> (made by a superuser: /api/admin/v1/scim-tokens or `rollcall create-scim-token`); no other credential works here. Errors are SCIM's {schemas, status, scimType, detail}, as application/scim+json.",
    },
    Surface {
        id: "system",
        title: "System",
        tags: &["system", "docs"],
        prefix: "/health",
        summary: "Health, readiness, metrics and this documentation.",
        intro: "For load balancers, supervisors and monitoring: /health (the database answers), /ready (writes go through), /metrics (Prometheus; staff, or public when configured), and the documentation itself. No credentials except /metrics. Errors are DRF's {\"detail\": …}.",
    },
];

/// The document and the page are the same for the life of the process (they come from the
/// route table and the recorded examples): each is built once, at its first request.
fn cached(
    slot: &'static std::sync::OnceLock<(String, String)>,
    base_url: &str,
    build: impl FnOnce() -> String,
) -> String {
    match slot.get() {
        Some((base, text)) if base == base_url => text.clone(),
        Some(_) => build(),
        None => slot.get_or_init(|| (base_url.to_owned(), build())).1.clone(),
    }
}

fn get_openapi(ctx: &mut Ctx) -> Result<Response, Error> {
    static DOCUMENT: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let base = ctx.app.base_url.clone();
    let text = cached(&DOCUMENT, &base, || document(&base).to_string());
    Ok(super::http::with_etag(ctx, Response::from_data("application/json", text)))
}

fn error_schema(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::V2 => "V2Error",
        Dialect::Drf => "DrfError",
        Dialect::OAuth => "OAuthError",
        Dialect::LmsV1 => "LmsV1Error",
        Dialect::Developer => "DeveloperError",
        Dialect::Checkout => "CheckoutError",
        Dialect::Appsembler => "AppsemblerError",
        Dialect::Scim => "ScimError",
        // Console pages are not in the document; their errors are pages.
        Dialect::Console => "DrfError",
    }
}

/// Routes whose 404 has no body, as the Open edX and Appsembler originals answer.
const EMPTY_404: [&str; 6] = [
    "/api/enrollment/v1/enrollment",
    "/api/enrollment/v1/enrollment/{username_and_course_id}",
    "/api/user/v1/accounts",
    "/api/user/v1/accounts/{username}",
    "/appsembler_api/v0/accounts/get-user/{username}",
    "/appsembler_api/v0/accounts/connect",
];

fn merge_patch(name: &str) -> bool {
    name == "AccountPatch"
}

/// A course key as `domain::CourseKey` accepts it (opaque-keys' `[\w\-~.:]` fields).
pub const COURSE_KEY_PATTERN: &str = r"^course-v1:[\w\-~.:]+\+[\w\-~.:]+\+[\w\-~.:]+(\+(branch|version)@[\w\-~.:]+)*$";
const USERNAME_PATTERN: &str = r"^[\w.@+-]{2,150}$";
const EMAIL_PATTERN: &str = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";
const PATH_KEY_PATTERN: &str = r"^path-v1:[\w\-~.:]+\+[\w\-~.:]+\+[\w\-~.:]+\+[\w\-~.:]+$";

/// What a path or query parameter accepts, as the handlers parse it: the document says
/// exactly what is valid, so that a client (or schemathesis) sending valid data is served.
fn param_schema(route: &Route, name: &str) -> Value {
    let pattern = |p: &str| json!({"type": "string", "pattern": p, "maxLength": 255});
    match name {
        "course_id" if route.path == "/api/enrollment/v1/roles/" => json!({"type": "string"}),
        // An empty filter is no filter.
        "course_id" if route.path == "/api/enrollment/v1/enrollments" => {
            json!({"type": "string", "pattern": format!("^$|{COURSE_KEY_PATTERN}")})
        }
        "course_key" | "course_id" => pattern(COURSE_KEY_PATTERN),
        "course_ids" => json!({"type": "string", "description": "comma-separated course keys"}),
        "username" if route.path == "/api/enrollment/v1/enrollments" => {
            json!({"type": "string", "pattern": "^([\\w.@+-]{2,150})?$"})
        }
        "username" | "user" | "email" if !route.path.contains(&format!("{{{name}}}")) => json!({"type": "string"}),
        "username" | "user" => pattern(USERNAME_PATTERN),
        "email" => pattern(EMAIL_PATTERN),
        "email_or_username" => json!({"type": "string", "minLength": 1, "maxLength": 255}),
        "learning_path_key" => pattern(PATH_KEY_PATTERN),
        "uuid" => json!({"type": "string", "format": "uuid"}),
        // Larger page sizes are clamped, not refused.
        "page" | "page_size" | "before" | "id" => json!({"type": "integer", "minimum": 1}),
        "task_id" => json!({"type": "string", "minLength": 1, "maxLength": 64}),
        "email_student" => json!({"type": "string", "enum": ["true", "false"]}),
        // Read as "true" or "1"; anything else is false.
        "include_expired" | "purge" => json!({"type": "string"}),
        "updated_min" | "updated_max" | "since" => json!({"type": "string", "format": "date-time"}),
        "status" if route.path.starts_with("/api/admin/v1/outbox") => {
            json!({"type": "string", "enum": ["pending", "sent", "failed"]})
        }
        "status" => json!({"type": "string", "enum": ["all", "active", "inactive", "pre_enrolled"]}),
        "requested_fields" => {
            json!({"type": "string", "pattern": "^((beta_tester|profile_image|completion)(,(beta_tester|profile_image|completion))*)?$"})
        }
        "slug" => json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"}),
        "username_and_course_id" => {
            json!({"type": "string", "pattern": format!("^[\\w.@+-]{{2,150}},{}", &COURSE_KEY_PATTERN[1..]), "description": "username,course_key"})
        }
        _ => json!({"type": "string"}),
    }
}

fn operation(route: &Route) -> Value {
    let d = &route.doc;
    let schema_ref = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": schema_ref(error_schema(route.dialect))}}});
    let mut responses = Map::new();
    let success = match d.response {
        Some("Html") if route.path == "/metrics" => {
            json!({"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}})
        }
        Some("Html") => {
            json!({"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}})
        }
        Some("Csv") if route.method == "GET" => {
            json!({"description": "OK", "content": {"text/csv": {"schema": {"type": "string"}}}})
        }
        Some(name) => {
            json!({"description": "OK", "content": {"application/json": {"schema": schema_ref(name)}}})
        }
        None => json!({"description": "Done; no body"}),
    };
    responses.insert(d.status.to_string(), success);
    if route.path == "/" {
        responses.insert(
            "200".into(),
            json!({"description": "The front page (JSON with Accept: application/json)", "content": {
            "text/html": {"schema": {"type": "string"}}, "application/json": {"schema": schema_ref("FrontPage")}}}),
        );
    }
    if matches!(route.path, "/account/set-password" | "/account/confirm-email") && route.method == "POST" {
        // A browser's form post gets a page; a JSON client gets JSON (api/oauth.rs).
        responses.insert(
            "200".into(),
            json!({"description": "Password set", "content": {
            "application/json": {"schema": schema_ref("Me")}, "text/html": {"schema": {"type": "string"}}}}),
        );
        responses.insert("400".into(), json!({"description": "Invalid, expired or used link", "content": {
            "application/json": {"schema": schema_ref(error_schema(route.dialect))}, "text/html": {"schema": {"type": "string"}}}}));
    }
    if route.method == "POST" && route.path == "/api/enrollment/v2/courses/{course_key}/enrollments" {
        let accepted = json!({"description": "Several identifiers: a background task was started", "content": {"application/json": {"schema": schema_ref("V2AsyncResult")}}});
        responses.insert("202".into(), accepted);
    }
    if route.method == "POST" && route.path == "/api/user/v1/accounts/retire/" {
        let accepted = json!({"description": "usernames: a background retirement task was started", "content": {"application/json": {"schema": schema_ref("RetirementTask")}}});
        responses.insert("202".into(), accepted);
    }
    if (route.path.ends_with("/enroll/") || route.path == "/api/learning_paths/v1/{learning_path_key}/enrollments/")
        && route.method == "POST"
    {
        responses.insert("200".into(), json!({"description": "An inactive enrollment was reactivated", "content": {"application/json": {"schema": schema_ref("LearningPathEnrollment")}}}));
    }
    if route.path == "/api/enrollment/v1/unenroll/" {
        // Open edX's retirement view: 204 when there was nothing to leave, and a bare JSON
        // string with its 404s.
        responses.insert("204".into(), json!({"description": "The user had no enrollments"}));
        responses.insert("404".into(), json!({"description": "No such user, or no username given", "content": {"application/json": {"schema": {"type": "string"}}}}));
    }
    if (d.request.is_some() || !d.query.is_empty() || route.path.contains('{')) && !responses.contains_key("400") {
        responses.insert("400".into(), error("Invalid input"));
    }
    if d.auth {
        responses.insert("401".into(), error("Missing or invalid credentials"));
        responses.insert("403".into(), error("Not permitted"));
    }
    if route.path == "/api/enrollment/v1/unenroll/" {
    } else if EMPTY_404.contains(&route.path) {
        responses.insert("404".into(), json!({"description": "Not found (an empty body, as Open edX answers)"}));
    } else if route.path.contains('{') {
        responses.insert("404".into(), error("Not found"));
    }
    if d.request.is_some() {
        responses.insert("413".into(), error("Body too large"));
        responses.insert("415".into(), error("Unsupported content type"));
    }
    if route.path.starts_with("/api/admin/") && d.status == 201 {
        responses.insert("409".into(), error("Already exists"));
    }
    responses.insert("429".into(), error("Rate limited"));
    if route.dialect == Dialect::Checkout {
        responses.insert("422".into(), error("Validation failed (every problem, keyed by dotted field name)"));
    }
    // Whatever else a surface answers (its dialect's documented statuses) is a client or
    // server error in the same shape; some Open edX 404s carry no body at all.
    responses.insert("4XX".into(), error("Other client errors"));
    responses.insert("5XX".into(), error("Server error (opaque; the cause is logged)"));
    if ETAGGED.contains(&route.path) {
        responses.insert("304".into(), json!({"description": "Not modified: If-None-Match named the current ETag"}));
    }
    add_response_headers(route, &mut responses);
    let mut op = json!({
        "summary": d.summary,
        "description": description(route),
        "operationId": operation_id(route),
        "tags": [d.tag],
        "responses": responses,
    });
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let mut p = json!({"name": name, "in": "path", "required": true, "schema": param_schema(route, name)});
            if let Some(example) = super::examples::parameter(name) {
                p["example"] = json!(example);
            }
            p
        })
        .collect();
    parameters.extend(d.query.iter().map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": param_schema(route, name)})
    }));
    if !parameters.is_empty() {
        op["parameters"] = json!(parameters);
    }
    if let Some(name) = d.request {
        // The media types the route's dialect reads (api/body.rs decides them).
        let content: serde_json::Map<String, Value> = if name == "Csv" {
            [("text/csv".to_owned(), json!({"schema": {"type": "string", "description": "CSV with a header row"}}))]
                .into_iter()
                .collect()
        } else if merge_patch(name) {
            [("application/merge-patch+json".to_owned(), json!({"schema": schema_ref(name)}))].into_iter().collect()
        } else {
            let types = route.dialect.parsers().media_types();
            types.iter().map(|t| (t.to_string(), json!({"schema": schema_ref(name)}))).collect()
        };
        // The learning-path enrollment bodies may be left out (the caller is meant). A DRF
        // view reads an absent body as an empty form (its missing fields are a 400), and
        // saying so keeps generated clients of a three-media-type body importable
        // (openapi-python-client imports `Unset` only for an optional body).
        let required = !matches!(name, "LearningPathEnrollRequest" | "LearningPathUsername") && content.len() == 1;
        op["requestBody"] = json!({"required": required, "content": content});
    }
    super::idempotency::document(route, &mut op, &error);
    // The answers the key adds carry the headers every answer does.
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        let mut added: Map<String, Value> =
            responses.iter().filter(|(_, r)| r.get("headers").is_none()).map(|(s, r)| (s.clone(), r.clone())).collect();
        add_response_headers(route, &mut added);
        responses.extend(added);
    }
    add_examples(route, &mut op);
    if let Some(examples) = super::examples::for_operation(route.method, route.path) {
        if let (Some(request), Some(content)) = (
            &examples.request,
            op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut),
        ) {
            if let Some(media) = content.get_mut("application/json").filter(|m| m.get("example").is_none()) {
                media["example"] = request.clone();
            }
        }
        // A recorded answer is what this server says; the spec's fills the other statuses
        // (and replaces the generic error example there).
        let recorded = super::examples::recorded().get(&format!("{} {}", route.method, route.path));
        for (status, body) in examples.responses {
            if recorded.is_some_and(|e| e["status"].as_u64() == Some(status as u64)) {
                continue;
            }
            if let Some(media) = op["responses"]
                .get_mut(status.to_string())
                .and_then(|r| r.get_mut("content"))
                .and_then(|c| c.get_mut("application/json"))
            {
                media["example"] = body;
            }
        }
    }
    if d.auth {
        op["security"] = json!([{"jwt": []}, {"bearer": []}, {"session": []}, {"apiKey": []}]);
    } else {
        op["security"] = json!([]);
    }
    if route.dialect == Dialect::Scim {
        scim_media_types(&mut op);
    }
    op
}

/// SCIM answers as application/scim+json, takes it and application/json, and knows only
/// SCIM tokens (RFC 7644 §3.1, §2).
fn scim_media_types(op: &mut Value) {
    for response in op["responses"].as_object_mut().into_iter().flatten().map(|(_, r)| r) {
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
            if let Some(media) = content.remove("application/json") {
                content.insert(super::scim::render::MEDIA_TYPE.into(), media);
            }
        }
    }
    if let Some(content) = op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut) {
        if let Some(media) = content.get("application/json").cloned() {
            content.insert(super::scim::render::MEDIA_TYPE.into(), media);
        }
    }
    op["security"] = json!([{"scimToken": []}]);
}

/// `adminGetCourse`, `enrollmentV2DeleteCourseEnrollment`: the tag, the method, and the
/// path's words after its surface prefix, a collection named in the singular when one
/// item of it is meant (a parameter follows). Unique: tests/api/docs.rs checks.
pub fn operation_id(route: &Route) -> String {
    let camel = |word: &str, first: bool| -> String {
        word.split(['-', '_', '.'])
            .filter(|w| !w.is_empty())
            .enumerate()
            .map(|(i, w)| {
                let mut chars = w.chars();
                let head =
                    chars.next().map(|c| if first && i == 0 { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() });
                head.into_iter().chain(chars).collect::<String>()
            })
            .collect()
    };
    let tag_words: Vec<&str> = route.doc.tag.split('-').collect();
    let segments: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
    let mut words: Vec<String> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let is_param = segment.starts_with('{');
        let version =
            segment.len() == 2 && segment.starts_with('v') && segment[1..].chars().all(|c| c.is_ascii_digit());
        let surface = *segment == "api" || tag_words.iter().any(|t| segment.split(['_', '-']).next() == Some(*t));
        if is_param || version || (surface && i < 3) {
            continue;
        }
        let one_of_many = segments.get(i + 1).is_some_and(|next| next.starts_with('{'));
        let word = if one_of_many { segment.strip_suffix('s').unwrap_or(segment) } else { segment };
        let word = camel(word, false);
        if words.last() != Some(&word) {
            words.push(word);
        }
    }
    let method = camel(&route.method.to_ascii_lowercase(), false);
    format!("{}{method}{}", camel(route.doc.tag, true), words.concat())
}

/// What an operation's reader needs besides its summary: who may call it and what its
/// errors look like.
fn description(route: &Route) -> String {
    let who = if route.doc.auth {
        "Needs credentials: `Authorization: JWT <token>` or `Bearer <token>` from POST /oauth2/access_token, a session cookie (with X-CSRFToken on unsafe methods), or X-Edx-Api-Key where configured."
    } else {
        "No credentials needed."
    };
    format!(
        "{}. {who} Errors are `{}` bodies; a fault of the server or its database is the whole request's 500 or 503 (with Retry-After), never a success.",
        route.doc.summary.trim_end_matches('.'),
        error_schema(route.dialect)
    )
}

/// The headers each answer carries (`components.headers`).
fn add_response_headers(route: &Route, responses: &mut Map<String, Value>) {
    let h = |name: &str| json!({"$ref": format!("#/components/headers/{name}")});
    let paged = route.doc.query.iter().any(|(name, _)| *name == "page" || *name == "before") && route.method == "GET";
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else { continue };
        let mut headers = Map::new();
        headers.insert("X-Request-Id".into(), h("X-Request-Id"));
        if status == "429" || status == "5XX" {
            headers.insert("Retry-After".into(), h("Retry-After"));
        }
        if route.doc.auth {
            headers.insert("X-RateLimit-Limit".into(), h("X-RateLimit-Limit"));
            headers.insert("X-RateLimit-Remaining".into(), h("X-RateLimit-Remaining"));
        }
        if status == "202" {
            headers.insert("Location".into(), h("Location"));
        }
        if ETAGGED.contains(&route.path) && (status == "200" || status == "304") {
            headers.insert("ETag".into(), h("ETag"));
        }
        if paged && status.starts_with('2') {
            headers.insert("Link".into(), h("Link"));
        }
        response.insert("headers".into(), Value::Object(headers));
    }
}

fn response_headers() -> Value {
    let text = |description: &str| json!({"description": description, "schema": {"type": "string"}});
    let number = |description: &str| json!({"description": description, "schema": {"type": "integer"}});
    json!({
        "X-Request-Id": text("The caller's X-Request-Id when it sent a short printable one, otherwise one of ours; the access log names it"),
        "Retry-After": number("Seconds to wait: on 429 (rate limited) and 503 (the database cannot take writes now)"),
        "X-RateLimit-Limit": number("Requests allowed per minute on this surface for this caller (when rate limits are on)"),
        "X-RateLimit-Remaining": number("Requests left in the current minute"),
        "Location": text("The background task's status URL (the body's status_url)"),
        "Link": text("RFC 8288 next/prev links of a paged list"),
        "ETag": text("The answer's version: send it back as If-None-Match to get a 304 while it has not changed"),
    })
}

/// Routes answered with an ETag (`http::with_etag`).
const ETAGGED: [&str; 4] =
    ["/api-docs/openapi.json", "/api-docs/", "/api/courses/v1/courses/", "/api/courses/v1/courses/{course_key}"];

/// The top-level tags: each surface's introduction is its first tag's description.
fn tags() -> Value {
    let extra = |tag: &str| match tag {
        "accounts" => "Open edX's account API (/api/user/v1/accounts): read by the user or staff, changed by the user.",
        "catalog" => "The public catalog, shaped like Open edX's Course API (/api/courses/v1/).",
        "docs" => "This document (/api-docs/openapi.json) and the readable reference (/api-docs/).",
        _ => "",
    };
    let list: Vec<Value> = SURFACES
        .iter()
        .flat_map(|surface| {
            surface.tags.iter().enumerate().map(move |(i, tag)| {
                let description = if i == 0 { surface.intro } else { extra(tag) };
                json!({"name": tag, "description": description, "x-displayName": if i == 0 { surface.title.to_owned() } else { tag.replace('-', " ") }})
            })
        })
        .collect();
    json!(list)
}

/// The recorded request and answer of the operation (examples.json), and an answer in the
/// route's error format for each documented error status without one.
fn add_examples(route: &Route, op: &mut Value) {
    let key = format!("{} {}", route.method, route.path);
    if let Some(example) = super::examples::recorded().get(&key) {
        for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or("").to_owned();
            if let Some(v) = example["params"].get(&name).or_else(|| example["query_params"].get(&name)) {
                // A query string is text; an integer parameter's example is its number.
                let number =
                    v.as_str().and_then(|t| t.parse::<i64>().ok()).filter(|_| p["schema"]["type"] == "integer");
                p["example"] = number.map(Value::from).unwrap_or_else(|| v.clone());
            }
        }
        let media = example["media"].as_str().unwrap_or("application/json");
        if let Some(content) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut)
        {
            let target = if content.contains_key(media) {
                media.to_owned()
            } else {
                content.keys().next().cloned().unwrap_or_default()
            };
            // JSON bodies only: a text example (a CSV, a form) is shown on the page from
            // examples.json instead, since generators read a media type's example as data.
            if let Some(m) = content.get_mut(&target).filter(|_| target.ends_with("json")) {
                if !example["body"].is_null() {
                    m["example"] = example["body"].clone();
                }
            }
        }
        let status = example["status"].as_u64().unwrap_or(0).to_string();
        if let Some(response) = op["responses"].get_mut(&status) {
            if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                if let Some((_, m)) = content.iter_mut().next() {
                    m["example"] = example["response"].clone();
                }
            }
        }
    }
    let statuses: Vec<String> = op["responses"].as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default();
    for status in statuses {
        // get_mut, not indexing: IndexMut would add `"content": null` to a bodiless answer.
        let Some(m) = op
            .get_mut("responses")
            .and_then(|r| r.get_mut(&status))
            .and_then(|r| r.get_mut("content"))
            .and_then(|c| c.get_mut("application/json"))
        else {
            continue;
        };
        let is_error_schema =
            m["schema"]["$ref"].as_str() == Some(&format!("#/components/schemas/{}", error_schema(route.dialect)));
        if m.get("example").is_none() && status.starts_with(['4', '5']) && is_error_schema {
            if let Some(example) = super::examples::error_example(route.dialect, &status) {
                m["example"] = example;
            }
        }
    }
}

/// The whole document, built from `router::routes()`.
pub fn document(base_url: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut schemas = schemas();
    let mut ids = std::collections::HashSet::new();
    for route in router::routes() {
        let item = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        let mut op = operation(&route);
        // `GET …/enrollment` and `GET …/enrollment/{username_and_course_id}`: the second
        // says what it is looked up by.
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        if !ids.insert(id.clone()) {
            let param = route.path.rsplit('/').find_map(|s| s.strip_prefix('{')?.strip_suffix('}')).unwrap_or("item");
            let by: String =
                param.split('_').filter(|w| !w.is_empty()).map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect();
            op["operationId"] = json!(format!("{id}By{by}"));
            ids.insert(format!("{id}By{by}"));
        }
        // A form carries text only: its media types get the schema's form view.
        if let Some(content) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut)
        {
            for (media, body) in content.iter_mut() {
                if media == "application/json" || media.ends_with("+json") {
                    continue;
                }
                let Some(name) = body["schema"]["$ref"].as_str().and_then(|r| r.rsplit('/').next()).map(str::to_owned)
                else {
                    continue;
                };
                let form_name = format!("{name}Form");
                if schemas.get(&form_name).is_none() {
                    schemas[&form_name] = form_view(&schemas[&name]);
                }
                body["schema"] = json!({"$ref": format!("#/components/schemas/{form_name}")});
            }
        }
        item[route.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rollcall",
            // The contract's version, not the build's: anonymous readers are not told which
            // release (and so which known flaws) they face.
            "version": "1",
            "description": "Every enrollment API a school needs: Open edX-compatible OAuth2/JWT, admin catalog, and enrollment surfaces. A refused request is a 4xx in its surface's error format; a fault of the server or its database is a 500, or a 503 with Retry-After (a full or read-only disk), never a 2xx.",
            "license": {"name": "AGPL-3.0-only", "identifier": "AGPL-3.0-only"},
        },
        "servers": [{"url": base_url}],
        "tags": tags(),
        "paths": paths,
        "components": {"schemas": schemas, "headers": response_headers(), "securitySchemes": {
            "jwt": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`JWT <token>` from /oauth2/access_token with token_type=jwt"},
            "bearer": {"type": "http", "scheme": "bearer", "description": "A JWT or an opaque token"},
            "session": {"type": "apiKey", "in": "cookie", "name": "rollcall_session", "description": "From POST /login; unsafe methods also need the X-CSRFToken header"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Edx-Api-Key", "description": "Server-to-server key, when configured"},
            "scimToken": {"type": "http", "scheme": "bearer", "description": "A SCIM token (POST /api/admin/v1/scim-tokens), for /scim/v2 only"},
        }},
    })
}

/// The enrollment lifecycle's fields and bodies (README "Enrollment lifecycle"): course
/// settings, enrollment status and dates, the waitlist.
fn add_lifecycle_schemas(schemas: &mut Value) {
    let s = |t: &str| json!({"type": t});
    let ns = |t: &str| json!({"type": [t, "null"]});
    let date = json!({"type": ["string", "null"], "format": "date-time"});
    let status = json!({"type": "string", "enum": ["active", "suspended", "expired", "inactive"]});
    let settings = json!({
        "access_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 36500},
        "expiry_action": {"type": "string", "enum": ["keep", "suspend", "unenroll"]},
        "expiry_notice_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 3650},
        "waitlist": s("boolean"),
        "waitlist_limit": {"type": ["integer", "null"], "minimum": 0},
        "suspended_holds_seat": s("boolean"),
    });
    for schema in ["AdminCourseInput", "AdminCourse"] {
        if let (Some(props), Some(add)) = (schemas[schema]["properties"].as_object_mut(), settings.as_object()) {
            props.extend(add.clone());
        }
    }
    let optional = json!({"status": {"oneOf": [status.clone(), {"type": "null"}]}, "access_start": date, "access_end": date,
        "waitlist_position": ns("integer")});
    if let (Some(props), Some(add)) = (schemas["V2Enrollment"]["properties"].as_object_mut(), optional.as_object()) {
        props.extend(add.clone());
    }
    for (schema, field, value) in [
        ("V2EnrollmentState", "waitlisted", s("boolean")),
        ("V2EnrollmentState", "waitlist_position", s("integer")),
        ("V2EnrollRequest", "access_start", date.clone()),
        ("V2EnrollRequest", "access_end", date.clone()),
        ("V1EnrollmentRequest", "waitlist", s("boolean")),
    ] {
        schemas[schema]["properties"][field] = value;
    }
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let entry = json!({"type": "object", "required": ["username", "position"], "properties": {"username": s("string"), "email": s("string"),
        "position": s("integer"), "mode": s("string"), "access_start": date, "access_end": date, "created": date}});
    let more = json!({
        "EnrollmentLifecyclePatch": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "status": status, "access_start": date, "access_end": date}},
        "EnrollmentLifecycle": {"type": "object", "required": ["username", "course_key", "is_active", "status"], "properties": {
            "username": s("string"), "course_key": s("string"), "mode": s("string"), "is_active": s("boolean"), "status": status,
            "access_start": date, "access_end": date}},
        "WaitlistEntry": entry,
        "Waitlist": {"type": "object", "required": ["course_key", "count", "results"], "properties": {"course_key": s("string"),
            "count": s("integer"), "results": {"type": "array", "items": r("WaitlistEntry")}}},
        "WaitlistAdd": {"type": "object", "required": ["username"], "additionalProperties": false, "properties": {"username": s("string")}},
        "WaitlistAdded": {"type": "object", "properties": {"username": s("string"), "waitlist_position": ns("integer"), "enrolled": s("boolean")}},
        "WaitlistMove": {"type": "object", "required": ["position"], "additionalProperties": false, "properties": {"position": {"type": "integer", "minimum": 1}}},
        "V1WaitlistPlace": {"type": "object", "required": ["user", "course_id", "waitlist_position"], "properties": {"user": s("string"),
            "course_id": s("string"), "waitlist_position": s("integer")}},
    });
    if let (Some(all), Some(add)) = (schemas.as_object_mut(), more.as_object()) {
        all.extend(add.clone());
    }
}

fn schemas() -> Value {
    let mut all = described_schemas();
    for (name, schema) in super::scim::openapi_schemas().as_object().into_iter().flatten() {
        all[name] = schema.clone();
    }
    constrain(&mut all);
    require_what_is_always_sent(&mut all);
    all
}

/// Answers whose every field is always sent (a null when it has no value): each field is
/// required, so a generated client types none of them as optional. The schemathesis check
/// (tests/api/docs.rs) holds the server to it.
const ALWAYS_SENT: [&str; 30] = [
    "AdminCourse",
    "AdminLearningPathList",
    "AdminUser",
    "AppsemblerBulkResult",
    "AppsemblerCodes",
    "CourseModeList",
    "CourseStaffList",
    "Health",
    "InstructorModifyResult",
    "LearningPathBulkCounts",
    "LearningPathEnrollment",
    "LearningPathStep",
    "LoginResponse",
    "OAuthClient",
    "OAuthClientCreated",
    "OAuthClientList",
    "OutboxMessage",
    "OutboxPage",
    "PublicCourse",
    "PublicCoursePage",
    "V1CourseDetails",
    "V1EnrollmentAllowed",
    "V1EnrollmentCursorPage",
    "V1Mode",
    "V1Roles",
    "V2OperationResult",
    "Webhook",
    "WebhookCreated",
    "WebhookList",
    "Me",
];

fn require_what_is_always_sent(schemas: &mut Value) {
    for name in ALWAYS_SENT {
        let fields: Vec<String> =
            schemas[name]["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
        schemas[name]["required"] = json!(fields);
    }
    // The detail view adds subtitle, description, level, duration, time_commitment and skills.
    schemas["LearningPath"]["required"] = json!([
        "key",
        "uuid",
        "display_name",
        "image",
        "sequential",
        "steps",
        "required_completion",
        "enrollment_date",
        "invite_only"
    ]);
}

/// A request schema as a form or multipart body can carry it: every field is text (a
/// boolean is DRF's words for it, a number its digits) and nested objects or lists cannot
/// be sent, so they are left out.
fn form_view(schema: &Value) -> Value {
    fn scalar(p: &Value) -> Option<Value> {
        for branch in ["oneOf", "anyOf"] {
            if let Some(options) = p.get(branch).and_then(Value::as_array) {
                return options.iter().find(|o| o["type"] == "string").or_else(|| options.first()).and_then(scalar);
            }
        }
        let types: Vec<&str> = match &p["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => vec!["string"],
        };
        if types.contains(&"string") {
            let mut text = p.clone();
            text["type"] = json!("string");
            if let Some(choices) = text.get("enum").and_then(Value::as_array).cloned() {
                text["enum"] = json!(choices
                    .iter()
                    .map(|c| c.as_str().map(str::to_owned).unwrap_or_else(|| c.to_string()))
                    .collect::<Vec<_>>());
            }
            return Some(text);
        }
        match types.first().copied() {
            // DRF also reads True/False/1/0; one spelling each keeps generated enums distinct.
            Some("boolean") => Some(json!({"type": "string", "enum": ["true", "false"]})),
            Some("integer") => Some(json!({"type": "string", "pattern": "^[0-9]{1,9}$"})),
            Some("number") => Some(json!({"type": "string", "pattern": "^[0-9]{1,9}(\\.[0-9]{1,2})?$"})),
            _ => None,
        }
    }
    let mut form = json!({"type": "object", "properties": {}});
    let mut kept = Vec::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(text) = scalar(property) {
            form["properties"][name] = text;
            kept.push(name.clone());
        }
    }
    let required: Vec<&Value> =
        schema["required"].as_array().into_iter().flatten().filter(|r| kept.iter().any(|k| r == &k)).collect();
    if !required.is_empty() {
        form["required"] = json!(required);
    }
    if schema.get("additionalProperties").is_some() {
        form["additionalProperties"] = schema["additionalProperties"].clone();
    }
    form
}

/// What each request field must be, as its handler parses it, put into the schemas: the
/// document then calls valid only what is accepted (checked by schemathesis'
/// positive-data-acceptance, `tests/api/docs.rs`). Rules a schema cannot state (a course
/// that must exist, a date before today, a Luhn check) are listed in schemathesis.toml.
fn constrain(schemas: &mut Value) {
    let pattern = |p: &str, max: u64| json!({"type": "string", "pattern": p, "maxLength": max});
    let key = pattern(COURSE_KEY_PATTERN, 255);
    let path_key = pattern(PATH_KEY_PATTERN, 255);
    let username = pattern(USERNAME_PATTERN, 150);
    let email = pattern(EMAIL_PATTERN, 254);
    // Text that is not blank (handlers trim, then refuse an empty value).
    // Text with something in it besides white space (handlers trim, then refuse blanks).
    let text = |min: u64, max: u64| json!({"type": "string", "pattern": "\\S", "minLength": min, "maxLength": max});
    let nonempty = |max: u64| json!({"type": "string", "minLength": 1, "maxLength": max});
    // Stored free text (domain::text): its kind's length, no control character but tab and
    // line breaks; `named` must also have something besides white space.
    let free = |max: usize| json!({"type": "string", "maxLength": max, "pattern": TEXT_PATTERN});
    let free_or_null = |max: usize| json!({"type": ["string", "null"], "maxLength": max, "pattern": TEXT_PATTERN});
    let named = |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max, "allOf": [{"pattern": "\\S"}, {"pattern": TEXT_PATTERN}]});
    let drf_text = json!({"type": ["string", "number", "null"]});
    let date = json!({"type": "string", "format": "date"});
    let when = json!({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]});
    let or_empty = |schema: &Value| json!({"anyOf": [{"type": "string", "maxLength": 0}, schema]});
    let key_body = &COURSE_KEY_PATTERN[1..COURSE_KEY_PATTERN.len() - 1];
    let keys = format!("^[,\\s]*{key_body}([,\\s]+{key_body})*[,\\s]*$");
    let country = pattern("^[A-Za-z]{2}$", 2);
    let address = json!({"type": "object", "required": ["street", "city", "country", "postal_code"], "properties": {
        "street": text(1, 255), "city": text(1, 100), "state": {"type": "string"}, "country": country, "postal_code": text(1, 20)}});
    let rules: Vec<(&str, &str, Value)> = vec![
        ("TokenRequest", "client_id", nonempty(255)),
        ("TokenRequest", "client_secret", nonempty(255)),
        ("RevokeRequest", "token", nonempty(4096)),
        ("LoginRequest", "username", nonempty(255)),
        ("LoginRequest", "password", nonempty(1024)),
        ("SetPasswordRequest", "password", json!({"type": "string", "minLength": 8, "maxLength": 1024})),
        ("SetPasswordRequest", "token", nonempty(1024)),
        ("ConfirmEmailRequest", "token", nonempty(1024)),
        ("CourseStaffInput", "username", username.clone()),
        ("OAuthClientInput", "name", named(Title::MAX_CHARS)),
        ("OAuthClientInput", "user", username.clone()),
        ("AdminUserInput", "username", username.clone()),
        ("AdminUserInput", "email", email.clone()),
        ("AdminUserInput", "password", json!({"type": "string", "writeOnly": true, "minLength": 8, "maxLength": 1024})),
        ("AdminUserInput", "name", free(Title::MAX_CHARS)),
        ("AdminUserInput", "first_name", free(Title::MAX_CHARS)),
        ("AdminUserInput", "last_name", free(Title::MAX_CHARS)),
        ("AdminCourseInput", "course_key", key.clone()),
        ("AdminCourseInput", "start", when.clone()),
        ("AdminCourseInput", "end", when.clone()),
        ("AdminCourseInput", "enrollment_start", when.clone()),
        ("AdminCourseInput", "enrollment_end", when.clone()),
        ("AdminCourseInput", "code", json!({"type": ["string", "null"], "pattern": CourseCode::PATTERN, "maxLength": CourseCode::MAX_CHARS})),
        ("AdminCourseInput", "level", free_or_null(Label::MAX_CHARS)),
        ("AdminCourseInput", "title", named(Title::MAX_CHARS)),
        ("AdminCourseInput", "currency", pattern("^[A-Za-z]{3}$", 3)),
        ("AdminCourseInput", "duration_hours", json!({"type": ["integer", "null"], "minimum": 0, "maximum": 100000})),
        ("AdminCourseInput", "max_enrollments", json!({"type": ["integer", "null"], "minimum": 0, "maximum": 10000000})),
        ("CourseMode", "slug", json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"})),
        ("CourseMode", "expiration_datetime", when.clone()),
        ("CourseMode", "name", free_or_null(Title::MAX_CHARS)),
        ("CourseMode", "description", free_or_null(Title::MAX_CHARS)),
        ("CourseMode", "sku", free_or_null(Title::MAX_CHARS)),
        ("CourseMode", "currency", pattern("^[A-Za-z]{3}$", 3)),
        ("AdminLearningPathInput", "key", path_key.clone()),
        ("AdminLearningPathInput", "display_name", named(Title::MAX_CHARS)),
        ("AdminLearningPathInput", "subtitle", free_or_null(Title::MAX_CHARS)),
        ("AdminLearningPathInput", "description", free_or_null(Description::MAX_CHARS)),
        ("AdminLearningPathInput", "duration", free_or_null(Label::MAX_CHARS)),
        ("AdminLearningPathInput", "time_commitment", free_or_null(Label::MAX_CHARS)),
        ("AdminLearningPathInput", "steps", json!({"type": "array", "items": {"type": "object", "required": ["course_key"], "additionalProperties": false,
            "properties": {"course_key": key.clone(), "weight": {"type": "number", "minimum": 0, "maximum": 1}}}})),
        ("WebhookInput", "url", pattern("^https?://[A-Za-z0-9.-]+(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][^\\s\\u0000-\\u001F\\u007F-\\u009F]*)?$", URL_MAX_CHARS as u64)),
        ("V1EnrollmentRequest", "user", username.clone()),
        ("V1EnrollmentRequest", "email", email.clone()),
        ("V1EnrollmentRequest", "mode", pattern("^[A-Za-z0-9_-]{1,100}$", 100)),
        ("V1EnrollmentRequest", "course_details.course_id", key.clone()),
        ("V1EnrollmentAllowedRequest", "email", email.clone()),
        ("V1EnrollmentAllowedRequest", "course_id", key.clone()),
        ("V1UnenrollRequest", "username", username.clone()),
        // An unknown mode is each row's error, not the request's.
        ("V2EnrollRequest", "mode", json!({"type": ["string", "null"]})),
        ("V2EnrollRequest", "identifiers", json!({"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "\\S", "maxLength": 255}})),
        ("InstructorModifyRequest", "identifier", json!({"oneOf": [
            {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "\\S", "maxLength": 255}},
            {"type": "string", "pattern": "[^,\\s]", "description": "a form's one field: identifiers separated by commas or whitespace"}]})),
        ("InstructorModifyRequest", "reason", json!({"type": ["string", "null"]})),
        ("LearningPathBulkRequest", "learning_paths", json!({"type": ["string", "number"], "description": "comma-separated keys"})),
        ("LearningPathBulkRequest", "emails", json!({"type": ["string", "number"], "description": "comma-separated"})),
        ("LearningPathBulkRequest", "reason", drf_text.clone()),
        ("LearningPathBulkRequest", "org", drf_text.clone()),
        ("LearningPathBulkRequest", "role", drf_text.clone()),
        ("LearningPathEnrollRequest", "username", username.clone()),
        ("LearningPathUsername", "username", json!({"type": ["string", "null"], "pattern": USERNAME_PATTERN})),
        ("AppsemblerCreateAccount", "username", username.clone()),
        ("AppsemblerCreateAccount", "email", email.clone()),
        ("AppsemblerCreateAccount", "password", nonempty(1024)),
        ("AppsemblerCreateAccount", "name", text(1, 255)),
        ("AppsemblerCreateAccount", "send_activation_email", json!({"type": ["string", "boolean"]})),
        ("AppsemblerUserWithoutPassword", "email", email.clone()),
        ("AppsemblerUserWithoutPassword", "name", text(1, 255)),
        ("AppsemblerUserWithoutPassword", "country", pattern("^[A-Za-z]{2}$", 2)),
        ("AppsemblerUserWithoutPassword", "gender", json!({"type": "string", "enum": ["m", "f", "o"]})),
        ("AppsemblerUserWithoutPassword", "level_of_education", json!({"type": "string", "enum": crate::core::accounts::EDUCATION_LEVELS})),
        ("AppsemblerUserWithoutPassword", "year_of_birth", pattern("^(19[0-9]{2}|20[0-9]{2}|2100)$", 4)),
        ("AppsemblerConnect", "username", username.clone()),
        // Empty means "leave as it is".
        ("AppsemblerConnect", "email", or_empty(&email)),
        ("AppsemblerConnect", "password", json!({"type": "string", "maxLength": 1024})),
        ("AppsemblerConnect", "name", json!({"type": "string", "maxLength": 255})),
        ("AppsemblerUpdateUser", "user_lookup", nonempty(255)),
        ("AppsemblerUpdateUser", "email", email.clone()),
        ("AppsemblerUpdateUser", "country", pattern("^[A-Za-z]{2}$", 2)),
        ("AppsemblerUpdateUser", "gender", json!({"type": "string", "enum": ["m", "f", "o"]})),
        ("AppsemblerUpdateUser", "level_of_education", json!({"type": "string", "enum": crate::core::accounts::EDUCATION_LEVELS})),
        ("AppsemblerUpdateUser", "year_of_birth", pattern("^(19[0-9]{2}|20[0-9]{2}|2100)$", 4)),
        ("AppsemblerGenerateCodes", "course_id", key.clone()),
        ("AppsemblerGenerateCodes", "total_registration_codes", json!({"oneOf": [{"type": "integer", "minimum": 0, "maximum": 1000}, {"type": "string", "pattern": "^[0-9]{1,3}(\\.[0-9]+)?$"}]})),
        ("AppsemblerRedeemCode", "email", email.clone()),
        ("AppsemblerRedeemCode", "enrollment_code", nonempty(32)),
        ("AppsemblerCodeStatus", "enrollment_code", nonempty(32)),
        ("AppsemblerBulkEnroll", "identifiers", json!({"type": "string", "pattern": "\\S"})),
        ("AppsemblerBulkEnroll", "courses", json!({"type": "string", "pattern": keys})),
        ("AppsemblerBulkEnroll", "auto_enroll", json!({"type": "boolean"})),
        ("AppsemblerBulkEnroll", "email_students", json!({"type": "boolean"})),
        ("CheckoutRequest", "student.email", email.clone()),
        ("CheckoutRequest", "student.first_name", text(2, 100)),
        ("CheckoutRequest", "student.last_name", text(2, 100)),
        ("CheckoutRequest", "student.phone", pattern("^\\+?[0-9]([0-9 ().-]{5,20})[0-9]$", 30)),
        ("CheckoutRequest", "student.date_of_birth", date.clone()),
        ("CheckoutRequest", "student.address", address.clone()),
        ("CheckoutRequest", "student.preferences", json!({"type": "object", "properties": {"language": {"type": "string", "enum": ["en", "es", "fr", "de", "pt"]}}})),
        // same_as_student true, or the address (the 422 names what is missing).
        ("CheckoutRequest", "payment.billing_address", json!({"type": "object", "description": "{\"same_as_student\": true}, or street, city, country and postal_code",
            "properties": {"same_as_student": {"type": "boolean"}, "street": text(1, 255), "city": text(1, 100), "country": pattern("^[A-Za-z]{2}$", 2), "postal_code": text(1, 20)}})),
        ("CheckoutRequest", "metadata", json!({"type": "object", "properties": {"ip_address": {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]}}})),
        ("CheckoutRequest", "course.custom_fields", json!({"type": "array", "items": {"type": "object", "required": ["key", "value"],
            "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 100}, "value": {"type": "string", "maxLength": 500}}}})),
        ("CheckoutRequest", "enrollment.modules", json!({"type": "array", "items": {"type": "object", "properties": {"unlock_date": {"type": ["string", "null"], "format": "date"}}}})),
        ("CheckoutRequest", "course.code", text(1, 50)),
        ("CheckoutRequest", "payment.amount", json!({"oneOf": [{"type": "number", "minimum": 0, "maximum": 999999.99, "multipleOf": 0.01}, {"type": "string", "pattern": "^[0-9]{1,6}(\\.[0-9]{1,2})?$"}]})),
        ("CheckoutRequest", "payment.coupon_code", text(1, 50)),
        ("CheckoutRequest", "payment.card.number", pattern("^[0-9]{13,19}$", 19)),
        ("CheckoutRequest", "payment.card.holder_name", text(1, 100)),
        ("CheckoutRequest", "payment.card.expiry_month", json!({"type": "integer", "minimum": 1, "maximum": 12})),
        ("CheckoutRequest", "payment.card.expiry_year", json!({"type": "integer", "minimum": 2026, "maximum": 2036})),
        ("CheckoutRequest", "payment.card.cvv", pattern("^[0-9]{3,4}$", 4)),
    ];
    for (schema, path, constraint) in rules {
        let mut at = &mut schemas[schema];
        for part in path.split('.') {
            at = &mut at["properties"][part];
        }
        *at = constraint;
    }
    // Response-only fields are not input.
    for field in ["id", "date_joined", "last_login"] {
        schemas["AdminUserInput"]["properties"].as_object_mut().map(|p| p.remove(field));
    }
    // The JSON-only dialects refuse fields they do not know.
    for schema in [
        "AdminUserInput",
        "WebhookInput",
        "V2EnrollRequest",
        "CourseStaffInput",
        "OAuthClientInput",
        "AdminLearningPathInput",
    ] {
        schemas[schema]["additionalProperties"] = json!(false);
    }
    add_lifecycle_schemas(schemas);
    // A PATCH names what changes; the key never does.
    let mut course_patch = schemas["AdminCourseInput"].clone();
    course_patch["properties"].as_object_mut().map(|p| p.remove("course_key"));
    course_patch.as_object_mut().map(|p| p.remove("required"));
    schemas["AdminCoursePatch"] = course_patch;
    let mut removal = schemas["CourseStaffInput"].clone();
    removal["required"] = json!(["username"]);
    schemas["CourseStaffRemoval"] = removal;
    schemas["CourseStaffInput"]["required"] = json!(["username", "role"]);
    // A PATCH names what changes; the username never does.
    let mut patch = schemas["AdminUserInput"].clone();
    patch["properties"].as_object_mut().map(|p| p.remove("username"));
    patch.as_object_mut().map(|p| p.remove("required"));
    schemas["AdminUserPatch"] = patch;
    // A card is required for card payments.
    schemas["CheckoutRequest"]["properties"]["payment"]["if"] =
        json!({"properties": {"method": {"enum": ["credit_card", "debit_card"]}}});
    schemas["CheckoutRequest"]["properties"]["payment"]["then"] = json!({"required": ["card"]});
    schemas["CheckoutRequest"]["properties"]["payment"]["properties"]["card"]["required"] =
        json!(["number", "expiry_month", "expiry_year", "cvv"]);
}

fn described_schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    let ns = |t: &str| json!({"type": [t, "null"]});
    let date = json!({"type": ["string", "null"], "format": "date-time"});
    let money = json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "examples": ["299.00"]});
    let r = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let page = |item: &str| {
        json!({"type": "object", "required": ["count", "num_pages", "results"], "properties": {
        "count": s("integer"), "num_pages": s("integer"), "current_page": s("integer"), "start": s("integer"),
        "next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": r(item)}}})
    };
    let mode = json!({"type": "object", "required": ["slug"], "properties": {
        "slug": s("string"), "name": s("string"), "min_price": money, "currency": s("string"),
        "expiration_datetime": date, "description": ns("string"), "sku": ns("string")}});
    let course_props = json!({
        "course_key": {"type": "string", "examples": ["course-v1:Org+Course+Run"]}, "code": ns("string"), "title": s("string"),
        "level": ns("string"), "duration_hours": ns("integer"), "price": money, "currency": s("string"),
        "start": date, "end": date, "enrollment_start": date, "enrollment_end": date,
        "invitation_only": s("boolean"), "max_enrollments": ns("integer"), "self_paced": s("boolean"), "published": s("boolean"),
        "modes": {"type": "array", "items": r("CourseMode")}});
    let mut course = json!({"type": "object", "properties": course_props.clone()});
    course["properties"]["created"] = date.clone();
    course["properties"]["updated"] = date.clone();
    let user_props = json!({"id": s("integer"), "username": s("string"), "email": s("string"), "name": s("string"),
        "first_name": s("string"), "last_name": s("string"), "is_staff": s("boolean"), "is_superuser": s("boolean"),
        "is_active": s("boolean"), "date_joined": date, "last_login": date});
    let mut user_input = json!({"type": "object", "required": ["username", "email"], "properties": user_props.clone()});
    user_input["properties"]["password"] = json!({"type": "string", "writeOnly": true, "minLength": 8});
    let client = json!({"type": "object", "properties": {"client_id": s("string"), "name": s("string"), "user": s("string"), "public": s("boolean"), "created": date}});
    let mut client_created = client.clone();
    client_created["properties"]["client_secret"] =
        json!({"type": ["string", "null"], "description": "Shown once; null for a public client"});
    json!({
        "V2Error": {"type": "object", "required": ["error_code", "developer_message", "user_message", "status_code"], "properties": {
            "error_code": s("string"), "developer_message": s("string"), "user_message": s("string"), "status_code": s("integer"),
            "detail": {"type": "string", "description": "401s only: DRF clients read it"},
            "field_errors": {"type": ["object", "null"], "additionalProperties": {"type": "object", "properties": {"developer_message": s("string"), "user_message": s("string")}}}}},
        "DrfError": {"type": "object", "properties": {"detail": s("string")}, "additionalProperties": true},
        "LmsV1Error": {"type": "object", "description": "Open edX v1: {\"message\"} (plus error_code where Rollcall adds one); DRF-level failures are {\"detail\"}",
            "properties": {"message": s("string"), "error_code": s("string"), "detail": s("string"), "localizedMessage": s("string")}},
        "DeveloperError": {"type": "object", "properties": {"developer_message": s("string"), "error_code": s("string"),
            "detail": {"type": "string", "description": "authentication and throttling failures (DRF's)"},
            "field_errors": {"type": "object", "additionalProperties": {"type": "object", "properties": {"developer_message": s("string"), "user_message": s("string")}}}}},
        "OAuthError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "rate_limited", "server_error", "temporarily_unavailable", "not_found", "method_not_allowed", "route_not_found"]}, "error_description": s("string")}},
        "TokenRequest": {"type": "object", "required": ["grant_type", "client_id", "client_secret"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials", "password", "refresh_token"]}, "client_id": s("string"), "client_secret": s("string"),
            "refresh_token": {"type": "string", "description": "for grant_type=refresh_token"},
            "username": s("string"), "password": s("string"), "token_type": {"type": "string", "enum": ["jwt", "bearer"]}, "scope": s("string")}},
        "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"], "properties": {
            "access_token": s("string"), "token_type": {"type": "string", "enum": ["JWT", "Bearer"]}, "expires_in": s("integer"), "scope": s("string"),
            "refresh_token": {"type": "string", "description": "password and refresh_token grants; exchanged once"}}},
        "RevokeRequest": {"type": "object", "required": ["token", "client_id", "client_secret"], "properties": {"token": s("string"), "client_id": s("string"), "client_secret": s("string")}},
        "LoginRequest": {"type": "object", "required": ["password"], "properties": {"username": s("string"), "email": s("string"), "password": s("string")}},
        "LoginResponse": {"type": "object", "properties": {"username": s("string"), "csrf_token": s("string")}},
        "AppsemblerLoginForm": {"type": "object", "properties": {"method": s("string"), "submit_url": s("string"), "csrf_token": s("string"),
            "fields": {"type": "array", "items": {"type": "object", "properties": {"name": s("string"), "type": s("string"), "required": s("boolean")}}}}},
        "AppsemblerLoginSession": {"type": "object", "required": ["email", "password"], "properties": {"email": s("string"), "password": s("string"),
            "csrfmiddlewaretoken": {"type": "string", "description": "the csrftoken cookie's value, when not sent as X-CSRFToken"}}},
        "AppsemblerLoginSuccess": {"type": "object", "required": ["success"], "properties": {"success": s("boolean")}},
        "Health": {"type": "object", "properties": {"status": s("string"), "database": s("string")}},
        "CourseMode": mode,
        "CourseModeList": {"type": "object", "properties": {"course_key": s("string"), "modes": {"type": "array", "items": r("CourseMode")}}},
        "AdminCourseInput": {"type": "object", "required": ["course_key", "title"], "properties": course_props, "additionalProperties": false},
        "AdminCourse": course,
        "AdminCoursePage": page("AdminCourse"),
        "CourseStaffInput": {"type": "object", "required": ["username"], "properties": {"username": s("string"), "role": {"type": "string", "enum": ["instructor", "staff"]}}},
        "CourseStaffList": {"type": "object", "properties": {"course_key": s("string"), "staff": {"type": "array", "items": {"type": "object", "properties": {
            "username": s("string"), "email": s("string"), "role": s("string"), "created": date}}}}},
        "AdminUser": {"type": "object", "properties": user_props},
        "AdminUserInput": user_input,
        "AdminUserPage": page("AdminUser"),
        "OAuthClientInput": {"type": "object", "required": ["name", "user"], "properties": {"name": s("string"), "user": {"type": "string", "description": "username the client acts as"},
            "public": {"type": "boolean", "description": "a client that cannot keep a secret (mobile app, SPA): no secret; password and refresh_token grants only"}}},
        "OAuthClient": client,
        "OAuthClientCreated": client_created,
        "OAuthClientList": {"type": "object", "properties": {"results": {"type": "array", "items": r("OAuthClient")}}},
        "PublicCourse": {"type": "object", "properties": {"id": s("string"), "course_id": s("string"), "name": s("string"), "org": s("string"),
            "number": s("string"), "start": date, "end": date, "enrollment_start": date, "enrollment_end": date, "pacing": s("string"),
            "invitation_only": s("boolean"), "price": money, "currency": s("string"), "code": ns("string"), "level": ns("string"), "hidden": s("boolean"),
            "effort": ns("string"), "duration_hours": ns("integer"),
            "modes": {"type": "array", "items": {"type": "object", "required": ["slug", "name"], "properties": {"slug": s("string"), "name": s("string")}}}}},
        "PublicCoursePage": {"type": "object", "properties": {"results": {"type": "array", "items": r("PublicCourse")},
            "pagination": {"type": "object", "properties": {"next": ns("string"), "previous": ns("string"), "count": s("integer"), "num_pages": s("integer")}}}},
        "OpenApiDocument": {"type": "object", "description": "An OpenAPI 3.1 document"},
        "V1Mode": {"type": "object", "properties": {"slug": s("string"), "name": s("string"), "min_price": s("number"), "suggested_prices": s("string"),
            "currency": s("string"), "expiration_datetime": date, "description": ns("string"), "sku": ns("string"), "bulk_sku": ns("string")}},
        "V1CourseDetails": {"type": "object", "properties": {"course_id": s("string"), "course_name": s("string"), "enrollment_start": date,
            "enrollment_end": date, "course_start": date, "course_end": date, "invite_only": s("boolean"),
            "course_modes": {"type": "array", "items": r("V1Mode")}, "pacing_type": s("string")}},
        "V1Enrollment": {"type": "object", "additionalProperties": false, "required": ["created", "mode", "is_active", "user", "course_details"], "properties": {"created": date, "mode": s("string"), "is_active": s("boolean"), "user": s("string"),
            "course_details": r("V1CourseDetails")}},
        "V1EnrollmentOrNull": {"oneOf": [r("V1Enrollment"), {"type": "null"}]},
        "V1EnrollmentList": {"type": "array", "items": r("V1Enrollment")},
        "V1EnrollmentAttribute": {"type": "object", "required": ["namespace", "name", "value"], "properties": {"namespace": s("string"), "name": s("string"), "value": s("string")}},
        "V1EnrollmentRequest": {"type": "object", "required": ["course_details"], "properties": {
            "user": s("string"), "email": s("string"), "mode": s("string"), "is_active": s("boolean"), "force_enrollment": s("boolean"),
            "course_details": {"type": "object", "required": ["course_id"], "properties": {"course_id": s("string")}},
            "enrollment_attributes": {"type": "array", "items": r("V1EnrollmentAttribute")}}},
        "V1EnrollmentCursorPage": {"type": "object", "properties": {"next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": {
            "type": "object", "properties": {"created": date, "mode": s("string"), "is_active": s("boolean"), "user": s("string"), "course_id": s("string")}}}}},
        "V1EnrollmentAllowedRequest": {"type": "object", "required": ["email", "course_id"], "properties": {"email": s("string"), "course_id": s("string"), "auto_enroll": s("boolean")}},
        "V1EnrollmentAllowed": {"type": "object", "properties": {"email": s("string"), "course_id": s("string"), "auto_enroll": s("boolean"), "user": ns("integer"), "created": date}},
        "V1EnrollmentAllowedList": {"type": "array", "items": r("V1EnrollmentAllowed")},
        "V1Roles": {"type": "object", "properties": {"roles": {"type": "array", "items": {"type": "object", "properties": {"org": s("string"), "course_id": s("string"), "role": s("string")}}}, "is_staff": s("boolean")}},
        "Me": {"type": "object", "properties": {"username": s("string")}},
        "V1UnenrollRequest": {"type": "object", "required": ["username"], "properties": {"username": s("string")}},
        "V1RetiredOrgs": {"type": "array", "items": s("string"), "description": "organizations of the courses left"},
        "WebhookInput": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}}},
        "Webhook": {"type": "object", "properties": {"id": s("integer"), "url": s("string"), "active": s("boolean"), "created": date.clone()}},
        "WebhookCreated": {"type": "object", "properties": {"id": s("integer"), "url": s("string"), "active": s("boolean"), "created": date.clone(),
            "secret": {"type": "string", "description": "whsec_…: verify webhook-signature (Standard Webhooks) with it; shown once"}}},
        "WebhookList": {"type": "object", "properties": {"results": {"type": "array", "items": r("Webhook")}}},
        "AppsemblerError": {"type": "object", "description": "{\"user_message\"} for refused input, {\"detail\"} for authentication and permissions, {field: [message]} for missing fields",
            "properties": {"user_message": s("string"), "detail": s("string")}, "additionalProperties": true},
        "AppsemblerCreateAccount": {"type": "object", "required": ["username", "password", "email", "name"], "properties": {"username": s("string"), "password": s("string"),
            "email": s("string"), "name": s("string"), "send_activation_email": s("string")}},
        "AppsemblerUserWithoutPassword": {"type": "object", "required": ["email", "name"], "properties": {"email": s("string"), "name": s("string"), "country": s("string"),
            "city": s("string"), "gender": s("string"), "goals": s("string"), "level_of_education": s("string"), "year_of_birth": s("string")}},
        "AppsemblerConnect": {"type": "object", "required": ["username"], "properties": {"username": s("string"), "email": s("string"), "password": s("string"), "name": s("string")}},
        "AppsemblerUpdateUser": {"type": "object", "required": ["user_lookup"], "properties": {"user_lookup": s("string"), "email": s("string"), "name": s("string"),
            "country": s("string"), "gender": s("string"), "level_of_education": s("string"), "year_of_birth": s("string"), "city": s("string"),
            "mailing_address": s("string"), "language": s("string"), "goals": s("string"), "bio": s("string")}, "additionalProperties": {"type": "string"}},
        "AppsemblerUserId": {"type": "object", "required": ["user_id"], "properties": {"user_id": s("integer"), "username": {"type": "string", "description": "user_without_password only"}}},
        "AppsemblerCreatedUser": {"type": "object", "required": ["user_id "], "description": "The original's key has a trailing space: `{\"user_id \": id}`",
            "properties": {"user_id ": s("integer")}},
        "AppsemblerUsername": {"type": "object", "required": ["user_id"], "description": "The original's key: user_id holds the username", "properties": {"user_id": s("string")}},
        "AppsemblerSuccess": {"type": "object", "properties": {"success": {"type": ["boolean", "string"]}, "reason": s("string")}},
        "AppsemblerGenerateCodes": {"type": "object", "required": ["course_id", "total_registration_codes"], "properties": {"course_id": s("string"), "total_registration_codes": {"type": ["string", "integer"]}}},
        "AppsemblerCodes": {"type": "object", "properties": {"course_id": s("string"), "codes": {"type": "array", "items": s("string")}, "course_url": s("string")}},
        "AppsemblerRedeemCode": {"type": "object", "required": ["email", "enrollment_code"], "properties": {"email": s("string"), "enrollment_code": s("string")}},
        "AppsemblerCodeStatus": {"type": "object", "required": ["enrollment_code", "action"], "properties": {"enrollment_code": s("string"), "action": {"type": "string", "enum": ["cancel", "restore"]}}},
        "AppsemblerBulkEnroll": {"type": "object", "required": ["action", "identifiers", "courses"], "properties": {"action": {"type": "string", "enum": ["enroll", "unenroll"]},
            "identifiers": {"type": "string", "description": "comma-separated emails or usernames"}, "courses": {"type": "string", "description": "comma-separated course keys"},
            "auto_enroll": {"type": "boolean", "description": "also \"true\"/\"false\" as text"}, "email_students": {"type": "boolean", "description": "also \"true\"/\"false\" as text"}}},
        "AppsemblerBulkResult": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"), "email_students": s("boolean"),
            "courses": {"type": "object", "additionalProperties": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"),
            "results": {"type": "array", "items": {"type": "object", "properties": {"identifier": s("string"), "before": r("InstructorState"), "after": r("InstructorState"),
            "invalidIdentifier": s("boolean"), "error": s("boolean")}}}}}}}},
        "AppsemblerAccounts": {"type": "array", "items": {"type": "object", "properties": {"id": s("integer"), "username": s("string"), "email": s("string"), "is_active": s("boolean"), "date_joined": date.clone()}}},
        "AppsemblerEnrollments": {"type": "array", "items": {"type": "object", "properties": {"username": s("string"), "course_id": s("string"), "user_id": s("integer"),
            "enrollment_id": s("integer"), "date_enrolled": date.clone(),
            "certificate": {"type": "object", "description": "Passed learners only", "properties": {"completion_date": s("string"), "grade": s("string"), "url": ns("string")}}}}},
        "ConfirmEmailRequest": {"type": "object", "required": ["token"], "properties": {"token": s("string")}},
        "SetPasswordRequest": {"type": "object", "required": ["token", "password"], "properties": {"token": s("string"), "password": {"type": "string", "minLength": 8}}},
        "CheckoutError": {"type": "object", "required": ["success", "message", "errors", "error_code"], "properties": {"success": {"type": "boolean", "description": "always false"},
            "message": s("string"), "errors": {"type": "object", "additionalProperties": {"type": "array", "items": s("string")}}, "error_code": s("string"), "rollback": s("string")}},
        "CheckoutRequest": {"type": "object", "required": ["student", "course", "payment"], "properties": {
            "student": {"type": "object", "required": ["email", "first_name", "last_name"], "properties": {"email": s("string"), "first_name": s("string"),
                "last_name": s("string"), "phone": s("string"), "date_of_birth": {"type": "string", "format": "date"},
                "address": {"type": "object", "properties": {"street": s("string"), "city": s("string"), "state": s("string"), "country": s("string"), "postal_code": s("string")}},
                "preferences": {"type": "object"}}},
            "course": {"type": "object", "required": ["code"], "properties": {"code": s("string"), "custom_fields": {"type": "array", "items": {"type": "object", "properties": {"key": s("string"), "value": s("string")}}}}},
            "payment": {"type": "object", "required": ["amount", "currency", "method"], "properties": {"amount": {"type": ["number", "string"]},
                "currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "CAD"]}, "method": {"type": "string", "enum": ["credit_card", "debit_card", "paypal", "bank_transfer"]},
                "coupon_code": s("string"), "card": {"type": "object", "properties": {"number": s("string"), "holder_name": s("string"), "expiry_month": s("integer"), "expiry_year": s("integer"), "cvv": s("string")}},
                "billing_address": {"type": "object"}}},
            "enrollment": {"type": "object", "properties": {"start_immediately": s("boolean"), "send_welcome_email": s("boolean"), "grant_certificate": s("boolean"), "notes": s("string"), "modules": {"type": "array"}}},
            "metadata": {"type": "object"}}},
        "CheckoutResponse": {"type": "object", "required": ["success", "message", "data", "meta"], "properties": {"success": {"type": "boolean", "description": "always true"},
            "message": s("string"), "data": {"type": "object", "required": ["id", "enrollment_number", "status", "student", "course", "enrollment", "payment", "progress", "created_at", "updated_at"], "properties": {
            "id": s("integer"), "enrollment_number": s("string"), "status": s("string"),
            "student": {"type": "object", "required": ["id", "username", "email", "name", "phone"], "properties": {"id": s("integer"), "username": s("string"), "email": s("string"), "name": s("string"), "phone": ns("string")}},
            "course": {"type": "object", "required": ["id", "course_key", "code", "title", "level", "duration_hours"], "properties": {"id": s("integer"), "course_key": s("string"), "code": ns("string"),
                "title": s("string"), "level": ns("string"), "duration_hours": ns("integer")}},
            "enrollment": {"type": "object", "required": ["mode", "is_active"], "properties": {"mode": s("string"), "is_active": s("boolean")}},
            "payment": {"type": "object", "required": ["amount", "amount_charged", "discount", "coupon_code", "currency", "status", "transaction_id", "paid_at"], "properties": {
                "amount": s("number"), "amount_charged": s("number"), "discount": s("number"), "coupon_code": ns("string"), "currency": s("string"), "status": s("string"),
                "transaction_id": ns("string"), "paid_at": date.clone()}},
            "progress": {"type": "object", "required": ["percentage", "enrolled_at", "started_at", "completed_at", "expires_at"], "properties": {"percentage": s("number"),
                "enrolled_at": date.clone(), "started_at": date.clone(), "completed_at": date.clone(), "expires_at": date.clone()}},
            "created_at": date.clone(), "updated_at": date.clone()}},
            "meta": {"type": "object", "required": ["enrollment_number", "transaction_id", "processing_time_ms"], "properties": {"enrollment_number": s("string"), "transaction_id": ns("string"), "processing_time_ms": s("number")}}}},
        "LearningPathStep": {"type": "object", "properties": {"order": s("integer"), "course_key": s("string"), "course_dates": {"type": "array", "items": date.clone()}, "weight": s("number")}},
        "LearningPath": {"type": "object", "properties": {"key": {"type": "string", "examples": ["path-v1:Org+WEB+2026+T1"]}, "uuid": {"type": "string", "format": "uuid"}, "display_name": s("string"),
            "image": ns("string"), "sequential": s("boolean"), "steps": {"type": "array", "items": r("LearningPathStep")}, "required_completion": s("number"),
            "enrollment_date": date.clone(), "invite_only": s("boolean"), "subtitle": s("string"), "description": s("string"), "level": s("string"),
            "duration": s("string"), "time_commitment": s("string"),
            "required_skills": {"type": "array", "items": {"type": "object", "additionalProperties": true}},
            "acquired_skills": {"type": "array", "items": {"type": "object", "additionalProperties": true}}}},
        "LearningPathPage": {"type": "object", "required": ["count", "next", "previous", "results"], "properties": {"count": s("integer"),
            "next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": r("LearningPath")}}},
        "LearningPathEnrollment": {"type": "object", "properties": {"user": s("integer"), "learning_path": s("integer"), "is_active": s("boolean"), "created": date.clone()}},
        "LearningPathUsername": {"type": "object", "properties": {"username": {"type": ["string", "null"], "description": "whom to enroll; the caller when absent"}}},
        "LearningPathEnrollmentList": {"type": "array", "items": r("LearningPathEnrollment")},
        "LearningPathEnrollRequest": {"type": "object", "properties": {"username": {"type": "string", "description": "default: the caller"}}},
        "LearningPathBulkRequest": {"type": "object", "required": ["learning_paths", "emails"], "properties": {
            "learning_paths": {"type": "string", "description": "comma-separated keys"}, "emails": {"type": "string", "description": "comma-separated"},
            "reason": ns("string"), "org": ns("string"), "role": ns("string")}},
        "LearningPathBulkCounts": {"type": "object", "properties": {"enrollments_created": s("integer"), "enrollment_allowed_created": s("integer")}},
        "AdminLearningPathInput": {"type": "object", "required": ["key", "display_name"], "properties": {"key": s("string"), "display_name": s("string"),
            "subtitle": s("string"), "description": s("string"), "level": {"type": "string", "enum": ["", "beginner", "intermediate", "advanced"]},
            "duration": s("string"), "time_commitment": s("string"), "sequential": s("boolean"), "invite_only": s("boolean"),
            "steps": {"type": "array", "items": {"type": "object", "required": ["course_key"], "properties": {"course_key": s("string"), "weight": s("number")}}}}},
        "AdminLearningPath": {"type": "object", "required": ["key", "uuid", "display_name", "subtitle", "description", "level", "duration", "time_commitment", "sequential", "invite_only", "steps"],
            "properties": {"key": s("string"), "uuid": {"type": "string", "format": "uuid"}, "display_name": s("string"), "subtitle": s("string"), "description": s("string"),
            "level": s("string"), "duration": s("string"), "time_commitment": s("string"), "sequential": s("boolean"), "invite_only": s("boolean"),
            "steps": {"type": "array", "items": {"type": "object", "required": ["order", "course_key", "weight"], "properties": {"order": s("integer"), "course_key": s("string"), "weight": s("number")}}}}},
        "AdminLearningPathList": {"type": "object", "properties": {"results": {"type": "array", "items": r("AdminLearningPath")}}},
        "OutboxMessage": {"type": "object", "properties": {"id": s("integer"), "channel": s("string"), "message_type": s("string"), "recipient": s("string"),
            "payload": {"type": "object", "additionalProperties": true, "description": "the message's data; its keys depend on message_type"}, "status": {"type": "string", "enum": ["pending", "sent", "failed"]}, "attempts": s("integer"),
            "last_error": ns("string"), "next_attempt_at": date, "created": date, "sent_at": date}},
        "OutboxPage": {"type": "object", "properties": {"count": s("integer"), "next": ns("string"), "results": {"type": "array", "items": r("OutboxMessage")}}},
        "V2Enrollment": {"type": "object", "required": ["username", "email", "first_name", "last_name", "is_active"], "properties": {
            "username": ns("string"), "email": s("string"), "first_name": s("string"), "last_name": s("string"), "mode": ns("string"),
            "is_active": s("boolean"), "created": date, "enrollment_allowed": s("boolean"), "auto_enroll": s("boolean"),
            "beta_tester": s("boolean"), "profile_image": r("ProfileImage"), "completion": {"oneOf": [r("Progress"), {"type": "null"}]}}},
        "V2EnrollmentPage": page("V2Enrollment"),
        "V2EnrollRequest": {"type": "object", "required": ["identifiers"], "properties": {
            "identifiers": {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 255}}, "mode": ns("string"),
            "auto_enroll": s("boolean"), "email_students": s("boolean"), "reason": ns("string")}},
        "V2EnrollmentState": {"type": "object", "required": ["enrolled", "allowed"], "properties": {"enrolled": s("boolean"), "allowed": s("boolean"), "mode": ns("string"), "auto_enroll": ns("boolean")}},
        "V2OperationResult": {"type": "object", "properties": {"action": s("string"), "results": {"type": "array", "items": {"type": "object", "required": ["identifier"], "properties": {
            "identifier": s("string"), "before": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]}, "after": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]},
            "error": ns("string"), "error_code": ns("string")}}}}},
        "LearningPathProgress": {"type": "object", "required": ["learning_path_key", "progress", "required_completion"], "properties": {
            "learning_path_key": s("string"), "progress": s("number"), "required_completion": s("number")}},
        "LearningPathGrade": {"type": "object", "required": ["learning_path_key", "grade", "required_grade"], "properties": {
            "learning_path_key": s("string"), "grade": s("number"), "required_grade": s("number")}},
        "Program": {"type": "object", "required": ["uuid", "name", "marketing_slug", "title", "subtitle", "status", "banner_image_urls", "organizations", "course_codes"], "properties": {
            "uuid": s("string"), "name": s("string"), "marketing_slug": s("string"), "title": s("string"), "subtitle": s("string"), "status": s("string"),
            "banner_image_urls": s("object"), "organizations": {"type": "array", "items": {}},
            "course_codes": {"type": "array", "items": {"type": "object", "properties": {"key": s("string"), "run_modes": {"type": "array", "items": {"type": "object",
                "properties": {"course_key": s("string"), "run_key": s("string")}}}}}}}},
        "ProgramPage": {"type": "object", "required": ["count", "results"], "properties": {"count": s("integer"), "num_pages": s("integer"), "current_page": s("integer"),
            "start": s("integer"), "next": ns("string"), "previous": ns("string"), "results": {"type": "array", "items": r("Program")}}},
        "FrontPage": {"type": "object", "required": ["school", "surfaces"], "properties": {"school": s("string"), "server": s("string"), "version": s("string"),
            "reference": s("string"), "openapi": s("string"), "console": s("string"), "health": s("string"),
            "surfaces": {"type": "array", "items": {"type": "object", "properties": {"name": s("string"), "for": s("string"), "reference": s("string"), "starts_at": s("string")}}}}},
        "Progress": {"type": "object", "required": ["completion", "grade", "passed", "completed_at", "certificate_url", "updated_at"], "properties": {
            "completion": {"type": "number", "minimum": 0, "maximum": 1}, "grade": {"type": "number", "minimum": 0, "maximum": 1}, "passed": s("boolean"),
            "completed_at": ns("string"), "certificate_url": ns("string"), "updated_at": s("string")}},
        "ProgressInput": {"type": "object", "required": ["completion"], "additionalProperties": false, "properties": {
            "completion": {"type": "number", "minimum": 0, "maximum": 1}, "grade": {"type": "number", "minimum": 0, "maximum": 1}, "passed": s("boolean"),
            "completed_at": {"type": ["string", "null"], "format": "date-time"}, "certificate_url": {"type": ["string", "null"], "pattern": "^https?://[^\\s\\u0000-\\u001F\\u007F-\\u009F]+$", "maxLength": URL_MAX_CHARS}}},
        "AdminHistoryPage": {"type": "object", "required": ["next", "results"], "properties": {"next": ns("string"), "results": {"type": "array", "items": {"type": "object", "properties": {
            "id": s("integer"), "created": s("string"), "username": ns("string"), "email": s("string"), "actor": s("string"), "surface": s("string"),
            "source": s("string"), "reason": ns("string"), "before": {"oneOf": [r("HistoryState"), {"type": "null"}]}, "after": {"oneOf": [r("HistoryState"), {"type": "null"}]}}}}}},
        "HistoryState": {"type": "object", "required": ["user", "enrollment", "allowed", "mode", "auto_enroll"], "properties": {"user": s("boolean"), "enrollment": s("boolean"),
            "allowed": s("boolean"), "mode": ns("string"), "auto_enroll": s("boolean")}},
        "V2AsyncResult": {"type": "object", "required": ["task_id", "status_url", "action", "count"], "properties": {"task_id": s("string"), "status_url": s("string"), "action": s("string"), "count": s("integer")}},
        "V2Task": {"type": "object", "required": ["task_id", "course_key", "action", "status", "progress", "created", "started", "finished", "results", "results_page"],
            "properties": {"task_id": s("string"), "course_key": s("string"), "action": s("string"),
            "status": {"type": "string", "enum": ["pending", "running", "succeeded", "failed", "cancelled"]},
            "progress": {"type": "object", "required": ["total", "done", "succeeded", "failed"], "properties": {"total": s("integer"), "done": s("integer"), "succeeded": s("integer"), "failed": s("integer")}},
            "created": date.clone(), "started": date.clone(), "finished": date.clone(), "results": {"type": "array", "items": r("V2TaskResult")},
            "results_page": {"type": "object", "required": ["page", "page_size", "num_pages"], "properties": {"page": s("integer"), "page_size": s("integer"), "num_pages": s("integer")}}}},
        "V2TaskResult": {"type": "object", "required": ["identifier", "status"], "description": "before/after once the row is done; error and error_code when it was refused",
            "properties": {"identifier": s("string"), "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
            "before": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]}, "after": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]},
            "error": s("string"), "error_code": s("string")}},
        "InstructorEnrollmentPage": {"type": "object", "required": ["count", "num_pages", "current_page", "start", "next", "previous", "results"], "properties": {"count": s("integer"),
            "num_pages": s("integer"), "current_page": s("integer"), "start": s("integer"), "next": ns("string"), "previous": ns("string"),
            "results": {"type": "array", "items": {"type": "object", "properties": {"username": s("string"), "email": s("string"), "full_name": s("string"),
            "mode": ns("string"), "is_active": s("boolean"), "is_beta_tester": s("boolean"), "created": date}}}}},
        "InstructorState": {"type": "object", "required": ["user", "enrollment", "allowed", "auto_enroll"], "properties": {"user": s("boolean"), "enrollment": s("boolean"), "allowed": s("boolean"), "auto_enroll": s("boolean")}},
        "InstructorModifyRequest": {"type": "object", "required": ["identifier", "action"], "properties": {"identifier": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "action": {"type": "string", "enum": ["enroll", "unenroll"]}, "auto_enroll": s("boolean"), "email_students": s("boolean"), "reason": s("string")}},
        "InstructorModifyResult": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"), "results": {"type": "array", "items": {"type": "object", "properties": {
            "identifier": s("string"), "before": r("InstructorState"), "after": r("InstructorState"), "invalid_identifier": s("boolean"), "error": s("boolean")}}}}},
        "Account": {"type": "object", "required": ["username", "profile_image"], "properties": {"id": s("integer"), "username": s("string"), "name": s("string"),
            "email": s("string"), "secondary_email": ns("string"), "is_active": s("boolean"), "date_joined": date.clone(), "last_login": date.clone(),
            "bio": ns("string"), "city": ns("string"), "country": ns("string"), "gender": ns("string"), "goals": ns("string"), "language": ns("string"),
            "level_of_education": ns("string"), "mailing_address": ns("string"), "year_of_birth": ns("integer"), "date_of_birth": ns("string"),
            "phone_number": ns("string"), "time_zone": ns("string"), "requires_parental_consent": s("boolean"), "accomplishments_shared": s("boolean"),
            "profile_image": r("ProfileImage"), "account_privacy": s("string"),
            "language_proficiencies": {"type": "array", "items": {"type": "object", "required": ["code"], "properties": {"code": s("string")}}},
            "social_links": {"type": "array", "items": {"type": "object", "required": ["platform", "social_link"], "properties": {"platform": s("string"), "social_link": s("string")}}},
            "extended_profile": {"type": "array", "items": {"type": "object", "required": ["field_name", "field_value"], "properties": {"field_name": s("string"), "field_value": {}}}}}},
        "ProfileImage": {"type": "object", "required": ["has_image", "image_url_full", "image_url_large", "image_url_medium", "image_url_small"], "properties": {
            "has_image": s("boolean"), "image_url_full": s("string"), "image_url_large": s("string"), "image_url_medium": s("string"), "image_url_small": s("string")}},
        "AccountList": {"type": "array", "items": r("Account")},
        "DeactivateLogout": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "minLength": 1}}},
        // One of the two is required (a 400 names them): stated in words, since an `anyOf`
        // of `required` lists makes openapi-python-client emit a body it cannot import.
        "RetireRequest": {"type": "object", "description": "Give one of: username (retire one account now) or usernames (retire many as a task, 202).",
            "properties": {"username": {"type": "string", "minLength": 1, "pattern": "\\S"}, "usernames": {"type": "array", "items": {"type": "string", "minLength": 1, "pattern": "\\S"}, "minItems": 1, "maxItems": 10000}}},
        "Retirement": {"type": "object", "required": ["username", "email"], "properties": {
            "username": {"type": "string", "pattern": "^retired__user_[0-9a-f]{40}$"}, "email": {"type": "string", "pattern": "^retired__user_[0-9a-f]{40}@retired\\.invalid$"}}},
        "RetirementTask": {"type": "object", "required": ["task_id", "status", "total", "done", "results"], "properties": {
            "task_id": {"type": "string", "format": "uuid"}, "status": {"type": "string", "enum": ["pending", "running", "succeeded", "failed"]},
            "total": s("integer"), "done": s("integer"), "succeeded": s("integer"), "failed": s("integer"),
            "created": date, "started": {"type": ["string", "null"], "format": "date-time"}, "finished": {"type": ["string", "null"], "format": "date-time"}, "url": s("string"),
            "results": {"type": "array", "description": "One per username asked, in order: the retired username once retired", "items": {"type": "object", "required": ["position", "username", "status"], "properties": {
                "position": s("integer"), "username": s("string"), "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]}, "error": s("string"), "error_code": s("string")}}}}},
        "UserExport": {"type": "object", "description": "Everything Rollcall holds about one person (README \"Privacy requests\"). Dates are ISO 8601 UTC; money is in minor units. Other learners never appear: history rows are the person's own, and their actor is who made the change (a username, api-key or system).",
            "required": ["format", "generated_at", "username", "account"], "properties": {
            "format": {"type": "string", "const": "rollcall-user-export/1"}, "generated_at": date, "username": s("string"),
            "account": {"type": "object", "description": "The account row: profile fields, flags, has_password (never the hash), date_joined, last_login"},
            "custom_fields": {"type": "array", "items": {"type": "object", "properties": {"key": s("string"), "value": s("string")}}},
            "enrollments": {"type": "array", "description": "With progress: completion, grade, passed, completed_at, certificate_url", "items": {"type": "object", "properties": {
                "id": s("integer"), "course_key": s("string"), "course_title": s("string"), "mode": s("string"), "is_active": s("integer"), "created": s("string"), "updated": s("string"),
                "completion": ns("number"), "grade": ns("number"), "passed": ns("integer"), "completed_at": ns("string"), "certificate_url": ns("string")}}},
            "enrollment_attributes": {"type": "array", "items": {"type": "object"}},
            "enrollment_history": {"type": "array", "items": {"type": "object", "properties": {"id": s("integer"), "course_key": s("string"), "actor": s("string"),
                "surface": s("string"), "source": s("string"), "reason": ns("string"), "before": {"type": "object"}, "after": {"type": "object"}, "created": s("string")}}},
            "progress_history": {"type": "array", "items": {"type": "object"}},
            "pre_enrollments": {"type": "array", "description": "Invitations under the person's email (courses, pending courses, learning paths)", "items": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["course", "learning_path"]}, "key": s("string"), "auto_enroll": s("integer"), "claimed": s("integer"), "created": s("string")}}},
            "learning_path_enrollments": {"type": "array", "items": {"type": "object"}},
            "code_redemptions": {"type": "array", "items": {"type": "object", "properties": {"code": s("string"), "course_key": s("string"), "created": s("string")}}},
            "checkout_orders": {"type": "array", "description": "As stored: the card's last four digits only", "items": {"type": "object", "properties": {
                "enrollment_number": s("string"), "transaction_id": s("string"), "course_key": s("string"), "status": s("string"), "amount_minor": s("integer"),
                "discount_minor": s("integer"), "currency": s("string"), "coupon_code": ns("string"), "method": s("string"), "card_last_four": ns("string"), "details": {"type": "object"}}}},
            "emails": {"type": "array", "description": "Subject, type, status and dates; never the body or its links", "items": {"type": "object", "properties": {
                "id": s("integer"), "message_type": s("string"), "subject": ns("string"), "status": s("string"), "created": s("string"), "sent_at": ns("string")}}},
            "webhook_events": {"type": "array", "description": "Events that named the person: ids and dates", "items": {"type": "object", "properties": {
                "id": s("integer"), "type": s("string"), "endpoint_id": s("integer"), "status": s("string"), "created": s("string"), "sent_at": ns("string")}}}}},
        "AccountPatch": {"type": "object", "description": "application/merge-patch+json; email only for staff", "additionalProperties": false, "properties": {
            "name": {"type": "string", "maxLength": 255}, "email": {"type": "string", "pattern": EMAIL_PATTERN},
            "bio": {"type": ["string", "null"], "maxLength": 3000}, "city": {"type": ["string", "null"], "maxLength": 3000},
            "goals": {"type": ["string", "null"], "maxLength": 3000}, "language": {"type": ["string", "null"], "maxLength": 3000},
            "mailing_address": {"type": ["string", "null"], "maxLength": 3000}, "phone_number": {"type": ["string", "null"], "maxLength": 3000},
            "country": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"}, "gender": {"type": ["string", "null"], "enum": ["m", "f", "o", null]},
            "level_of_education": {"type": ["string", "null"], "enum": ["p", "m", "b", "a", "hs", "jhs", "el", "none", "other", null]},
            "year_of_birth": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100},
            "extended_profile": {"type": "array", "items": {"type": "object", "required": ["field_name"], "properties": {"field_name": {"type": "string"}, "field_value": {}}}}}},
    })
}

/// A ready curl line for an operation: the example's parameters, the credentials its
/// surface takes, and the example body.
fn curl_line(method: &str, path: &str, op: &Value) -> String {
    let mut url = path.to_owned();
    for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
        let name = p["name"].as_str().unwrap_or("");
        let value = p["example"].as_str().map(str::to_owned).unwrap_or_else(|| format!("<{name}>"));
        url = url.replace(&format!("{{{name}}}"), &value);
    }
    let mut line = String::from("curl -s");
    if method != "get" {
        line.push_str(&format!(" -X {}", method.to_uppercase()));
    }
    line.push_str(&format!(" \"$B{url}\""));
    if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
        line.push_str(" -H \"Authorization: JWT $TOKEN\"");
    }
    let content = &op["requestBody"]["content"];
    if let Some(example) = content["application/json"].get("example") {
        line.push_str(&format!(" -H 'Content-Type: application/json' -d '{example}'"));
    } else if content.get("text/csv").is_some() {
        line.push_str(" -H 'Content-Type: text/csv' --data-binary @file.csv");
    } else if content.get("application/json").is_some() {
        line.push_str(" -H 'Content-Type: application/json' -d '{…}'");
    }
    line
}

/// A recorded request body that is text (a CSV, a form), for the page.
fn recorded_text_body(method: &str, path: &str) -> Option<String> {
    let example = super::examples::recorded().get(&format!("{} {path}", method.to_uppercase()))?;
    example["body"].as_str().map(str::to_owned)
}

fn schema_name(schema: &Value) -> Option<&str> {
    schema["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

/// `/api-docs/`: the reference grouped by surface, each with its introduction; every
/// operation with its parameters, bodies, examples and a curl line. Plain HTML.
fn get_docs_page(ctx: &mut Ctx) -> Result<Response, Error> {
    static PAGE: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let base = ctx.app.base_url.clone();
    Ok(super::http::with_etag(ctx, Response::html(cached(&PAGE, &base, || docs_page(&base)))))
}

fn docs_page(base_url: &str) -> String {
    use maud::{html, DOCTYPE};
    let doc = document(base_url);
    let empty = Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    let operations = |surface: &Surface| -> Vec<(String, String, Value)> {
        let mut ops = Vec::new();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                if op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| surface.tags.contains(&t.as_str().unwrap_or(""))))
                {
                    ops.push((method.clone(), path.clone(), op.clone()));
                }
            }
        }
        ops
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (super::console::head("API reference · Rollcall", false))
            body {
                header.top { a.brand href="/" { "Rollcall" } nav {
                    @for s in &SURFACES { a href={ "#" (s.id) } { (s.title) } }
                    a href="#schemas" { "Schemas" }
                } }
                main {
                    h1 { "API reference" }
                    p { "Every route of this server, grouped by the API surface it belongs to. The same, machine-readable: "
                        a href="openapi.json" { code { "/api-docs/openapi.json" } } " (OpenAPI 3.1). In the curl lines, "
                        code { "B" } " is this server's address and " code { "TOKEN" } " a token from " code { "POST /oauth2/access_token" } "." }
                    @for s in &SURFACES {
                        section.surface id=(s.id) {
                            h2 { (s.title) " " span.muted { code { (s.prefix) } } }
                            p { (s.intro) }
                            @for (method, path, op) in operations(s) {
                                details.op {
                                    summary { span.method { (method.to_uppercase()) } " " code { (path) } " — " (op["summary"].as_str().unwrap_or("")) }
                                    div.card {
                                        p { @if op["security"].as_array().is_some_and(|a| !a.is_empty()) { "Needs credentials." } @else { "No credentials needed." } }
                                        @if let Some(params) = op["parameters"].as_array() {
                                            div.table-wrap { table {
                                                thead { tr { th { "Parameter" } th { "In" } th { "Example" } th { "About" } } }
                                                tbody { @for p in params { tr {
                                                    td { code { (p["name"].as_str().unwrap_or("")) } }
                                                    td { (p["in"].as_str().unwrap_or("")) }
                                                    td { @if let Some(e) = p["example"].as_str() { code { (e) } } }
                                                    td.wrap { (p["description"].as_str().unwrap_or("")) }
                                                } } }
                                            } }
                                        }
                                        @if let Some(content) = op["requestBody"]["content"].as_object() {
                                            p { "Request body: "
                                                @for (media, body) in content {
                                                    code { (media) } " "
                                                    @if let Some(name) = schema_name(&body["schema"]) { a href={ "#schema-" (name) } { (name) } " " }
                                                }
                                            }
                                            @if let Some(example) = content.get("application/json").and_then(|m| m.get("example")) {
                                                p { "Example request:" } pre { (pretty(example)) }
                                            } @else if let Some(text) = recorded_text_body(&method, &path) {
                                                p { "Example request:" } pre { (text) }
                                            }
                                        }
                                        div.table-wrap { table {
                                            thead { tr { th { "Status" } th { "Means" } th { "Body" } } }
                                            tbody { @for (status, response) in op["responses"].as_object().into_iter().flatten() { tr {
                                                td { code { (status) } }
                                                td.wrap { (response["description"].as_str().unwrap_or("")) }
                                                td { @for (media, body) in response["content"].as_object().into_iter().flatten() {
                                                    code { (media) } " "
                                                    @if let Some(name) = schema_name(&body["schema"]) { a href={ "#schema-" (name) } { (name) } }
                                                } }
                                            } } }
                                        } }
                                        @for (status, response) in op["responses"].as_object().into_iter().flatten() {
                                            @if let Some(example) = response["content"]["application/json"].get("example") {
                                                p { "Example answer, " code { (status) } ":" } pre { (pretty(example)) }
                                            }
                                        }
                                        p { "Try it:" } pre { (curl_line(&method, &path, &op)) }
                                    }
                                }
                            }
                        }
                    }
                    section id="schemas" {
                        h2 { "Schemas" }
                        @for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
                            details id={ "schema-" (name) } { summary { code { (name) } } pre { (pretty(schema)) } }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}
