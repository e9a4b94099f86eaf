//! The enrollment core: every surface that enrolls, unenrolls or pre-enrolls a learner
//! calls these functions, inside one write transaction. Access rules follow Open edX's
//! order (edx-platform's enrollment checks; docs/architecture.md); every change is
//! recorded in `enrollment_history` and, when asked, announced through the outbox in the
//! same transaction.

use crate::core::catalog::Course;
use crate::core::lifecycle::{self, AccessDates};
use crate::core::roster::Enrollment;
use crate::core::{Error, ErrorKind};
use crate::domain::{CourseKey, Email, Timestamp};
use crate::store::enrollments::{AllowedRecord, EnrollmentRecord, HistoryRow};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};
use serde::Serialize;
use serde_json::json;

/// A learner's relation to a course, before and after a change (Open edX's
/// `EmailEnrollmentState`, plus the mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct State {
    pub user: bool,
    pub enrollment: bool,
    pub allowed: bool,
    pub auto_enroll: bool,
    pub mode: Option<String>,
    /// The enrollment's status (`active`, `suspended`, `expired`, `inactive`) when a row exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The learner's place on the course's waitlist (1 is next), when they wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waitlist_position: Option<i64>,
}

/// An enrollment's status and the window of its access, as the surfaces show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// `active`, `suspended`, `expired` or `inactive`.
    pub status: String,
    pub access_start: Option<Timestamp>,
    pub access_end: Option<Timestamp>,
}

impl From<store::enrollments::Lifecycle> for Lifecycle {
    fn from(l: store::enrollments::Lifecycle) -> Lifecycle {
        Lifecycle {
            status: l.status,
            access_start: l.access_start.map(Timestamp::from_unix),
            access_end: l.access_end.map(Timestamp::from_unix),
        }
    }
}

/// Whether a learner has access to the course now: the one rule every surface uses when
/// it asks whether a learner is enrolled, and what `is_active` means on every surface.
/// Access runs from `access_start` (inclusive) to `access_end` (exclusive), and only
/// while the status is `active` (a suspended, expired or unenrolled learner has none).
pub fn has_access(lifecycle: &Lifecycle, now: Timestamp) -> bool {
    lifecycle.status == "active"
        && lifecycle.access_start.is_none_or(|start| start <= now)
        && lifecycle.access_end.is_none_or(|end| now < end)
}

/// Which access rules apply, by who asks for the enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The learner enrolls themself: every rule applies, and only free modes (audit,
    /// honor) may be chosen.
    SelfService,
    /// Staff or a service enrolls a named learner (LMS v1): the learner's access is
    /// judged (window, invitation-only) unless `force`; capacity always.
    OnBehalf { force: bool },
    /// A learner buys a place (checkout): the window, invitation-only and capacity apply
    /// as for self-service; the payment, not this rule, decides the mode.
    Purchase,
    /// A course instructor's or admin's explicit roster change (bulk, v2, instructor
    /// dashboard): neither the window nor invitation-only applies; capacity still does.
    Instructor,
}

/// Where a change came from, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Bulk,
    Code,
    Checkout,
    LearningPath,
    AutoEnroll,
    Import,
    /// A SCIM group linked to the course (its member joined or left).
    ScimGroup,
    /// The expiry job applying a course's `expiry_action`.
    Expiry,
    /// A waitlisted learner given a freed seat, or joining or leaving the waitlist.
    Waitlist,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Bulk => "bulk",
            Source::Code => "code",
            Source::Checkout => "checkout",
            Source::LearningPath => "learning_path",
            Source::AutoEnroll => "auto_enroll",
            Source::Import => "import",
            Source::ScimGroup => "scim_group",
            Source::Expiry => "expiry",
            Source::Waitlist => "waitlist",
        }
    }
}

/// Who makes a change, through which surface and why; `notify` writes the learner's
/// email to the outbox.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub actor: &'a str,
    pub surface: &'a str,
    pub source: Source,
    pub reason: Option<&'a str>,
    pub notify: bool,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub before: State,
    pub after: State,
    /// The learner's enrollment after the change, if they have one.
    pub enrollment: Option<Enrollment>,
}

impl Outcome {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// The modes a learner may take now: the course's unexpired modes, or `audit` for a
/// course that defines none (Open edX's default mode).
pub fn available_modes(course: &Course, now: Timestamp, include_expired: bool) -> Vec<String> {
    if course.modes.is_empty() {
        return vec!["audit".to_owned()];
    }
    course
        .modes
        .iter()
        .filter(|m| include_expired || m.expiration.is_none_or(|t| t > now))
        .map(|m| m.slug.clone())
        .collect()
}

/// Open edX's `_default_course_mode`: audit if offered, else honor, else the first.
fn default_mode(available: &[String]) -> String {
    ["audit", "honor"]
        .iter()
        .find(|m| available.iter().any(|a| a == *m))
        .map(|m| m.to_string())
        .or_else(|| available.first().cloned())
        .unwrap_or_else(|| "audit".to_owned())
}

fn mode_unavailable(mode: &str, course: &Course) -> Error {
    Error::validation(format!(
        "The [{mode}] course mode is expired or otherwise unavailable for course run [{}].",
        course.key
    ))
    .with_code("MODE_UNAVAILABLE")
}

fn resolve_mode(course: &Course, requested: Option<&str>, access: Access, now: Timestamp) -> Result<String, Error> {
    let available = available_modes(course, now, false);
    let mode = match requested {
        Some(m) => m.to_owned(),
        None => default_mode(&available),
    };
    if access == Access::SelfService && !matches!(mode.as_str(), "audit" | "honor") {
        return Err(Error::forbidden(format!(
            "User does not have permission to create enrollment with mode [{mode}]."
        ))
        .with_code("MODE_NOT_PERMITTED"));
    }
    if !available.contains(&mode) {
        return Err(mode_unavailable(&mode, course));
    }
    Ok(mode)
}

pub fn state(conn: &Conn, course: &Course, user: Option<&UserRecord>, email: &str) -> Result<State, Error> {
    let enrollment = match user {
        Some(u) => store::enrollments::get(conn, u.id, course.id)?,
        None => None,
    };
    let allowed = valid_pre_enrollment(conn, course, user, email)?;
    let waitlist_position = match user {
        Some(u) if enrollment.as_ref().is_none_or(|e| !e.is_active) => {
            store::enrollments::waitlist_position(conn, course.id, u.id)?
        }
        _ => None,
    };
    Ok(State {
        user: user.is_some(),
        enrollment: enrollment.as_ref().is_some_and(|e| e.is_active),
        allowed: allowed.is_some(),
        auto_enroll: allowed.as_ref().is_some_and(|a| a.auto_enroll),
        status: enrollment.as_ref().map(|e| e.lifecycle.status.clone()),
        mode: enrollment.filter(|e| e.is_active).map(|e| e.mode),
        waitlist_position,
    })
}

/// The pre-enrollment for this email and course, if it is still valid for this user
/// (unclaimed, or claimed by them).
fn valid_pre_enrollment(
    conn: &Conn,
    course: &Course,
    user: Option<&UserRecord>,
    email: &str,
) -> Result<Option<AllowedRecord>, Error> {
    let record = store::enrollments::allowed(conn, email, course.id)?;
    Ok(record.filter(|a| match (a.user_id, user) {
        (None, _) => true,
        (Some(owner), Some(u)) => owner == u.id,
        (Some(_), None) => false,
    }))
}

fn is_course_staff(conn: &Conn, course: &Course, user: &UserRecord) -> Result<bool, Error> {
    Ok(!store::courses::user_roles_in_course(conn, course.id, user.id)?.is_empty())
}

fn enrollment_open(course: &Course, now: Timestamp) -> bool {
    course.enrollment_start.is_none_or(|s| s <= now) && course.enrollment_end.is_none_or(|e| now <= e)
}

/// Open edX's `_can_enroll_courselike`, then the capacity check (`is_course_full`).
fn check_access(conn: &Conn, course: &Course, user: &UserRecord, access: Access, now: Timestamp) -> Result<(), Error> {
    let key = &course.key;
    let staff = is_course_staff(conn, course, user)?;
    let invited = valid_pre_enrollment(conn, course, Some(user), &user.email)?.is_some();
    // An unpublished course takes no new learners on their own; staff may still enroll them.
    if !course.published && access == Access::SelfService && !staff {
        return Err(Error::new(ErrorKind::EnrollmentClosed, format!("Course {key} is not open for enrollment."))
            .with_code("COURSE_UNPUBLISHED"));
    }
    if !invited && !staff {
        // Judged for the learner even when staff or a service asks (Open edX's v1:
        // check_access=True); only a forced enrollment and instructors' roster changes skip it.
        let invitation_applies =
            matches!(access, Access::SelfService | Access::Purchase | Access::OnBehalf { force: false });
        if course.invitation_only && invitation_applies {
            return Err(Error::new(ErrorKind::EnrollmentClosed, format!("Course {key} is by invitation only."))
                .with_code("INVITATION_ONLY"));
        }
        let window_applies =
            matches!(access, Access::SelfService | Access::Purchase | Access::OnBehalf { force: false });
        if window_applies && !enrollment_open(course, now) {
            return Err(Error::new(ErrorKind::EnrollmentClosed, format!("Enrollment in {key} is closed."))
                .with_code("ENROLLMENT_CLOSED"));
        }
    }
    if !staff {
        lifecycle::check_seat(conn, course)?;
    }
    Ok(())
}

/// The learner a change is about: a course plus a user, an email, or both.
#[derive(Clone, Copy)]
pub(crate) struct Learner<'a> {
    course: &'a Course,
    user: Option<&'a UserRecord>,
    email: &'a str,
}

impl<'a> Learner<'a> {
    pub(crate) fn new(course: &'a Course, user: Option<&'a UserRecord>, email: &'a str) -> Learner<'a> {
        Learner { course, user, email }
    }
}

/// Enrollment changes since start, by action, for `/metrics` (counted as they are written;
/// a change rolled back later is still counted).
pub static CHANGES: [(&str, std::sync::atomic::AtomicU64); 4] = [
    ("enroll", std::sync::atomic::AtomicU64::new(0)),
    ("unenroll", std::sync::atomic::AtomicU64::new(0)),
    ("pre_enroll", std::sync::atomic::AtomicU64::new(0)),
    ("pre_enroll_removed", std::sync::atomic::AtomicU64::new(0)),
];

fn count_change(before: &State, after: &State) {
    let action = match (before.enrollment, after.enrollment, before.allowed, after.allowed) {
        (false, true, _, _) => 0,
        (true, false, _, _) => 1,
        (_, _, false, true) => 2,
        (_, _, true, false) => 3,
        _ => return,
    };
    CHANGES[action].1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn record_history(
    conn: &Conn,
    learner: Learner,
    change: &Change,
    before: &State,
    after: &State,
    now: Timestamp,
) -> Result<(), Error> {
    let Learner { course, user, email } = learner;
    count_change(before, after);
    let event = json!({"course_key": course.key, "username": user.map(|u| u.username.as_str()), "email": email,
        "actor": change.actor, "surface": change.surface, "source": change.source.as_str(), "reason": change.reason,
        "before": before, "after": after});
    crate::core::webhooks::emit(conn, "enrollment.changed", event, now)?;
    let before = serde_json::to_string(before).map_err(Error::internal)?;
    let after = serde_json::to_string(after).map_err(Error::internal)?;
    store::enrollments::append_history(
        conn,
        &HistoryRow {
            course_id: course.id,
            user_id: user.map(|u| u.id),
            email,
            actor: change.actor,
            surface: change.surface,
            source: change.source.as_str(),
            reason: change.reason,
            before: &before,
            after: &after,
            created: now.unix(),
        },
    )
}

/// Writes one of Open edX's enrollment emails to the outbox (message types
/// `enrolled_enroll`, `allowed_enroll`, `enrolled_unenroll`, `allowed_unenroll`), or one of
/// the lifecycle's (`waitlist_promoted`).
pub(crate) fn notify(
    conn: &Conn,
    message_type: &str,
    learner: Learner,
    change: &Change,
    auto_enroll: bool,
    now: Timestamp,
) -> Result<(), Error> {
    let Learner { course, user, email } = learner;
    if !change.notify {
        return Ok(());
    }
    let payload = json!({
        "course_key": course.key,
        "course_name": course.title,
        "full_name": user.map(|u| if u.name.is_empty() { u.username.clone() } else { u.name.clone() }),
        "auto_enroll": auto_enroll,
        "reason": change.reason,
    });
    store::outbox::enqueue(conn, "email", message_type, email, &payload.to_string(), now.unix())?;
    Ok(())
}

/// Enrolls an existing user (activating an inactive enrollment, or changing the mode when
/// someone other than the learner asks). Enrolling an already active learner again in the
/// same mode changes nothing.
pub fn enroll_user(
    conn: &Conn,
    user: &UserRecord,
    course: &Course,
    mode: Option<&str>,
    access: Access,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let request = EnrollRequest { mode, access, dates: AccessDates::default(), waitlist: false };
    enroll_user_with(conn, user, course, &request, change, now)
}

/// What one enrollment asks for beyond the learner: the mode (None: the course's default),
/// which access rules apply, the access dates, and whether a full course with a waitlist
/// may put the learner on it instead of refusing.
#[derive(Debug, Clone, Copy)]
pub struct EnrollRequest<'a> {
    pub mode: Option<&'a str>,
    pub access: Access,
    pub dates: AccessDates,
    pub waitlist: bool,
}

/// `enroll_user` with dates and the waitlist. Staff enrolling a learner who is on the
/// roster but suspended or expired restores their access (with new dates when given).
pub fn enroll_user_with(
    conn: &Conn,
    user: &UserRecord,
    course: &Course,
    request: &EnrollRequest,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let EnrollRequest { mode, access, dates, waitlist } = *request;
    let before = state(conn, course, Some(user), &user.email)?;
    let existing = store::enrollments::get(conn, user.id, course.id)?;
    let unchanged = |before: State, enrollment: Option<EnrollmentRecord>| {
        Ok(Outcome { after: before.clone(), before, enrollment: enrollment.map(Enrollment::from) })
    };
    if let Some(active) = existing.as_ref().filter(|e| e.is_active) {
        let same_mode = mode.is_none_or(|m| m == active.mode);
        let restore = active.lifecycle.status != "active";
        // A learner re-enrolling keeps their mode and status (Open edX raises AlreadyEnrolled).
        if access == Access::SelfService || (same_mode && !restore && dates.is_empty()) {
            return unchanged(before, existing);
        }
        let mode = if same_mode { active.mode.clone() } else { resolve_mode(course, mode, access, now)? };
        let wanted = store::enrollments::Lifecycle { status: "active".into(), ..dates.over(&active.lifecycle) };
        lifecycle::change_lifecycle(conn, course, active, &mode, &wanted, now)?;
    } else {
        if before.waitlist_position.is_some() {
            return unchanged(before, existing);
        }
        let mode = resolve_mode(course, mode, access, now)?;
        let wanted = lifecycle::new_enrollment(course, dates, now)?;
        match check_access(conn, course, user, access, now) {
            Err(e) if e.kind == ErrorKind::CourseFull && waitlist && course.waitlist => {
                return lifecycle::join_waitlist(conn, course, user, &mode, &wanted, change, now);
            }
            checked => checked?,
        }
        let id = store::enrollments::upsert(conn, user.id, course.id, &mode, true, now.unix())?;
        store::enrollments::set_lifecycle(conn, id, &wanted, now.unix())?;
        if let Some(allowed) = valid_pre_enrollment(conn, course, Some(user), &user.email)? {
            store::enrollments::claim_allowed(conn, allowed.id, user.id)?;
        }
        notify(conn, "enrolled_enroll", Learner::new(course, Some(user), &user.email), change, false, now)?;
    }
    recorded(conn, course, user, change, before, now)
}

/// After a user's enrollment changed: the new state, its history row, and the outcome.
pub(crate) fn recorded(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    change: &Change,
    before: State,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let after = state(conn, course, Some(user), &user.email)?;
    record_history(conn, Learner::new(course, Some(user), &user.email), change, &before, &after, now)?;
    let enrollment = store::enrollments::get(conn, user.id, course.id)?.map(Enrollment::from);
    Ok(Outcome { before, after, enrollment })
}

/// Deactivates the user's enrollment (the row stays). `expected_mode`, when given, must
/// match the active mode (Open edX refuses to deactivate on a mismatch).
pub fn unenroll_user(
    conn: &Conn,
    user: &UserRecord,
    course: &Course,
    expected_mode: Option<&str>,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let before = state(conn, course, Some(user), &user.email)?;
    let existing = store::enrollments::get(conn, user.id, course.id)?;
    let Some(active) = existing.filter(|e| e.is_active) else {
        if before.waitlist_position.is_some() {
            // Unenrolling a waiting learner takes them off the waitlist.
            store::enrollments::waitlist_remove(conn, course.id, user.id)?;
            return recorded(conn, course, user, change, before, now);
        }
        return Ok(Outcome {
            after: before.clone(),
            before,
            enrollment: store::enrollments::get(conn, user.id, course.id)?.map(Enrollment::from),
        });
    };
    if let Some(mode) = expected_mode.filter(|m| *m != active.mode) {
        return Err(Error::validation(format!(
            "Enrollment mode mismatch: active mode={}, requested mode={mode}. Won't deactivate.",
            active.mode
        ))
        .with_code("MODE_MISMATCH"));
    }
    store::enrollments::upsert(conn, user.id, course.id, &active.mode, false, now.unix())?;
    notify(conn, "enrolled_unenroll", Learner::new(course, Some(user), &user.email), change, false, now)?;
    let outcome = recorded(conn, course, user, change, before, now)?;
    lifecycle::fill_seats(conn, course, change.surface, now)?;
    Ok(outcome)
}

/// Open edX's `update_enrollment(is_active=False)` for a user who was never enrolled: the
/// enrollment is created inactive (in the given or the default mode), as ecommerce's
/// refund path expects; an existing one is deactivated as `unenroll_user` does.
pub fn deactivate_or_create_inactive(
    conn: &Conn,
    user: &UserRecord,
    course: &Course,
    mode: Option<&str>,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    if store::enrollments::get(conn, user.id, course.id)?.is_some() {
        return unenroll_user(conn, user, course, mode, change, now);
    }
    let before = state(conn, course, Some(user), &user.email)?;
    let mode = resolve_mode(course, mode, Access::Instructor, now)?;
    store::enrollments::upsert(conn, user.id, course.id, &mode, false, now.unix())?;
    recorded(conn, course, user, change, before, now)
}

/// Whom an LMS v1 enrollment request names: a username, an email, or (neither) the caller.
#[derive(Debug, Clone, Copy)]
pub enum NamedLearner<'a> {
    Username(&'a str),
    Email(&'a str),
    /// The caller's own username; `None` for the API key, which names nobody.
    Caller(Option<&'a str>),
}

/// An LMS v1 enrollment request, parsed and checked against the caller's flags.
#[derive(Debug, Clone, Copy)]
pub struct LmsEnrollRequest<'a> {
    pub learner: NamedLearner<'a>,
    pub course: &'a CourseKey,
    pub mode: Option<&'a str>,
    /// `is_active: false` from staff or the API key: deactivate (or create inactive).
    pub deactivate: bool,
    pub access: Access,
    pub waitlist: bool,
    pub attributes: &'a [(String, String, String)],
}

/// How an LMS v1 enrollment request ended, for the surface to word.
#[derive(Debug)]
pub enum LmsEnrollOutcome {
    UnknownUsername,
    UnknownEmail,
    /// Neither user nor email given, and the caller is no user.
    NoLearner,
    UnknownCourse,
    /// The mode cannot be taken now.
    ModeUnavailable {
        course: Course,
        error: Error,
    },
    /// The enrollment window is closed or the course is full; nothing was written.
    Refused {
        username: String,
        error: Error,
    },
    Waitlisted {
        username: String,
        position: i64,
    },
    Enrolled {
        enrollment: Enrollment,
        course: Course,
    },
}

/// Open edX's `EnrollmentListView.post`: finds the learner and the course, enrolls (or
/// deactivates, for staff) and stores the enrollment attributes, all in one write so the
/// lookups run on the writer's connection and cannot race the change.
pub fn enroll_for_lms(
    db: &Db,
    request: &LmsEnrollRequest,
    change: &Change,
    now: Timestamp,
) -> Result<LmsEnrollOutcome, Error> {
    let mut refused_learner = None;
    let result = db.write(|conn| {
        let found = match request.learner {
            NamedLearner::Username(username) => store::users::by_username(conn, username)?,
            NamedLearner::Email(email) => store::users::by_email(conn, email)?,
            NamedLearner::Caller(username) => {
                username.map(|u| store::users::by_username(conn, u)).transpose()?.flatten()
            }
        };
        let Some(user) = found else {
            return Ok(match request.learner {
                NamedLearner::Username(_) => LmsEnrollOutcome::UnknownUsername,
                NamedLearner::Email(_) => LmsEnrollOutcome::UnknownEmail,
                NamedLearner::Caller(_) => LmsEnrollOutcome::NoLearner,
            });
        };
        let course = match crate::core::catalog::course(conn, request.course) {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(LmsEnrollOutcome::UnknownCourse),
            Err(e) => return Err(e),
        };
        let result = if request.deactivate {
            deactivate_or_create_inactive(conn, &user, &course, request.mode, change, now)
        } else {
            let dates = AccessDates::default();
            let enroll =
                EnrollRequest { mode: request.mode, access: request.access, dates, waitlist: request.waitlist };
            enroll_user_with(conn, &user, &course, &enroll, change, now)
        };
        let outcome = match result {
            Ok(o) => o,
            Err(error) if error.code == Some("MODE_UNAVAILABLE") => {
                return Ok(LmsEnrollOutcome::ModeUnavailable { course, error })
            }
            Err(e) => {
                refused_learner = Some(user.username);
                return Err(e);
            }
        };
        if let (None, Some(position)) = (&outcome.enrollment, outcome.after.waitlist_position) {
            return Ok(LmsEnrollOutcome::Waitlisted { username: user.username, position });
        }
        let enrollment = outcome.enrollment.ok_or_else(|| Error::internal("enrollment missing after enroll"))?;
        set_attributes(conn, enrollment.id, request.attributes)?;
        Ok(LmsEnrollOutcome::Enrolled { enrollment, course })
    });
    match (result, refused_learner) {
        (Err(error), Some(username)) if matches!(error.kind, ErrorKind::EnrollmentClosed | ErrorKind::CourseFull) => {
            Ok(LmsEnrollOutcome::Refused { username, error })
        }
        (result, _) => result,
    }
}

/// A user found by username or email; an identifier that is neither a known username nor
/// an email address is refused.
pub enum Resolved {
    User(Box<UserRecord>),
    Email(Email),
}

pub fn resolve_identifier(conn: &Conn, identifier: &str) -> Result<Resolved, Error> {
    let identifier = identifier.trim();
    if let Some(user) = store::users::by_login(conn, identifier)? {
        return Ok(Resolved::User(Box::new(user)));
    }
    let email = Email::parse(identifier).map_err(|_| {
        Error::validation(format!("'{identifier}' is neither a known username nor a valid email address."))
            .with_code("INVALID_IDENTIFIER")
    })?;
    Ok(match store::users::by_email(conn, email.as_str())? {
        Some(user) => Resolved::User(Box::new(user)),
        None => Resolved::Email(email),
    })
}

/// What a roster change asks for: the mode (None: the course's default), whether a
/// pre-enrollment auto-enrolls on registration, and which access rules apply.
#[derive(Debug, Clone, Copy)]
pub struct EnrollOptions<'a> {
    pub mode: Option<&'a str>,
    pub auto_enroll: bool,
    pub access: Access,
    pub dates: AccessDates,
    /// A full course with a waitlist puts the learner on it instead of refusing.
    pub waitlist: bool,
}

/// Open edX's `enroll_email`: an active user is enrolled; an unknown email or an inactive
/// user is pre-enrolled (auto-enrolled on activation when `auto_enroll`).
pub fn enroll_identifier(
    conn: &Conn,
    identifier: &str,
    course: &Course,
    options: EnrollOptions,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let EnrollOptions { mode, auto_enroll, access, dates, waitlist } = options;
    match resolve_identifier(conn, identifier)? {
        Resolved::User(user) if user.is_active => {
            enroll_user_with(conn, &user, course, &EnrollRequest { mode, access, dates, waitlist }, change, now)
        }
        Resolved::User(user) => {
            let email = Email::parse(&user.email)?;
            allow(conn, &email, Some(&user), course, auto_enroll, change, now)
        }
        Resolved::Email(email) => allow(conn, &email, None, course, auto_enroll, change, now),
    }
}

fn allow(
    conn: &Conn,
    email: &Email,
    user: Option<&UserRecord>,
    course: &Course,
    auto_enroll: bool,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let before = state(conn, course, user, email.as_str())?;
    store::enrollments::upsert_allowed(conn, email.as_str(), course.id, auto_enroll, now.unix())?;
    let after = state(conn, course, user, email.as_str())?;
    if before != after {
        notify(conn, "allowed_enroll", Learner::new(course, user, email.as_str()), change, auto_enroll, now)?;
        record_history(conn, Learner::new(course, user, email.as_str()), change, &before, &after, now)?;
    }
    Ok(Outcome { before, after, enrollment: None })
}

/// Open edX's `unenroll_email`: deactivates the enrollment and/or removes the
/// pre-enrollment; both can happen.
pub fn unenroll_identifier(
    conn: &Conn,
    identifier: &str,
    course: &Course,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let (user, email) = match resolve_identifier(conn, identifier)? {
        Resolved::User(user) => {
            let email = user.email.clone();
            (Some(*user), email)
        }
        Resolved::Email(email) => (None, email.as_str().to_owned()),
    };
    let before = state(conn, course, user.as_ref(), &email)?;
    if let Some(user) = user.as_ref().filter(|_| before.enrollment) {
        // unenroll_user records its own history row; the email goes out below.
        unenroll_user(conn, user, course, None, &Change { notify: false, ..change.clone() }, now)?;
        notify(conn, "enrolled_unenroll", Learner::new(course, Some(user), &email), change, false, now)?;
    }
    if let Some(allowed) = store::enrollments::allowed(conn, &email, course.id)? {
        let before_removal = state(conn, course, user.as_ref(), &email)?;
        store::enrollments::delete_allowed(conn, allowed.id)?;
        let after_removal = state(conn, course, user.as_ref(), &email)?;
        notify(conn, "allowed_unenroll", Learner::new(course, user.as_ref(), &email), change, false, now)?;
        record_history(
            conn,
            Learner::new(course, user.as_ref(), &email),
            change,
            &before_removal,
            &after_removal,
            now,
        )?;
    }
    let after = state(conn, course, user.as_ref(), &email)?;
    let enrollment = match &user {
        Some(u) => store::enrollments::get(conn, u.id, course.id)?.map(Enrollment::from),
        None => None,
    };
    Ok(Outcome { before, after, enrollment })
}

/// Creates a pre-enrollment; one that already exists is a conflict (LMS v1 semantics).
pub fn create_pre_enrollment(
    conn: &Conn,
    email: &Email,
    course: &Course,
    auto_enroll: bool,
    change: &Change,
    now: Timestamp,
) -> Result<AllowedRecord, Error> {
    if store::enrollments::allowed(conn, email.as_str(), course.id)?.is_some() {
        return Err(Error::conflict(format!(
            "An enrollment allowed with email {email} and course {} already exists.",
            course.key
        )));
    }
    let user = store::users::by_email(conn, email.as_str())?;
    allow(conn, email, user.as_ref(), course, auto_enroll, change, now)?;
    store::enrollments::allowed(conn, email.as_str(), course.id)?
        .ok_or_else(|| Error::internal("pre-enrollment vanished"))
}

/// Removes a pre-enrollment; a missing one is a 404 (LMS v1 semantics).
/// A pre-enrollment by course key, as Open edX's EnrollmentAllowedView takes it: for a
/// course that does not exist yet it waits (a cohort registered before its course is set
/// up, as Open edX's own tests do) and applies when the course is created.
pub fn pre_enroll_by_key(
    conn: &Conn,
    email: &Email,
    key: &crate::domain::CourseKey,
    auto_enroll: bool,
    change: &Change,
    now: Timestamp,
) -> Result<AllowedRecord, Error> {
    if let Some(record) = store::courses::by_key(conn, key.as_str())? {
        let course = crate::core::catalog::course_by_id(conn, record.id)?;
        return create_pre_enrollment(conn, email, &course, auto_enroll, change, now);
    }
    if !store::enrollments::insert_pending(conn, email.as_str(), key.as_str(), auto_enroll, now.unix())? {
        return Err(Error::conflict(format!(
            "An enrollment allowed with email {email} and course {key} already exists."
        )));
    }
    let pending = store::enrollments::pending_for_email(conn, email.as_str())?;
    pending.into_iter().find(|p| p.course_key == key.as_str()).ok_or_else(|| Error::internal("pending row vanished"))
}

/// `pre_enroll_by_key` as a write of its own (LMS v1's `enrollment_allowed`).
pub fn pre_enroll_by_key_now(
    db: &Db,
    email: &Email,
    key: &CourseKey,
    auto_enroll: bool,
    change: &Change,
    now: Timestamp,
) -> Result<crate::core::roster::PreEnrollment, Error> {
    db.write(|conn| pre_enroll_by_key(conn, email, key, auto_enroll, change, now)).map(Into::into)
}

/// Removes a pre-enrollment by course key (a waiting one too), in one write.
pub fn delete_pre_enrollment_by_key(
    db: &Db,
    email: &Email,
    key: &CourseKey,
    change: &Change,
    now: Timestamp,
) -> Result<(), Error> {
    db.write(|conn| match store::courses::by_key(conn, key.as_str())? {
        Some(record) => {
            let course = crate::core::catalog::course_by_id(conn, record.id)?;
            delete_pre_enrollment(conn, email, &course, change, now)
        }
        None if store::enrollments::delete_pending(conn, email.as_str(), key.as_str())? => Ok(()),
        None => {
            Err(Error::not_found(format!("An enrollment allowed with email {email} and course {key} doesn't exists.")))
        }
    })
}

/// A new course takes the pre-enrollments that waited for it.
pub fn claim_pending_pre_enrollments(conn: &Conn, course: &Course, now: Timestamp) -> Result<(), Error> {
    let change = Change { actor: "pending", surface: "lms_v1", source: Source::Api, reason: None, notify: false };
    for pending in store::enrollments::pending_for_course(conn, course.key.as_str())? {
        let email = Email::parse(&pending.email)?;
        create_pre_enrollment(conn, &email, course, pending.auto_enroll, &change, now)?;
        store::enrollments::delete_pending(conn, &pending.email, &pending.course_key)?;
    }
    Ok(())
}

pub fn delete_pre_enrollment(
    conn: &Conn,
    email: &Email,
    course: &Course,
    change: &Change,
    now: Timestamp,
) -> Result<(), Error> {
    let Some(allowed) = store::enrollments::allowed(conn, email.as_str(), course.id)? else {
        return Err(Error::not_found(format!(
            "An enrollment allowed with email {email} and course {} doesn't exists.",
            course.key
        )));
    };
    let user = store::users::by_email(conn, email.as_str())?;
    let before = state(conn, course, user.as_ref(), email.as_str())?;
    store::enrollments::delete_allowed(conn, allowed.id)?;
    let after = state(conn, course, user.as_ref(), email.as_str())?;
    notify(conn, "allowed_unenroll", Learner::new(course, user.as_ref(), email.as_str()), change, false, now)?;
    record_history(conn, Learner::new(course, user.as_ref(), email.as_str()), change, &before, &after, now)?;
    Ok(())
}

/// Turns a newly active user's auto-enroll pre-enrollments into enrollments (on activation,
/// creation as an active user, or an email change while active). An invitation is honoured
/// as Open edX does: no window or capacity check.
pub fn activate_pending(conn: &Conn, user: &UserRecord, surface: &str, now: Timestamp) -> Result<usize, Error> {
    if !user.is_active {
        return Ok(0);
    }
    crate::core::learning_paths::activate_pending(conn, user, now)?;
    let mut enrolled = 0;
    for allowed in store::enrollments::allowed_for_email(conn, &user.email)? {
        if !allowed.auto_enroll || allowed.user_id.is_some_and(|owner| owner != user.id) {
            continue;
        }
        let course = crate::core::catalog::course_by_id(conn, allowed.course_id)?;
        let before = state(conn, &course, Some(user), &user.email)?;
        if before.enrollment {
            continue;
        }
        let mode = default_mode(&available_modes(&course, now, false));
        store::enrollments::upsert(conn, user.id, course.id, &mode, true, now.unix())?;
        store::enrollments::claim_allowed(conn, allowed.id, user.id)?;
        let after = state(conn, &course, Some(user), &user.email)?;
        let change = Change { actor: "system", surface, source: Source::AutoEnroll, reason: None, notify: false };
        record_history(conn, Learner::new(&course, Some(user), &user.email), &change, &before, &after, now)?;
        enrolled += 1;
    }
    Ok(enrolled)
}

/// Stores Open edX `enrollment_attributes` (namespace, name, value) on an enrollment.
pub fn set_attributes(conn: &Conn, enrollment_id: i64, attributes: &[(String, String, String)]) -> Result<(), Error> {
    for (namespace, name, value) in attributes {
        store::enrollments::set_attribute(conn, enrollment_id, namespace, name, value)?;
    }
    Ok(())
}

/// Deactivates every active enrollment of the user with this username (account
/// retirement), in one write; returns the courses left, in enrollment order, or `None`
/// for an unknown username.
pub fn unenroll_everywhere(
    db: &Db,
    username: &str,
    change: &Change,
    now: Timestamp,
) -> Result<Option<Vec<Course>>, Error> {
    db.write(|conn| {
        let Some(user) = store::users::by_username(conn, username)? else {
            return Ok(None);
        };
        let mut left = Vec::new();
        for enrollment in store::enrollments::active_for_user(conn, user.id)? {
            let course = crate::core::catalog::course_by_id(conn, enrollment.course_id)?;
            unenroll_user(conn, &user, &course, None, change, now)?;
            left.push(course);
        }
        Ok(Some(left))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::accounts::{self, Actor, NewUser};
    use crate::core::catalog::{self, CourseFields};
    use crate::domain::{CourseKey, Username};
    use crate::store::Db;

    struct Fixture {
        db: Db,
        _dir: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self._dir);
        }
    }

    fn fixture(name: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!("rollcall-core-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = crate::config::DatabaseConfig {
            path: dir.join("t.db"),
            synchronous: "normal".into(),
            ..Default::default()
        };
        let db = Db::open(&config).unwrap();
        Fixture { db, _dir: dir }
    }

    fn course(conn: &Conn, key: &str, fields: CourseFields) -> Course {
        let fields = CourseFields { title: Some("Course".into()), ..fields };
        catalog::create(conn, &CourseKey::parse(key).unwrap(), &fields, Timestamp::now()).unwrap()
    }

    fn user(conn: &Conn, name: &str, active: bool) -> UserRecord {
        let new = NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.org")).unwrap(),
            password_hash: None,
            name: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            profile: Default::default(),
            is_active: active,
            is_staff: false,
            is_superuser: false,
        };
        accounts::create_user(conn, &Actor::SYSTEM, new, Timestamp::now()).unwrap()
    }

    const NOTIFY: Change =
        Change { actor: "tester", surface: "test", source: Source::Bulk, reason: Some("term start"), notify: true };
    const OPTIONS: EnrollOptions = EnrollOptions {
        mode: None,
        auto_enroll: true,
        access: Access::Instructor,
        dates: AccessDates { start: None, end: None },
        waitlist: false,
    };

    fn outbox(conn: &Conn) -> Vec<(String, String, String)> {
        let mut stmt = conn.prepare("SELECT message_type, recipient, payload FROM outbox ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn enroll_and_unenroll_write_their_emails_to_the_outbox_in_the_same_transaction() {
        let f = fixture("outbox");
        f.db.write(|conn| {
            let c = course(conn, "course-v1:T+O+1", CourseFields::default());
            user(conn, "ann", true);
            let now = Timestamp::now();
            let enrolled = enroll_identifier(conn, "ann", &c, OPTIONS, &NOTIFY, now)?;
            assert!(enrolled.after.enrollment && !enrolled.before.enrollment);
            let allowed = enroll_identifier(conn, "new@example.org", &c, OPTIONS, &NOTIFY, now)?;
            assert!(allowed.after.allowed && allowed.after.auto_enroll && !allowed.after.user);
            unenroll_identifier(conn, "ann", &c, &NOTIFY, now)?;
            unenroll_identifier(conn, "new@example.org", &c, &NOTIFY, now)?;
            let types: Vec<String> = outbox(conn).into_iter().map(|(t, _, _)| t).collect();
            assert_eq!(types, ["enrolled_enroll", "allowed_enroll", "enrolled_unenroll", "allowed_unenroll"]);
            let (_, recipient, payload) = &outbox(conn)[0];
            assert_eq!(recipient, "ann@example.org");
            assert!(payload.contains("term start") && payload.contains("course-v1:T+O+1"));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_failed_transaction_leaves_no_enrollment_history_or_email() {
        let f = fixture("rollback");
        f.db.write(|conn| {
            course(conn, "course-v1:T+R+1", CourseFields::default());
            user(conn, "bob", true);
            Ok(())
        })
        .unwrap();
        let result: Result<(), Error> = f.db.write(|conn| {
            let c = catalog::course(conn, &CourseKey::parse("course-v1:T+R+1").unwrap())?;
            enroll_identifier(conn, "bob", &c, OPTIONS, &NOTIFY, Timestamp::now())?;
            Err(Error::validation("a later step failed"))
        });
        assert!(result.is_err());
        f.db.read(|conn| {
            let count = |table: &str| {
                conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).unwrap()
            };
            assert_eq!((count("enrollments"), count("enrollment_history"), count("outbox")), (0, 0, 0));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn access_rules_follow_open_edx_order() {
        let f = fixture("access");
        f.db.write(|conn| {
            let now = Timestamp::now();
            let closed = course(
                conn,
                "course-v1:T+C+1",
                CourseFields { enrollment_end: Some(Some(now.plus_seconds(-60))), ..Default::default() },
            );
            let invite =
                course(conn, "course-v1:T+I+1", CourseFields { invitation_only: Some(true), ..Default::default() });
            let ann = user(conn, "ann", true);
            let quiet = Change { notify: false, ..NOTIFY };
            let kind = |r: Result<Outcome, Error>| r.err().map(|e| e.code());
            assert_eq!(
                kind(enroll_user(conn, &ann, &closed, None, Access::SelfService, &quiet, now)),
                Some("ENROLLMENT_CLOSED")
            );
            assert_eq!(
                kind(enroll_user(conn, &ann, &closed, None, Access::OnBehalf { force: false }, &quiet, now)),
                Some("ENROLLMENT_CLOSED")
            );
            assert!(enroll_user(conn, &ann, &closed, None, Access::OnBehalf { force: true }, &quiet, now).is_ok());
            assert_eq!(
                kind(enroll_user(conn, &ann, &invite, None, Access::SelfService, &quiet, now)),
                Some("INVITATION_ONLY")
            );
            assert_eq!(
                kind(enroll_user(conn, &ann, &invite, Some("verified"), Access::SelfService, &quiet, now)),
                Some("MODE_NOT_PERMITTED")
            );
            assert!(enroll_user(conn, &ann, &invite, None, Access::Instructor, &quiet, now).is_ok());
            Ok(())
        })
        .unwrap();
    }
}
