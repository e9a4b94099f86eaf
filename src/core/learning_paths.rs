//! Learning paths: bundles of courses that learners enroll in as a whole (the
//! learning-paths plugin, its models and views). Enrolling in a
//! step's course goes through the enrollment core like every other surface.

use crate::core::catalog;
use crate::core::enrollment::{self, Access, Change, Outcome, Source};
use crate::core::Error;
use crate::domain::{CourseKey, Email, LearningPathKey, Timestamp, Uuid};
use crate::store::learning_paths::{PathEnrollmentRecord, PathRecord, StepRecord};
use crate::store::users::UserRecord;
use crate::store::{self, Conn};

#[derive(Debug, Clone)]
pub struct Path {
    pub record: PathRecord,
    pub steps: Vec<StepRecord>,
}

pub struct NewPath {
    pub key: LearningPathKey,
    pub display_name: String,
    pub subtitle: String,
    pub description: String,
    pub level: String,
    pub duration: String,
    pub time_commitment: String,
    pub sequential: bool,
    pub invite_only: bool,
    /// Courses in order, with their weight (0.0–1.0) in the path's grade.
    pub steps: Vec<(CourseKey, f64)>,
    /// The grading criteria: the completion and the grade a learner needs.
    pub required_completion: crate::domain::Fraction,
    pub required_grade: crate::domain::Fraction,
}

/// Who is looking: staff see every path; others see open paths and their own.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: Option<i64>,
    pub staff: bool,
}

pub fn create(conn: &Conn, new: NewPath, now: Timestamp) -> Result<Path, Error> {
    if new.display_name.trim().is_empty() || new.display_name.chars().count() > crate::domain::Title::MAX_CHARS {
        return Err(Error::field("display_name", "A learning path needs a display_name of 1 to 255 characters."));
    }
    if !matches!(new.level.as_str(), "" | "beginner" | "intermediate" | "advanced") {
        return Err(Error::field("level", "level must be beginner, intermediate or advanced."));
    }
    let record = PathRecord {
        id: 0,
        key: new.key.as_str().to_owned(),
        display_name: new.display_name,
        subtitle: new.subtitle,
        description: new.description,
        level: new.level,
        duration: new.duration,
        time_commitment: new.time_commitment,
        sequential: new.sequential,
        invite_only: new.invite_only,
        required_completion: new.required_completion.value(),
        required_grade: new.required_grade.value(),
        created: now.unix(),
        uuid: Uuid::new_v4(crate::auth::secrets::random_bytes(16).try_into().expect("16 bytes")).as_str().to_owned(),
    };
    let id = store::learning_paths::insert(conn, &record)?;
    for (position, (course_key, weight)) in new.steps.iter().enumerate() {
        if !(0.0..=1.0).contains(weight) {
            return Err(Error::field("steps", format!("The weight of {course_key} must be between 0.0 and 1.0.")));
        }
        let course = catalog::course(conn, course_key).map_err(|e| Error::field("steps", e.developer_message))?;
        if store::learning_paths::steps(conn, id)?.iter().any(|s| s.course_id == course.record.id) {
            return Err(Error::field("steps", format!("{course_key} is listed twice.")));
        }
        store::learning_paths::add_step(conn, id, course.record.id, position as i64 + 1, *weight)?;
    }
    path(conn, &new.key)
}

fn path(conn: &Conn, key: &LearningPathKey) -> Result<Path, Error> {
    let record = store::learning_paths::by_key(conn, key.as_str())?.ok_or_else(not_found)?;
    let steps = store::learning_paths::steps(conn, record.id)?;
    Ok(Path { record, steps })
}

fn not_found() -> Error {
    Error::not_found("No LearningPath matches the given query.")
}

fn is_enrolled(conn: &Conn, path: &PathRecord, user_id: i64) -> Result<bool, Error> {
    Ok(store::learning_paths::enrollment(conn, path.id, user_id)?.is_some_and(|e| e.is_active))
}

/// The path the ADR's route names by uuid (its "more human friendly key" came later).
pub fn by_uuid(conn: &Conn, uuid: &Uuid) -> Result<Path, Error> {
    let record = store::learning_paths::by_uuid(conn, uuid.as_str())?.ok_or_else(not_found)?;
    let steps = store::learning_paths::steps(conn, record.id)?;
    Ok(Path { record, steps })
}

/// Whether `user` may enroll themself in `path`: an open path, or an invitation-only one
/// they hold an active invitation to (for their email) or are actively in. A learner staff
/// removed is not invited by their old, inactive enrollment. This closes the gap the ADR
/// names: knowing a path's id is not enough to join it.
pub fn may_self_enroll(conn: &Conn, path: &Path, user: &UserRecord) -> Result<bool, Error> {
    if !path.record.invite_only {
        return Ok(true);
    }
    // A claimed invitation was spent on the enrollment it made.
    let invited = store::learning_paths::allowed(conn, path.record.id, &user.email)?
        .is_some_and(|a| a.is_active && a.user_id.is_none());
    Ok(invited || is_enrolled(conn, &path.record, user.id)?)
}

/// A path the viewer may see; an invitation-only path someone is not enrolled in is a 404
/// (so a learner cannot tell it exists, and cannot self-enroll in it).
pub fn visible(conn: &Conn, key: &LearningPathKey, viewer: Viewer) -> Result<Path, Error> {
    let path = path(conn, key)?;
    let allowed = viewer.staff
        || !path.record.invite_only
        || viewer.user_id.map(|id| is_enrolled(conn, &path.record, id)).transpose()?.unwrap_or(false);
    if allowed {
        Ok(path)
    } else {
        Err(not_found())
    }
}

/// Every path the viewer may see, with the date they enrolled (newest enrollment first).
pub fn list_visible(conn: &Conn, viewer: Viewer) -> Result<Vec<(Path, Option<i64>)>, Error> {
    let mut out = Vec::new();
    for record in store::learning_paths::all(conn)? {
        let enrollment = match viewer.user_id {
            Some(id) => store::learning_paths::enrollment(conn, record.id, id)?.filter(|e| e.is_active),
            None => None,
        };
        if viewer.staff || !record.invite_only || enrollment.is_some() {
            let steps = store::learning_paths::steps(conn, record.id)?;
            out.push((Path { record, steps }, enrollment.map(|e| e.created)));
        }
    }
    out.sort_by_key(|(_, enrolled)| std::cmp::Reverse(*enrolled));
    Ok(out)
}

pub enum Enrolled {
    Created(PathEnrollmentRecord),
    Reactivated(PathEnrollmentRecord),
    AlreadyActive,
}

pub fn enroll(conn: &Conn, path: &Path, user: &UserRecord, now: Timestamp) -> Result<Enrolled, Error> {
    let existing = store::learning_paths::enrollment(conn, path.record.id, user.id)?;
    if existing.as_ref().is_some_and(|e| e.is_active) {
        return Ok(Enrolled::AlreadyActive);
    }
    store::learning_paths::upsert_enrollment(conn, path.record.id, user.id, true, now.unix())?;
    let record = store::learning_paths::enrollment(conn, path.record.id, user.id)?
        .ok_or_else(|| Error::internal("enrollment vanished"))?;
    Ok(if existing.is_some() { Enrolled::Reactivated(record) } else { Enrolled::Created(record) })
}

pub fn unenroll(conn: &Conn, path: &Path, user: &UserRecord, now: Timestamp) -> Result<PathEnrollmentRecord, Error> {
    if !is_enrolled(conn, &path.record, user.id)? {
        return Err(Error::not_found("No active enrollment in this learning path."));
    }
    store::learning_paths::upsert_enrollment(conn, path.record.id, user.id, false, now.unix())?;
    store::learning_paths::enrollment(conn, path.record.id, user.id)?
        .ok_or_else(|| Error::internal("enrollment vanished"))
}

/// Active path enrollments (of one path, one user, or both).
pub fn enrollments(conn: &Conn, path: Option<&Path>, user_id: Option<i64>) -> Result<Vec<PathEnrollmentRecord>, Error> {
    store::learning_paths::enrollments(conn, path.map(|p| p.record.id), user_id, false)
}

/// Every path enrollment, active or not: the plugin's `enrollments/` list, which a learner
/// reads to see the paths they left as well as those they are in.
pub fn all_enrollments(conn: &Conn, user_id: Option<i64>) -> Result<Vec<PathEnrollmentRecord>, Error> {
    store::learning_paths::enrollments(conn, None, user_id, true)
}

/// Enrolls an enrolled path learner in one of the path's courses. Being in the path is the
/// learner's invitation: the course's window and invitation-only flag do not apply, its
/// capacity does.
pub fn enroll_in_step(
    conn: &Conn,
    path: &Path,
    user: &UserRecord,
    course_key: &CourseKey,
    now: Timestamp,
) -> Result<Outcome, Error> {
    if !is_enrolled(conn, &path.record, user.id)? {
        return Err(not_found());
    }
    if !path.steps.iter().any(|s| s.course_key == course_key.as_str()) {
        return Err(Error::validation("The course is not part of this learning path.").with_code("NOT_A_STEP"));
    }
    let course = catalog::course(conn, course_key)?;
    let change = Change {
        actor: &user.username,
        surface: "learning_paths",
        source: Source::LearningPath,
        reason: None,
        notify: false,
    };
    enrollment::enroll_user(conn, user, &course, None, Access::Instructor, &change, now)
}

/// Counts of what a bulk call changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct BulkCounts {
    pub enrollments: usize,
    pub invitations: usize,
}

/// The plugin's bulk enroll/unenroll: existing users by email get (or lose) an enrollment;
/// unknown valid emails get (or lose) an invitation. Unknown keys and invalid emails are
/// skipped, as the plugin does.
pub fn bulk(
    conn: &Conn,
    keys: &[LearningPathKey],
    emails: &[String],
    enroll_them: bool,
    now: Timestamp,
) -> Result<BulkCounts, Error> {
    let mut counts = BulkCounts::default();
    for key in keys {
        let Ok(path) = path(conn, key) else { continue };
        for raw in emails {
            let Ok(email) = Email::parse(raw) else { continue };
            match store::users::by_email(conn, email.as_str())? {
                Some(user) => {
                    let active = is_enrolled(conn, &path.record, user.id)?;
                    if active != enroll_them {
                        store::learning_paths::upsert_enrollment(
                            conn,
                            path.record.id,
                            user.id,
                            enroll_them,
                            now.unix(),
                        )?;
                        counts.enrollments += 1;
                    }
                }
                None => {
                    let invited = store::learning_paths::allowed(conn, path.record.id, email.as_str())?;
                    let active = invited.as_ref().is_some_and(|a| a.is_active && a.user_id.is_none());
                    if active != enroll_them && invited.as_ref().is_none_or(|a| a.user_id.is_none()) {
                        store::learning_paths::upsert_allowed(
                            conn,
                            path.record.id,
                            email.as_str(),
                            enroll_them,
                            now.unix(),
                        )?;
                        counts.invitations += 1;
                    }
                }
            }
        }
    }
    Ok(counts)
}

/// A user who registers with an invited email is enrolled in those paths.
pub fn activate_pending(conn: &Conn, user: &UserRecord, now: Timestamp) -> Result<usize, Error> {
    if !user.is_active {
        return Ok(0);
    }
    let pending = store::learning_paths::pending_for_email(conn, &user.email)?;
    for invitation in &pending {
        store::learning_paths::upsert_enrollment(conn, invitation.path_id, user.id, true, now.unix())?;
        store::learning_paths::claim_allowed(conn, invitation.id, user.id)?;
    }
    Ok(pending.len())
}
