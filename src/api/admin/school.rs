//! The console's school-wide pages, for global staff: the outbox (with retry), enrollment
//! codes, learning paths and OAuth clients (the secret shown once).

use super::{csrf_field, form, page, redirect, visitor, when};
use crate::api::http::{percent_encode, Ctx};
use crate::core::codes::{self, Overview};
use crate::core::learning_paths::{self, Viewer};
use crate::core::Error;
use crate::core::{accounts, outbox};
use crate::domain::CourseKey;
use maud::html;
use rouille::Response;

pub(super) fn outbox(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let status = ctx.query_param("status").filter(|s| !s.is_empty());
    let before = ctx.query_param("before").and_then(|b| b.parse::<i64>().ok());
    let (count, messages) = outbox::list_messages(&ctx.env.db, status.as_deref(), before, 50)?;
    let content = html! {
        form.row method="get" action="/admin/outbox" {
            label { "Status" select name="status" {
                @for (value, label) in [("", "All"), ("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")] {
                    option value=(value) selected[status.as_deref().unwrap_or("") == value] { (label) }
                }
            } }
            button type="submit" { "Show" }
        }
        p.muted { (count) " messages" }
        div.table-wrap { table {
            thead { tr { th { "Created" } th { "Type" } th { "To" } th { "Status" } th { "Attempts" } th { "" } } }
            tbody {
                @for m in &messages { tr {
                    td { (when(m.created.unix())) }
                    td { (m.message_type) }
                    td { (m.recipient) }
                    td { span.pill.(m.status) { (m.status) } @if let Some(e) = &m.last_error { br; span.error { (e) } } }
                    td { (m.attempts) }
                    td { @if m.status != "sent" {
                        form method="post" action={ "/admin/outbox/" (m.id) "/retry" } {
                            (csrf_field(&v)) button.link type="submit" { "Retry now" }
                        }
                    } }
                } }
                @if messages.is_empty() { tr { td colspan="6" .muted { "Nothing here." } } }
            }
        } }
        @if messages.len() == 50 { div.pager {
            a href={ "/admin/outbox?status=" (status.as_deref().unwrap_or("")) "&before=" (messages.last().map(|m| m.id).unwrap_or(0)) } { "Older →" }
        } }
    };
    Ok(page("Outbox", Some(&v), content))
}

pub(super) fn retry(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    form(ctx, Some(&v))?;
    let id: i64 = ctx.param("id").parse().map_err(|_| Error::not_found("No such message."))?;
    outbox::retry_message(ctx.env, id, ctx.now)?;
    Ok(redirect("/admin/outbox"))
}

fn clients_page(ctx: &Ctx, v: &super::Visitor, created: Option<(String, Option<String>)>) -> Result<Response, Error> {
    let clients = accounts::oauth_clients(&ctx.env.db)?;
    let content = html! {
        @if let Some((id, secret)) = created {
            div.card role="status" {
                p.ok { strong { "Client created." } " Copy the secret now: it is stored hashed and is never shown again." }
                p { "client_id: " span.secret #new-client-id { (id) } }
                @if let Some(secret) = secret { p { "client_secret: " span.secret #new-client-secret { (secret) } } }
            }
        }
        div.table-wrap { table {
            thead { tr { th { "Name" } th { "client_id" } th { "Acts as" } th { "Type" } th { "Created" } th { "" } } }
            tbody {
                @for c in &clients { tr {
                    td { (c.name) } td { code { (c.client_id) } } td { (c.username) }
                    td { @if c.public { "public" } @else { "confidential" } }
                    td { (when(c.created.unix())) }
                    td { form method="post" action={ "/admin/clients/" (percent_encode(&c.client_id)) "/delete" } {
                        (csrf_field(v)) button.link type="submit" { "Delete" }
                    } }
                } }
                @if clients.is_empty() { tr { td colspan="6" .muted { "No clients." } } }
            }
        } }
        h2 { "New client" }
        form.card method="post" action="/admin/clients" {
            (csrf_field(v))
            label { "Name" input name="name" required placeholder="WooCommerce shop"; }
            label { "Acts as (username)" input name="user" required; }
            label.check { input type="checkbox" name="public"; "Public (no secret: a browser or mobile app)" }
            button type="submit" { "Create client" }
        }
    };
    Ok(page("OAuth clients", Some(v), content))
}

pub(super) fn clients(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    clients_page(ctx, &v, None)
}

pub(super) fn create_client(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let form = form(ctx, Some(&v))?;
    let (name, user) = (form.text("name"), form.text("user"));
    let public = form.checked("public");
    let client = accounts::create_oauth_client(&ctx.env.db, v.user.is_superuser, &name, &user, public, ctx.now)?;
    clients_page(ctx, &v, Some((client.record.client_id, client.client_secret)))
}

pub(super) fn delete_client(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    form(ctx, Some(&v))?;
    accounts::delete_oauth_client(&ctx.env.db, v.user.is_superuser, ctx.param("client_id"))?;
    Ok(redirect("/admin/clients"))
}

pub(super) fn codes(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let Overview { courses, selected, course, codes } = codes::overview(&ctx.env.db, ctx.query_param("course"), 500)?;
    let content = html! {
        form.row method="get" action="/admin/codes" {
            label { "Course" select name="course" {
                @for c in &courses { option value=(c.key) selected[selected.as_deref() == Some(c.key.as_str())] { (c.key) " — " (c.title) } }
            } }
            button type="submit" { "Show" }
        }
        @if let Some(course) = &course {
            form.card method="post" action="/admin/codes" {
                (csrf_field(&v))
                input type="hidden" name="course" value=(course.key);
                div.row {
                    label { "How many codes" input type="number" name="count" min="1" max="10000" value="10" required; }
                    button type="submit" { "Generate" }
                }
            }
            div.table-wrap { table #codes {
                thead { tr { th { "Code" } th { "Created" } th { "Redeemed" } th { "Status" } th { "" } } }
                tbody {
                    @for code in &codes { tr {
                        td { code { (code.code) } } td { (when(code.created.unix())) } td { (code.redemptions) }
                        td { @if code.is_valid { span.pill.active { "valid" } } @else { span.pill.cancelled { "cancelled" } } }
                        td { form method="post" action={ "/admin/codes/" (code.code) "/status" } {
                            (csrf_field(&v))
                            input type="hidden" name="course" value=(course.key);
                            input type="hidden" name="valid" value=(if code.is_valid { "false" } else { "true" });
                            button.link type="submit" { @if code.is_valid { "Cancel" } @else { "Restore" } }
                        } }
                    } }
                    @if codes.is_empty() { tr { td colspan="5" .muted { "No codes for this course." } } }
                }
            } }
        } @else {
            p.muted { "Create a course first." }
        }
    };
    Ok(page("Enrollment codes", Some(&v), content))
}

pub(super) fn generate_codes(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let form = form(ctx, Some(&v))?;
    let key = CourseKey::parse(&form.text("course")).map_err(|e| Error::field("course", e.0))?;
    let count: usize = form
        .text("count")
        .parse()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| Error::field("count", "Generate between 1 and 10,000 codes."))?;
    codes::generate_for(&ctx.env.db, &key, count, Some(v.user.id), ctx.now)?;
    Ok(redirect(&format!("/admin/codes?course={}", percent_encode(key.as_str()))))
}

pub(super) fn code_status(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let form = form(ctx, Some(&v))?;
    let code = ctx.param("code").to_owned();
    let valid = form.text("valid") == "true";
    let found = codes::cancel_or_restore(&ctx.env.db, &code, valid, &v.user.username, ctx.now)?;
    if found.is_none() {
        return Err(Error::not_found(format!("No enrollment code '{code}'.")));
    }
    Ok(redirect(&format!("/admin/codes?course={}", percent_encode(&form.text("course")))))
}

pub(super) fn learning_paths(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let paths = learning_paths::paths_visible_to(&ctx.env.db, Viewer { user_id: None, staff: true })?;
    let content = html! {
        p.muted { "Learning paths are created and changed through " code { "/api/admin/v1/learning-paths" } "; learners enroll through the learning-paths API." }
        div.table-wrap { table {
            thead { tr { th { "Key" } th { "Name" } th { "Courses, in order" } th { "Access" } } }
            tbody {
                @for (path, _) in &paths { tr {
                    td { code { (path.key) } }
                    td { (path.display_name) br; span.muted { (path.subtitle) } }
                    td { @for (i, step) in path.steps.iter().enumerate() {
                        @if i > 0 { " → " }
                        a href={ (super::course_path(step.course_key.as_str())) "/roster" } { (step.course_key) }
                    } }
                    td { @if path.invite_only { "invitation only" } @else { "open" } }
                } }
                @if paths.is_empty() { tr { td colspan="4" .muted { "No learning paths." } } }
            }
        } }
    };
    Ok(page("Learning paths", Some(&v), content))
}
