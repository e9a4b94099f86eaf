//! `/appsembler_api/v0/bulk-enrollment/bulk-enroll`: many learners, many courses, at once.

use super::super::http::{ok, Ctx};
use super::*;
use crate::core::Error;
use rouille::Response;
use serde_json::json;

use super::super::body::split_input_list;

pub(super) fn post_bulk_enroll(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = ctx.caller()?.clone();
    ctx.throttle(&ctx.env.limits.appsembler, &principal.key())?;
    let mut missing = Error::validation("Some fields are invalid.");
    for name in ["identifiers", "courses", "action"] {
        if field(&body, name)?.is_none_or(|v| v.trim().is_empty()) {
            missing.field_errors.insert(name.into(), "This field is required.".into());
        }
    }
    let action = match field(&body, "action")?.as_deref() {
        Some("enroll") => Some(Action::Enroll),
        Some("unenroll") => Some(Action::Unenroll),
        Some(other) if !other.is_empty() => {
            missing.field_errors.insert("action".into(), format!("\"{other}\" is not a valid choice."));
            None
        }
        _ => None,
    };
    let courses = split_input_list(&field(&body, "courses")?.unwrap_or_default());
    let mut keys = Vec::new();
    for course in &courses {
        match CourseKey::parse(course) {
            Ok(k) => keys.push(k),
            Err(_) => {
                missing.field_errors.insert("courses".into(), format!("Course key not valid: {course}"));
            }
        }
    }
    if !missing.field_errors.is_empty() {
        return Err(missing);
    }
    let action = action.expect("checked above");
    let identifiers = split_input_list(&field(&body, "identifiers")?.unwrap_or_default());
    let auto_enroll = super::super::body::flag_field(&body, "auto_enroll")?.unwrap_or(false);
    let email_students = super::super::body::flag_field(&body, "email_students")?.unwrap_or(false);
    let options = RosterOptions { auto_enroll, email_students, ..RosterOptions::default() };
    let requester = Requester {
        actor: principal.user().map(|u| u.username.clone()).unwrap_or_else(|| "api-key".into()),
        surface: "appsembler",
        source: Source::Bulk,
    };
    let outcomes =
        bulk::apply_to_courses(ctx.env, &principal, &keys, action, &identifiers, &options, &requester, ctx.now)
            .map_err(|e| if e.kind == ErrorKind::NotFound { Error::not_found("Not found.") } else { e })?;
    let mut per_course = serde_json::Map::new();
    for (key, outcomes) in keys.iter().zip(outcomes) {
        let results: Vec<_> = identifiers
            .iter()
            .zip(outcomes)
            .map(|(identifier, outcome)| match outcome {
                Ok(o) => {
                    json!({"identifier": identifier, "before": crate::api::shared::edx_state_json(&o.before), "after": crate::api::shared::edx_state_json(&o.after)})
                }
                Err(e) if e.code() == "INVALID_IDENTIFIER" => {
                    json!({"identifier": identifier, "invalidIdentifier": true})
                }
                Err(_) => json!({"identifier": identifier, "error": true}),
            })
            .collect();
        per_course.insert(
            key.to_string(),
            json!({"action": action.as_str(), "results": results, "auto_enroll": auto_enroll}),
        );
    }
    Ok(ok(
        json!({"action": action.as_str(), "courses": per_course, "email_students": email_students, "auto_enroll": auto_enroll}),
    ))
}
