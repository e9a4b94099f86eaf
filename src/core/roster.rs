//! Reading enrollments: one learner's, a user's active list, a course's roster (paged by
//! seek), the staff-wide list, and who may manage a course. Changes live in `enrollment`.

use crate::core::catalog::Course;
use crate::core::enrollment::{has_access, resolve_identifier, Resolved};
use crate::core::progress::ProgressRecord;
use crate::core::{Error, ErrorKind};
use crate::domain::{CourseKey, Timestamp};
use crate::store::enrollments::{AllowedRecord, EnrollmentRecord};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};

pub fn attributes(conn: &Conn, enrollment: &EnrollmentRecord) -> Result<Vec<(String, String, String)>, Error> {
    store::enrollments::attributes(conn, enrollment.id)
}

/// The active enrollments of the user with this username (none for an unknown one: Open
/// edX filters by username); when `visible_to` is a non-staff caller looking at someone
/// else, only courses where the caller is course staff.
pub fn active_enrollments(
    db: &Db,
    username: &str,
    visible_to: Option<i64>,
) -> Result<Vec<(EnrollmentRecord, Course)>, Error> {
    db.snapshot(|conn| {
        let Some(user) = store::users::by_username(conn, username)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for enrollment in store::enrollments::active_for_user(conn, user.id)? {
            if let Some(caller) = visible_to {
                if store::courses::user_roles_in_course(conn, enrollment.course_id, caller)?.is_empty() {
                    continue;
                }
            }
            let course = crate::core::catalog::course_by_id(conn, enrollment.course_id)?;
            out.push((enrollment, course));
        }
        Ok(out)
    })
}

/// The enrollment of the user with this username in the course with this key, if both
/// exist and it does.
pub fn enrollment_of(db: &Db, username: &str, key: &CourseKey) -> Result<Option<(EnrollmentRecord, Course)>, Error> {
    db.snapshot(|conn| {
        let course = match crate::core::catalog::course(conn, key) {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(user) = store::users::by_username(conn, username)? else {
            return Ok(None);
        };
        Ok(store::enrollments::get(conn, user.id, course.record.id)?.map(|e| (e, course)))
    })
}

/// The email's pre-enrollments, those waiting for a course that does not exist yet last.
pub fn pre_enrollments_for(db: &Db, email: &str) -> Result<Vec<AllowedRecord>, Error> {
    db.snapshot(|conn| {
        let mut list = store::enrollments::allowed_for_email(conn, email)?;
        list.extend(store::enrollments::pending_for_email(conn, email)?);
        Ok(list)
    })
}

pub use store::enrollments::ListFilter;

/// One page of the staff enrollment list, newest first (see `store::enrollments::list`).
pub fn list_enrollments(
    db: &Db,
    filter: &ListFilter,
    before_id: Option<i64>,
    after_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EnrollmentRecord>, Error> {
    db.read(|conn| store::enrollments::list(conn, filter, before_id, after_id, limit))
}

/// Which rows of a course's roster to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterFilter {
    /// Every enrollment, active or not.
    All,
    Active,
    Inactive,
    /// Pre-enrolled emails that no user has claimed yet.
    PreEnrolled,
}

pub use store::enrollments::{HistoryEntry, HistoryFilter, RosterRow, WaitlistEntry};

/// Roster rows as every surface shows them: `is_active` is "has access now".
fn with_access(mut rows: Vec<RosterRow>) -> Vec<RosterRow> {
    let now = Timestamp::now();
    for row in &mut rows {
        row.is_active = row.lifecycle.as_ref().is_some_and(|l| has_access(l, now));
    }
    rows
}

/// Up to `limit` roster rows after the first `after` (every enrollment, in creation order,
/// then the unclaimed pre-enrollments): the roster CSV is streamed in such chunks, each a
/// seek, so a roster of any size is never held whole.
pub fn roster_chunk(conn: &Conn, course: &Course, after: i64, limit: i64) -> Result<Vec<RosterRow>, Error> {
    let id = course.record.id;
    let enrolled = store::enrollments::roster_count_all(conn, id)?;
    let mut rows = Vec::new();
    if after < enrolled {
        rows = store::enrollments::roster_page_all(conn, id, after, limit)?;
    }
    let more = limit - rows.len() as i64;
    if more > 0 {
        let from = (after + rows.len() as i64 - enrolled).max(0);
        rows.extend(store::enrollments::pre_enrollment_page(conn, id, from, more)?);
    }
    Ok(with_access(rows))
}

/// Everyone on the roster, enrolled (in any state) or pre-enrolled: a page and the total.
pub fn everyone(conn: &Conn, course: &Course, offset: i64, limit: i64) -> Result<(i64, Vec<RosterRow>), Error> {
    let id = course.record.id;
    let total = store::enrollments::roster_count_all(conn, id)? + store::enrollments::pre_enrollment_count(conn, id)?;
    Ok((total, roster_chunk(conn, course, offset, limit)?))
}

/// A course's enrollment history, newest first (see `store::enrollments::history`).
pub fn history(
    conn: &Conn,
    course: &Course,
    filter: &HistoryFilter,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, Error> {
    store::enrollments::history(conn, course.record.id, filter, before_id, limit)
}

/// One page of a course's roster and the total for the filter.
pub fn roster(
    conn: &Conn,
    course: &Course,
    filter: RosterFilter,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<RosterRow>), Error> {
    let id = course.record.id;
    let (total, rows) = match filter {
        RosterFilter::All => (
            store::enrollments::roster_count_all(conn, id)?,
            store::enrollments::roster_page_all(conn, id, offset, limit)?,
        ),
        RosterFilter::Active | RosterFilter::Inactive => {
            let active = filter == RosterFilter::Active;
            (
                store::enrollments::roster_count_by_activity(conn, id, active)?,
                store::enrollments::roster_page_by_activity(conn, id, active, offset, limit)?,
            )
        }
        RosterFilter::PreEnrolled => (
            store::enrollments::pre_enrollment_count(conn, id)?,
            store::enrollments::pre_enrollment_page(conn, id, offset, limit)?,
        ),
    };
    Ok((total, with_access(rows)))
}

/// Active enrollments matching a search term on username, email or name (the instructor
/// dashboard's learner search).
pub fn search(
    conn: &Conn,
    course: &Course,
    term: &str,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<RosterRow>), Error> {
    let (total, rows) = store::enrollments::roster_search(conn, course.record.id, term, offset, limit)?;
    Ok((total, with_access(rows)))
}

/// The roster row of one learner (by username or email), if they are enrolled or
/// pre-enrolled in the course.
pub fn roster_entry(conn: &Conn, course: &Course, identifier: &str) -> Result<Option<RosterRow>, Error> {
    let (user, email) = match resolve_identifier(conn, identifier) {
        Ok(Resolved::User(user)) => {
            let email = user.email.clone();
            (Some(*user), email)
        }
        Ok(Resolved::Email(email)) => (None, email.as_str().to_owned()),
        Err(_) => return Ok(None),
    };
    let allowed = store::enrollments::allowed(conn, &email, course.record.id)?;
    let enrollment = match &user {
        Some(u) => store::enrollments::get(conn, u.id, course.record.id)?,
        None => None,
    };
    let waiting = match &user {
        Some(u) => store::enrollments::waitlist_position(conn, course.record.id, u.id)?,
        None => None,
    };
    if enrollment.is_none() && allowed.is_none() && waiting.is_none() {
        return Ok(None);
    }
    let created = enrollment.as_ref().map(|e| e.created).or(allowed.as_ref().map(|a| a.created)).unwrap_or_default();
    Ok(Some(RosterRow {
        username: user.as_ref().map(|u| u.username.clone()),
        email,
        first_name: user.as_ref().map(|u| u.first_name.clone()).unwrap_or_default(),
        last_name: user.as_ref().map(|u| u.last_name.clone()).unwrap_or_default(),
        name: user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        mode: enrollment.as_ref().map(|e| e.mode.clone()),
        is_active: enrollment.as_ref().is_some_and(|e| has_access(&e.lifecycle, Timestamp::now())),
        created,
        updated: created,
        progress: match &enrollment {
            Some(e) => store::progress::get(conn, e.id)?,
            None => None,
        },
        allowed: allowed.is_some(),
        auto_enroll: allowed.is_some_and(|a| a.auto_enroll),
        lifecycle: enrollment.map(|e| e.lifecycle),
    }))
}

/// A learner's place on the course's waitlist (1 is next), if they wait.
pub fn waitlist_position(conn: &Conn, course: &Course, user: &UserRecord) -> Result<Option<i64>, Error> {
    store::enrollments::waitlist_position(conn, course.record.id, user.id)
}

/// Course instructors and staff manage their own course; global staff manage every course.
pub fn may_manage(conn: &Conn, course: &Course, user_id: i64, is_global_staff: bool) -> Result<bool, Error> {
    Ok(is_global_staff || !store::courses::user_roles_in_course(conn, course.record.id, user_id)?.is_empty())
}

/// Every enrollment matching the analytics filters (bounds are exclusive), each with its
/// progress, from one snapshot.
pub fn enrollment_batch(
    db: &Db,
    course_key: Option<&str>,
    username: Option<&str>,
    after: Option<crate::domain::Timestamp>,
    before: Option<crate::domain::Timestamp>,
) -> Result<Vec<(EnrollmentRecord, Option<ProgressRecord>)>, Error> {
    db.snapshot(|conn| {
        let rows =
            store::enrollments::batch(conn, course_key, username, after.map(|t| t.unix()), before.map(|t| t.unix()))?;
        rows.into_iter().map(|e| crate::core::progress::of_enrollment(conn, e.id).map(|p| (e, p))).collect()
    })
}
