//! Each surface's error dialect: one core `Error`, rendered as that surface's spec shows.

use crate::core::{Error, ErrorKind};
use rouille::Response;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{error_code, developer_message, user_message, status_code, field_errors}`:
    /// enrollment v2 and the admin API (docs/architecture.md, "Where each URL lives").
    V2,
    /// Django REST framework: `{"detail": …}` (public course API, docs, health).
    Drf,
    /// RFC 6749 §5.2: `{"error": "invalid_client", "error_description": …}`.
    OAuth,
    /// Open edX LMS v1 enrollment views: `{"message": …}`; authentication, permission and
    /// throttling failures come from DRF as `{"detail": …}` (as edx-platform's enrollment views answer).
    LmsV1,
    /// Appsembler's API: `{"user_message": …}`; DRF-level failures are `{"detail": …}`, and
    /// serializer errors `{"field": ["…"]}`.
    Appsembler,
    /// The Laravel-style checkout: `{success: false, message, errors: {"student.email": […]},
    /// error_code}`, 422 for validation (the checkout surface's contract, docs/architecture.md).
    Checkout,
    /// Open edX's DeveloperErrorViewMixin: `{"developer_message": …}` or
    /// `{"field_errors": {field: {"developer_message": …}}}` (the v1 staff list, accounts).
    Developer,
    /// SCIM 2.0 (RFC 7644 §3.12): `{schemas: [..Error], status: "400", scimType, detail}`
    /// as application/scim+json.
    Scim,
    /// The admin console's pages (`/admin/…`): an HTML page, or the sign-in page for a
    /// visitor without a session.
    Console,
}

impl Dialect {
    /// The request bodies a route of this dialect reads: the DRF views' three, or JSON.
    pub fn parsers(self) -> super::body::Parsers {
        match self {
            Dialect::V2 | Dialect::Checkout => super::body::Parsers::Json,
            _ => super::body::Parsers::Drf,
        }
    }
}

pub fn render(dialect: Dialect, error: &Error) -> Response {
    if dialect == Dialect::Console {
        return super::admin::error_page(error);
    }
    if error.kind == ErrorKind::Internal {
        // The cause goes to the log (by the router); the client gets an opaque message.
        let opaque = Error::new(ErrorKind::Internal, "An internal error occurred; it has been logged.");
        return finish(dialect, &opaque, body(dialect, &opaque));
    }
    finish(dialect, error, body(dialect, error))
}

/// The body `render` sends for `e` (the OpenAPI document's error examples).
pub fn example_body(dialect: Dialect, e: &Error) -> Value {
    body(dialect, e)
}

fn body(dialect: Dialect, e: &Error) -> Value {
    match dialect {
        Dialect::V2 => {
            let field_errors: Map<String, Value> = e
                .field_errors
                .iter()
                .map(|(k, v)| (k.clone(), json!({"developer_message": v, "user_message": v})))
                .collect();
            let mut body = json!({
                "error_code": e.code(),
                "developer_message": e.developer_message,
                "user_message": e.user_message,
                "status_code": e.status(),
                "field_errors": if field_errors.is_empty() { Value::Null } else { Value::Object(field_errors) },
            });
            if matches!(e.kind, ErrorKind::NotAuthenticated | ErrorKind::InvalidToken) {
                // DRF clients read `detail` on a 401; keep it alongside the v2 fields.
                body["detail"] = json!(e.developer_message);
            }
            body
        }
        Dialect::Drf => {
            let mut body = json!({"detail": e.developer_message});
            for (field, message) in &e.field_errors {
                body[field] = json!([message]);
            }
            body
        }
        Dialect::LmsV1 => {
            let drf_level = matches!(
                e.kind,
                ErrorKind::NotAuthenticated
                    | ErrorKind::InvalidToken
                    | ErrorKind::RateLimited
                    | ErrorKind::RouteNotFound
                    | ErrorKind::MethodNotAllowed
                    | ErrorKind::PayloadTooLarge
                    | ErrorKind::UnsupportedMediaType
            ) || (e.kind == ErrorKind::Forbidden && e.code.is_none());
            if drf_level {
                json!({"detail": e.developer_message})
            } else {
                let mut body = json!({"message": e.developer_message});
                if let Some(code) = e.code {
                    // Not in Open edX: lets a client tell apart what its generic messages lump together.
                    body["error_code"] = json!(code);
                }
                body
            }
        }
        Dialect::Scim => super::scim::render::error_body(e),
        // Rendered as a page before this (`render`); DRF's shape should it ever get here.
        Dialect::Console => json!({"detail": e.developer_message}),
        Dialect::Developer
            if matches!(e.kind, ErrorKind::NotAuthenticated | ErrorKind::InvalidToken | ErrorKind::RateLimited) =>
        {
            json!({"detail": e.developer_message})
        }
        Dialect::Developer => {
            if e.field_errors.is_empty() {
                let mut body = json!({"developer_message": e.developer_message});
                if let Some(code) = e.code {
                    body["error_code"] = json!(code);
                }
                body
            } else {
                let fields: Map<String, Value> = e
                    .field_errors
                    .iter()
                    .map(|(k, v)| (k.clone(), json!({"developer_message": v, "user_message": v})))
                    .collect();
                json!({"field_errors": fields})
            }
        }
        Dialect::Appsembler => {
            if !e.field_errors.is_empty() {
                e.field_errors.iter().map(|(k, v)| (k.clone(), json!([v]))).collect::<Map<String, Value>>().into()
            } else if matches!(
                e.kind,
                ErrorKind::Validation | ErrorKind::Conflict | ErrorKind::EnrollmentClosed | ErrorKind::CourseFull
            ) {
                json!({"user_message": e.developer_message})
            } else {
                json!({"detail": e.developer_message})
            }
        }
        Dialect::Checkout => {
            let (message, code) = match e.kind {
                ErrorKind::Validation | ErrorKind::MalformedJson => ("Validation failed", "VALIDATION_ERROR"),
                ErrorKind::NotFound | ErrorKind::RouteNotFound => ("Resource not found", "RESOURCE_NOT_FOUND"),
                ErrorKind::NotAuthenticated | ErrorKind::InvalidToken => ("Unauthenticated.", "UNAUTHENTICATED"),
                ErrorKind::Forbidden => ("This action is unauthorized.", "FORBIDDEN"),
                ErrorKind::RateLimited => ("Too Many Attempts.", "RATE_LIMITED"),
                ErrorKind::Internal => ("An error occurred while processing your enrollment", "ENROLLMENT_FAILED"),
                _ => (e.developer_message.as_str(), e.kind.code()),
            };
            let errors: Map<String, Value> = if e.field_errors.is_empty() {
                let general =
                    if e.kind == ErrorKind::Internal { "Internal server error" } else { e.developer_message.as_str() };
                [("general".to_owned(), json!([general]))].into_iter().collect()
            } else {
                e.field_errors.iter().map(|(k, v)| (k.clone(), json!([v]))).collect()
            };
            let mut body = json!({"success": false, "message": message, "errors": errors, "error_code": code});
            if e.kind == ErrorKind::Internal {
                body["rollback"] = json!("All changes have been rolled back");
            }
            body
        }
        Dialect::OAuth => {
            let code = match (e.code, e.kind) {
                (Some(code), _) => code.to_owned(),
                (None, ErrorKind::NotAuthenticated | ErrorKind::InvalidToken) => "invalid_client".into(),
                // RFC 6749 §5.2 has no code for a body too large or of the wrong type: the
                // request is invalid. Server faults use the codes of §4.1.2.1.
                (
                    None,
                    ErrorKind::Validation
                    | ErrorKind::MalformedJson
                    | ErrorKind::PayloadTooLarge
                    | ErrorKind::UnsupportedMediaType
                    | ErrorKind::Timeout,
                ) => "invalid_request".into(),
                (None, ErrorKind::Internal) => "server_error".into(),
                (None, ErrorKind::Unavailable) => "temporarily_unavailable".into(),
                (None, kind) => kind.code().to_ascii_lowercase(),
            };
            json!({"error": code, "error_description": e.developer_message})
        }
    }
}

fn finish(dialect: Dialect, e: &Error, body: Value) -> Response {
    let status = match (dialect, e.kind) {
        (Dialect::Checkout, ErrorKind::Validation) => 422,
        _ => e.status(),
    };
    let mut response = match dialect {
        Dialect::Scim => super::scim::render::response(status, &body),
        _ => super::http::json(status, &body),
    };
    match e.kind {
        ErrorKind::NotAuthenticated | ErrorKind::InvalidToken if dialect == Dialect::Scim => {
            response = response.with_additional_header("WWW-Authenticate", "Bearer realm=\"scim\"");
        }
        ErrorKind::NotAuthenticated | ErrorKind::InvalidToken if dialect != Dialect::OAuth => {
            response = response.with_additional_header("WWW-Authenticate", "JWT realm=\"api\"");
        }
        ErrorKind::Forbidden if e.code == Some(crate::domain::INSUFFICIENT_SCOPE) => {
            response = response.with_additional_header(
                "WWW-Authenticate",
                "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"write\"",
            );
        }
        ErrorKind::Unavailable => {
            response = response.with_additional_header("Retry-After", e.retry_after.unwrap_or(30).to_string());
        }
        ErrorKind::RateLimited => {
            let wait = e.retry_after.unwrap_or(60);
            // Laravel's ThrottleRequests (the checkout spec's original) also sends when the
            // window reopens, as a Unix time; every dialect gets it.
            let reset = crate::domain::Timestamp::now().unix() + wait as i64;
            response = response
                .with_additional_header("Retry-After", wait.to_string())
                .with_additional_header("X-RateLimit-Reset", reset.to_string());
        }
        _ => {}
    }
    response
}
