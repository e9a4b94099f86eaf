//! Learning paths: bundles of courses that learners enroll in as a whole (the
//! learning-paths plugin, its models and views). Enrolling in a
//! step's course goes through the enrollment core like every other surface.

use crate::core::catalog;
use crate::core::enrollment::{self, Access, Change, Outcome, Source};
use crate::core::{Error, ErrorKind};
use crate::domain::Principal;
use crate::domain::{CourseKey, Email, LearningPathKey, Timestamp, Uuid};
use crate::store::learning_paths::{PathEnrollmentRecord, PathRecord, StepRecord};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};

/// A learning path with its steps in order, as the surfaces show it.
#[derive(Debug, Clone)]
pub struct Path {
    pub(in crate::core) id: i64,
    pub key: LearningPathKey,
    pub uuid: Uuid,
    pub display_name: String,
    pub subtitle: String,
    pub description: String,
    /// Free text ("6 weeks", "4 hours a week").
    pub duration: String,
    pub time_commitment: String,
    /// `beginner`, `intermediate`, `advanced` or empty.
    pub level: String,
    /// Whether its courses are meant to be taken in order.
    pub sequential: bool,
    pub invite_only: bool,
    /// The grading criteria: the completion and the grade a learner needs (0.0–1.0).
    pub required_completion: f64,
    pub required_grade: f64,
    pub created: Timestamp,
    pub steps: Vec<Step>,
}

/// One course of a path, with the course's dates.
#[derive(Debug, Clone)]
pub struct Step {
    pub(in crate::core) course_id: i64,
    pub course_key: CourseKey,
    pub position: i64,
    /// Its weight (0.0–1.0) in the path's grade.
    pub weight: f64,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

impl From<StepRecord> for Step {
    fn from(s: StepRecord) -> Step {
        Step {
            course_id: s.course_id,
            course_key: CourseKey::from_stored(s.course_key),
            position: s.position,
            weight: s.weight,
            start: s.start.map(Timestamp::from_unix),
            end: s.end.map(Timestamp::from_unix),
        }
    }
}

/// The path of a stored row with its steps. Keys and uuids are stored only as parsed or
/// made (`create`; a step's key is its course's).
fn with_steps(conn: &Conn, r: PathRecord) -> Result<Path, Error> {
    let steps = store::learning_paths::steps(conn, r.id)?.into_iter().map(Step::from).collect();
    Ok(Path {
        id: r.id,
        key: LearningPathKey::from_stored(r.key),
        uuid: Uuid::from_stored(r.uuid),
        display_name: r.display_name,
        subtitle: r.subtitle,
        description: r.description,
        level: r.level,
        duration: r.duration,
        time_commitment: r.time_commitment,
        sequential: r.sequential,
        invite_only: r.invite_only,
        required_completion: r.required_completion,
        required_grade: r.required_grade,
        created: Timestamp::from_unix(r.created),
        steps,
    })
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

/// Who calls the learning-paths API: a user (the plugin's IsAuthenticated; the API key is
/// not one here) and whether they are global staff (its IsAdminOrSelf).
#[derive(Debug, Clone)]
pub struct Caller {
    user_id: i64,
    username: String,
    staff: bool,
}

impl Caller {
    /// The caller behind `principal`; the API key is refused.
    pub fn of(principal: &Principal) -> Result<Caller, Error> {
        let user = principal.user().ok_or_else(|| Error::forbidden("Learning paths need a user's credentials."))?;
        Ok(Caller { user_id: user.id, username: user.username.clone(), staff: principal.is_global_staff() })
    }

    pub fn viewer(&self) -> Viewer {
        Viewer { user_id: Some(self.user_id), staff: self.staff }
    }

    /// Staff only (the plugin's IsAdminUser): bulk changes and unenrolling others.
    pub fn require_staff(&self) -> Result<(), Error> {
        if self.staff {
            Ok(())
        } else {
            Err(Error::forbidden("You do not have permission to perform this action."))
        }
    }

    fn record(&self, conn: &Conn) -> Result<UserRecord, Error> {
        crate::core::accounts::user_by_username(conn, &self.username)
    }
}

/// IsAdminOrSelf: the user a call names (the caller when it names nobody); a non-staff
/// caller may name only themself.
fn target_user(conn: &Conn, caller: &Caller, username: Option<&str>) -> Result<UserRecord, Error> {
    match username {
        None => caller.record(conn),
        Some(name) if name == caller.username => caller.record(conn),
        Some(_) if !caller.staff => Err(Error::forbidden("You do not have permission to perform this action.")),
        Some(name) => crate::core::accounts::find_user(conn, name)?
            .ok_or_else(|| Error::not_found("No User matches the given query.")),
    }
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
        if store::learning_paths::steps(conn, id)?.iter().any(|s| s.course_id == course.id) {
            return Err(Error::field("steps", format!("{course_key} is listed twice.")));
        }
        store::learning_paths::add_step(conn, id, course.id, position as i64 + 1, *weight)?;
    }
    path(conn, &new.key)
}

/// Creates a path (the admin API's; the caller's permission is the surface's staff check).
pub fn create_path(db: &Db, new: NewPath, now: Timestamp) -> Result<Path, Error> {
    db.write(|conn| create(conn, new, now))
}

fn path(conn: &Conn, key: &LearningPathKey) -> Result<Path, Error> {
    let record = store::learning_paths::by_key(conn, key.as_str())?.ok_or_else(not_found)?;
    with_steps(conn, record)
}

fn not_found() -> Error {
    Error::not_found("No LearningPath matches the given query.")
}

fn is_enrolled(conn: &Conn, path: &Path, user_id: i64) -> Result<bool, Error> {
    Ok(store::learning_paths::enrollment(conn, path.id, user_id)?.is_some_and(|e| e.is_active))
}

/// The path the ADR's route names by uuid (its "more human friendly key" came later).
pub fn by_uuid(conn: &Conn, uuid: &Uuid) -> Result<Path, Error> {
    let record = store::learning_paths::by_uuid(conn, uuid.as_str())?.ok_or_else(not_found)?;
    with_steps(conn, record)
}

/// A path by uuid as the course-discovery Program view shows it: visible to the viewer as
/// on every path route (an invitation-only path is not shown to others).
pub fn program(db: &Db, uuid: &Uuid, viewer: Viewer) -> Result<Path, Error> {
    db.snapshot(|conn| {
        let path = by_uuid(conn, uuid)?;
        visible(conn, &path.key, viewer)
    })
}

/// Whether `user` may enroll themself in `path`: an open path, or an invitation-only one
/// they hold an active invitation to (for their email) or are actively in. A learner staff
/// removed is not invited by their old, inactive enrollment. This closes the gap the ADR
/// names: knowing a path's id is not enough to join it.
pub fn may_self_enroll(conn: &Conn, path: &Path, user: &UserRecord) -> Result<bool, Error> {
    if !path.invite_only {
        return Ok(true);
    }
    // A claimed invitation was spent on the enrollment it made.
    let invited =
        store::learning_paths::allowed(conn, path.id, &user.email)?.is_some_and(|a| a.is_active && a.user_id.is_none());
    Ok(invited || is_enrolled(conn, path, user.id)?)
}

/// A path the viewer may see; an invitation-only path someone is not enrolled in is a 404
/// (so a learner cannot tell it exists, and cannot self-enroll in it).
pub fn visible(conn: &Conn, key: &LearningPathKey, viewer: Viewer) -> Result<Path, Error> {
    let path = path(conn, key)?;
    let allowed = viewer.staff
        || !path.invite_only
        || viewer.user_id.map(|id| is_enrolled(conn, &path, id)).transpose()?.unwrap_or(false);
    if allowed {
        Ok(path)
    } else {
        Err(not_found())
    }
}

/// A path the caller may see, with the date they enrolled in it (if they are in it).
pub fn path_for(db: &Db, key: &LearningPathKey, caller: &Caller) -> Result<(Path, Option<i64>), Error> {
    db.snapshot(|conn| {
        let path = visible(conn, key, caller.viewer())?;
        let enrolled = enrollments(conn, Some(&path), Some(caller.user_id))?;
        Ok((path, enrolled.first().map(|e| e.created.unix())))
    })
}

/// The plugin's progress view: the mean completion of a learner (the caller, or anyone
/// for staff) in a path they may see.
pub fn progress_in_path(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    username: Option<&str>,
) -> Result<(Path, f64), Error> {
    measure(db, key, caller, username, crate::core::progress::path_progress)
}

/// The plugin's grade view: the weighted grade of a learner (the caller, or anyone for
/// staff) in a path they may see.
pub fn grade_in_path(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    username: Option<&str>,
) -> Result<(Path, f64), Error> {
    measure(db, key, caller, username, crate::core::progress::path_grade)
}

fn measure(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    username: Option<&str>,
    of: fn(&Conn, &Path, &UserRecord) -> Result<f64, Error>,
) -> Result<(Path, f64), Error> {
    db.snapshot(|conn| {
        let path = visible(conn, key, caller.viewer())?;
        let user = target_user(conn, caller, username)?;
        let value = of(conn, &path, &user)?;
        Ok((path, value))
    })
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
            out.push((with_steps(conn, record)?, enrollment.map(|e| e.created)));
        }
    }
    out.sort_by_key(|(_, enrolled)| std::cmp::Reverse(*enrolled));
    Ok(out)
}

/// The paths the viewer may see (see `list_visible`), read in one snapshot.
pub fn paths_visible_to(db: &Db, viewer: Viewer) -> Result<Vec<(Path, Option<i64>)>, Error> {
    db.snapshot(|conn| list_visible(conn, viewer))
}

pub enum Enrolled {
    Created(PathEnrollment),
    Reactivated(PathEnrollment),
    AlreadyActive,
}

pub fn enroll(conn: &Conn, path: &Path, user: &UserRecord, now: Timestamp) -> Result<Enrolled, Error> {
    let existing = store::learning_paths::enrollment(conn, path.id, user.id)?;
    if existing.as_ref().is_some_and(|e| e.is_active) {
        return Ok(Enrolled::AlreadyActive);
    }
    store::learning_paths::upsert_enrollment(conn, path.id, user.id, true, now.unix())?;
    let record: PathEnrollment = store::learning_paths::enrollment(conn, path.id, user.id)?
        .ok_or_else(|| Error::internal("enrollment vanished"))?
        .into();
    Ok(if existing.is_some() { Enrolled::Reactivated(record) } else { Enrolled::Created(record) })
}

/// The plugin's enrollment view: the caller enrolls themself, or staff enroll the user
/// they name, in a path the caller may see. `named` is the body's username, or why the
/// body could not be read: the path's 404 comes first, as in the plugin's view.
pub fn enroll_in_path(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    named: Result<Option<String>, Error>,
    now: Timestamp,
) -> Result<Enrolled, Error> {
    db.write(|conn| {
        let path = visible(conn, key, caller.viewer())?;
        let user = target_user(conn, caller, named?.as_deref())?;
        enroll(conn, &path, &user, now)
    })
}

/// The ADR's enrollment by uuid: staff and the API key enroll the user they name; a learner
/// enrolls themself, in an invitation-only path only if invited (`may_self_enroll`).
/// `named` as for `enroll_in_path`, after the path's 404.
pub fn enroll_by_uuid(
    db: &Db,
    uuid: &Uuid,
    principal: &Principal,
    named: Result<Option<String>, Error>,
    now: Timestamp,
) -> Result<Enrolled, Error> {
    db.write(|conn| {
        let path = by_uuid(conn, uuid)?;
        let named = named?;
        let user = match principal.user() {
            Some(_) => {
                let caller = Caller::of(principal)?;
                let user = target_user(conn, &caller, named.as_deref())?;
                if !caller.staff && !may_self_enroll(conn, &path, &user)? {
                    return Err(Error::forbidden("This learning path is by invitation only."));
                }
                user
            }
            // A service holding the API key enrolls the learner it names.
            None => {
                let name = named.ok_or_else(|| Error::field("username", "username is required."))?;
                crate::core::accounts::find_user(conn, &name)?
                    .ok_or_else(|| Error::not_found("No User matches the given query."))?
            }
        };
        enroll(conn, &path, &user, now)
    })
}

pub fn unenroll(conn: &Conn, path: &Path, user: &UserRecord, now: Timestamp) -> Result<PathEnrollmentRecord, Error> {
    if !is_enrolled(conn, path, user.id)? {
        return Err(Error::not_found("No active enrollment in this learning path."));
    }
    store::learning_paths::upsert_enrollment(conn, path.id, user.id, false, now.unix())?;
    store::learning_paths::enrollment(conn, path.id, user.id)?.ok_or_else(|| Error::internal("enrollment vanished"))
}

/// Staff unenroll the user they name (the caller when they name nobody) from a path; the
/// plugin's LEARNING_PATHS_ALLOW_SELF_UNENROLLMENT defaults to off. `named` as for
/// `enroll_in_path`, reported after the path's 404 and the staff check.
pub fn unenroll_from_path(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    named: Result<Option<String>, Error>,
    now: Timestamp,
) -> Result<PathEnrollment, Error> {
    db.write(|conn| {
        let path = visible(conn, key, caller.viewer())?;
        caller.require_staff()?;
        let user = target_user(conn, caller, named?.as_deref())?;
        unenroll(conn, &path, &user, now).map(PathEnrollment::from)
    })
}

/// A learner's enrollment in a path, as the plugin lists it.
#[derive(Debug, Clone)]
pub struct PathEnrollment {
    pub user_id: i64,
    pub path_id: i64,
    pub is_active: bool,
    pub created: Timestamp,
}

impl From<PathEnrollmentRecord> for PathEnrollment {
    fn from(e: PathEnrollmentRecord) -> PathEnrollment {
        PathEnrollment {
            user_id: e.user_id,
            path_id: e.path_id,
            is_active: e.is_active,
            created: Timestamp::from_unix(e.created),
        }
    }
}

/// Active path enrollments (of one path, one user, or both).
pub fn enrollments(conn: &Conn, path: Option<&Path>, user_id: Option<i64>) -> Result<Vec<PathEnrollment>, Error> {
    let list = store::learning_paths::enrollments(conn, path.map(|p| p.id), user_id, false)?;
    Ok(list.into_iter().map(PathEnrollment::from).collect())
}

/// Every path enrollment, active or not: the plugin's `enrollments/` list, which a learner
/// reads to see the paths they left as well as those they are in.
pub fn all_enrollments(conn: &Conn, user_id: Option<i64>) -> Result<Vec<PathEnrollment>, Error> {
    Ok(store::learning_paths::enrollments(conn, None, user_id, true)?.into_iter().map(PathEnrollment::from).collect())
}

/// Active enrollments in a path the caller may see: staff see everyone's (or the named
/// user's), others their own. A staff filter on a username nobody has is an empty list, as
/// the plugin's queryset filter answers it.
pub fn path_enrollments(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    username: Option<&str>,
) -> Result<Vec<PathEnrollment>, Error> {
    db.snapshot(|conn| {
        let path = visible(conn, key, caller.viewer())?;
        let user_id = match (caller.staff, username) {
            (true, None) => None,
            (_, name) => match target_user(conn, caller, name) {
                Ok(user) => Some(user.id),
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            },
        };
        enrollments(conn, Some(&path), user_id)
    })
}

/// The caller's path enrollments, active or not (staff: everyone's; see `all_enrollments`).
pub fn enrollment_history(db: &Db, caller: &Caller) -> Result<Vec<PathEnrollment>, Error> {
    let user_id = if caller.staff { None } else { Some(caller.user_id) };
    db.read(|conn| all_enrollments(conn, user_id))
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
    if !is_enrolled(conn, path, user.id)? {
        return Err(not_found());
    }
    if !path.steps.iter().any(|s| &s.course_key == course_key) {
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

/// The plugin's course enrollment view: the caller, enrolled in a path they may see, enrolls
/// in one of its steps' courses. `course_key` is the URL's, or why it did not parse
/// (reported after the path's 404). A refusal of the enrollment itself is the plugin's
/// "Failed to enroll" 400, keeping the refusal's code.
pub fn enroll_in_path_course(
    db: &Db,
    key: &LearningPathKey,
    caller: &Caller,
    course_key: Result<CourseKey, Error>,
    now: Timestamp,
) -> Result<Outcome, Error> {
    db.write(|conn| {
        let path = visible(conn, key, caller.viewer())?;
        let course_key = course_key?;
        let user = caller.record(conn)?;
        match enroll_in_step(conn, &path, &user, &course_key, now) {
            Err(e) if e.code != Some("NOT_A_STEP") && e.kind != ErrorKind::NotFound && !e.is_fault() => {
                let mut failed = Error::validation("Failed to enroll the user in the course.");
                failed.code = e.code;
                Err(failed)
            }
            outcome => outcome,
        }
    })
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
                    let active = is_enrolled(conn, &path, user.id)?;
                    if active != enroll_them {
                        store::learning_paths::upsert_enrollment(conn, path.id, user.id, enroll_them, now.unix())?;
                        counts.enrollments += 1;
                    }
                }
                None => {
                    let invited = store::learning_paths::allowed(conn, path.id, email.as_str())?;
                    let active = invited.as_ref().is_some_and(|a| a.is_active && a.user_id.is_none());
                    if active != enroll_them && invited.as_ref().is_none_or(|a| a.user_id.is_none()) {
                        store::learning_paths::upsert_allowed(conn, path.id, email.as_str(), enroll_them, now.unix())?;
                        counts.invitations += 1;
                    }
                }
            }
        }
    }
    Ok(counts)
}

/// Staff's bulk enroll (or unenroll) of emails in paths (see `bulk`), in one transaction.
pub fn bulk_change(
    db: &Db,
    caller: &Caller,
    keys: &[LearningPathKey],
    emails: &[String],
    enroll_them: bool,
    now: Timestamp,
) -> Result<BulkCounts, Error> {
    caller.require_staff()?;
    db.write(|conn| bulk(conn, keys, emails, enroll_them, now))
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
