//! The one error type of the core, the store and auth: a leaf module, so that the store
//! (which turns SQLite's errors into it) need not depend on the core. Each API surface
//! renders it in its own dialect (`api/*`), so a kind carries no status code or JSON shape
//! of its own beyond a default.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: a field is missing, malformed or out of range.
    Validation,
    NotAuthenticated,
    InvalidToken,
    Forbidden,
    NotFound,
    Conflict,
    /// Well-formed but contradicting an earlier request (an idempotency key reused with
    /// another payload): 422.
    Unprocessable,
    EnrollmentClosed,
    CourseFull,
    RateLimited,
    PayloadTooLarge,
    UnsupportedMediaType,
    MalformedJson,
    RouteNotFound,
    MethodNotAllowed,
    /// An `If-Match` precondition did not hold (412; SCIM's ETags, RFC 7644 §3.14).
    PreconditionFailed,
    /// Request body too slow to arrive (408).
    Timeout,
    /// The database cannot take writes now (disk full, read-only, locked too long): 503
    /// with Retry-After, in the route's dialect.
    Unavailable,
    /// A fault of ours; the client sees an opaque message, the log gets the cause.
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::Validation | ErrorKind::MalformedJson => 400,
            ErrorKind::NotAuthenticated | ErrorKind::InvalidToken => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound | ErrorKind::RouteNotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::PreconditionFailed => 412,
            ErrorKind::Conflict => 409,
            ErrorKind::Unprocessable => 422,
            ErrorKind::EnrollmentClosed | ErrorKind::CourseFull => 400,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::RateLimited => 429,
            ErrorKind::Timeout => 408,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// Machine-readable code used by the v2-style dialects.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "INVALID_PARAMETER",
            ErrorKind::MalformedJson => "MALFORMED_REQUEST",
            ErrorKind::NotAuthenticated => "AUTHENTICATION_REQUIRED",
            ErrorKind::InvalidToken => "INVALID_TOKEN",
            ErrorKind::Forbidden => "PERMISSION_DENIED",
            ErrorKind::NotFound => "RESOURCE_NOT_FOUND",
            ErrorKind::RouteNotFound => "ROUTE_NOT_FOUND",
            ErrorKind::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorKind::PreconditionFailed => "PRECONDITION_FAILED",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::Unprocessable => "UNPROCESSABLE",
            ErrorKind::EnrollmentClosed => "ENROLLMENT_CLOSED",
            ErrorKind::CourseFull => "COURSE_FULL",
            ErrorKind::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorKind::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorKind::RateLimited => "RATE_LIMITED",
            ErrorKind::Timeout => "REQUEST_TIMEOUT",
            ErrorKind::Unavailable => "SERVICE_UNAVAILABLE",
            ErrorKind::Internal => "INTERNAL_ERROR",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    /// For the integrating developer: what was wrong and how to fix it.
    pub developer_message: String,
    /// For the person in front of a screen.
    pub user_message: String,
    /// Field name → message.
    pub field_errors: BTreeMap<String, String>,
    /// Seconds a rate-limited caller should wait.
    pub retry_after: Option<u64>,
    /// A more specific machine-readable code than the kind's (e.g. OAuth2's
    /// `invalid_grant`); dialects that carry codes prefer it.
    pub code: Option<&'static str>,
}

impl Error {
    pub fn new(kind: ErrorKind, developer_message: impl Into<String>) -> Error {
        let developer_message = developer_message.into();
        let user_message = match kind {
            ErrorKind::Internal => "Something went wrong on our side. Please try again later.".to_owned(),
            ErrorKind::Forbidden => "You do not have permission to perform this action.".to_owned(),
            ErrorKind::NotAuthenticated | ErrorKind::InvalidToken => "Please log in to continue.".to_owned(),
            ErrorKind::RateLimited => "Too many requests. Please wait a moment and try again.".to_owned(),
            _ => developer_message.clone(),
        };
        Error { kind, developer_message, user_message, field_errors: BTreeMap::new(), retry_after: None, code: None }
    }

    pub fn validation(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Validation, message)
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Error {
        let message = message.into();
        let mut error = Error::new(ErrorKind::Validation, message.clone());
        error.field_errors.insert(field.to_owned(), message);
        error
    }

    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Error {
        Error::new(ErrorKind::Internal, cause.to_string())
    }

    pub fn with_user_message(mut self, message: impl Into<String>) -> Error {
        self.user_message = message.into();
        self
    }

    pub fn with_code(mut self, code: &'static str) -> Error {
        self.code = Some(code);
        self
    }

    pub fn code(&self) -> &'static str {
        self.code.unwrap_or(self.kind.code())
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// A fault of the server or its database (500, 503), not a refusal of the request: it
    /// is the whole request's answer, never one row's error inside a 2xx, and a background
    /// task does not record it as an item's result.
    pub fn is_fault(&self) -> bool {
        matches!(self.kind, ErrorKind::Internal | ErrorKind::Unavailable)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.developer_message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        use rusqlite::ffi::ErrorCode;
        let unavailable = match &e {
            rusqlite::Error::SqliteFailure(f, _) => matches!(
                f.code,
                ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
            ),
            _ => false,
        };
        if unavailable {
            log::error!("database unavailable: {e}");
            let mut error = Error::new(
                ErrorKind::Unavailable,
                "The database cannot take this change right now (it is full, read-only or busy). Nothing was written; try again later.",
            );
            error.retry_after = Some(30);
            return error;
        }
        Error::internal(format!("database: {e}"))
    }
}

impl From<crate::domain::ParseError> for Error {
    fn from(e: crate::domain::ParseError) -> Error {
        Error::validation(e.0)
    }
}
