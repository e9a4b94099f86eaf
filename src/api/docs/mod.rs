//! `/api-docs/openapi.json` (OpenAPI 3.1) and `/api-docs/` (a page that needs no internet).
//! Paths are generated from the router's table, so a route cannot exist undocumented;
//! `schemas.rs` describes the bodies and `page.rs` renders the reference page.

mod page;
mod schemas;

use super::errors::Dialect;
use super::http::Ctx;
use super::router::{self, Doc, Route};
use super::surfaces::SURFACES;
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
            handler: page::get_docs_page,
            doc: doc("Readable API documentation", "Html"),
        },
    ]
}

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
    let base = ctx.env.base_url.clone();
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
        .filter(|s| s.documented)
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
    let mut schemas = schemas::schemas();
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
                    schemas[&form_name] = schemas::form_view(&schemas[&name]);
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
