//! Who is calling, once `auth` has checked the credentials: the principal every use case
//! takes (its permission rules read the flags here), and the parts of a request that carry
//! credentials, as the HTTP layer hands them over.

/// The cookie that carries a browser session (HttpOnly), and the one whose CSRF token a
/// page's script echoes in `X-CSRFToken` (Django's `csrftoken`).
pub const SESSION_COOKIE: &str = "rollcall_session";
pub const CSRF_COOKIE: &str = "csrftoken";

/// The error code of a refusal for a token without the `write` scope (RFC 6750 §3.1),
/// which each dialect words its own way.
pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";

/// The credential-bearing parts of a request, taken out by the HTTP layer.
#[derive(Debug, Default)]
pub struct Credentials<'a> {
    pub authorization: Option<&'a str>,
    pub api_key: Option<&'a str>,
    pub session_cookie: Option<&'a str>,
    pub csrf_header: Option<&'a str>,
    /// POST, PUT, PATCH, DELETE: session callers must then prove CSRF.
    pub unsafe_method: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Jwt,
    Bearer,
    Session,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub method: AuthMethod,
    /// The OAuth client a token was issued to.
    pub client_id: Option<String>,
    /// A token granted without the `write` scope: safe methods only (RFC 6750 §3.1).
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub enum Principal {
    User(User),
    /// Server-to-server caller holding the configured `X-Edx-Api-Key`.
    ApiKey,
}

impl Principal {
    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::User(u) => Some(u),
            Principal::ApiKey => None,
        }
    }

    /// Open edX's `GlobalStaff`: `is_staff` (superusers are staff too).
    pub fn is_global_staff(&self) -> bool {
        self.user().is_some_and(|u| u.is_staff || u.is_superuser)
    }

    pub fn is_superuser(&self) -> bool {
        self.user().is_some_and(|u| u.is_superuser)
    }

    /// A stable key for per-caller rate limits and logs.
    pub fn key(&self) -> String {
        match self {
            Principal::User(u) => format!("user:{}", u.id),
            Principal::ApiKey => "api-key".into(),
        }
    }
}
