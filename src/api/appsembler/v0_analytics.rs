//! `/appsembler_api/v0/analytics/…` and `search_courses`: read-only exports and search.

use super::super::http::{ok, Ctx};
use super::*;
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

/// An ISO date or date-time query bound; a bad one is a 400 (the original answers 500).
/// An empty one is no bound, as the original's `if updated_min:` reads it.
pub(super) fn bound(ctx: &Ctx, name: &str) -> Result<Option<Timestamp>, Error> {
    ctx.query_param(name)
        .filter(|v| !v.is_empty())
        .map(|v| Timestamp::parse(&v).map_err(|e| Error::validation(format!("{name}: {}", e.0))))
        .transpose()
}

pub(super) fn get_analytics_accounts(ctx: &mut Ctx) -> Result<Response, Error> {
    staff_or_owner(ctx, None)?;
    let (after, before) = (bound(ctx, "updated_min")?, bound(ctx, "updated_max")?);
    let users = accounts::joined_between(&ctx.env.db, after, before)?;
    let list: Vec<Value> = users
        .iter()
        .map(|u| json!({"id": u.id, "username": u.username, "email": u.email, "is_active": u.is_active, "date_joined": u.date_joined.to_iso()}))
        .collect();
    Ok(ok(json!(list)))
}

pub(super) fn get_analytics_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    staff_or_owner(ctx, None)?;
    let (after, before) = (bound(ctx, "updated_min")?, bound(ctx, "updated_max")?);
    // A '+' in an unencoded course id arrives as a space; the original restores it too.
    let course = ctx.query_param("course_id").map(|c| c.replace(' ', "+"));
    if let Some(c) = &course {
        CourseKey::parse(c).map_err(|_| Error::validation(format!("'{c}' is not a valid course id.")))?;
    }
    let username = ctx.query_param("username");
    let rows = roster::enrollment_batch(&ctx.env.db, course.as_deref(), username.as_deref(), after, before)?;
    let list: Vec<Value> = rows
        .iter()
        .map(|(e, progress)| {
            let mut item = json!({"username": e.username, "course_id": e.course_key, "user_id": e.user_id, "enrollment_id": e.id, "date_enrolled": e.created.to_iso()});
            // The original adds its GeneratedCertificate: the key is `certificate` in its
            // code (its apidocs misspell it `cerificate`), the date is Python's str() of a
            // datetime and the grade the certificate's text. A passed learner has one here.
            if let Some(p) = progress.as_ref().filter(|p| p.passed) {
                item["certificate"] = json!({
                    "completion_date": python_datetime(p.completed_at.unwrap_or(p.updated)),
                    "grade": format!("{}", p.grade),
                    "url": p.certificate_url,
                });
            }
            item
        })
        .collect();
    Ok(ok(json!(list)))
}

pub(super) fn get_search_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    let page = Page::from_query(ctx, 10, 100)?;
    let term = ctx.query_param("search_term").unwrap_or_default();
    let org = ctx.query_param("org");
    let (total, courses) = catalog::search_published(&ctx.env.db, &term, org.as_deref(), page.offset(), page.size)?;
    let results = courses.iter().map(crate::api::shared::course_json).collect();
    let flat = page.body(ctx, total, results)?;
    Ok(super::super::http::namespaced_page(&flat))
}

/// `str(datetime)` of an aware UTC datetime, as the original's certificate block carries:
/// `2017-01-24 14:32:21+00:00`.
fn python_datetime(t: Timestamp) -> String {
    let iso = t.to_iso();
    format!("{}+00:00", iso.trim_end_matches('Z').replacen('T', " ", 1))
}
