//! Who is calling, and signing in and out: a request's credentials (`Authorization: JWT|Bearer`,
//! `X-Edx-Api-Key`, or a session cookie with CSRF for unsafe methods) checked into the
//! `Principal` every use case takes, and browser sessions started by a password and ended.
//! `auth` holds the primitives (JWTs, password hashes, session rows, secrets).

use super::tokens;
use super::{Env, Error, ErrorKind};
use crate::auth::sessions::NewSession;
use crate::auth::{jwt, secrets, Auth};
use crate::domain::{AuthMethod, Credentials, Principal, User, INSUFFICIENT_SCOPE};
use crate::store::{self, users::UserRecord, Db};

/// The caller a stored account signs in as: an account awaiting activation acts as a
/// learner, whatever its flags say.
fn authenticated(record: UserRecord, method: AuthMethod, client_id: Option<String>) -> User {
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
fn with_scopes<'s>(mut user: User, scopes: Option<impl IntoIterator<Item = &'s str>>) -> User {
    user.read_only = scopes.is_some_and(|s| !s.into_iter().any(|scope| scope == "write"));
    user
}

pub const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const INVALID_TOKEN: &str = "Invalid token.";
pub const CSRF_FAILED: &str = "CSRF Failed: CSRF token missing or incorrect.";

fn invalid(why: &str) -> Error {
    log::debug!("rejected credentials: {why}");
    Error::new(ErrorKind::InvalidToken, INVALID_TOKEN)
}

/// `Ok(None)` for an anonymous caller; an error for credentials that are present but bad.
pub fn authenticate(env: &Env, creds: &Credentials, now: i64) -> Result<Option<Principal>, Error> {
    let (auth, db) = (&env.auth, &env.db);
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
        if let Some((user, csrf_token)) = browser_session(db, cookie, now)? {
            if creds.unsafe_method && !creds.csrf_header.is_some_and(|h| csrf_matches(h, &csrf_token)) {
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
        Ok(Principal::User(with_scopes(authenticated(user, method, claims.client_id.clone()), scopes)))
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
        Ok(Principal::User(with_scopes(
            authenticated(user, AuthMethod::Bearer, Some(record.client_id)),
            Some(record.scope.split_whitespace()),
        )))
    })
}

/// The principal, or 401 "credentials were not provided".
pub fn required(principal: Option<&Principal>) -> Result<&Principal, Error> {
    principal.ok_or_else(|| Error::new(ErrorKind::NotAuthenticated, NOT_PROVIDED))
}

/// The session's active user and its CSRF token, if the cookie names a live session (the
/// console signs its visitors in by this alone).
pub fn browser_session(db: &Db, cookie_value: &str, now: i64) -> Result<Option<(User, String)>, Error> {
    let hash = secrets::sha256_hex(cookie_value);
    db.read(|conn| {
        let Some(session) = store::sessions::by_hash(conn, &hash)? else {
            return Ok(None);
        };
        if session.expires_at < now {
            return Ok(None);
        }
        let Some(user) = store::users::by_id(conn, session.user_id)?.filter(|u| u.is_active) else {
            return Ok(None);
        };
        Ok(Some((authenticated(user, AuthMethod::Session, None), session.csrf_token)))
    })
}

/// A browser signs in with a username (or email) and password (`POST /login`, the
/// console, Appsembler's `login_session`): the same login as the password grant (rate
/// limits, hash upgrade), minus accounts awaiting activation, and a new session.
pub fn sign_in(
    env: &Env,
    login: &str,
    password: &str,
    remote: &str,
    now: i64,
) -> Result<(UserRecord, NewSession), Error> {
    let user = tokens::login(env, login, password, remote, now, false)?;
    let session = crate::auth::sessions::create(&env.db, user.id, env.config.auth.session_lifetime_seconds, now)?;
    Ok((user, session))
}

/// Ends the session the browser's cookie names, if any.
pub fn sign_out(env: &Env, cookie_value: Option<&str>) -> Result<(), Error> {
    match cookie_value {
        Some(value) => crate::auth::sessions::end(&env.db, value),
        None => Ok(()),
    }
}

/// A CSRF token for a visitor without a session (Django's `ensure_csrf_cookie`): a
/// sign-in form sends it back (`check_double_submit`).
pub fn new_csrf_token() -> String {
    secrets::random_token(24)
}

/// Whether a form's CSRF token is its session's (the console's forms).
pub fn csrf_matches(sent: &str, session_csrf: &str) -> bool {
    secrets::constant_time_eq(sent.as_bytes(), session_csrf.as_bytes())
}

/// Django's CSRF check for a visitor without a session: the `csrftoken` cookie must be
/// there, and the same token must come back in `X-CSRFToken` (or the form's
/// `csrfmiddlewaretoken`). Another site can make a browser send the cookie, not read it.
pub fn check_double_submit(cookie: Option<&str>, sent: Option<&str>) -> Result<(), Error> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty()) else {
        return Err(Error::forbidden("CSRF Failed: CSRF cookie not set.").with_code("CSRF_FAILED"));
    };
    if !sent.is_some_and(|s| csrf_matches(s, cookie)) {
        return Err(Error::forbidden("CSRF Failed: CSRF token missing or incorrect.").with_code("CSRF_FAILED"));
    }
    Ok(())
}
