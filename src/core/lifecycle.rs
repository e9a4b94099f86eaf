//! The enrollment lifecycle: access dates, status changes (suspension, expiry), the expiry
//! job's use cases, and the waitlist that fills a freed seat in the transaction that frees
//! it. Called by `enrollment` and the surfaces, inside one write transaction each; the
//! group-commit writer runs writes one at a time, so "first waiting learner gets the seat"
//! holds under any number of concurrent requests (README "Enrollment lifecycle").

use crate::core::accounts::named_user;
use crate::core::bulk::Requester;
use crate::core::catalog::Course;
use crate::core::enrollment::{self, Change, Learner, Outcome, Source};
use crate::core::roster::{managed_course, WaitlistEntry as Waiting};
use crate::core::{Env, Error, ErrorKind};
use crate::domain::Principal;
use crate::domain::{CourseKey, Timestamp};
use crate::store::enrollments::{EnrollmentRecord, Lifecycle, WaitlistEntry};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};
use serde_json::json;

/// The statuses an enrollment may have.
pub const STATUSES: [&str; 4] = ["active", "suspended", "expired", "inactive"];
/// What the expiry job may do at `access_end`.
pub const EXPIRY_ACTIONS: [&str; 3] = ["keep", "suspend", "unenroll"];

/// Access dates as asked for: `None` not given, `Some(None)` cleared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessDates {
    pub start: Option<Option<Timestamp>>,
    pub end: Option<Option<Timestamp>>,
}

impl AccessDates {
    pub fn is_empty(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    /// `current` with the dates given here replacing its own.
    pub fn over(&self, current: &Lifecycle) -> Lifecycle {
        let pick = |given: Option<Option<Timestamp>>, old: Option<i64>| match given {
            Some(value) => value.map(|t| t.unix()),
            None => old,
        };
        Lifecycle {
            status: current.status.clone(),
            access_start: pick(self.start, current.access_start),
            access_end: pick(self.end, current.access_end),
        }
    }
}

fn check_dates(lifecycle: &Lifecycle) -> Result<(), Error> {
    if let (Some(start), Some(end)) = (lifecycle.access_start, lifecycle.access_end) {
        if end <= start {
            return Err(Error::field("access_end", "access_end must be later than access_start."));
        }
    }
    Ok(())
}

/// A new enrollment's status and dates: those asked for, `access_end` defaulting to the
/// course's `access_days` after the start. An end already past is refused (the learner
/// would never have access); a start in the future is a later start.
pub fn new_enrollment(course: &Course, dates: AccessDates, now: Timestamp) -> Result<Lifecycle, Error> {
    let start = dates.start.flatten().map(|t| t.unix());
    let end = match dates.end {
        Some(end) => end.map(|t| t.unix()),
        None => course.access_days.map(|days| start.unwrap_or(now.unix()) + days * 86_400),
    };
    let lifecycle = Lifecycle { status: "active".into(), access_start: start, access_end: end };
    check_dates(&lifecycle)?;
    if end.is_some_and(|end| end <= now.unix()) {
        return Err(Error::field("access_end", "access_end must be in the future for a new enrollment."));
    }
    Ok(lifecycle)
}

/// Whether an enrollment in `status` takes one of the course's seats.
fn holds_seat(course: &Course, status: &str) -> bool {
    match status {
        "active" | "expired" => true,
        "suspended" => course.suspended_holds_seat,
        _ => false,
    }
}

fn full(course: &Course, max: i64) -> Error {
    Error::new(ErrorKind::CourseFull, format!("Course {} is full ({max} learners).", course.key))
        .with_code("COURSE_FULL")
}

/// Refuses when every seat is taken (Open edX's `is_course_full`).
pub fn check_seat(conn: &Conn, course: &Course) -> Result<(), Error> {
    if let Some(max) = course.max_enrollments {
        let holders = store::enrollments::count_active_learners(conn, course.id, course.suspended_holds_seat)?;
        if holders >= max {
            return Err(full(course, max));
        }
    }
    Ok(())
}

/// Gives an enrollment on the roster a new mode, status and dates: taking a seat back needs
/// a free one; giving one up hands it to the first waiting learner.
pub(crate) fn change_lifecycle(
    conn: &Conn,
    course: &Course,
    existing: &EnrollmentRecord,
    mode: &str,
    wanted: &Lifecycle,
    now: Timestamp,
) -> Result<(), Error> {
    check_dates(wanted)?;
    let had_seat = existing.is_active && holds_seat(course, &existing.lifecycle.status);
    let takes_seat = holds_seat(course, &wanted.status);
    if takes_seat && !had_seat && !is_staff(conn, course, existing.user_id)? {
        check_seat(conn, course)?;
    }
    let id =
        store::enrollments::upsert(conn, existing.user_id, course.id, mode, wanted.status != "inactive", now.unix())?;
    store::enrollments::set_lifecycle(conn, id, wanted, now.unix())?;
    if had_seat && !takes_seat {
        fill_seats(conn, course, "waitlist", now)?;
    }
    Ok(())
}

fn is_staff(conn: &Conn, course: &Course, user_id: i64) -> Result<bool, Error> {
    Ok(!store::courses::user_roles_in_course(conn, course.id, user_id)?.is_empty())
}

/// What a PATCH of one enrollment asks for.
#[derive(Debug, Clone, Default)]
pub struct LifecyclePatch {
    /// One of `STATUSES`; `inactive` unenrolls.
    pub status: Option<String>,
    pub dates: AccessDates,
}

/// How a staff call names the learner whose enrollment it changes.
pub enum LearnerName<'a> {
    /// The admin API's path: a username (unknown: 404 "No user").
    Username(&'a str),
    /// The v2 API's path: a username or an email (no such user: 404 "no enrollment").
    Identifier(&'a str),
}

/// A staff PATCH of one learner's enrollment in a course the caller manages: course, right,
/// learner and change in one write. The errors keep the API's order: the course's 404 and
/// 403, the learner's 404, then `patch`'s (the surface's parse of the body).
pub fn update_enrollment_as_manager(
    env: &Env,
    key: &CourseKey,
    caller: &Principal,
    surface: &'static str,
    learner: LearnerName,
    patch: Result<LifecyclePatch, Error>,
    now: Timestamp,
) -> Result<crate::core::roster::Enrollment, Error> {
    env.write_for_workers(|conn| {
        let course = managed_course(conn, key, caller)?;
        let user = match learner {
            LearnerName::Username(username) => named_user(conn, username)?,
            LearnerName::Identifier(identifier) => match enrollment::resolve_identifier(conn, identifier) {
                Ok(enrollment::Resolved::User(user)) => *user,
                _ => {
                    let course_key = &course.key;
                    return Err(Error::not_found(format!("{identifier} has no enrollment in {course_key}.")));
                }
            },
        };
        let patch = patch?;
        let requester = Requester::of(caller, surface);
        let outcome = update_enrollment(conn, &course, &user, &patch, &requester.change(), now)?;
        outcome.enrollment.ok_or_else(|| Error::internal("enrollment missing after PATCH"))
    })
}

/// Changes one enrollment's status and/or dates (admin and v2 PATCH). A learner with no
/// enrollment row is a 404; a past `access_end` is allowed here (staff ending access now:
/// the expiry job applies the course's action on its next tick).
pub fn update_enrollment(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    patch: &LifecyclePatch,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let Some(existing) = store::enrollments::get(conn, user.id, course.id)? else {
        return Err(Error::not_found(format!("{} has no enrollment in {}.", user.username, course.key)));
    };
    if let Some(status) = patch.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(Error::field("status", format!("status must be one of {}, not '{status}'.", STATUSES.join(", "))));
    }
    if patch.status.as_deref() == Some("inactive") {
        let mut outcome = enrollment::unenroll_user(conn, user, course, None, change, now)?;
        if !patch.dates.is_empty() {
            let current = store::enrollments::get(conn, user.id, course.id)?
                .ok_or_else(|| Error::internal("enrollment vanished"))?;
            let wanted = patch.dates.over(&current.lifecycle);
            check_dates(&wanted)?;
            store::enrollments::set_lifecycle(conn, current.id, &wanted, now.unix())?;
            outcome.enrollment = store::enrollments::get(conn, user.id, course.id)?.map(Into::into);
        }
        return Ok(outcome);
    }
    let before = enrollment::state(conn, course, Some(user), &user.email)?;
    let mut wanted = patch.dates.over(&existing.lifecycle);
    if let Some(status) = &patch.status {
        wanted.status = status.clone();
    }
    if wanted == existing.lifecycle {
        return Ok(Outcome { after: before.clone(), before, enrollment: Some(existing.into()) });
    }
    change_lifecycle(conn, course, &existing, &existing.mode, &wanted, now)?;
    enrollment::recorded(conn, course, user, change, before, now)
}

/// Puts a learner at the end of the course's waitlist; a waitlist at `waitlist_limit`
/// refuses as a full course does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn join_waitlist(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    mode: &str,
    wanted: &Lifecycle,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    if let Some(limit) = course.waitlist_limit {
        if store::enrollments::waitlist_count(conn, course.id)? >= limit {
            let max = course.max_enrollments.unwrap_or_default();
            return Err(full(course, max));
        }
    }
    let before = enrollment::state(conn, course, Some(user), &user.email)?;
    let entry = WaitlistEntry {
        user_id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        position: 0,
        mode: mode.to_owned(),
        access_start: wanted.access_start,
        // Kept only when asked for: the course's `access_days` counts from the promotion.
        access_end: wanted.access_end.filter(|_| course.access_days.is_none()),
        created: now.unix(),
    };
    store::enrollments::waitlist_add(conn, course.id, user.id, &entry)?;
    enrollment::recorded(conn, course, user, change, before, now)
}

/// Hands free seats to the waiting learners, first come first served, in the caller's
/// transaction: each is enrolled (with history, the `enrollment.changed` event and the
/// `waitlist_promoted` email, actor `system`). Returns how many were promoted.
pub fn fill_seats(conn: &Conn, course: &Course, surface: &str, now: Timestamp) -> Result<usize, Error> {
    let mut promoted = 0;
    while let Some(first) = store::enrollments::waitlist_first(conn, course.id)? {
        // The course as it is now (a capacity just raised, a setting just changed).
        let course = crate::core::catalog::course_by_id(conn, course.id)?;
        if check_seat(conn, &course).is_err() {
            break;
        }
        store::enrollments::waitlist_remove(conn, course.id, first.user_id)?;
        let Some(user) = store::users::by_id(conn, first.user_id)?.filter(|u| u.is_active) else { continue };
        promote(conn, &course, &user, &first, surface, now)?;
        promoted += 1;
    }
    Ok(promoted)
}

fn promote(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    entry: &WaitlistEntry,
    surface: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let change = Change { actor: "system", surface, source: Source::Waitlist, reason: None, notify: true };
    let mut before = enrollment::state(conn, course, Some(user), &user.email)?;
    // Taken off the list just before: the history shows the place they had.
    before.waitlist_position = Some(entry.position);
    let end = entry.access_end.or_else(|| {
        course.access_days.map(|days| entry.access_start.unwrap_or(now.unix()).max(now.unix()) + days * 86_400)
    });
    let wanted = Lifecycle { status: "active".into(), access_start: entry.access_start, access_end: end };
    let id = store::enrollments::upsert(conn, user.id, course.id, &entry.mode, true, now.unix())?;
    store::enrollments::set_lifecycle(conn, id, &wanted, now.unix())?;
    if let Some(allowed) = store::enrollments::allowed(conn, &user.email, course.id)? {
        if allowed.user_id.is_none() {
            store::enrollments::claim_allowed(conn, allowed.id, user.id)?;
        }
    }
    enrollment::notify(conn, "waitlist_promoted", Learner::new(course, Some(user), &user.email), &change, false, now)?;
    enrollment::recorded(conn, course, user, &change, before, now)?;
    Ok(())
}

/// The course's waitlist in order.
pub fn waitlist(conn: &Conn, course: &Course) -> Result<Vec<Waiting>, Error> {
    Ok(store::enrollments::waitlist(conn, course.id)?.into_iter().map(Waiting::from).collect())
}

/// A managed course's waitlist in order (course, right and list in one snapshot).
pub fn managed_waitlist(db: &Db, key: &CourseKey, caller: &Principal) -> Result<(Course, Vec<Waiting>), Error> {
    db.snapshot(|conn| {
        let course = managed_course(conn, key, caller)?;
        let list = waitlist(conn, &course)?;
        Ok((course, list))
    })
}

/// Staff add a learner (by username, the body's: an unknown one is a field error) to the
/// waitlist of a course they manage, in one write; `username`'s parse error comes after
/// the course's 404 and 403.
pub fn add_to_waitlist_as_manager(
    env: &Env,
    key: &CourseKey,
    caller: &Principal,
    surface: &'static str,
    username: Result<String, Error>,
    now: Timestamp,
) -> Result<(UserRecord, Outcome), Error> {
    env.write_for_workers(|conn| {
        let course = managed_course(conn, key, caller)?;
        let username = username?;
        let user = crate::core::accounts::find_user(conn, &username)?
            .ok_or_else(|| Error::field("username", format!("No user '{username}'.")))?;
        let requester = Requester::of(caller, surface);
        let outcome = add_to_waitlist(conn, &course, &user, &requester.change(), now)?;
        Ok((user, outcome))
    })
}

/// Staff put a learner on the waitlist (at the end); a free seat goes to the first in line
/// at once. The course must have its waitlist on.
pub fn add_to_waitlist(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    if !course.waitlist {
        return Err(Error::conflict(format!("Course {} has no waitlist (set waitlist: true).", course.key))
            .with_code("NO_WAITLIST"));
    }
    if store::enrollments::get(conn, user.id, course.id)?.is_some_and(|e| e.is_active) {
        return Err(Error::conflict(format!("{} is already enrolled in {}.", user.username, course.key))
            .with_code("ALREADY_ENROLLED"));
    }
    if store::enrollments::waitlist_position(conn, course.id, user.id)?.is_some() {
        return Err(
            Error::conflict(format!("{} is already on the waitlist.", user.username)).with_code("ALREADY_WAITING")
        );
    }
    let modes = enrollment::available_modes(course, now, false);
    let mode = ["audit", "honor"].iter().find(|m| modes.iter().any(|a| a == *m)).map(|m| m.to_string());
    let mode = mode.or_else(|| modes.first().cloned()).unwrap_or_else(|| "audit".into());
    let wanted = new_enrollment(course, AccessDates::default(), now)?;
    let outcome = join_waitlist(conn, course, user, &mode, &wanted, change, now)?;
    fill_seats(conn, course, change.surface, now)?;
    let after = enrollment::state(conn, course, Some(user), &user.email)?;
    Ok(Outcome { after, ..outcome })
}

/// Moves a waiting learner to `position` (1 is next); a position past the end is refused.
pub fn move_in_waitlist(conn: &Conn, course: &Course, user: &UserRecord, position: i64) -> Result<(), Error> {
    let from = waiting_position(conn, course, user)?;
    let count = store::enrollments::waitlist_count(conn, course.id)?;
    if position < 1 || position > count {
        return Err(Error::field("position", format!("position must be between 1 and {count}.")));
    }
    store::enrollments::waitlist_move(conn, course.id, user.id, from, position)
}

/// Staff move a learner in the waitlist of a course they manage, and read the list as it is
/// then, in one write. Errors in the API's order: course 404, 403, the learner's 404, then
/// `position`'s parse, then the move's own.
pub fn move_in_waitlist_as_manager(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    username: &str,
    position: Result<i64, Error>,
) -> Result<(Course, Vec<Waiting>), Error> {
    db.write(|conn| {
        let course = managed_course(conn, key, caller)?;
        let user = named_user(conn, username)?;
        move_in_waitlist(conn, &course, &user, position?)?;
        let list = waitlist(conn, &course)?;
        Ok((course, list))
    })
}

fn waiting_position(conn: &Conn, course: &Course, user: &UserRecord) -> Result<i64, Error> {
    store::enrollments::waitlist_position(conn, course.id, user.id)?
        .ok_or_else(|| Error::not_found(format!("{} is not on the waitlist of {}.", user.username, course.key)))
}

/// The calling learner's place on a course's waitlist (1 is next): their account, the
/// course, and the place; 404 when they are not on it.
pub fn own_waitlist_place(db: &Db, username: &str, key: &CourseKey) -> Result<(UserRecord, Course, i64), Error> {
    db.snapshot(|conn| {
        let (user, course) = caller_and_course(conn, username, key)?;
        let position = waiting_position(conn, &course, &user)?;
        Ok((user, course, position))
    })
}

/// The calling learner leaves a course's waitlist; 404 when they are not on it.
pub fn leave_own_waitlist(
    db: &Db,
    username: &str,
    key: &CourseKey,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    db.write(|conn| {
        let (user, course) = caller_and_course(conn, username, key)?;
        leave_waitlist(conn, &course, &user, change, now)
    })
}

/// The signed-in caller's account (which must exist) and a course.
fn caller_and_course(conn: &Conn, username: &str, key: &CourseKey) -> Result<(UserRecord, Course), Error> {
    let user =
        store::users::by_username(conn, username)?.ok_or_else(|| Error::internal("the caller's account vanished"))?;
    Ok((user, crate::core::catalog::course(conn, key)?))
}

/// Takes a learner off the waitlist (they leave, or staff remove them); 404 when absent.
pub fn leave_waitlist(
    conn: &Conn,
    course: &Course,
    user: &UserRecord,
    change: &Change,
    now: Timestamp,
) -> Result<Outcome, Error> {
    waiting_position(conn, course, user)?;
    let before = enrollment::state(conn, course, Some(user), &user.email)?;
    store::enrollments::waitlist_remove(conn, course.id, user.id)?;
    enrollment::recorded(conn, course, user, change, before, now)
}

/// Staff take a learner off the waitlist of a course they manage, in one write.
pub fn leave_waitlist_as_manager(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    surface: &'static str,
    username: &str,
    now: Timestamp,
) -> Result<Outcome, Error> {
    db.write(|conn| {
        let course = managed_course(conn, key, caller)?;
        let user = named_user(conn, username)?;
        leave_waitlist(conn, &course, &user, &Requester::of(caller, surface).change(), now)
    })
}

/// Staff take a learner off a course's waitlist (the console's Remove button), for a caller
/// who may manage the course. `username` is the form's field or why the form was refused:
/// a missing course or a stranger is told first; an unknown user is the field's error.
pub fn remove_from_waitlist(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    username: Result<String, Error>,
    change: &Change,
    now: Timestamp,
) -> Result<Course, Error> {
    db.write(|conn| {
        let course = crate::core::roster::course_managed_by(conn, key, caller)?;
        let username = username?;
        let user = crate::core::accounts::find_user(conn, &username)?
            .ok_or_else(|| Error::field("username", format!("No user '{username}'.")))?;
        leave_waitlist(conn, &course, &user, change, now)?;
        Ok(course)
    })
}

/// Enrollments to expire (user id, course id), and enrollment ids due their notice.
pub type Due = (Vec<(i64, i64)>, Vec<i64>);

/// Work the expiry job has to do now: enrollments past their end (user id, course id),
/// and enrollment ids due their notice. Each is then done in its own transaction.
pub fn due(conn: &Conn, now: Timestamp, limit: i64) -> Result<Due, Error> {
    let expiring = store::enrollments::due_to_expire(conn, now.unix(), limit)?;
    let notices = store::enrollments::due_a_notice(conn, now.unix(), None, limit)?.into_iter().map(|n| n.0).collect();
    Ok((expiring, notices))
}

/// Applies the course's `expiry_action` to one enrollment whose `access_end` has passed
/// (checked again here, so a job that runs twice changes it once). Returns whether it did.
pub fn expire(conn: &Conn, user_id: i64, course_id: i64, now: Timestamp) -> Result<bool, Error> {
    let Some(existing) = store::enrollments::get(conn, user_id, course_id)? else { return Ok(false) };
    let due = existing.lifecycle.status == "active" && existing.lifecycle.access_end.is_some_and(|e| e <= now.unix());
    let Some(user) = store::users::by_id(conn, user_id)?.filter(|_| due) else { return Ok(false) };
    let course = crate::core::catalog::course_by_id(conn, course_id)?;
    let change = Change { actor: "system", surface: "jobs", source: Source::Expiry, reason: None, notify: false };
    if course.expiry_action == "unenroll" {
        enrollment::unenroll_user(conn, &user, &course, None, &change, now)?;
        return Ok(true);
    }
    let status = if course.expiry_action == "suspend" { "suspended" } else { "expired" };
    let before = enrollment::state(conn, &course, Some(&user), &user.email)?;
    let wanted = Lifecycle { status: status.into(), ..existing.lifecycle.clone() };
    change_lifecycle(conn, &course, &existing, &existing.mode, &wanted, now)?;
    enrollment::recorded(conn, &course, &user, &change, before, now)?;
    Ok(true)
}

/// Writes the `enrollment_expiring` email of one enrollment, once (the mark is set in the
/// same transaction).
pub fn send_expiry_notice(conn: &Conn, enrollment_id: i64, now: Timestamp) -> Result<bool, Error> {
    let Some((enrollment_id, user_id, course_id, end)) =
        store::enrollments::due_a_notice(conn, now.unix(), Some(enrollment_id), 1)?.into_iter().next()
    else {
        return Ok(false);
    };
    let Some(user) = store::users::by_id(conn, user_id)? else { return Ok(false) };
    let course = crate::core::catalog::course_by_id(conn, course_id)?;
    let payload = json!({
        "course_key": course.key,
        "course_name": course.title,
        "full_name": if user.name.is_empty() { user.username.clone() } else { user.name.clone() },
        "username": user.username,
        "access_end": Timestamp::from_unix(end).to_iso(),
    });
    store::outbox::enqueue(conn, "email", "enrollment_expiring", &user.email, &payload.to_string(), now.unix())?;
    store::enrollments::mark_notified(conn, enrollment_id, now.unix())?;
    Ok(true)
}
