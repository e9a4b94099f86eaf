//! Turning a request's credentials into a `Principal`: `Authorization: JWT|Bearer`,
//! `X-Edx-Api-Key`, or a session cookie (with CSRF for unsafe methods).

use super::{jwt, secrets, Auth};
use crate::error::{Error, ErrorKind};
use crate::store::{self, Db};

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

impl User {
    /// An account awaiting activation acts as a learner, whatever its flags say.
    pub fn authenticated(
        record: crate::store::users::UserRecord,
        method: AuthMethod,
        client_id: Option<String>,
    ) -> User {
        let active = record.is_active;
        User {
            id: record.id,
            username: record.username,
            email: record.email,
            is_staff: record.is_staff && active,
            is_superuser: record.is_superuser && active,
            method,
            client_id,
            read_only: false,
        }
    }

    /// Limits a token's user to what its scopes grant.
    fn with_scopes<'s>(mut self, scopes: Option<impl IntoIterator<Item = &'s str>>) -> User {
        self.read_only = scopes.is_some_and(|s| !s.into_iter().any(|scope| scope == "write"));
        self
    }
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

pub const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const INVALID_TOKEN: &str = "Invalid token.";
pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
pub const CSRF_FAILED: &str = "CSRF Failed: CSRF token missing or incorrect.";

fn invalid(why: &str) -> Error {
    log::debug!("rejected credentials: {why}");
    Error::new(ErrorKind::InvalidToken, INVALID_TOKEN)
}

/// `Ok(None)` for an anonymous caller; an error for credentials that are present but bad.
pub fn authenticate(auth: &Auth, db: &Db, creds: &Credentials, now: i64) -> Result<Option<Principal>, Error> {
    if let Some(header) = creds.authorization {
        let (scheme, token) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        let token = token.trim();
        let method = if scheme.eq_ignore_ascii_case("jwt") {
            Some(AuthMethod::Jwt)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(AuthMethod::Bearer)
        } else {
            None // Like DRF: another scheme is not ours to judge.
        };
        if let Some(method) = method {
            if token.is_empty() {
                return Err(invalid("empty token"));
            }
            return if method == AuthMethod::Jwt || jwt::looks_like_jwt(token) {
                jwt_user(auth, db, token, method, now).map(Some)
            } else {
                opaque_user(db, token, now).map(Some)
            };
        }
    }
    if let Some(key) = creds.api_key {
        return if auth.api_key_matches(key) { Ok(Some(Principal::ApiKey)) } else { Err(invalid("wrong API key")) };
    }
    if let Some(cookie) = creds.session_cookie {
        // A stale or unknown cookie is ignored (anonymous), as Django does.
        if let Some((user, csrf_token)) = super::sessions::lookup(db, cookie, now)? {
            if creds.unsafe_method
                && !creds.csrf_header.is_some_and(|h| secrets::constant_time_eq(h.as_bytes(), csrf_token.as_bytes()))
            {
                return Err(Error::forbidden(CSRF_FAILED));
            }
            return Ok(Some(Principal::User(user)));
        }
    }
    Ok(None)
}

/// A token without the `write` scope may read, nothing else: an unsafe method is 403
/// `insufficient_scope` (RFC 6750 §3.1), whatever the route.
pub fn check_scope(principal: Option<&Principal>, unsafe_method: bool) -> Result<(), Error> {
    match principal {
        Some(Principal::User(user)) if user.read_only && unsafe_method => Err(Error::forbidden(
            "The access token was granted without the 'write' scope; it may only read (GET, HEAD, OPTIONS).",
        )
        .with_code(INSUFFICIENT_SCOPE)),
        _ => Ok(()),
    }
}

fn jwt_user(auth: &Auth, db: &Db, token: &str, method: AuthMethod, now: i64) -> Result<Principal, Error> {
    let claims = auth.jwt.verify(token, now).map_err(invalid)?;
    db.read(|conn| {
        let user = store::users::by_username(conn, &claims.username)?.ok_or_else(|| invalid("unknown user"))?;
        if !user.is_active && !user.awaiting_activation() {
            return Err(invalid("inactive user"));
        }
        if claims.issued_at < user.credentials_valid_after {
            return Err(invalid("issued before the password changed or the account was deactivated"));
        }
        if let Some(client_id) = &claims.client_id {
            if !store::clients::exists(conn, client_id)? {
                return Err(invalid("deleted client"));
            }
        }
        let scopes = claims.scopes.as_ref().map(|s| s.iter().map(String::as_str));
        Ok(Principal::User(User::authenticated(user, method, claims.client_id.clone()).with_scopes(scopes)))
    })
}

fn opaque_user(db: &Db, token: &str, now: i64) -> Result<Principal, Error> {
    let hash = secrets::sha256_hex(token);
    db.read(|conn| {
        let record = store::clients::token_by_hash(conn, &hash)?.ok_or_else(|| invalid("unknown or revoked token"))?;
        if record.expires_at < now {
            return Err(invalid("expired token"));
        }
        let user = store::users::by_id(conn, record.user_id)?.ok_or_else(|| invalid("unknown user"))?;
        if !user.is_active && !user.awaiting_activation() {
            return Err(invalid("inactive user"));
        }
        Ok(Principal::User(
            User::authenticated(user, AuthMethod::Bearer, Some(record.client_id))
                .with_scopes(Some(record.scope.split_whitespace())),
        ))
    })
}

/// The principal, or 401 "credentials were not provided".
pub fn required(principal: Option<&Principal>) -> Result<&Principal, Error> {
    principal.ok_or_else(|| Error::new(ErrorKind::NotAuthenticated, NOT_PROVIDED))
}
