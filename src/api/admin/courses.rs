//! The console's course pages: the list, create and edit (global staff), and for a course's
//! staff its roster (access dates, status, the waitlist), batch enroll/unenroll (a task
//! with a progress bar), a learner's history and the background tasks.

use super::{course_path, csrf_field, form, local_input, minute, page, redirect, visitor, when, Form, Visitor};
use crate::api::http::{percent_encode, Ctx};
use crate::api::shared::{self, parse_learner_csv, roster_options};
use crate::core::bulk::{self, Requester};
use crate::core::catalog::{self, Course, StaffChange};
use crate::core::course_definition::parse_course_fields;
use crate::core::enrollment::State;
use crate::core::lifecycle;
use crate::core::roster::{self, RosterFilter, RosterPage, RosterPageQuery, RosterRow};
use crate::core::Error;
use crate::domain::{CourseKey, Timestamp, Username};
use maud::{html, Markup};
use rouille::Response;
use serde_json::{json, Value};

const PAGE: i64 = 50;

/// The course the path names. The core checks that the visitor may manage it inside the
/// use case's transaction; a form that did not parse goes to the core as its error, so that
/// a missing course or a stranger is told first, as these pages always have.
fn course_key(ctx: &Ctx) -> Result<CourseKey, Error> {
    CourseKey::parse(ctx.param("course_key")).map_err(|e| Error::not_found(e.0))
}

pub(super) fn home(ctx: &mut Ctx) -> Result<Response, Error> {
    visitor(ctx)?;
    Ok(redirect("/admin/courses"))
}

pub(super) fn list(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let courses = roster::managed_courses(&ctx.env.db, &v.caller())?;
    let content = html! {
        @if v.global_staff() { p.actions { a.button href="/admin/courses/new" { "New course" } } }
        @if courses.is_empty() {
            p.muted { "No courses yet." }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Course" } th { "Title" } th { "Learners" } th { "Enrollment" } th { "" } } }
                tbody { @for (course, count) in &courses {
                    @let r = course;
                    @let base = course_path(r.key.as_str());
                    tr {
                        td { a href={ (base) "/roster" } { (r.key) } }
                        td { (r.title) @if !r.published { " " span.pill { "unpublished" } } }
                        td { (count) @if let Some(max) = r.max_enrollments { span.muted { " / " (max) } } }
                        td { @if r.invitation_only { "invitation only" } @else { "open" } }
                        td { a href={ (base) "/roster" } { "Roster" } " · " a href={ (base) "/batch" } { "Batch" }
                            @if v.global_staff() { " · " a href=(base) { "Edit" } } }
                    }
                } }
            } }
        }
    };
    Ok(page("Courses", Some(&v), content))
}

fn course_form(v: &Visitor, course: Option<&Course>) -> Markup {
    let r = course;
    let modes = course
        .map(|c| {
            c.modes
                .iter()
                .map(|m| match m.min_price.minor() {
                    0 => m.slug.clone(),
                    _ => format!("{}:{}", m.slug, m.min_price.amount_string()),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let action = r.map(|r| course_path(r.key.as_str())).unwrap_or_else(|| "/admin/courses".into());
    html! {
        form.card method="post" action=(action) {
            (csrf_field(v))
            @if r.is_none() {
                label { "Course key" input name="course_key" placeholder="course-v1:School+CS101+2027" required; }
            }
            label { "Title" input name="title" value=[r.map(|r| &r.title)] required; }
            div.row {
                label { "Starts (UTC)" input type="datetime-local" name="start" value=(local_input(r.and_then(|r| r.start))); }
                label { "Ends (UTC)" input type="datetime-local" name="end" value=(local_input(r.and_then(|r| r.end))); }
            }
            div.row {
                label { "Enrollment opens" input type="datetime-local" name="enrollment_start" value=(local_input(r.and_then(|r| r.enrollment_start))); }
                label { "Enrollment closes" input type="datetime-local" name="enrollment_end" value=(local_input(r.and_then(|r| r.enrollment_end))); }
            }
            label { "Capacity (empty: no limit)" input type="number" min="1" name="max_enrollments" value=[r.and_then(|r| r.max_enrollments)]; }
            label { "Modes (slug or slug:price, comma-separated; empty: audit)" input name="modes" value=(modes) placeholder="audit, verified:49.00"; }
            label.check { input type="checkbox" name="invitation_only" checked[r.is_some_and(|r| r.invitation_only)]; "Invitation only (learners cannot enroll themselves)" }
            label.check { input type="checkbox" name="published" checked[r.is_none_or(|r| r.published)]; "Published" }
            button type="submit" { @if r.is_some() { "Save" } @else { "Create course" } }
        }
    }
}

/// The form as the admin API's course body, so that both are checked by the same parser.
fn course_body(form: &Form, with_key: bool) -> Value {
    let text_or_null = |name: &str| {
        let v = form.text(name);
        if v.is_empty() {
            Value::Null
        } else {
            json!(v)
        }
    };
    let mut body = json!({
        "title": form.text("title"),
        "start": text_or_null("start"), "end": text_or_null("end"),
        "enrollment_start": text_or_null("enrollment_start"), "enrollment_end": text_or_null("enrollment_end"),
        "invitation_only": form.checked("invitation_only"), "published": form.checked("published"),
    });
    body["max_enrollments"] = match form.text("max_enrollments") {
        v if v.is_empty() => Value::Null,
        v => v.parse::<i64>().map(Value::from).unwrap_or(json!(v)),
    };
    let modes: Vec<Value> = form
        .text("modes")
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| match m.split_once(':') {
            Some((slug, price)) => json!({"slug": slug.trim(), "name": slug.trim(), "min_price": price.trim()}),
            None => json!({"slug": m, "name": m}),
        })
        .collect();
    if !modes.is_empty() {
        body["modes"] = json!(modes);
    }
    if with_key {
        body["course_key"] = json!(form.text("course_key"));
    }
    body
}

pub(super) fn new_form(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    Ok(page("New course", Some(&v), course_form(&v, None)))
}

pub(super) fn create(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let form = form(ctx, Some(&v))?;
    let (key, fields) = parse_course_fields(&course_body(&form, true))?;
    let key = key.ok_or_else(|| Error::field("course_key", "A course needs a key."))?;
    let course = catalog::create_course(&ctx.env.db, &key, &fields, ctx.now)?;
    Ok(redirect(&course_path(course.key.as_str())))
}

pub(super) fn edit_form(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let (course, staff) = catalog::course_with_staff(&ctx.env.db, &course_key(ctx)?, &v.caller())?;
    let base = course_path(course.key.as_str());
    let content = html! {
        p.actions { a href={ (base) "/roster" } { "Roster" } a href={ (base) "/batch" } { "Batch enroll" } a href={ (base) "/history" } { "History" } }
        (course_form(&v, Some(&course)))
        h2 { "Course staff" }
        div.table-wrap { table {
            thead { tr { th { "Username" } th { "Email" } th { "Role" } th { "" } } }
            tbody {
                @for s in &staff { tr {
                    td { (s.username) } td { (s.email) } td { (s.role) }
                    td { form method="post" action={ (base) "/staff" } {
                        (csrf_field(&v))
                        input type="hidden" name="username" value=(s.username);
                        input type="hidden" name="role" value=(s.role);
                        input type="hidden" name="remove" value="true";
                        button.link type="submit" { "Remove" }
                    } }
                } }
                @if staff.is_empty() { tr { td colspan="4" .muted { "No course staff yet." } } }
            }
        } }
        form.card method="post" action={ (base) "/staff" } {
            (csrf_field(&v))
            div.row {
                label { "Username" input name="username" required; }
                label { "Role" select name="role" { option value="instructor" { "instructor" } option value="staff" { "staff" } } }
                button type="submit" { "Add to staff" }
            }
        }
    };
    Ok(page(&course.title, Some(&v), content))
}

pub(super) fn update(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let key = course_key(ctx)?;
    let fields = form(ctx, Some(&v)).and_then(|form| parse_course_fields(&course_body(&form, false)));
    let course = catalog::update_course_as_manager(&ctx.env.db, &key, &v.caller(), fields.map(|(_, f)| f), ctx.now)?;
    Ok(redirect(&course_path(course.key.as_str())))
}

pub(super) fn staff(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let key = course_key(ctx)?;
    let change = form(ctx, Some(&v)).and_then(|form| {
        let username = Username::existing(&form.text("username")).map_err(|e| Error::field("username", e.0))?;
        Ok(StaffChange { username, role: form.text("role"), remove: form.checked("remove") })
    });
    let course = catalog::change_staff(&ctx.env.db, &key, &v.caller(), change, ctx.now)?;
    Ok(redirect(&course_path(course.key.as_str())))
}

/// How the console's roster changes are filed: by the visitor, on the console.
/// The surface the console's changes are recorded under.
const SURFACE: &str = "admin_console";

fn requester(v: &Visitor) -> Requester {
    Requester::of(&v.caller(), SURFACE)
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

fn status_pill(status: &str) -> Markup {
    html! { span.pill.(status) { (status.replace('_', " ")) } }
}

/// A roster row's status: the enrollment's own (`active`, `suspended`, `expired`,
/// `inactive`), or `pre_enrolled` for an email no account has claimed.
fn roster_status(row: &RosterRow) -> &str {
    match (&row.username, &row.lifecycle) {
        (Some(_), Some(lifecycle)) => &lifecycle.status,
        _ => shared::status(row),
    }
}

fn date_cell(t: Option<Timestamp>) -> Markup {
    match t {
        Some(t) => html! { td { (minute(t.unix())) } },
        None => html! { td.muted { "—" } },
    }
}

pub(super) fn roster(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let key = course_key(ctx)?;
    let term = ctx.query_param("q").map(|q| q.trim().to_owned()).unwrap_or_default();
    let status = ctx.query_param("status").unwrap_or_else(|| "all".into());
    let filter = match status.as_str() {
        "active" => RosterFilter::Active,
        "inactive" => RosterFilter::Inactive,
        "pre_enrolled" => RosterFilter::PreEnrolled,
        _ => RosterFilter::All,
    };
    let page_number = ctx.query_param("page").and_then(|p| p.parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let offset = (page_number - 1).saturating_mul(PAGE);
    let query = RosterPageQuery { filter, term: &term, offset, limit: PAGE };
    let RosterPage { course, total, rows, waitlist } = roster::roster_page(&ctx.env.db, &key, &v.caller(), &query)?;
    let base = course_path(course.key.as_str());
    let link = |p: i64| format!("{base}/roster?page={p}&status={status}&q={}", percent_encode(&term));
    let content = html! {
        p.actions {
            a.button href={ (base) "/roster.csv" } download { "Download CSV" }
            a.button href={ (base) "/batch" } { "Batch enroll or unenroll" }
            a href={ (base) "/history" } { "History" }
        }
        form.row method="get" action={ (base) "/roster" } {
            label { "Search name or email" input type="search" name="q" value=(term); }
            label { "Status" select name="status" {
                @for (value, label) in [("all", "All"), ("active", "Active"), ("inactive", "Inactive"), ("pre_enrolled", "Pre-enrolled")] {
                    option value=(value) selected[status == value] { (label) }
                }
            } }
            button type="submit" { "Show" }
        }
        p.muted { (total) " learners" @if !term.is_empty() { " matching “" (term) "” (active)" } " · times in UTC" }
        div.table-wrap { table #roster {
            thead { tr {
                th { "Username" } th { "Email" } th { "Name" } th { "Mode" } th { "Status" }
                th { "Access from" } th { "Access until" } th { "Completion" } th { "Grade" } th { "Enrolled" }
            } }
            tbody {
                @for row in &rows { tr {
                    td { @if let Some(u) = &row.username { a href={ (base) "/history?username=" (percent_encode(u.as_str())) } { (u) } } @else { span.muted { "—" } } }
                    td { a href={ (base) "/history?email=" (percent_encode(row.email.as_str())) } { (row.email) } }
                    td { (if row.name.is_empty() { format!("{} {}", row.first_name, row.last_name) } else { row.name.clone() }) }
                    td { (row.mode.as_deref().unwrap_or("")) }
                    td { (status_pill(roster_status(row))) }
                    @let lifecycle = row.lifecycle.as_ref();
                    (date_cell(lifecycle.and_then(|l| l.access_start)))
                    (date_cell(lifecycle.and_then(|l| l.access_end)))
                    @match &row.progress {
                        Some(p) => {
                            td { (percent(p.completion)) }
                            td { (percent(p.grade)) @if p.passed { " " span.pill.active { "passed" } } }
                        }
                        None => { td.muted { "—" } td.muted { "—" } }
                    }
                    (date_cell(Some(row.created)))
                } }
                @if rows.is_empty() { tr { td colspan="10" .muted { "Nobody here yet." } } }
            }
        } }
        div.pager {
            @if page_number > 1 { a href=(link(page_number - 1)) { "← Previous" } }
            @if offset + (rows.len() as i64) < total { a href=(link(page_number + 1)) { "Next →" } }
        }
        @if course.waitlist || !waitlist.is_empty() {
            h2 { "Waitlist" span.muted { " · " (waitlist.len()) " waiting"
                @if let Some(limit) = course.waitlist_limit { " (limit " (limit) ")" } } }
            div.table-wrap { table #waitlist {
                thead { tr { th { "Position" } th { "Username" } th { "Joined (UTC)" } th { "" } } }
                tbody {
                    @for entry in &waitlist { tr {
                        td { (entry.position) }
                        td { a href={ (base) "/history?username=" (percent_encode(entry.username.as_str())) } { (entry.username) } }
                        (date_cell(Some(entry.created)))
                        td { form method="post" action={ (base) "/waitlist/remove" } {
                            (csrf_field(&v))
                            input type="hidden" name="username" value=(entry.username);
                            button.link type="submit" { "Remove" }
                        } }
                    } }
                    @if waitlist.is_empty() { tr { td colspan="4" .muted { "Nobody is waiting." } } }
                }
            } }
        }
    };
    Ok(page(&format!("Roster · {}", course.title), Some(&v), content))
}

/// Takes a learner off the waitlist, as the admin API's `DELETE …/waitlist/{username}`.
pub(super) fn remove_from_waitlist(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let key = course_key(ctx)?;
    let username = form(ctx, Some(&v)).map(|form| form.text("username"));
    let requester = requester(&v);
    let change = requester.change();
    let course = lifecycle::remove_from_waitlist(&ctx.env.db, &key, &v.caller(), username, &change, ctx.now)?;
    Ok(redirect(&format!("{}/roster", course_path(course.key.as_str()))))
}

pub(super) fn roster_csv(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let chunks = roster::managed_roster_chunks(&ctx.env.db, &course_key(ctx)?, &v.caller());
    Ok(shared::roster_csv_download(chunks.map_err(roster::in_console_words)?))
}

fn batch_page(v: &Visitor, course: &Course) -> Markup {
    let base = course_path(course.key.as_str());
    html! {
        form.card method="post" action={ (base) "/batch" } enctype="multipart/form-data" {
            (csrf_field(v))
            label { "Learners: usernames or emails, separated by commas, spaces or lines"
                textarea name="identifiers" placeholder="ann@example.org, bob" {} }
            label { "…or a CSV file (a header row naming an email, username or identifier column; optional mode)"
                input type="file" name="file" accept=".csv,text/csv"; }
            label { "Action" select name="action" { option value="enroll" { "Enroll" } option value="unenroll" { "Unenroll" } } }
            label.check { input type="checkbox" name="auto_enroll" checked; "Enroll emails without an account when they register" }
            label.check { input type="checkbox" name="email_students"; "Email the learners" }
            label { "Reason (kept in the history and sent in emails)" input name="reason"; }
            button type="submit" { "Start" }
        }
    }
}

pub(super) fn batch_form(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let course = roster::course_for_staff(&ctx.env.db, &course_key(ctx)?, &v.caller())?;
    Ok(page(&format!("Batch enroll · {}", course.title), Some(&v), batch_page(&v, &course)))
}

/// The batch form's action, options and learners (pasted, or from the CSV file).
fn batch_input(form: &Form) -> Result<bulk::TaskRequest, Error> {
    let (action, options) = roster_options(|name| form.get(name))?;
    let mut items: Vec<bulk::Item> = match form.files.iter().find(|f| !f.content.is_empty()) {
        Some(file) => parse_learner_csv(&file.content)?,
        None => Vec::new(),
    };
    items.extend(crate::api::body::split_input_list(&form.text("identifiers")).into_iter().map(bulk::Item::plain));
    if items.is_empty() {
        return Err(Error::field("identifiers", "Paste some learners or choose a CSV file."));
    }
    if let Some(long) = items.iter().find(|i| i.identifier.len() > 255) {
        let start: String = long.identifier.chars().take(20).collect();
        return Err(Error::field("identifiers", format!("'{start}…' is longer than 255 characters.")));
    }
    Ok(bulk::TaskRequest { action, items, options })
}

/// Pasted identifiers or an uploaded CSV become one background task (as the v2 API's and
/// the CSV upload's), and the visitor goes to its progress page.
pub(super) fn batch(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let key = course_key(ctx)?;
    let batch = form(ctx, Some(&v)).and_then(|form| batch_input(&form));
    let (course, task) = bulk::create_task_as_manager(ctx.env, &key, &v.caller(), SURFACE, batch, ctx.now)
        .map_err(roster::in_console_words)?;
    Ok(redirect(&format!("{}/tasks/{}", course_path(course.key.as_str()), task.public_id)))
}

fn state_text(state: &Option<State>) -> String {
    match state {
        None => "—".into(),
        Some(s) if s.enrollment => format!("enrolled ({})", s.mode.as_deref().unwrap_or("audit")),
        Some(s) if s.allowed => format!("pre-enrolled{}", if s.auto_enroll { ", auto-enroll" } else { "" }),
        Some(_) => "not enrolled".into(),
    }
}

pub(super) fn task(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let key = course_key(ctx)?;
    let (course, task, items) = bulk::task_with_items(&ctx.env.db, &key, &v.caller(), ctx.param("task_id"), 500)?;
    let finished = !matches!(task.status.as_str(), "pending" | "running");
    let base = course_path(course.key.as_str());
    let status_url = format!("/api/enrollment/v2/courses/{}/tasks/{}", course.key, task.public_id);
    let content = html! {
        div.card #task-progress data-status-url=(status_url) data-finished=(finished) {
            p { strong { (task.action) } " · " (task.total) " learners · started by " (task.actor) " · " (when(task.created.unix())) }
            progress max=(task.total.max(1)) value=(task.done) {}
            p data-progress-text {
                (task.done) " of " (task.total) " done (" (task.succeeded) " succeeded, " (task.failed) " failed) · "
                (status_pill(&task.status))
            }
        }
        p.actions { a href={ (base) "/roster" } { "Roster" } a href={ (base) "/batch" } { "Another batch" } }
        @if finished {
            h2 { "Results" @if task.total > 500 { span.muted { " (the first 500)" } } }
            div.table-wrap { table #results {
                thead { tr { th { "Learner" } th { "Result" } th { "Before" } th { "After" } } }
                tbody { @for item in &items {
                    tr {
                        td { (item.identifier) }
                        td { (status_pill(&item.status))
                            @if let Some(e) = item.result.as_ref().and_then(|r| r.error.as_ref()) { " " span.error { (e) } } }
                        td { (state_text(&item.result.as_ref().and_then(|r| r.before.clone()))) }
                        td { (state_text(&item.result.as_ref().and_then(|r| r.after.clone()))) }
                    }
                } }
            } }
        }
    };
    Ok(page(&format!("Task · {}", course.title), Some(&v), content))
}

pub(super) fn history(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let key = course_key(ctx)?;
    let query = shared::history_query(|name| ctx.query_param(name)).map(|(filter, before, _)| (filter, before));
    let asked = query.clone().map(|(filter, before)| (filter, before, PAGE));
    let (course, entries) =
        roster::managed_history(&ctx.env.db, &key, &v.caller(), asked).map_err(roster::in_console_words)?;
    let (filter, _) = query?;
    let base = course_path(course.key.as_str());
    let who = filter.username.clone().or(filter.email.clone());
    let state = |raw: &str| state_text(&serde_json::from_str::<State>(raw).ok());
    let mut next = None;
    if entries.len() as i64 == PAGE {
        let mut url = format!("{base}/history?before={}", entries.last().map(|e| e.id).unwrap_or(0));
        for (name, value) in [("username", &filter.username), ("email", &filter.email)] {
            if let Some(value) = value {
                url.push_str(&format!("&{name}={}", percent_encode(value)));
            }
        }
        next = Some(url);
    }
    let content = html! {
        form.row method="get" action={ (base) "/history" } {
            label { "Username" input name="username" value=[filter.username.as_deref()]; }
            label { "Email" input name="email" value=[filter.email.as_deref()]; }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table #history {
            thead { tr { th { "When" } th { "Learner" } th { "By" } th { "Surface" } th { "Reason" } th { "Change" } } }
            tbody {
                @for e in &entries { tr {
                    td { (when(e.created.unix())) }
                    td { (e.username.as_ref().map_or(e.email.as_str(), Username::as_str)) }
                    td { (e.actor) }
                    td { (e.surface) span.muted { " (" (e.source) ")" } }
                    td { (e.reason.as_deref().unwrap_or("")) }
                    td { (state(&e.before)) " → " strong { (state(&e.after)) } }
                } }
                @if entries.is_empty() { tr { td colspan="6" .muted { "No changes recorded." } } }
            }
        } }
        @if let Some(url) = next { div.pager { a href=(url) { "Older →" } } }
    };
    let title = match who {
        Some(who) => format!("History of {who} · {}", course.title),
        None => format!("History · {}", course.title),
    };
    Ok(page(&title, Some(&v), content))
}

pub(super) fn tasks(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    let tasks = bulk::recent_for(&ctx.env.db, &v.caller(), 100)?;
    let content = html! {
        div.table-wrap { table {
            thead { tr { th { "Started" } th { "Course" } th { "Action" } th { "By" } th { "Progress" } th { "Status" } } }
            tbody {
                @for t in &tasks { tr {
                    td { a href={ (course_path(t.course_key.as_str())) "/tasks/" (t.public_id) } { (when(t.created.unix())) } }
                    td { (t.course_key) }
                    td { (t.action) }
                    td { (t.actor) span.muted { " (" (t.surface) ")" } }
                    td { (t.done) " / " (t.total) @if t.failed > 0 { span.error { " · " (t.failed) " failed" } } }
                    td { (status_pill(&t.status)) }
                } }
                @if tasks.is_empty() { tr { td colspan="6" .muted { "No background tasks yet." } } }
            }
        } }
    };
    Ok(page("Background tasks", Some(&v), content))
}
