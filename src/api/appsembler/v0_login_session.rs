//! `/appsembler_api/v0/account/login_session/`: the original's sign-in for sites on another
//! domain (Open edX's LoginSessionView under `ensure_csrf_cookie_cross_domain`). GET hands
//! out the CSRF cookie; POST checks it as Django's `csrf_protect` does, then signs in with
//! email and password as `/login` does (same errors, same throttling) and starts a session.

use super::super::http::{json, ok, refuse_cross_site, Ctx};
use super::*;
use crate::core::{sessions, Error};
use crate::domain::CSRF_COOKIE;
use rouille::Response;
use serde_json::json;

pub(super) const LOGIN_SESSION: &str = "/appsembler_api/v0/account/login_session/";

/// The sign-in form's description (as the original's GET) and a CSRF cookie for it; the
/// token is in the body too, for a client that does not read cookies.
pub(super) fn get_login_session(ctx: &mut Ctx) -> Result<Response, Error> {
    let token = sessions::new_csrf_token();
    let cookie = super::super::cookies::csrf_only(ctx.env, &token);
    let body = json!({"method": "post", "submit_url": LOGIN_SESSION, "csrf_token": token, "fields": [
        {"name": "email", "type": "email", "required": true},
        {"name": "password", "type": "password", "required": true}]});
    Ok(ok(body).with_additional_header("Set-Cookie", cookie).with_additional_header("Cache-Control", "no-store"))
}

pub(super) fn post_login_session(ctx: &mut Ctx) -> Result<Response, Error> {
    refuse_cross_site(ctx)?;
    let form = body(ctx)?;
    let cookie = super::super::cookies::read(ctx.req, CSRF_COOKIE);
    let sent = match ctx.req.header("X-CSRFToken") {
        Some(header) => Some(header.to_owned()),
        None => field(&form, "csrfmiddlewaretoken")?,
    };
    sessions::check_double_submit(cookie.as_deref(), sent.as_deref())?;
    let email = field(&form, "email")?.unwrap_or_default();
    let password = field(&form, "password")?.unwrap_or_default();
    if email.trim().is_empty() || password.is_empty() {
        return Err(Error::validation("email and password are required."));
    }
    let (_, new) = sessions::sign_in(ctx.env, email.trim(), &password, &ctx.remote(), ctx.now.unix())?;
    let [session, csrf] = super::super::cookies::starting(ctx.env, &new.cookie_value, &new.csrf_token);
    Ok(json(200, &json!({"success": true}))
        .with_additional_header("Set-Cookie", session)
        .with_additional_header("Set-Cookie", csrf))
}
