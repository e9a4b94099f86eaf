//! `/admin/…`: the admin console. Server-rendered pages (maud escapes every value) over the
//! same core calls as the API, signed in with the browser session of `/login`; every form
//! carries the session's CSRF token. Course pages are for the course's staff and global
//! staff; the school-wide pages for global staff only, as in the API.

mod courses;
mod privacy;
mod school;
mod scim;

use super::body::{self, Part};
use super::errors::Dialect;
use super::http::Ctx;
use super::router::{Doc, Handler, Route};
use crate::core::{sessions, Error, ErrorKind};
use crate::domain::{Principal, User, SESSION_COOKIE};
use maud::{html, Markup, DOCTYPE};
use rouille::Response;

pub fn routes() -> Vec<Route> {
    let page = |method, path, handler: Handler| Route {
        method,
        path,
        dialect: Dialect::Console,
        handler,
        // Not an API operation: the console checks its own session (and CSRF field).
        doc: Doc {
            summary: "",
            tag: "console",
            auth: false,
            request: None,
            status: 200,
            response: Some("Html"),
            query: &[],
        },
    };
    vec![
        page("GET", "/admin", courses::home),
        page("GET", "/admin/", courses::home),
        page("GET", "/admin/static/console.css", stylesheet),
        page("GET", "/admin/static/console.js", script),
        page("GET", "/admin/login", sign_in_page),
        page("POST", "/admin/login", sign_in),
        page("POST", "/admin/logout", sign_out),
        page("GET", "/admin/courses", courses::list),
        page("POST", "/admin/courses", courses::create),
        page("GET", "/admin/courses/new", courses::new_form),
        page("GET", "/admin/courses/{course_key}", courses::edit_form),
        page("POST", "/admin/courses/{course_key}", courses::update),
        page("POST", "/admin/courses/{course_key}/staff", courses::staff),
        page("GET", "/admin/courses/{course_key}/roster", courses::roster),
        page("GET", "/admin/courses/{course_key}/roster.csv", courses::roster_csv),
        page("POST", "/admin/courses/{course_key}/waitlist/remove", courses::remove_from_waitlist),
        page("GET", "/admin/courses/{course_key}/batch", courses::batch_form),
        page("POST", "/admin/courses/{course_key}/batch", courses::batch),
        page("GET", "/admin/courses/{course_key}/tasks/{task_id}", courses::task),
        page("GET", "/admin/courses/{course_key}/history", courses::history),
        page("GET", "/admin/tasks", courses::tasks),
        page("GET", "/admin/outbox", school::outbox),
        page("POST", "/admin/outbox/{id}/retry", school::retry),
        page("GET", "/admin/clients", school::clients),
        page("POST", "/admin/clients", school::create_client),
        page("POST", "/admin/clients/{client_id}/delete", school::delete_client),
        page("GET", "/admin/scim", scim::tokens),
        page("POST", "/admin/scim", scim::create_token),
        page("POST", "/admin/scim/{id}/delete", scim::revoke_token),
        page("GET", "/admin/codes", school::codes),
        page("POST", "/admin/codes", school::generate_codes),
        page("POST", "/admin/codes/{code}/status", school::code_status),
        page("GET", "/admin/learning-paths", school::learning_paths),
        page("GET", "/admin/privacy", privacy::privacy_page),
        page("GET", "/admin/privacy/export", privacy::export),
        page("POST", "/admin/privacy/retire", privacy::retire),
    ]
}

/// Who is signed in, and the CSRF token their forms carry.
pub(crate) struct Visitor {
    pub user: User,
    pub csrf: String,
}

impl Visitor {
    pub fn global_staff(&self) -> bool {
        self.user.is_staff || self.user.is_superuser
    }

    /// The visitor as the core's use cases take their caller.
    pub fn caller(&self) -> Principal {
        Principal::User(self.user.clone())
    }

    /// School-wide pages: global staff only.
    pub fn require_global_staff(&self) -> Result<(), Error> {
        if self.global_staff() {
            Ok(())
        } else {
            Err(Error::forbidden("This page is for the school's staff (global staff or superusers)."))
        }
    }
}

/// The signed-in visitor, by the session cookie alone (tokens are for the API, not pages).
pub(crate) fn visitor(ctx: &Ctx) -> Result<Visitor, Error> {
    let found = match super::cookies::read(ctx.req, SESSION_COOKIE) {
        Some(cookie) => sessions::browser_session(&ctx.env.db, &cookie, ctx.now.unix())?,
        None => None,
    };
    match found {
        Some((user, csrf)) => Ok(Visitor { user, csrf }),
        None => Err(Error::new(ErrorKind::NotAuthenticated, "Sign in to continue.")),
    }
}

/// A submitted form: its fields and uploaded files.
pub(crate) struct Form {
    fields: Vec<(String, String)>,
    pub files: Vec<Part>,
}

impl Form {
    pub fn get(&self, name: &str) -> Option<String> {
        self.fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).map(|v| v.trim().to_owned()).unwrap_or_default()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v == "on" || v == "true")
    }
}

/// Reads a form post (urlencoded or multipart) and checks its CSRF token against the
/// session's: a page of another site cannot post on the visitor's behalf.
pub(crate) fn form(ctx: &Ctx, visitor: Option<&Visitor>) -> Result<Form, Error> {
    let content_type = ctx.req.header("Content-Type").unwrap_or("");
    let media = body::media_type(content_type);
    let raw = ctx.body_bytes()?;
    let form = if media == "multipart/form-data" {
        let mut fields = Vec::new();
        let mut files = Vec::new();
        for part in body::multipart_parts(content_type, &raw)? {
            if part.filename.is_some() {
                files.push(part);
            } else {
                let value =
                    String::from_utf8(part.content).map_err(|_| Error::validation("A form field is not UTF-8."))?;
                fields.push((part.name, value));
            }
        }
        Form { fields, files }
    } else if media.is_empty() || media == "application/x-www-form-urlencoded" {
        let text = std::str::from_utf8(&raw).map_err(|_| Error::validation("The form is not UTF-8."))?;
        Form { fields: super::http::parse_urlencoded(text), files: Vec::new() }
    } else {
        return Err(Error::new(ErrorKind::UnsupportedMediaType, "Send the console's forms from its pages."));
    };
    if let Some(visitor) = visitor {
        let sent = form.get("csrf_token").unwrap_or_default();
        if !sessions::csrf_matches(&sent, &visitor.csrf) {
            return Err(Error::forbidden(
                "The form's security token does not match your session; reload the page and try again.",
            ));
        }
    }
    Ok(form)
}

/// The hidden field every form of a signed-in page carries.
pub(crate) fn csrf_field(visitor: &Visitor) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(visitor.csrf); }
}

/// The `<head>` of every server-rendered page (console, front page, reference): the one
/// stylesheet, no favicon request, and the console's script where it is wanted.
pub fn head(title: &str, with_script: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="icon" href="data:,";
            link rel="stylesheet" href="/admin/static/console.css";
            @if with_script { script src="/admin/static/console.js" defer {} }
        }
    }
}

/// A whole page: the navigation (by what the visitor may see), the title and the content.
pub(crate) fn page(title: &str, visitor: Option<&Visitor>, content: Markup) -> Response {
    page_with_status(200, title, visitor, content)
}

pub(crate) fn page_with_status(status: u16, title: &str, visitor: Option<&Visitor>, content: Markup) -> Response {
    let school = "Rollcall";
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("{title} · {school} admin"), true))
            body {
                header.top {
                    a.brand href="/admin/" { (school) }
                    @if let Some(v) = visitor {
                        nav {
                            a href="/admin/courses" { "Courses" }
                            a href="/admin/tasks" { "Tasks" }
                            @if v.global_staff() {
                                a href="/admin/outbox" { "Outbox" }
                                a href="/admin/codes" { "Codes" }
                                a href="/admin/learning-paths" { "Learning paths" }
                                a href="/admin/clients" { "OAuth clients" }
                                a href="/admin/privacy" { "Privacy" }
                            }
                            @if v.user.is_superuser { a href="/admin/scim" { "SCIM" } }
                        }
                        form.signout method="post" action="/admin/logout" {
                            (csrf_field(v))
                            span.who { (v.user.username) }
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    };
    html_response(status, markup.into_string())
}

fn html_response(status: u16, text: String) -> Response {
    Response::from_data("text/html; charset=utf-8", text)
        .with_status_code(status)
        // Pages load only our own stylesheet and script, and no other site may frame them.
        .with_additional_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        )
        .with_additional_header("X-Frame-Options", "DENY")
        .with_additional_header("Cache-Control", "no-store")
}

pub(crate) fn redirect(to: &str) -> Response {
    Response::empty_204().with_status_code(303).with_additional_header("Location", to.to_owned())
}

/// Where a console path for a course starts (keys go into paths as they are: `:` and `+`
/// are path characters).
pub(crate) fn course_path(key: &str) -> String {
    format!("/admin/courses/{}", super::http::percent_encode(key).replace("%3A", ":").replace("%2B", "+"))
}

/// An error as a page: the sign-in page for a visitor without a session, else the message
/// (and each field's) with the status.
pub fn error_page(e: &Error) -> Response {
    if matches!(e.kind, ErrorKind::NotAuthenticated | ErrorKind::InvalidToken) {
        return redirect("/admin/login");
    }
    let message = if e.kind == ErrorKind::Internal {
        "Something went wrong on the server; it has been logged.".to_owned()
    } else {
        e.developer_message.clone()
    };
    let content = html! {
        p.error role="alert" { (message) }
        @if !e.field_errors.is_empty() {
            ul.error { @for (field, problem) in &e.field_errors { li { strong { (field) } ": " (problem) } } }
        }
        p { a href="javascript:history.back()" { "Back" } " · " a href="/admin/" { "Console home" } }
    };
    let title = match e.status() {
        403 => "Not permitted",
        404 => "Not found",
        429 => "Too many attempts",
        s if s >= 500 => "Server error",
        _ => "That did not work",
    };
    page_with_status(e.status(), title, None, content)
}

fn sign_in_form(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.card method="post" action="/admin/login" {
            label { "Username or email" input name="username" autocomplete="username" required autofocus; }
            label { "Password" input name="password" type="password" autocomplete="current-password" required; }
            button type="submit" { "Sign in" }
        }
    }
}

fn sign_in_page(ctx: &mut Ctx) -> Result<Response, Error> {
    if visitor(ctx).is_ok() {
        return Ok(redirect("/admin/"));
    }
    Ok(page("Sign in", None, sign_in_form(None)))
}

/// The same login as `POST /login` (rate limits, hash upgrade), answered with the session
/// cookies and a redirect instead of JSON.
fn sign_in(ctx: &mut Ctx) -> Result<Response, Error> {
    super::http::refuse_cross_site(ctx)?;
    let form = form(ctx, None)?;
    let (login, password) = (form.text("username"), form.get("password").unwrap_or_default());
    if login.is_empty() || password.is_empty() {
        return Ok(page_with_status(400, "Sign in", None, sign_in_form(Some("Enter your username and password."))));
    }
    let session = match sessions::sign_in(ctx.env, &login, &password, &ctx.remote(), ctx.now.unix()) {
        Ok((_, session)) => session,
        Err(e) if e.is_fault() => return Err(e),
        Err(e) => {
            let (status, message) = match e.kind {
                ErrorKind::RateLimited => (429, e.developer_message.clone()),
                _ => (401, "Wrong username or password.".to_owned()),
            };
            return Ok(page_with_status(status, "Sign in", None, sign_in_form(Some(&message))));
        }
    };
    let [cookie, csrf] = super::cookies::starting(ctx.env, &session.cookie_value, &session.csrf_token);
    Ok(redirect("/admin/").with_additional_header("Set-Cookie", cookie).with_additional_header("Set-Cookie", csrf))
}

fn sign_out(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    form(ctx, Some(&v))?;
    sessions::sign_out(ctx.env, super::cookies::read(ctx.req, SESSION_COOKIE).as_deref())?;
    let [session, csrf] = super::cookies::clearing(ctx.env);
    Ok(redirect("/admin/login")
        .with_additional_header("Set-Cookie", session)
        .with_additional_header("Set-Cookie", csrf))
}

fn stylesheet(_: &mut Ctx) -> Result<Response, Error> {
    Ok(Response::from_data("text/css; charset=utf-8", include_str!("console.css"))
        .with_additional_header("Cache-Control", "max-age=300"))
}

fn script(_: &mut Ctx) -> Result<Response, Error> {
    Ok(Response::from_data("text/javascript; charset=utf-8", include_str!("console.js"))
        .with_additional_header("Cache-Control", "max-age=300"))
}

/// Unix seconds as the console shows them (UTC, to the minute).
pub(crate) fn when(t: i64) -> String {
    minute(t) + " UTC"
}

/// `when` without its zone, for wide tables that say once that their times are UTC.
pub(crate) fn minute(t: i64) -> String {
    let iso = crate::domain::Timestamp::from_unix(t).to_iso();
    iso.get(..16).map(|s| s.replace('T', " ")).unwrap_or(iso)
}

/// A value for an `<input type="datetime-local">`.
pub(crate) fn local_input(t: Option<crate::domain::Timestamp>) -> String {
    t.map(|t| t.to_iso().chars().take(16).collect()).unwrap_or_default()
}
