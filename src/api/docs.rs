//! `/api-docs/openapi.json` (OpenAPI 3.1) and `/api-docs/` (a page that needs no internet).
//! Paths are generated from the router's table, so a route cannot exist undocumented;
//! the schemas below describe the bodies.

use super::errors::Dialect;
use super::http::{ok, Ctx};
use super::router::{self, Doc, Route};
use crate::core::Error;
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

fn get_openapi(ctx: &mut Ctx) -> Result<Response, Error> {
    Ok(ok(document(&ctx.app.base_url)))
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

fn operation(route: &Route) -> Value {
    let d = &route.doc;
    let schema_ref = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": schema_ref(error_schema(route.dialect))}}});
    let mut responses = Map::new();
    let success = match d.response {
        Some("Html") => {
            json!({"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}})
        }
        Some(name) => {
            json!({"description": "OK", "content": {"application/json": {"schema": schema_ref(name)}}})
        }
        None => json!({"description": "Done; no body"}),
    };
    responses.insert(d.status.to_string(), success);
    if route.method == "POST" && route.path == "/api/enrollment/v2/courses/{course_key}/enrollments" {
        let accepted = json!({"description": "Several identifiers: a background task was started", "content": {"application/json": {"schema": schema_ref("V2AsyncResult")}}});
        responses.insert("202".into(), accepted);
    }
    if d.request.is_some() || !d.query.is_empty() || route.path.contains('{') {
        responses.insert("400".into(), error("Invalid input"));
    }
    if d.auth {
        responses.insert("401".into(), error("Missing or invalid credentials"));
        responses.insert("403".into(), error("Not permitted"));
    }
    if EMPTY_404.contains(&route.path) {
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
    let mut op = json!({
        "summary": d.summary,
        "operationId": format!("{}_{}", route.method.to_lowercase(), route.path.trim_matches('/').replace(['/', '-', '.'], "_").replace(['{', '}'], "")),
        "tags": [d.tag],
        "responses": responses,
    });
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(d.query.iter().map(|(name, description)| {
        json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
    }));
    if !parameters.is_empty() {
        op["parameters"] = json!(parameters);
    }
    if let Some(name) = d.request {
        // The media types the route's dialect reads (api/body.rs decides them).
        let content: serde_json::Map<String, Value> = if merge_patch(name) {
            [("application/merge-patch+json".to_owned(), json!({"schema": schema_ref(name)}))].into_iter().collect()
        } else {
            let types = route.dialect.parsers().media_types();
            types.iter().map(|t| (t.to_string(), json!({"schema": schema_ref(name)}))).collect()
        };
        op["requestBody"] = json!({"required": true, "content": content});
    }
    if d.auth {
        op["security"] = json!([{"jwt": []}, {"bearer": []}, {"session": []}, {"apiKey": []}]);
    } else {
        op["security"] = json!([]);
    }
    op
}

/// The whole document, built from `router::routes()`.
pub fn document(base_url: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for route in router::routes() {
        let item = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        item[route.method.to_lowercase()] = operation(&route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rollcall",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every enrollment API a school needs: Open edX-compatible OAuth2/JWT, admin catalog, and enrollment surfaces.",
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {"schemas": schemas(), "securitySchemes": {
            "jwt": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`JWT <token>` from /oauth2/access_token with token_type=jwt"},
            "bearer": {"type": "http", "scheme": "bearer", "description": "A JWT or an opaque token"},
            "session": {"type": "apiKey", "in": "cookie", "name": "rollcall_session", "description": "From POST /login; unsafe methods also need the X-CSRFToken header"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Edx-Api-Key", "description": "Server-to-server key, when configured"},
            "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth2/access_token", "scopes": {"read": "read", "write": "write", "email": "email", "profile": "profile"}}}},
        }},
    })
}

fn schemas() -> Value {
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
    let client = json!({"type": "object", "properties": {"client_id": s("string"), "name": s("string"), "user": s("string"), "created": date}});
    let mut client_created = client.clone();
    client_created["properties"]["client_secret"] = json!({"type": "string", "description": "Shown once"});
    json!({
        "V2Error": {"type": "object", "required": ["error_code", "developer_message", "user_message", "status_code"], "properties": {
            "error_code": s("string"), "developer_message": s("string"), "user_message": s("string"), "status_code": s("integer"),
            "field_errors": {"type": ["object", "null"], "additionalProperties": {"type": "object", "properties": {"developer_message": s("string"), "user_message": s("string")}}}}},
        "DrfError": {"type": "object", "properties": {"detail": s("string")}, "additionalProperties": true},
        "LmsV1Error": {"type": "object", "description": "Open edX v1: {\"message\"} (plus error_code where Rollcall adds one); DRF-level failures are {\"detail\"}",
            "properties": {"message": s("string"), "error_code": s("string"), "detail": s("string"), "localizedMessage": s("string")}},
        "DeveloperError": {"type": "object", "properties": {"developer_message": s("string"), "error_code": s("string"),
            "field_errors": {"type": "object", "additionalProperties": {"type": "object", "properties": {"developer_message": s("string"), "user_message": s("string")}}}}},
        "OAuthError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "rate_limited"]}, "error_description": s("string")}},
        "TokenRequest": {"type": "object", "required": ["grant_type", "client_id", "client_secret"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials", "password"]}, "client_id": s("string"), "client_secret": s("string"),
            "username": s("string"), "password": s("string"), "token_type": {"type": "string", "enum": ["jwt", "bearer"]}, "scope": s("string")}},
        "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in", "scope"], "properties": {
            "access_token": s("string"), "token_type": {"type": "string", "enum": ["JWT", "Bearer"]}, "expires_in": s("integer"), "scope": s("string")}},
        "RevokeRequest": {"type": "object", "required": ["token", "client_id", "client_secret"], "properties": {"token": s("string"), "client_id": s("string"), "client_secret": s("string")}},
        "LoginRequest": {"type": "object", "required": ["password"], "properties": {"username": s("string"), "email": s("string"), "password": s("string")}},
        "LoginResponse": {"type": "object", "properties": {"username": s("string"), "csrf_token": s("string")}},
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
        "OAuthClientInput": {"type": "object", "required": ["name", "user"], "properties": {"name": s("string"), "user": {"type": "string", "description": "username the client acts as"}}},
        "OAuthClient": client,
        "OAuthClientCreated": client_created,
        "OAuthClientList": {"type": "object", "properties": {"results": {"type": "array", "items": r("OAuthClient")}}},
        "PublicCourse": {"type": "object", "properties": {"id": s("string"), "course_id": s("string"), "name": s("string"), "org": s("string"),
            "number": s("string"), "start": date, "end": date, "enrollment_start": date, "enrollment_end": date, "pacing": s("string"),
            "invitation_only": s("boolean"), "price": money, "currency": s("string")}},
        "PublicCoursePage": {"type": "object", "properties": {"results": {"type": "array", "items": r("PublicCourse")},
            "pagination": {"type": "object", "properties": {"next": ns("string"), "previous": ns("string"), "count": s("integer"), "num_pages": s("integer")}}}},
        "OpenApiDocument": {"type": "object", "description": "An OpenAPI 3.1 document"},
        "V1Mode": {"type": "object", "properties": {"slug": s("string"), "name": s("string"), "min_price": s("number"), "suggested_prices": s("string"),
            "currency": s("string"), "expiration_datetime": date, "description": ns("string"), "sku": ns("string"), "bulk_sku": ns("string")}},
        "V1CourseDetails": {"type": "object", "properties": {"course_id": s("string"), "course_name": s("string"), "enrollment_start": date,
            "enrollment_end": date, "course_start": date, "course_end": date, "invite_only": s("boolean"),
            "course_modes": {"type": "array", "items": r("V1Mode")}, "pacing_type": s("string")}},
        "V1Enrollment": {"type": "object", "properties": {"created": date, "mode": s("string"), "is_active": s("boolean"), "user": s("string"),
            "course_details": r("V1CourseDetails"), "enrollment_attributes": {"type": "array", "items": r("V1EnrollmentAttribute")}}},
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
        "AppsemblerUserId": {"type": "object", "description": "`{\"user_id \": id}` (trailing space) from accounts/create; `{\"user_id\"}` elsewhere; get-user gives the username",
            "properties": {"user_id": {"type": ["integer", "string"]}, "user_id ": s("integer"), "username": s("string")}},
        "AppsemblerSuccess": {"type": "object", "properties": {"success": {"type": ["boolean", "string"]}, "reason": s("string")}},
        "AppsemblerGenerateCodes": {"type": "object", "required": ["course_id", "total_registration_codes"], "properties": {"course_id": s("string"), "total_registration_codes": {"type": ["string", "integer"]}}},
        "AppsemblerCodes": {"type": "object", "properties": {"course_id": s("string"), "codes": {"type": "array", "items": s("string")}, "course_url": s("string")}},
        "AppsemblerRedeemCode": {"type": "object", "required": ["email", "enrollment_code"], "properties": {"email": s("string"), "enrollment_code": s("string")}},
        "AppsemblerCodeStatus": {"type": "object", "required": ["enrollment_code", "action"], "properties": {"enrollment_code": s("string"), "action": {"type": "string", "enum": ["cancel", "restore"]}}},
        "AppsemblerBulkEnroll": {"type": "object", "required": ["action", "identifiers", "courses"], "properties": {"action": {"type": "string", "enum": ["enroll", "unenroll"]},
            "identifiers": {"type": "string", "description": "comma-separated emails or usernames"}, "courses": {"type": "string", "description": "comma-separated course keys"},
            "auto_enroll": {"type": ["boolean", "string"]}, "email_students": {"type": ["boolean", "string"]}}},
        "AppsemblerBulkResult": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"), "email_students": s("boolean"),
            "courses": {"type": "object", "additionalProperties": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"),
            "results": {"type": "array", "items": {"type": "object", "properties": {"identifier": s("string"), "before": r("InstructorState"), "after": r("InstructorState"),
            "invalidIdentifier": s("boolean"), "error": s("boolean")}}}}}}}},
        "AppsemblerAccounts": {"type": "array", "items": {"type": "object", "properties": {"id": s("integer"), "username": s("string"), "email": s("string"), "is_active": s("boolean"), "date_joined": date.clone()}}},
        "AppsemblerEnrollments": {"type": "array", "items": {"type": "object", "properties": {"username": s("string"), "course_id": s("string"), "user_id": s("integer"),
            "enrollment_id": s("integer"), "date_enrolled": date.clone()}}},
        "SetPasswordRequest": {"type": "object", "required": ["token", "password"], "properties": {"token": s("string"), "password": {"type": "string", "minLength": 8}}},
        "CheckoutError": {"type": "object", "required": ["success", "message", "errors", "error_code"], "properties": {"success": {"const": false},
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
        "CheckoutResponse": {"type": "object", "properties": {"success": {"const": true}, "message": s("string"), "data": {"type": "object", "properties": {
            "id": s("integer"), "enrollment_number": s("string"), "status": s("string"), "student": {"type": "object"}, "course": {"type": "object"},
            "payment": {"type": "object"}, "progress": {"type": "object"}, "created_at": date.clone(), "updated_at": date.clone()}},
            "meta": {"type": "object", "properties": {"enrollment_number": s("string"), "transaction_id": s("string"), "processing_time_ms": s("number")}}}},
        "LearningPathStep": {"type": "object", "properties": {"order": s("integer"), "course_key": s("string"), "course_dates": {"type": "array", "items": date.clone()}, "weight": s("number")}},
        "LearningPath": {"type": "object", "properties": {"key": {"type": "string", "examples": ["path-v1:Org+WEB+2026+T1"]}, "uuid": {"type": "string", "format": "uuid"}, "display_name": s("string"),
            "image": ns("string"), "sequential": s("boolean"), "steps": {"type": "array", "items": r("LearningPathStep")}, "required_completion": s("number"),
            "enrollment_date": date.clone(), "invite_only": s("boolean"), "subtitle": s("string"), "description": s("string"), "level": s("string"),
            "duration": s("string"), "time_commitment": s("string")}},
        "LearningPathList": {"type": "array", "items": r("LearningPath")},
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
        "AdminLearningPath": {"type": "object", "properties": {"key": s("string"), "uuid": {"type": "string", "format": "uuid"}, "display_name": s("string"), "invite_only": s("boolean"), "steps": {"type": "array"}}},
        "AdminLearningPathList": {"type": "object", "properties": {"results": {"type": "array", "items": r("AdminLearningPath")}}},
        "OutboxMessage": {"type": "object", "properties": {"id": s("integer"), "channel": s("string"), "message_type": s("string"), "recipient": s("string"),
            "payload": {"type": "object"}, "status": {"type": "string", "enum": ["pending", "sent", "failed"]}, "attempts": s("integer"),
            "last_error": ns("string"), "next_attempt_at": date, "created": date, "sent_at": date}},
        "OutboxPage": {"type": "object", "properties": {"count": s("integer"), "next": ns("string"), "results": {"type": "array", "items": r("OutboxMessage")}}},
        "V2Enrollment": {"type": "object", "required": ["username", "email", "first_name", "last_name", "is_active"], "properties": {
            "username": ns("string"), "email": s("string"), "first_name": s("string"), "last_name": s("string"), "mode": ns("string"),
            "is_active": s("boolean"), "created": date, "enrollment_allowed": s("boolean"), "auto_enroll": s("boolean"),
            "beta_tester": s("boolean"), "profile_image": {"type": "object"}}},
        "V2EnrollmentPage": page("V2Enrollment"),
        "V2EnrollRequest": {"type": "object", "required": ["identifiers"], "properties": {
            "identifiers": {"type": "array", "minItems": 1, "items": {"type": "string", "maxLength": 255}}, "mode": ns("string"),
            "auto_enroll": s("boolean"), "email_students": s("boolean"), "reason": ns("string")}},
        "V2EnrollmentState": {"type": "object", "required": ["enrolled", "allowed"], "properties": {"enrolled": s("boolean"), "allowed": s("boolean"), "mode": ns("string"), "auto_enroll": ns("boolean")}},
        "V2OperationResult": {"type": "object", "properties": {"action": s("string"), "results": {"type": "array", "items": {"type": "object", "required": ["identifier"], "properties": {
            "identifier": s("string"), "before": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]}, "after": {"oneOf": [r("V2EnrollmentState"), {"type": "null"}]},
            "error": ns("string"), "error_code": ns("string")}}}}},
        "V2AsyncResult": {"type": "object", "required": ["task_id", "status_url", "action", "count"], "properties": {"task_id": s("string"), "status_url": s("string"), "action": s("string"), "count": s("integer")}},
        "V2Task": {"type": "object", "properties": {"task_id": s("string"), "course_key": s("string"), "action": s("string"),
            "status": {"type": "string", "enum": ["pending", "running", "succeeded", "failed", "cancelled"]},
            "progress": {"type": "object", "properties": {"total": s("integer"), "done": s("integer"), "succeeded": s("integer"), "failed": s("integer")}},
            "created": date, "started": date, "finished": date, "results": {"type": "array", "items": {"type": "object"}}, "results_page": {"type": "object"}}},
        "InstructorEnrollmentPage": {"type": "object", "properties": {"count": s("integer"), "num_pages": s("integer"), "next": ns("string"), "previous": ns("string"),
            "results": {"type": "array", "items": {"type": "object", "properties": {"username": s("string"), "email": s("string"), "full_name": s("string"),
            "mode": ns("string"), "is_active": s("boolean"), "created": date}}}}},
        "InstructorState": {"type": "object", "required": ["user", "enrollment", "allowed", "auto_enroll"], "properties": {"user": s("boolean"), "enrollment": s("boolean"), "allowed": s("boolean"), "auto_enroll": s("boolean")}},
        "InstructorModifyRequest": {"type": "object", "required": ["identifier", "action"], "properties": {"identifier": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "action": {"type": "string", "enum": ["enroll", "unenroll"]}, "auto_enroll": s("boolean"), "email_students": s("boolean"), "reason": s("string")}},
        "InstructorModifyResult": {"type": "object", "properties": {"action": s("string"), "auto_enroll": s("boolean"), "results": {"type": "array", "items": {"type": "object", "properties": {
            "identifier": s("string"), "before": r("InstructorState"), "after": r("InstructorState"), "invalidIdentifier": s("boolean"), "error": s("boolean")}}}}},
        "Account": {"type": "object", "properties": {"username": s("string"), "name": s("string"), "email": s("string"), "is_active": s("boolean"),
            "date_joined": date, "bio": ns("string"), "country": ns("string"), "gender": ns("string"), "goals": ns("string"), "language": ns("string"),
            "level_of_education": ns("string"), "mailing_address": ns("string"), "year_of_birth": ns("integer"), "phone_number": ns("string"),
            "profile_image": {"type": "object"}, "account_privacy": s("string"), "extended_profile": {"type": "array"}}},
        "AccountList": {"type": "array", "items": r("Account")},
        "AccountPatch": {"type": "object", "description": "application/merge-patch+json: name, email (staff), bio, country, city, gender, goals, language, level_of_education, mailing_address, year_of_birth, phone_number, extended_profile"},
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn get_docs_page(ctx: &mut Ctx) -> Result<Response, Error> {
    let doc = document(&ctx.app.base_url);
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Rollcall API</title><style>\
         body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}\
         code,pre{background:#f4f4f4;padding:.1em .3em}pre{padding:.6em;overflow:auto}\
         .m{display:inline-block;min-width:4.5em;font-weight:bold}details{margin:.3em 0}\
         </style></head><body><h1>Rollcall API</h1><p>The machine-readable document is at \
         <a href=\"openapi.json\"><code>/api-docs/openapi.json</code></a> (OpenAPI 3.1).</p>",
    );
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                html.push_str(&format!(
                    "<details><summary><span class=\"m\">{}</span> <code>{}</code> — {}</summary><pre>{}</pre></details>",
                    method.to_uppercase(),
                    escape(path),
                    escape(op["summary"].as_str().unwrap_or("")),
                    escape(&serde_json::to_string_pretty(op).unwrap_or_default())
                ));
            }
        }
    }
    html.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        html.push_str(&format!(
            "<details id=\"{0}\"><summary><code>{0}</code></summary><pre>{1}</pre></details>",
            escape(name),
            escape(&serde_json::to_string_pretty(schema).unwrap_or_default())
        ));
    }
    html.push_str("</body></html>");
    Ok(Response::html(html))
}
