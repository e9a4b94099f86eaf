//! The browser session's cookies as the HTTP layer reads and sets them: the HttpOnly
//! session cookie and the CSRF cookie a page's script reads (as Django's `csrftoken`).

use crate::core::Env;
use crate::domain::{CSRF_COOKIE, SESSION_COOKIE};
use rouille::Request;

/// The value of the request's cookie `name`.
pub fn read(req: &Request, name: &str) -> Option<String> {
    rouille::input::cookies(req).find(|(n, _)| *n == name).map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value for the session (`http_only`) or its CSRF cookie (readable by the
/// page's script, as Django's csrftoken), for the session's lifetime.
fn cookie_header(env: &Env, name: &str, value: &str, http_only: bool) -> String {
    let auth = &env.config.auth;
    cookie(name, value, auth.session_lifetime_seconds, http_only, auth.secure_cookies)
}

/// The two `Set-Cookie` values that end a session in the browser.
pub fn clearing(env: &Env) -> [String; 2] {
    let secure = env.config.auth.secure_cookies;
    [cookie(SESSION_COOKIE, "", 0, true, secure), cookie(CSRF_COOKIE, "", 0, false, secure)]
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

/// The CSRF cookie of a visitor without a session (Django's `ensure_csrf_cookie`).
pub fn csrf_only(env: &Env, token: &str) -> String {
    cookie_header(env, CSRF_COOKIE, token, false)
}

/// The two `Set-Cookie` values of a new session: the HttpOnly session cookie and the CSRF
/// cookie a page's script reads (`/login`, the console's sign-in and Appsembler's
/// `login_session` send them).
pub fn starting(env: &Env, cookie_value: &str, csrf_token: &str) -> [String; 2] {
    [cookie_header(env, SESSION_COOKIE, cookie_value, true), cookie_header(env, CSRF_COOKIE, csrf_token, false)]
}
