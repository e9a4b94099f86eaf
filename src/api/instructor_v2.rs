//! `/api/instructor/v2/courses/{course_id}/…`: the routes Open edX's new instructor
//! dashboard calls (edx-platform's instructor API): a roster list and a
//! synchronous bulk modify with Open edX's `{user, enrollment, allowed, auto_enroll}` states.

use super::errors::Dialect;
use super::http::{ok, Ctx, Fields, Page};
use super::router::{Doc, Route};
use super::shared::{course_and_manager, edx_state_json};
use crate::core::bulk::{self, Action, RosterChange, RosterOptions};
use crate::core::roster::{self, RosterFilter, RosterQuery};
use crate::core::Error;
use rouille::Response;
use serde_json::json;

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "instructor-v2",
        auth: true,
        request,
        status: 200,
        response: Some(response),
        query: &[],
    };
    vec![
        Route {
            method: "GET",
            path: "/api/instructor/v2/courses/{course_id}/enrollments",
            dialect: Dialect::Drf,
            handler: get_enrollments,
            doc: Doc {
                query: &[
                    ("page", "1-based page"),
                    ("page_size", "default 10, at most 100"),
                    ("search", "part of a username, email, first or last name"),
                ],
                ..doc("Active enrollments of a course", None, "InstructorEnrollmentPage")
            },
        },
        Route {
            method: "POST",
            path: "/api/instructor/v2/courses/{course_id}/enrollments/modify",
            dialect: Dialect::Drf,
            handler: post_modify,
            doc: doc(
                "Enroll or unenroll several learners at once, synchronously",
                Some("InstructorModifyRequest"),
                "InstructorModifyResult",
            ),
        },
    ]
}

fn get_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_id")?;
    // views_v2.py's page size, and filters_v2.py's search over username, email and names.
    let page = Page::from_query(ctx, 10, 100);
    let search = ctx.query_param("search").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let query = page.as_ref().map_err(Error::clone).map(|page| RosterQuery {
        filter: RosterFilter::Active,
        search,
        offset: page.offset(),
        limit: page.size,
    });
    let (total, rows) = roster::managed_roster(&ctx.env.db, &key, &caller, query)?;
    let page = page?;
    let results = rows
        .iter()
        .map(|r| {
            let full_name = if r.name.is_empty() { format!("{} {}", r.first_name, r.last_name).trim().to_owned() } else { r.name.clone() };
            // Rollcall has no beta testers; the key is there because the dashboard reads it.
            json!({"username": r.username, "email": r.email, "full_name": full_name, "mode": r.mode, "is_active": r.is_active,
                "is_beta_tester": false, "created": r.created})
        })
        .collect();
    let body = page.body(ctx, total, results)?;
    Ok(super::http::with_link_header(ok(body.clone()), &body))
}

/// Every identifier in one write (a refusal is that identifier's row); the body's problems
/// are answered after the course's 404 and 403.
fn post_modify(ctx: &mut Ctx) -> Result<Response, Error> {
    let (key, caller) = course_and_manager(ctx, "course_id")?;
    let request = modify_request(ctx);
    // What the answer repeats (an invalid request never gets that far).
    let (action, auto_enroll, identifiers) = match &request {
        Ok(r) => (r.action.as_str(), r.options.auto_enroll, r.identifiers.clone()),
        Err(_) => ("", false, Vec::new()),
    };
    let results = bulk::apply_as_manager(ctx.env, &key, &caller, "instructor_v2", request, ctx.now)?;
    let rows = identifiers
        .iter()
        .zip(&results)
        .map(|(identifier, result)| match result {
            Ok(outcome) => json!({"identifier": identifier, "before": edx_state_json(&outcome.before),
                "after": edx_state_json(&outcome.after)}),
            // The v2 view's own key (Appsembler's older view says invalidIdentifier).
            Err(e) if e.code() == "INVALID_IDENTIFIER" => json!({"identifier": identifier, "invalid_identifier": true}),
            Err(_) => json!({"identifier": identifier, "error": true}),
        })
        .collect::<Vec<_>>();
    Ok(ok(json!({"action": action, "auto_enroll": auto_enroll, "results": rows})))
}

/// The modify body: identifiers (a list, or a form's text), the action and its options.
fn modify_request(ctx: &Ctx) -> Result<RosterChange, Error> {
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    let identifiers = f.required("identifier", |v| {
        // A form sends one text of identifiers, split as Open edX's instructor views split it.
        if let Some(text) = v.as_str() {
            let list = super::body::split_input_list(text);
            return if list.is_empty() { Err("must be a non-empty list".to_owned()) } else { Ok(list) };
        }
        v.as_array()
            .filter(|l| !l.is_empty())
            .ok_or("must be a non-empty list".to_owned())?
            .iter()
            .map(|i| {
                i.as_str()
                    .filter(|s| s.len() <= 255)
                    .map(str::to_owned)
                    .ok_or("each identifier must be a string of at most 255 characters".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let action = f.required("action", |v| match super::body::text(v)?.as_deref() {
        Some("enroll") => Ok(Action::Enroll),
        Some("unenroll") => Ok(Action::Unenroll),
        _ => Err("\"enroll\" or \"unenroll\"".to_owned()),
    });
    // A DRF view: booleans and text as DRF's fields read them (forms send "true").
    let options = RosterOptions {
        mode: None,
        auto_enroll: f.required_value("auto_enroll", super::body::as_flag).unwrap_or(false),
        email_students: f.required_value("email_students", super::body::as_flag).unwrap_or(false),
        reason: f.get("reason", super::body::as_text).flatten().filter(|r| !r.is_empty()),
        ..RosterOptions::default()
    };
    f.finish()?;
    let (identifiers, action) = (identifiers.expect("checked"), action.expect("checked"));
    Ok(RosterChange { action, identifiers, options })
}
