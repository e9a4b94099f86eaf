//! `/api/learning_paths/v1/…`: the learning-paths plugin's API
//! (the learning-paths plugin's URLs and shapes,
//! and its enrollment ADR). DRF dialect: `{"detail": …}`.

use super::errors::Dialect;
use super::http::{iso, json, ok, Ctx};
use super::router::{Doc, Route};
use crate::core::learning_paths::{self, Caller, Enrolled, Path};
use crate::core::Error;
use crate::domain::{CourseKey, LearningPathKey, Uuid};
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "learning-paths",
        auth: true,
        request,
        status: 200,
        response,
        query: &[],
    };
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::Drf, handler, doc };
    vec![
        r(
            "POST",
            "/api/v1/learning-path/{uuid}/enroll/",
            post_uuid_enroll,
            Doc {
                status: 201,
                ..doc(
                    "The ADR's route: enroll yourself (or, as staff or a service, anyone) in a path named by its uuid",
                    Some("LearningPathUsername"),
                    Some("LearningPathEnrollment"),
                )
            },
        ),
        r(
            "GET",
            "/api/learning_paths/v1/programs/",
            get_programs,
            Doc {
                query: &[("page", "1-based page (default 1)"), ("page_size", "default 20, at most 100")],
                ..doc(
                    "Learning paths as course-discovery Programs (the plugin's LearningPathAsProgramSerializer), paged",
                    None,
                    Some("ProgramPage"),
                )
            },
        ),
        r(
            "GET",
            "/api/learning_paths/v1/programs/{uuid}/",
            get_program,
            doc("One learning path as a course-discovery Program, by its uuid", None, Some("Program")),
        ),
        r(
            "GET",
            "/api/learning_paths/v1/{learning_path_key}/progress/",
            get_progress,
            Doc {
                query: &[("username", "staff: another learner's")],
                ..doc(
                    "The caller's progress in the path: the mean of its courses' completion",
                    None,
                    Some("LearningPathProgress"),
                )
            },
        ),
        r(
            "GET",
            "/api/learning_paths/v1/{learning_path_key}/grade/",
            get_grade,
            Doc {
                query: &[("username", "staff: another learner's")],
                ..doc(
                    "The caller's grade in the path: its courses' grades weighted by the steps' weights",
                    None,
                    Some("LearningPathGrade"),
                )
            },
        ),
        r(
            "GET",
            "/api/learning_paths/v1/learning-paths/",
            get_learning_paths,
            Doc {
                query: &[("page", "1-based page (default 1)"), ("page_size", "default 10, at most 100")],
                ..doc(
                    "Learning paths the caller may see, paged as DRF's PageNumberPagination (the plugin's viewset)",
                    None,
                    Some("LearningPathPage"),
                )
            },
        ),
        r(
            "GET",
            "/api/learning_paths/v1/learning-paths/{learning_path_key}/",
            get_learning_path,
            doc("One learning path", None, Some("LearningPath")),
        ),
        r(
            "GET",
            "/api/learning_paths/v1/enrollments/",
            get_all_enrollments,
            doc("The caller's learning path enrollments (staff: everyone's)", None, Some("LearningPathEnrollmentList")),
        ),
        r(
            "POST",
            "/api/learning_paths/v1/enrollments/bulk-enroll/",
            post_bulk_enroll,
            Doc {
                status: 201,
                ..doc(
                    "Staff: enroll emails in paths (comma-separated); unknown emails are invited",
                    Some("LearningPathBulkRequest"),
                    Some("LearningPathBulkCounts"),
                )
            },
        ),
        r(
            "DELETE",
            "/api/learning_paths/v1/enrollments/bulk-enroll/",
            delete_bulk_enroll,
            Doc {
                status: 204,
                ..doc(
                    "Staff: unenroll emails from paths and withdraw invitations",
                    Some("LearningPathBulkRequest"),
                    None,
                )
            },
        ),
        r(
            "GET",
            "/api/learning_paths/v1/{learning_path_key}/enrollments/",
            get_enrollments,
            Doc {
                query: &[("username", "staff: one user's enrollment")],
                ..doc("Active enrollments in a path (non-staff: their own)", None, Some("LearningPathEnrollmentList"))
            },
        ),
        r(
            "POST",
            "/api/learning_paths/v1/{learning_path_key}/enrollments/",
            post_enrollment,
            Doc {
                status: 201,
                ..doc(
                    "Enroll in a path (201 new, 200 reactivated, 409 already enrolled)",
                    Some("LearningPathEnrollRequest"),
                    Some("LearningPathEnrollment"),
                )
            },
        ),
        r(
            "DELETE",
            "/api/learning_paths/v1/{learning_path_key}/enrollments/",
            delete_enrollment,
            Doc { status: 204, ..doc("Staff: unenroll a user from a path", Some("LearningPathEnrollRequest"), None) },
        ),
        r(
            "POST",
            "/api/learning_paths/v1/{learning_path_key}/enrollments/{course_key}/",
            post_course_enrollment,
            Doc { status: 201, ..doc("Enroll the caller in one of the path's courses", None, Some("DrfError")) },
        ),
    ]
}

/// IsAuthenticated: a user (the API key is not one here), throttled per caller.
fn caller(ctx: &mut Ctx) -> Result<Caller, Error> {
    let principal = ctx.caller()?.clone();
    ctx.throttle(&ctx.env.limits.learning_paths, &principal.key())?;
    Caller::of(&principal)
}

fn path_key(ctx: &Ctx) -> Result<LearningPathKey, Error> {
    LearningPathKey::parse(ctx.param("learning_path_key"))
        .map_err(|_| Error::not_found("Invalid learning path key format."))
}

fn path_json(path: &Path, enrollment_date: Option<i64>, detail: bool) -> Value {
    let r = path;
    let steps: Vec<Value> = path
        .steps
        .iter()
        .map(|s| json!({"order": s.position, "course_key": s.course_key, "course_dates": [s.start, s.end], "weight": s.weight}))
        .collect();
    let mut body = json!({"key": r.key, "uuid": r.uuid, "display_name": r.display_name, "image": null, "sequential": r.sequential, "steps": steps,
        "required_completion": r.required_completion, "enrollment_date": iso(enrollment_date), "invite_only": r.invite_only});
    if detail {
        for (k, v) in [
            ("subtitle", &r.subtitle),
            ("description", &r.description),
            ("level", &r.level),
            ("duration", &r.duration),
            ("time_commitment", &r.time_commitment),
        ] {
            body[k] = json!(v);
        }
        body["required_skills"] = json!([]);
        body["acquired_skills"] = json!([]);
    }
    body
}

fn enrollment_json(e: &learning_paths::PathEnrollment) -> Value {
    json!({"user": e.user_id, "learning_path": e.path_id, "is_active": e.is_active, "created": e.created})
}

fn get_learning_paths(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    // The platform's REST_FRAMEWORK PAGE_SIZE is 10; the learning-paths MFE reads `results`.
    let page = super::http::Page::from_query(ctx, 10, 100)?;
    let paths = learning_paths::paths_visible_to(&ctx.env.db, caller.viewer())?;
    let results: Vec<Value> = paths
        .iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .map(|(p, date)| path_json(p, *date, false))
        .collect();
    Ok(ok(super::http::drf_page(&page.body(ctx, paths.len() as i64, results)?)))
}

fn get_learning_path(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let (path, enrolled) = learning_paths::path_for(&ctx.env.db, &path_key(ctx)?, &caller)?;
    Ok(ok(path_json(&path, enrolled, true)))
}
/// The plugin's course-discovery shape: course_codes group the steps by course number,
/// each run a run mode.
fn program_json(path: &Path) -> Value {
    let mut codes: Vec<(String, Vec<Value>)> = Vec::new();
    for step in &path.steps {
        let key = &step.course_key;
        let run_mode = json!({"course_key": key.as_str(), "run_key": key.run()});
        match codes.iter_mut().find(|(code, _)| code == key.course()) {
            Some((_, runs)) => runs.push(run_mode),
            None => codes.push((key.course().to_owned(), vec![run_mode])),
        }
    }
    let r = path;
    json!({"uuid": r.uuid, "name": r.display_name, "marketing_slug": r.key, "title": r.display_name, "subtitle": r.subtitle,
        "status": "active", "banner_image_urls": {}, "organizations": [],
        "course_codes": codes.into_iter().map(|(key, runs)| json!({"key": key, "run_modes": runs})).collect::<Vec<_>>()})
}

fn get_programs(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let page = super::http::Page::from_query(ctx, 20, 100)?;
    let paths = learning_paths::paths_visible_to(&ctx.env.db, caller.viewer())?;
    let mut paths: Vec<Path> = paths.into_iter().map(|(p, _)| p).collect();
    // Stable for paging (visibility orders by the caller's enrollment date).
    paths.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    let total = paths.len() as i64;
    let results: Vec<Value> =
        paths.iter().skip(page.offset() as usize).take(page.size as usize).map(program_json).collect();
    Ok(ok(page.body(ctx, total, results)?))
}

fn get_program(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let uuid = Uuid::parse(ctx.param("uuid")).map_err(|_| Error::not_found("Not found."))?;
    let path = learning_paths::program(&ctx.env.db, &uuid, caller.viewer())?;
    Ok(ok(program_json(&path)))
}

fn get_progress(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let key = path_key(ctx)?;
    let username = ctx.query_param("username");
    let (path, progress) = learning_paths::progress_in_path(&ctx.env.db, &key, &caller, username.as_deref())?;
    Ok(ok(json!({"learning_path_key": path.key, "progress": progress,
        "required_completion": path.required_completion})))
}

fn get_grade(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let key = path_key(ctx)?;
    let username = ctx.query_param("username");
    let (path, grade) = learning_paths::grade_in_path(&ctx.env.db, &key, &caller, username.as_deref())?;
    Ok(ok(json!({"learning_path_key": path.key, "grade": grade, "required_grade": path.required_grade})))
}

fn get_all_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let list = learning_paths::enrollment_history(&ctx.env.db, &caller)?;
    Ok(ok(json!(list.iter().map(enrollment_json).collect::<Vec<_>>())))
}

fn get_enrollments(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let key = path_key(ctx)?;
    let username = ctx.query_param("username");
    let list = learning_paths::path_enrollments(&ctx.env.db, &key, &caller, username.as_deref())?;
    Ok(ok(json!(list.iter().map(enrollment_json).collect::<Vec<_>>())))
}

fn username_in_body(ctx: &Ctx) -> Result<Option<String>, Error> {
    super::body::text_field(&ctx.body_object()?, "username")
}

fn enrolled_response(enrolled: Enrolled) -> Result<Response, Error> {
    match enrolled {
        Enrolled::Created(e) => Ok(json(201, &enrollment_json(&e))),
        Enrolled::Reactivated(e) => Ok(ok(enrollment_json(&e))),
        Enrolled::AlreadyActive => Err(Error::conflict("Enrollment exists.")),
    }
}

fn post_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let key = path_key(ctx)?;
    // Read here, judged after the path's 404 (in the core).
    let named = username_in_body(ctx);
    enrolled_response(learning_paths::enroll_in_path(&ctx.env.db, &key, &caller, named, ctx.now)?)
}

/// `POST /api/v1/learning-path/{uuid}/enroll/` (the plugin's enrollment ADR):
/// the same enrollment as the plugin-style route, found by uuid. Staff and the API key may
/// name anyone; a learner enrolls themself, in an invitation-only path only if invited.
fn post_uuid_enroll(ctx: &mut Ctx) -> Result<Response, Error> {
    let principal = ctx.caller()?.clone();
    ctx.throttle(&ctx.env.limits.learning_paths, &principal.key())?;
    let uuid =
        Uuid::parse(ctx.param("uuid")).map_err(|_| Error::not_found("No LearningPath matches the given query."))?;
    let named = username_in_body(ctx);
    enrolled_response(learning_paths::enroll_by_uuid(&ctx.env.db, &uuid, &principal, named, ctx.now)?)
}

fn delete_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let key = path_key(ctx)?;
    let named = username_in_body(ctx);
    learning_paths::unenroll_from_path(&ctx.env.db, &key, &caller, named, ctx.now)?;
    // The plugin sends the enrollment with its 204; a 204 carries no body, so neither do we.
    Ok(Response::empty_204())
}

fn post_course_enrollment(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    let key = path_key(ctx)?;
    let course_key = CourseKey::parse(ctx.param("course_key"))
        .map_err(|_| Error::validation("The course is not part of this learning path."));
    learning_paths::enroll_in_path_course(&ctx.env.db, &key, &caller, course_key, ctx.now)?;
    Ok(json(201, &json!({"detail": "User successfully enrolled in the course."})))
}

/// `{"learning_paths": "k1,k2", "emails": "a@x,b@y"}`: comma-separated, as the plugin takes them.
fn bulk_request(ctx: &Ctx) -> Result<(Vec<LearningPathKey>, Vec<String>), Error> {
    let body = ctx.body_object()?;
    let list = |name: &str| -> Result<Vec<String>, Error> {
        let text = super::body::text_field(&body, name)?
            .ok_or_else(|| Error::field(name, format!("{name} is required (comma-separated).")))?;
        Ok(text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
    };
    for name in ["reason", "org", "role"] {
        super::body::text_field(&body, name)?;
    }
    // Invalid keys are skipped, as the plugin does (it logs them).
    let keys = list("learning_paths")?.iter().filter_map(|k| LearningPathKey::parse(k).ok()).collect();
    Ok((keys, list("emails")?))
}

fn post_bulk_enroll(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    // Before the body is read, as the plugin's permission class refuses.
    caller.require_staff()?;
    let (keys, emails) = bulk_request(ctx)?;
    let counts = learning_paths::bulk_change(&ctx.env.db, &caller, &keys, &emails, true, ctx.now)?;
    Ok(json(201, &json!({"enrollments_created": counts.enrollments, "enrollment_allowed_created": counts.invitations})))
}

fn delete_bulk_enroll(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = caller(ctx)?;
    caller.require_staff()?;
    let (keys, emails) = bulk_request(ctx)?;
    learning_paths::bulk_change(&ctx.env.db, &caller, &keys, &emails, false, ctx.now)?;
    Ok(Response::empty_204())
}
