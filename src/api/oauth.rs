//! `/oauth2/access_token` and `/oauth2/revoke_token` as Open edX answers them
//! (edx-platform's oauth_dispatch), and browser sessions: `/login`, `/logout`.

use super::body;
use super::errors::Dialect;
use super::http::{json, no_content, Ctx};
use super::router::{Doc, Route};
use crate::core::{accounts, sessions, tokens, Error, ErrorKind};
use crate::domain::{AuthMethod, SESSION_COOKIE};
use rouille::Response;
use serde_json::{json, Map, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "auth",
        auth: false,
        request,
        status: 200,
        response,
        query: &[],
    };
    vec![
        Route {
            method: "POST",
            path: "/oauth2/access_token",
            dialect: Dialect::OAuth,
            handler: post_access_token,
            doc: doc(
                "Get an access token (client_credentials or password grant; token_type=jwt for a JWT)",
                Some("TokenRequest"),
                Some("TokenResponse"),
            ),
        },
        Route {
            method: "POST",
            path: "/oauth2/revoke_token",
            dialect: Dialect::OAuth,
            handler: post_revoke_token,
            doc: doc("Revoke an opaque access token (RFC 7009)", Some("RevokeRequest"), None),
        },
        Route {
            method: "POST",
            path: "/login",
            dialect: Dialect::Drf,
            handler: post_login,
            doc: doc(
                "Start a browser session (sets an HttpOnly session cookie and a csrftoken cookie)",
                Some("LoginRequest"),
                Some("LoginResponse"),
            ),
        },
        Route {
            method: "GET",
            path: "/account/set-password",
            dialect: Dialect::Drf,
            handler: get_set_password,
            doc: Doc {
                query: &[("token", "from the set-password email")],
                ..doc("The page a set-password link opens: a form that posts the new password", None, Some("Html"))
            },
        },
        Route {
            method: "POST",
            path: "/account/set-password",
            dialect: Dialect::Drf,
            handler: post_set_password,
            doc: doc(
                "Choose a password with a set-password link's token; activates the account",
                Some("SetPasswordRequest"),
                Some("Me"),
            ),
        },
        Route {
            method: "GET",
            path: "/account/confirm-email",
            dialect: Dialect::Drf,
            handler: get_confirm_email,
            doc: Doc {
                query: &[("token", "from the email sent to the new address")],
                ..doc("The page an email-change link opens: a button that confirms the new address", None, Some("Html"))
            },
        },
        Route {
            method: "POST",
            path: "/account/confirm-email",
            dialect: Dialect::Drf,
            handler: post_confirm_email,
            doc: doc(
                "Confirm a learner's new email address with the link's token; the change applies now",
                Some("ConfirmEmailRequest"),
                Some("Me"),
            ),
        },
        Route {
            method: "POST",
            path: "/logout",
            dialect: Dialect::Drf,
            handler: post_logout,
            doc: Doc {
                auth: true,
                status: 204,
                ..doc("End the browser session (needs the X-CSRFToken header)", None, None)
            },
        },
    ]
}

/// A form field as text, "" when absent or null; a list or object is `invalid_request`.
fn field(form: &Map<String, Value>, name: &str) -> Result<String, Error> {
    Ok(body::text_field(form, name).map_err(|e| e.with_code("invalid_request"))?.unwrap_or_default())
}

/// RFC 6749 §2.3.1 client authentication: `Authorization: Basic base64(id:secret)`, each
/// part form-urlencoded first. django-oauth-toolkit reads it before the body's fields
/// (oauth2_backends.py / oauthlib's client authentication), and many OAuth2 libraries send
/// only this.
fn basic_client(ctx: &Ctx) -> Option<(String, String)> {
    use base64::Engine;
    let header = ctx.req.header("Authorization")?.trim();
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((super::http::percent_decode(id, true), super::http::percent_decode(secret, true)))
}

/// RFC 6749 §2.3: one client authentication method per request; a secret in both the
/// Basic header and the body is `invalid_request`.
fn one_client_authentication(basic: &Option<(String, String)>, form: &Map<String, Value>) -> Result<(), Error> {
    if basic.is_some() && !field(form, "client_secret")?.is_empty() {
        return Err(Error::validation(
            "The client authenticated twice (HTTP Basic and client_secret in the body); use one method.",
        )
        .with_code("invalid_request"));
    }
    Ok(())
}

/// A 401 `invalid_client` to a client that used HTTP Basic names the scheme to use
/// (RFC 6749 §5.2).
fn with_basic_challenge(basic: &Option<(String, String)>, error: Error) -> Result<Response, Error> {
    if basic.is_some() && error.code() == "invalid_client" {
        let answer = super::errors::render(Dialect::OAuth, &error);
        return Ok(answer.with_additional_header("WWW-Authenticate", "Basic realm=\"oauth2\""));
    }
    Err(error)
}

fn post_access_token(ctx: &mut Ctx) -> Result<Response, Error> {
    let form = ctx.body_object()?;
    let basic = basic_client(ctx);
    one_client_authentication(&basic, &form)?;
    // Open edX also reads token_type from the X-Token-Type header.
    let token_type = match field(&form, "token_type")? {
        t if t.is_empty() => ctx.req.header("X-Token-Type").unwrap_or("").to_owned(),
        t => t,
    };
    let request = tokens::TokenRequest {
        grant_type: field(&form, "grant_type")?,
        refresh_token: field(&form, "refresh_token")?,
        client_id: match &basic {
            Some((id, _)) => id.clone(),
            None => field(&form, "client_id")?,
        },
        client_secret: match &basic {
            Some((_, secret)) => secret.clone(),
            None => field(&form, "client_secret")?,
        },
        username: field(&form, "username")?,
        password: field(&form, "password")?,
        token_type,
        scope: body::text_field(&form, "scope").map_err(|e| e.with_code("invalid_request"))?,
    };
    let token = match tokens::issue(ctx.env, &request, &ctx.remote(), ctx.now.unix()) {
        Ok(token) => token,
        Err(e) => return with_basic_challenge(&basic, e),
    };
    let mut body = json!({"access_token": token.access_token, "token_type": token.token_type, "expires_in": token.expires_in, "scope": token.scope});
    if let Some(refresh) = token.refresh_token {
        body["refresh_token"] = json!(refresh);
    }
    Ok(json(200, &body).with_additional_header("Cache-Control", "no-store"))
}

fn post_revoke_token(ctx: &mut Ctx) -> Result<Response, Error> {
    let form = ctx.body_object()?;
    let token = field(&form, "token")?;
    if token.is_empty() {
        return Err(Error::validation("token is required.").with_code("invalid_request"));
    }
    let basic = basic_client(ctx);
    one_client_authentication(&basic, &form)?;
    let (client_id, client_secret) = match &basic {
        Some(pair) => pair.clone(),
        None => (field(&form, "client_id")?, field(&form, "client_secret")?),
    };
    if let Err(e) = tokens::revoke(&ctx.env.db, &client_id, &client_secret, &token) {
        return with_basic_challenge(&basic, e);
    }
    Ok(json(200, &json!({})))
}

fn post_login(ctx: &mut Ctx) -> Result<Response, Error> {
    super::http::refuse_cross_site(ctx)?;
    let form = ctx.body_object()?;
    let (username, email) = (field(&form, "username")?, field(&form, "email")?);
    let login = if username.is_empty() { email } else { username };
    let password = field(&form, "password")?;
    if login.is_empty() || password.is_empty() {
        return Err(Error::validation("username (or email) and password are required."));
    }
    let (user, session) = sessions::sign_in(ctx.env, &login, &password, &ctx.remote(), ctx.now.unix())?;
    let [cookie, csrf] = super::cookies::starting(ctx.env, &session.cookie_value, &session.csrf_token);
    let body = json!({"username": user.username, "csrf_token": session.csrf_token});
    Ok(json(200, &body).with_additional_header("Set-Cookie", cookie).with_additional_header("Set-Cookie", csrf))
}

fn post_logout(ctx: &mut Ctx) -> Result<Response, Error> {
    let principal = ctx.caller()?;
    if principal.user().map(|u| u.method) != Some(AuthMethod::Session) {
        return Err(Error::new(
            ErrorKind::Validation,
            "There is no browser session to end; tokens are revoked at /oauth2/revoke_token.",
        ));
    }
    sessions::sign_out(ctx.env, super::cookies::read(ctx.req, SESSION_COOKIE).as_deref())?;
    let [session, csrf] = super::cookies::clearing(ctx.env);
    Ok(no_content().with_additional_header("Set-Cookie", session).with_additional_header("Set-Cookie", csrf))
}

/// The set-password form posts here: a browser gets an HTML page back (a script sending
/// JSON gets JSON), with what happened and where to sign in.
fn post_set_password(ctx: &mut Ctx) -> Result<Response, Error> {
    let from_browser = !super::body::is_json(ctx.req.header("Content-Type").unwrap_or(""));
    let result = set_password(ctx);
    if !from_browser {
        return result.map(|username| json(200, &json!({"username": username})));
    }
    let school = escape_html(&ctx.env.config.server.school_name);
    let lms = ctx.env.config.email.lms_base_url.trim_end_matches('/');
    let (status, title, message) = match &result {
        Ok(username) => {
            let sign_in =
                if lms.is_empty() { String::new() } else { format!(" <a href=\"{}\">Sign in</a>.", escape_html(lms)) };
            (
                200,
                "Your password is set",
                format!("The account <strong>{}</strong> is active.{sign_in}", escape_html(username)),
            )
        }
        Err(e) if e.is_fault() => return Err(e.clone()),
        Err(e) => (
            e.status(),
            "Your password was not set",
            format!("{} Open the link from your email again, or ask for a new one.", escape_html(&e.developer_message)),
        ),
    };
    let html = page(&format!("{school}: {title}"), &format!("<h1>{title}</h1><p>{message}</p>"));
    Ok(Response::html(html).with_status_code(status).with_additional_header("Cache-Control", "no-store"))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A plain page: no script, no external resources, readable on a phone.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em;line-height:1.5;color:#222}}\
         input,button{{font-size:1em;padding:.4em}}label{{display:block;margin:1em 0}}</style></head><body>{body}</body></html>"
    )
}

fn set_password(ctx: &mut Ctx) -> Result<String, Error> {
    let form = ctx.body_object()?;
    let (token, password) = (field(&form, "token")?, field(&form, "password")?);
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(Error::field("password", "The password must be 8 to 1024 characters."));
    }
    let user = accounts::set_password_and_activate(ctx.env, &token, &password, ctx.now)?;
    Ok(user.username)
}

/// Applies a learner's confirmed email change (`core::accounts::request_email_change`).
fn confirm_email(ctx: &mut Ctx) -> Result<String, Error> {
    let form = ctx.body_object()?;
    let token = field(&form, "token")?;
    let user = accounts::confirm_email_change(ctx.env, &token, ctx.now)?;
    Ok(user.username)
}

fn post_confirm_email(ctx: &mut Ctx) -> Result<Response, Error> {
    let from_browser = !super::body::is_json(ctx.req.header("Content-Type").unwrap_or(""));
    let result = confirm_email(ctx);
    if !from_browser {
        return result.map(|username| json(200, &json!({"username": username})));
    }
    let (status, title, message) = match &result {
        Ok(username) => (
            200,
            "Your email address is changed",
            format!("The account <strong>{}</strong> now uses this address.", escape_html(username)),
        ),
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) => return Err(e.clone()),
        Err(e) => (e.status(), "Your email address was not changed", escape_html(&e.developer_message)),
    };
    let school = escape_html(&ctx.env.config.server.school_name);
    let html = page(&format!("{school}: {title}"), &format!("<h1>{title}</h1><p>{message}</p>"));
    Ok(Response::html(html).with_status_code(status).with_additional_header("Cache-Control", "no-store"))
}

/// The page an email-change link opens. Confirming takes a button press (a POST), so a mail
/// scanner that follows links cannot confirm on the learner's behalf.
fn get_confirm_email(ctx: &mut Ctx) -> Result<Response, Error> {
    let token = link_token(ctx);
    let school = escape_html(&ctx.env.config.server.school_name);
    let html = page(
        "Confirm your email address",
        &format!(
            "<h1>{school}: confirm your new email address</h1><form method=\"post\" action=\"/account/confirm-email\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\"><button type=\"submit\">Use this address</button></form>"
        ),
    );
    Ok(Response::html(html)
        .with_additional_header("Referrer-Policy", "no-referrer")
        .with_additional_header("Cache-Control", "no-store"))
}

/// A link's token from the query, reduced to the characters tokens are made of.
fn link_token(ctx: &Ctx) -> String {
    ctx.query_param("token")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect()
}

/// The page a set-password email links to: a plain HTML form (no script, no external
/// resources) that posts the token and the new password back to this URL.
fn get_set_password(ctx: &mut Ctx) -> Result<Response, Error> {
    let token = link_token(ctx);
    let school = escape_html(&ctx.env.config.server.school_name);
    let html = page(
        "Set your password",
        &format!(
            "<h1>{school}: set your password</h1><form method=\"post\" action=\"/account/set-password\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\"><label>New password (at least 8 characters) \
             <input type=\"password\" name=\"password\" minlength=\"8\" required autocomplete=\"new-password\"></label> \
             <button type=\"submit\">Set password</button></form>"
        ),
    );
    Ok(Response::html(html)
        .with_additional_header("Referrer-Policy", "no-referrer")
        .with_additional_header("Cache-Control", "no-store"))
}
