//! Browser sessions: a random cookie value (stored only as its SHA-256) and a CSRF token
//! that unsafe requests must echo in the `X-CSRFToken` header.

use super::principal::{AuthMethod, User};
use super::secrets;
use crate::error::Error;
use crate::store::{self, Db};

pub const COOKIE_NAME: &str = "rollcall_session";
pub const CSRF_COOKIE_NAME: &str = "csrftoken";

pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
}

pub fn create(db: &Db, user_id: i64, lifetime: i64, now: i64) -> Result<NewSession, Error> {
    let cookie_value = secrets::random_token(32);
    let csrf_token = secrets::random_token(24);
    db.write(|conn| {
        store::sessions::insert(conn, &secrets::sha256_hex(&cookie_value), user_id, &csrf_token, now + lifetime, now)?;
        store::users::set_last_login(conn, user_id, now)
    })?;
    Ok(NewSession { cookie_value, csrf_token })
}

/// The session's active user and its CSRF token, if the cookie names a live session.
pub fn lookup(db: &Db, cookie_value: &str, now: i64) -> Result<Option<(User, String)>, Error> {
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
        Ok(Some((User::authenticated(user, AuthMethod::Session, None), session.csrf_token)))
    })
}

pub fn end(db: &Db, cookie_value: &str) -> Result<(), Error> {
    db.write(|conn| store::sessions::delete(conn, &secrets::sha256_hex(cookie_value)))
}

/// A `Set-Cookie` value for the session (`http_only`) or its CSRF cookie (readable by the
/// page's script, as Django's csrftoken), for the session's lifetime.
fn cookie_header(auth: &super::Auth, name: &str, value: &str, http_only: bool) -> String {
    cookie(name, value, auth.session_lifetime, http_only, auth.secure_cookies)
}

/// The two `Set-Cookie` values that end a session in the browser.
pub fn clearing_cookie_headers(auth: &super::Auth) -> [String; 2] {
    [cookie(COOKIE_NAME, "", 0, true, auth.secure_cookies), cookie(CSRF_COOKIE_NAME, "", 0, false, auth.secure_cookies)]
}

fn cookie(name: &str, value: &str, max_age: i64, http_only: bool, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// Starts a session for a user who just proved their password: the session and the two
/// `Set-Cookie` values that carry it (`/login` and Appsembler's `login_session`).
pub fn sign_in(auth: &super::Auth, db: &Db, user_id: i64, now: i64) -> Result<(NewSession, [String; 2]), Error> {
    let session = create(db, user_id, auth.session_lifetime, now)?;
    let cookies = starting_cookie_headers(auth, &session);
    Ok((session, cookies))
}

/// A CSRF cookie for a visitor without a session (Django's `ensure_csrf_cookie`), and its
/// token: a sign-in form sends the token back (`check_double_submit`).
pub fn anonymous_csrf_cookie(auth: &super::Auth) -> (String, String) {
    let token = secrets::random_token(24);
    (cookie_header(auth, CSRF_COOKIE_NAME, &token, false), token)
}

/// Django's CSRF check for a visitor without a session: the `csrftoken` cookie must be
/// there, and the same token must come back in `X-CSRFToken` (or the form's
/// `csrfmiddlewaretoken`). Another site can make a browser send the cookie, not read it.
pub fn check_double_submit(cookie: Option<&str>, sent: Option<&str>) -> Result<(), Error> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty()) else {
        return Err(Error::forbidden("CSRF Failed: CSRF cookie not set.").with_code("CSRF_FAILED"));
    };
    if !sent.is_some_and(|s| secrets::constant_time_eq(s.as_bytes(), cookie.as_bytes())) {
        return Err(Error::forbidden("CSRF Failed: CSRF token missing or incorrect.").with_code("CSRF_FAILED"));
    }
    Ok(())
}

/// The two `Set-Cookie` values of a new session: the HttpOnly session cookie and the CSRF
/// cookie a page's script reads (`/login` and the console's sign-in both send them).
pub fn starting_cookie_headers(auth: &super::Auth, session: &NewSession) -> [String; 2] {
    [
        cookie_header(auth, COOKIE_NAME, &session.cookie_value, true),
        cookie_header(auth, CSRF_COOKIE_NAME, &session.csrf_token, false),
    ]
}
