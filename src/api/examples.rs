//! Examples for the OpenAPI document and the reference page. Every operation has one
//! request and its answer, recorded from a real server on a fresh `--demo` database by
//! tests/api/examples.rs (which also checks, on every test run, that each answer is still
//! what the server says and matches its documented schema): `examples.json`. Added to
//! those: the specs' own examples where they give them (checkout, Appsembler, Open edX)
//! and an answer in the route's error format for every documented error status.

use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// The recorded examples: "METHOD path" → {params, query, media, body, status, response}.
pub fn recorded() -> &'static Map<String, Value> {
    static RECORDED: OnceLock<Map<String, Value>> = OnceLock::new();
    RECORDED.get_or_init(|| serde_json::from_str(include_str!("examples.json")).unwrap_or_default())
}

/// An answer in `dialect`'s error format for a documented error status.
pub fn error_example(dialect: super::errors::Dialect, status: &str) -> Option<Value> {
    use crate::core::{Error, ErrorKind};
    let (kind, message) = match status {
        "400" | "4XX" => (ErrorKind::Validation, "email: Enter a valid email address."),
        "401" => (ErrorKind::NotAuthenticated, "Authentication credentials were not provided."),
        "403" => (ErrorKind::Forbidden, "You do not have permission to perform this action."),
        "404" => (ErrorKind::NotFound, "Not found."),
        "409" => (ErrorKind::Conflict, "It already exists."),
        "413" => (ErrorKind::PayloadTooLarge, "The request body is larger than 1048576 bytes."),
        "415" => (ErrorKind::UnsupportedMediaType, "Unsupported media type \"text/plain\" in request."),
        "422" => {
            (ErrorKind::Validation, "student.email: A student with this email address already exists in the system.")
        }
        "429" => (ErrorKind::RateLimited, "Request was throttled. Expected available in 60 seconds."),
        "5XX" => (ErrorKind::Internal, "An internal error occurred; it has been logged."),
        _ => return None,
    };
    let mut error = Error::new(kind, message);
    if kind == ErrorKind::Validation {
        let (field, problem) = message.split_once(": ").unwrap_or(("email", message));
        error = Error::field(field, problem);
    }
    Some(super::errors::example_body(dialect, &error))
}

/// A value for a path or query parameter, by its name (the demo catalog's where it has one).
pub fn parameter(name: &str) -> Option<&'static str> {
    Some(match name {
        "course_key" | "course_id" => "course-v1:Rollcall+WEB-101+2026",
        "username" => "ann",
        "email_or_username" => "ann",
        "username_and_course_id" => "ann,course-v1:Rollcall+WEB-101+2026",
        "learning_path_key" => "path-v1:Rollcall+WEB+2026+T1",
        "slug" => "audit",
        "email" => "ann@demo.rollcall.invalid",
        "page" => "1",
        "page_size" => "25",
        "status" => "active",
        "updated_min" => "2026-01-01",
        "task_id" => "0b0a5c1e-6f4e-4c59-9a3b-1c2d3e4f5a6b",
        "uuid" => "9f1c2b3a-4d5e-4f60-8a7b-6c5d4e3f2a1b",
        "client_id" => "yJ3kRw8sT1uV5xZ0aB2cD4eF",
        "id" => "1",
        "action" => "enroll",
        "since" => "2026-01-01",
        "search_term" => "web",
        _ => return None,
    })
}

/// One operation's examples: the request body, and answers by status.
pub struct Examples {
    pub request: Option<Value>,
    pub responses: Vec<(u16, Value)>,
}

fn checkout_request() -> Value {
    json!({
        "student": {"email": "john.doe@example.com", "first_name": "John", "last_name": "Doe", "phone": "+1-555-123-4567",
            "date_of_birth": "1995-03-15",
            "address": {"street": "123 Main Street", "city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94102"}},
        "course": {"code": "WEB-301"},
        "payment": {"amount": 299.00, "currency": "USD", "method": "credit_card", "coupon_code": "SUMMER2024",
            "card": {"number": "4242424242424242", "holder_name": "John Doe", "expiry_month": 12, "expiry_year": 2030, "cvv": "123"},
            "billing_address": {"same_as_student": true}},
        "enrollment": {"start_immediately": true, "send_welcome_email": true, "notes": "Corporate training"},
        "metadata": {"source": "web", "ip_address": "192.168.1.1"}
    })
}

/// The examples of `method path`, where the specs give some.
pub fn for_operation(method: &str, path: &str) -> Option<Examples> {
    let e = |request: Option<Value>, responses: Vec<(u16, Value)>| Some(Examples { request, responses });
    match (method, path) {
        // The checkout contract's own example: its request, its 201 and its 422.
        ("POST", "/api/v1/enrollments") => e(
            Some(checkout_request()),
            vec![
                (
                    201,
                    json!({"success": true, "message": "Student enrolled successfully", "data": {
                        "id": 123, "enrollment_number": "ENR-2024-A8F3B2D1", "status": "active",
                        "student": {"id": 456, "name": "John Doe", "email": "john.doe@example.com", "phone": "+1-555-123-4567"},
                        "course": {"id": 789, "code": "WEB-301", "title": "Advanced Web Development", "level": "advanced", "duration_hours": 40},
                        "payment": {"transaction_id": "TXN-20240206-F8A3B2D1E5", "amount": 299.00, "discount": 30.00, "coupon_code": "SUMMER2024",
                            "status": "completed", "paid_at": "2024-02-06T10:30:45Z"},
                        "progress": {"percentage": 0, "enrolled_at": "2024-02-06T10:30:45Z", "started_at": "2024-02-06T10:30:45Z",
                            "completed_at": null, "expires_at": "2025-02-06T10:30:45Z"},
                        "created_at": "2024-02-06T10:30:45Z", "updated_at": "2024-02-06T10:30:45Z"},
                        "meta": {"enrollment_number": "ENR-2024-A8F3B2D1", "transaction_id": "TXN-20240206-F8A3B2D1E5", "processing_time_ms": 234.56}}),
                ),
                (
                    422,
                    json!({"success": false, "message": "Validation failed", "errors": {
                        "student.email": ["A student with this email address already exists in the system."],
                        "payment.amount": ["Payment amount does not match the course price. Expected: 299.00 USD"],
                        "course.code": ["The specified course code does not exist or is not available."]},
                        "error_code": "VALIDATION_ERROR"}),
                ),
                (
                    404,
                    json!({"success": false, "message": "Resource not found", "errors": {"general": ["The requested course or related resource was not found."]},
                        "error_code": "RESOURCE_NOT_FOUND"}),
                ),
            ],
        ),
        // Appsembler's documented calls (the trailing space of "user_id " is the
        // original's).
        ("POST", "/appsembler_api/v0/accounts/create") => e(
            Some(
                json!({"username": "staff55", "password": "a-long-password", "email": "staff55@example.com", "name": "stafftest"}),
            ),
            vec![(200, json!({"user_id ": 65}))],
        ),
        ("POST", "/appsembler_api/v0/enrollment-codes/generate") => e(
            Some(json!({"course_id": "course-v1:Rollcall+WEB-301+2026", "total_registration_codes": "5"})),
            vec![(
                200,
                json!({"course_id": "course-v1:Rollcall+WEB-301+2026", "codes": ["VQSG0xsg", "dWvbNXBT", "2z0rcZZs", "0Q6NvXFW", "xMc7SDJF"],
                    "course_url": "/courses/course-v1:Rollcall+WEB-301+2026/about"}),
            )],
        ),
        ("POST", "/appsembler_api/v0/enrollment-codes/enroll-user") => e(
            Some(json!({"email": "staff55@example.com", "enrollment_code": "V5QBQMN6"})),
            vec![
                (200, json!({"success": true})),
                (400, json!({"success": false, "reason": "Enrollment code not found"})),
            ],
        ),
        ("POST", "/appsembler_api/v0/bulk-enrollment/bulk-enroll") => e(
            Some(
                json!({"action": "enroll", "auto_enroll": true, "identifiers": "ann@demo.rollcall.invalid,new@example.org",
                "email_students": true, "courses": "course-v1:Rollcall+WEB-101+2026"}),
            ),
            vec![
                (
                    200,
                    json!({"action": "enroll", "auto_enroll": true, "email_students": true, "courses": {"course-v1:Rollcall+WEB-101+2026": {
                        "action": "enroll", "auto_enroll": true, "results": [{"identifier": "new@example.org",
                        "before": {"enrollment": false, "allowed": false, "user": false, "auto_enroll": false},
                        "after": {"enrollment": false, "allowed": true, "user": false, "auto_enroll": true}}]}}}),
                ),
                (400, json!({"identifiers": ["This field is required."]})),
            ],
        ),
        // Open edX's documented calls.
        ("POST", "/oauth2/access_token") => e(
            Some(
                json!({"grant_type": "client_credentials", "client_id": "<client_id>", "client_secret": "<client_secret>", "token_type": "jwt"}),
            ),
            vec![
                (
                    200,
                    json!({"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…", "token_type": "JWT", "expires_in": 36000, "scope": "read write email profile"}),
                ),
                (401, json!({"error": "invalid_client", "error_description": "Client authentication failed."})),
            ],
        ),
        ("POST", "/api/enrollment/v1/enrollment") => e(
            Some(
                json!({"user": "ann", "mode": "audit", "course_details": {"course_id": "course-v1:Rollcall+WEB-101+2026"}}),
            ),
            vec![],
        ),
        ("POST", "/api/enrollment/v2/courses/{course_key}/enrollments") => e(
            Some(
                json!({"identifiers": ["ann", "new@example.org"], "auto_enroll": true, "email_students": true, "reason": "Welcome!"}),
            ),
            vec![(
                202,
                json!({"task_id": "0b0a5c1e-6f4e-4c59-9a3b-1c2d3e4f5a6b", "status_url": "/api/enrollment/v2/courses/course-v1:Rollcall+WEB-101+2026/tasks/0b0a5c1e-6f4e-4c59-9a3b-1c2d3e4f5a6b",
                    "action": "enroll", "count": 2}),
            )],
        ),
        ("PUT", "/api/admin/v1/courses/{course_key}/enrollments/{username}/progress") => e(
            Some(
                json!({"completion": 1.0, "grade": 0.92, "passed": true, "completed_at": "2026-11-30T10:00:00Z", "certificate_url": "https://certs.example.org/ann"}),
            ),
            vec![],
        ),
        _ => None,
    }
}
