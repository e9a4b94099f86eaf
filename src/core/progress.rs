//! What a learner has achieved in a course: completion, grade, passed, when and the
//! certificate, pushed by an LMS or a grading system. Each change is kept in
//! `progress_history` and announced as an `enrollment.progressed` webhook event. Learning
//! paths aggregate it over their steps as the learning-paths plugin does.

use crate::core::accounts::named_user;
use crate::core::catalog::Course;
use crate::core::learning_paths::Path;
use crate::core::roster::managed_course;
use crate::core::{Env, Error};
use crate::domain::Principal;
use crate::domain::{CourseKey, Fraction, Timestamp};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};
use serde_json::json;

use crate::store::progress::ProgressRecord;

/// What a learner has achieved in a course, as the surfaces show it.
#[derive(Debug, Clone)]
pub struct Progress {
    pub completion: f64,
    pub grade: f64,
    pub passed: bool,
    pub completed_at: Option<Timestamp>,
    pub certificate_url: Option<String>,
    /// When it was last reported.
    pub updated: Timestamp,
}

impl From<ProgressRecord> for Progress {
    fn from(p: ProgressRecord) -> Progress {
        Progress {
            completion: p.completion,
            grade: p.grade,
            passed: p.passed,
            completed_at: p.completed_at.map(Timestamp::from_unix),
            certificate_url: p.certificate_url,
            updated: Timestamp::from_unix(p.updated),
        }
    }
}

/// A progress report, parsed at the edge.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub completion: Fraction,
    pub grade: Fraction,
    pub passed: bool,
    pub completed_at: Option<Timestamp>,
    pub certificate_url: Option<String>,
}

/// Records `report` for the learner's enrollment in `course` (active or not: a grade can
/// arrive after the course ended). No enrollment is a 404.
pub fn record(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    report: &Report,
    actor: &str,
    surface: &str,
    now: Timestamp,
) -> Result<Progress, Error> {
    let enrollment = store::enrollments::get(conn, user.id, course.id)?
        .ok_or_else(|| Error::not_found(format!("{} is not enrolled in {}.", user.username, course.key)))?;
    let record = ProgressRecord {
        enrollment_id: enrollment.id,
        completion: report.completion.value(),
        grade: report.grade.value(),
        passed: report.passed,
        completed_at: report.completed_at.map(|t| t.unix()),
        certificate_url: report.certificate_url.clone(),
        updated: now.unix(),
    };
    store::progress::put(conn, &record, actor, surface)?;
    let event = json!({"course_key": course.key, "username": user.username, "actor": actor, "surface": surface,
        "completion": record.completion, "grade": record.grade, "passed": record.passed,
        "completed_at": report.completed_at.map(|t| t.to_iso()), "certificate_url": record.certificate_url});
    crate::core::webhooks::emit(conn, "enrollment.progressed", event, now)?;
    Ok(record.into())
}

/// An LMS or grading system reports one learner's progress in a course the caller manages,
/// in one write. Errors in the API's order: course 404, 403, `report`'s (the surface's
/// parse of the body), the learner's 404, then the enrollment's.
pub fn record_as_manager(
    env: &Env,
    key: &CourseKey,
    caller: &Principal,
    surface: &'static str,
    username: &str,
    report: Result<Report, Error>,
    now: Timestamp,
) -> Result<Progress, Error> {
    env.write_for_workers(|conn| {
        let course = managed_course(conn, key, caller)?;
        let report = report?;
        let user = named_user(conn, username)?;
        let actor = crate::core::bulk::Requester::of(caller, surface).actor;
        record(conn, &course, &user, &report, &actor, surface, now)
    })
}

/// One learner's recorded progress in a course the caller manages (one snapshot); none
/// recorded is a 404.
pub fn managed_progress(db: &Db, key: &CourseKey, caller: &Principal, username: &str) -> Result<Progress, Error> {
    db.snapshot(|conn| {
        let course = managed_course(conn, key, caller)?;
        let user = named_user(conn, username)?;
        of(conn, &course, &user)?
            .ok_or_else(|| Error::not_found(format!("No progress recorded for {} in this course.", user.username)))
    })
}

/// The recorded progress of the learner in the course, if any.
pub fn of(conn: &Conn, course: &Course, user: &UserRecord) -> Result<Option<Progress>, Error> {
    Ok(store::progress::for_user_in(conn, user.id, course.id)?.map(Progress::from))
}

pub fn of_enrollment(conn: &Conn, enrollment_id: i64) -> Result<Option<Progress>, Error> {
    Ok(store::progress::get(conn, enrollment_id)?.map(Progress::from))
}

/// The plugin's `get_aggregate_progress`: the plain mean of the steps' completions (a step
/// without a record counts 0.0, as the completion aggregator's 404 does), 0.0 for a path
/// without steps. Weights do not enter it.
pub fn path_progress(conn: &Conn, path: &Path, user: &UserRecord) -> Result<f64, Error> {
    if path.steps.is_empty() {
        return Ok(0.0);
    }
    let mut total = 0.0;
    for step in &path.steps {
        total += store::progress::for_user_in(conn, user.id, step.course_id)?.map_or(0.0, |p| p.completion);
    }
    Ok(total / path.steps.len() as f64)
}

/// The plugin's `LearningPathGradingCriteria.calculate_grade`: Σ(grade × weight) / Σweight
/// over the steps (no record: 0.0), 0.0 when the weights sum to nothing.
pub fn path_grade(conn: &Conn, path: &Path, user: &UserRecord) -> Result<f64, Error> {
    let (mut weighted, mut weights) = (0.0, 0.0);
    for step in &path.steps {
        let grade = store::progress::for_user_in(conn, user.id, step.course_id)?.map_or(0.0, |p| p.grade);
        weighted += grade * step.weight;
        weights += step.weight;
    }
    Ok(if weights > 0.0 { weighted / weights } else { 0.0 })
}
