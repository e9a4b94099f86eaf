//! Reading enrollments: one learner's, a user's active list, a course's roster (paged by
//! seek), the staff-wide list, and who may manage a course. Changes live in `enrollment`.

use crate::core::catalog::Course;
use crate::core::enrollment::{has_access, resolve_identifier, Lifecycle, Resolved};
use crate::core::progress::Progress;
use crate::core::{Error, ErrorKind};
use crate::domain::{CourseKey, Email, Principal, Timestamp, Username};
use crate::store::enrollments::{AllowedRecord, EnrollmentRecord};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};

pub fn attributes(conn: &Conn, enrollment: &EnrollmentRecord) -> Result<Vec<(String, String, String)>, Error> {
    store::enrollments::attributes(conn, enrollment.id)
}

/// A learner's enrollment in a course, as the surfaces show it.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The enrollment's row id: the staff list's cursor, the analytics' `enrollment_id`.
    pub id: i64,
    pub user_id: i64,
    pub username: Username,
    pub course_key: CourseKey,
    pub mode: String,
    /// On the roster; whether the learner has access now is `has_access(&lifecycle, now)`.
    pub is_active: bool,
    pub created: Timestamp,
    pub lifecycle: Lifecycle,
}

impl From<EnrollmentRecord> for Enrollment {
    fn from(e: EnrollmentRecord) -> Enrollment {
        Enrollment {
            id: e.id,
            user_id: e.user_id,
            username: Username::from_stored(e.username),
            course_key: CourseKey::from_stored(e.course_key),
            mode: e.mode,
            is_active: e.is_active,
            created: Timestamp::from_unix(e.created),
            lifecycle: e.lifecycle.into(),
        }
    }
}

/// The active enrollments of the user with this username (none for an unknown one: Open
/// edX filters by username); when `visible_to` is a non-staff caller looking at someone
/// else, only courses where the caller is course staff.
pub fn active_enrollments(
    db: &Db,
    username: &str,
    visible_to: Option<i64>,
) -> Result<Vec<(Enrollment, Course)>, Error> {
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
            out.push((enrollment.into(), course));
        }
        Ok(out)
    })
}

/// The enrollment of the user with this username in the course with this key, if both
/// exist and it does.
pub fn enrollment_of(db: &Db, username: &str, key: &CourseKey) -> Result<Option<(Enrollment, Course)>, Error> {
    db.snapshot(|conn| {
        let course = match crate::core::catalog::course(conn, key) {
            Ok(c) => c,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(user) = store::users::by_username(conn, username)? else {
            return Ok(None);
        };
        Ok(store::enrollments::get(conn, user.id, course.id)?.map(|e| (e.into(), course)))
    })
}

/// An email's standing to enroll in a course when an account with it exists (Open edX's
/// CourseEnrollmentAllowed).
#[derive(Debug, Clone)]
pub struct PreEnrollment {
    pub email: Email,
    pub course_key: CourseKey,
    pub auto_enroll: bool,
    /// The account that used it, once one has.
    pub user_id: Option<i64>,
    pub created: Timestamp,
}

impl From<AllowedRecord> for PreEnrollment {
    fn from(a: AllowedRecord) -> PreEnrollment {
        PreEnrollment {
            email: Email::from_stored(a.email),
            course_key: CourseKey::from_stored(a.course_key),
            auto_enroll: a.auto_enroll,
            user_id: a.user_id,
            created: Timestamp::from_unix(a.created),
        }
    }
}

/// The email's pre-enrollments, those waiting for a course that does not exist yet last.
pub fn pre_enrollments_for(db: &Db, email: &str) -> Result<Vec<PreEnrollment>, Error> {
    db.snapshot(|conn| {
        let mut list = store::enrollments::allowed_for_email(conn, email)?;
        list.extend(store::enrollments::pending_for_email(conn, email)?);
        Ok(list.into_iter().map(PreEnrollment::from).collect())
    })
}

/// Which enrollments the staff list shows; an empty list means "any".
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub course_key: Option<CourseKey>,
    /// Substrings of the course key (Open edX's `course_ids` uses `icontains`).
    pub course_key_contains: Vec<String>,
    pub usernames: Vec<String>,
    pub emails: Vec<String>,
}

/// One page of the staff enrollment list, newest first (see `store::enrollments::list`).
pub fn list_enrollments(
    db: &Db,
    filter: &ListFilter,
    before_id: Option<i64>,
    after_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Enrollment>, Error> {
    let columns = store::enrollments::ListFilter {
        course_key: filter.course_key.as_ref().map(|k| k.as_str().to_owned()),
        course_key_contains: filter.course_key_contains.clone(),
        usernames: filter.usernames.clone(),
        emails: filter.emails.clone(),
    };
    let list = db.read(|conn| store::enrollments::list(conn, &columns, before_id, after_id, limit))?;
    Ok(list.into_iter().map(Enrollment::from).collect())
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

/// Which entries of a course's history to list: one learner's (by username or email),
/// since a moment; none given: everyone's, all of it.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub username: Option<String>,
    pub email: Option<String>,
    pub since: Option<Timestamp>,
}

/// One recorded change to a learner's place in a course, as the history shows it.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The history's cursor: a page asks for the entries before an id.
    pub id: i64,
    pub created: Timestamp,
    /// None for an email that no account holds.
    pub username: Option<Username>,
    pub email: Email,
    /// The learner's `enrollment::State` before and after, as recorded (JSON).
    pub before: String,
    pub after: String,
    /// Who made the change, through which surface and kind of call, and why.
    pub actor: String,
    pub surface: String,
    pub source: String,
    pub reason: Option<String>,
}

impl From<store::enrollments::HistoryEntry> for HistoryEntry {
    fn from(h: store::enrollments::HistoryEntry) -> HistoryEntry {
        HistoryEntry {
            id: h.id,
            created: Timestamp::from_unix(h.created),
            username: h.username.map(Username::from_stored),
            email: Email::from_stored(h.email),
            before: h.before,
            after: h.after,
            actor: h.actor,
            surface: h.surface,
            source: h.source,
            reason: h.reason,
        }
    }
}

/// A learner waiting for a seat in a full course, as the surfaces show the waitlist.
#[derive(Debug, Clone)]
pub struct WaitlistEntry {
    pub username: Username,
    pub email: Email,
    /// 1 is next.
    pub position: i64,
    pub mode: String,
    /// The access dates asked for, the enrollment's when a seat frees.
    pub access_start: Option<Timestamp>,
    pub access_end: Option<Timestamp>,
    pub created: Timestamp,
}

impl From<store::enrollments::WaitlistEntry> for WaitlistEntry {
    fn from(w: store::enrollments::WaitlistEntry) -> WaitlistEntry {
        WaitlistEntry {
            username: Username::from_stored(w.username),
            email: Email::from_stored(w.email),
            position: w.position,
            mode: w.mode,
            access_start: w.access_start.map(Timestamp::from_unix),
            access_end: w.access_end.map(Timestamp::from_unix),
            created: Timestamp::from_unix(w.created),
        }
    }
}

/// One row of a course's roster, as the surfaces show it: an enrollment (in any state) or
/// a pre-enrolled email that no account has claimed yet.
#[derive(Debug, Clone)]
pub struct RosterRow {
    /// None for an unclaimed pre-enrollment.
    pub username: Option<Username>,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// The full name ("" when only first and last are given).
    pub name: String,
    pub mode: Option<String>,
    /// Whether the learner has access now (`has_access`).
    pub is_active: bool,
    pub created: Timestamp,
    /// When the enrollment (or pre-enrollment) last changed.
    pub updated: Timestamp,
    /// What the learner has achieved, when it was recorded.
    pub progress: Option<Progress>,
    pub allowed: bool,
    pub auto_enroll: bool,
    /// The enrollment's status and dates (None for a pre-enrollment).
    pub lifecycle: Option<Lifecycle>,
}

/// Roster rows as every surface shows them: `is_active` is "has access now".
fn with_access(rows: Vec<store::enrollments::RosterRow>) -> Vec<RosterRow> {
    let now = Timestamp::now();
    let row = |r: store::enrollments::RosterRow| {
        let lifecycle = r.lifecycle.map(Lifecycle::from);
        RosterRow {
            username: r.username.map(Username::from_stored),
            email: Email::from_stored(r.email),
            first_name: r.first_name,
            last_name: r.last_name,
            name: r.name,
            mode: r.mode,
            is_active: lifecycle.as_ref().is_some_and(|l| has_access(l, now)),
            created: Timestamp::from_unix(r.created),
            updated: Timestamp::from_unix(r.updated),
            progress: r.progress.map(Progress::from),
            allowed: r.allowed,
            auto_enroll: r.auto_enroll,
            lifecycle,
        }
    };
    rows.into_iter().map(row).collect()
}

/// Up to `limit` roster rows after the first `after` (every enrollment, in creation order,
/// then the unclaimed pre-enrollments): the roster CSV is streamed in such chunks, each a
/// seek, so a roster of any size is never held whole.
pub fn roster_chunk(conn: &Conn, course: &Course, after: i64, limit: i64) -> Result<Vec<RosterRow>, Error> {
    let id = course.id;
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

/// A course's roster read a chunk at a time as a download takes it (the roster CSV). Each
/// chunk is its own read: a roster that changes during a long download shows each row
/// once, as of when its chunk was read.
pub struct RosterChunks {
    db: Db,
    course: Course,
    after: i64,
    done: bool,
}

impl RosterChunks {
    fn new(db: Db, course: Course) -> RosterChunks {
        RosterChunks { db, course, after: 0, done: false }
    }

    pub fn course(&self) -> &Course {
        &self.course
    }

    /// The next `size` rows; None once the roster is read to its end.
    pub fn next_chunk(&mut self, size: i64) -> Result<Option<Vec<RosterRow>>, Error> {
        if self.done {
            return Ok(None);
        }
        let rows = self.db.read(|conn| roster_chunk(conn, &self.course, self.after, size))?;
        self.after += rows.len() as i64;
        self.done = (rows.len() as i64) < size;
        Ok(Some(rows))
    }
}

/// The roster download of a course the caller manages (its 404 and 403 before any row).
pub fn managed_roster_chunks(db: &Db, key: &CourseKey, caller: &Principal) -> Result<RosterChunks, Error> {
    let course = db.snapshot(|conn| managed_course(conn, key, caller))?;
    Ok(RosterChunks::new(db.clone(), course))
}

/// Everyone on the roster, enrolled (in any state) or pre-enrolled: a page and the total.
pub fn everyone(conn: &Conn, course: &Course, offset: i64, limit: i64) -> Result<(i64, Vec<RosterRow>), Error> {
    let id = course.id;
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
    let (username, email) = (filter.username.as_deref(), filter.email.as_deref());
    let since = filter.since.map(|t| t.unix());
    let entries = store::enrollments::history(conn, course.id, username, email, since, before_id, limit)?;
    Ok(entries.into_iter().map(HistoryEntry::from).collect())
}

/// A managed course's enrollment history, newest first: `query` (filter, before id, page
/// size) is the surface's parse, its error answered after the course's 404 and 403.
pub fn managed_history(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    query: Result<(HistoryFilter, Option<i64>, i64), Error>,
) -> Result<(Course, Vec<HistoryEntry>), Error> {
    db.snapshot(|conn| {
        let course = managed_course(conn, key, caller)?;
        let (filter, before, size) = query?;
        let entries = history(conn, &course, &filter, before, size)?;
        Ok((course, entries))
    })
}

/// One page of a course's roster and the total for the filter.
pub fn roster(
    conn: &Conn,
    course: &Course,
    filter: RosterFilter,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<RosterRow>), Error> {
    let id = course.id;
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

/// What a staff roster page asks for: a filter, or the instructor dashboard's search
/// (active enrollments only), and the page.
#[derive(Debug, Clone)]
pub struct RosterQuery {
    pub filter: RosterFilter,
    pub search: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// A page of a managed course's roster and its total, in one snapshot so the count agrees
/// with the rows. `query` is the surface's parse of the request: its error is answered
/// after the course's 404 and 403, as the roster APIs always have.
pub fn managed_roster(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    query: Result<RosterQuery, Error>,
) -> Result<(i64, Vec<RosterRow>), Error> {
    db.snapshot(|conn| {
        let course = managed_course(conn, key, caller)?;
        let query = query?;
        match &query.search {
            Some(term) => search(conn, &course, term, query.offset, query.limit),
            None => roster(conn, &course, query.filter, query.offset, query.limit),
        }
    })
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
    let (total, rows) = store::enrollments::roster_search(conn, course.id, term, offset, limit)?;
    Ok((total, with_access(rows)))
}

/// Which page of a roster the console's roster page asks for.
pub struct RosterPageQuery<'a> {
    pub filter: RosterFilter,
    /// A search term (active enrollments only); empty: none.
    pub term: &'a str,
    pub offset: i64,
    pub limit: i64,
}

/// The console's roster page: the course, one page of its roster (everyone, by status, or
/// a search) with the total, and its waitlist, as of one moment.
pub struct RosterPage {
    pub course: Course,
    pub total: i64,
    pub rows: Vec<RosterRow>,
    pub waitlist: Vec<WaitlistEntry>,
}

/// A course's roster page for its staff.
pub fn roster_page(db: &Db, key: &CourseKey, caller: &Principal, query: &RosterPageQuery) -> Result<RosterPage, Error> {
    db.snapshot(|conn| {
        let course = course_managed_by(conn, key, caller)?;
        let (offset, limit) = (query.offset, query.limit);
        let (total, rows) = if query.term.is_empty() && query.filter == RosterFilter::All {
            everyone(conn, &course, offset, limit)
        } else if query.term.is_empty() {
            roster(conn, &course, query.filter, offset, limit)
        } else {
            search(conn, &course, query.term, offset, limit)
        }?;
        let waitlist = crate::core::lifecycle::waitlist(conn, &course)?;
        Ok(RosterPage { course, total, rows, waitlist })
    })
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
    let allowed = store::enrollments::allowed(conn, &email, course.id)?;
    let enrollment = match &user {
        Some(u) => store::enrollments::get(conn, u.id, course.id)?,
        None => None,
    };
    let waiting = match &user {
        Some(u) => store::enrollments::waitlist_position(conn, course.id, u.id)?,
        None => None,
    };
    if enrollment.is_none() && allowed.is_none() && waiting.is_none() {
        return Ok(None);
    }
    let created = enrollment.as_ref().map(|e| e.created).or(allowed.as_ref().map(|a| a.created)).unwrap_or_default();
    let created = Timestamp::from_unix(created);
    let lifecycle = enrollment.as_ref().map(|e| Lifecycle::from(e.lifecycle.clone()));
    Ok(Some(RosterRow {
        username: user.as_ref().map(|u| Username::from_stored(u.username.clone())),
        email: Email::from_stored(email),
        first_name: user.as_ref().map(|u| u.first_name.clone()).unwrap_or_default(),
        last_name: user.as_ref().map(|u| u.last_name.clone()).unwrap_or_default(),
        name: user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        mode: enrollment.as_ref().map(|e| e.mode.clone()),
        is_active: lifecycle.as_ref().is_some_and(|l| has_access(l, Timestamp::now())),
        created,
        updated: created,
        progress: match &enrollment {
            Some(e) => crate::core::progress::of_enrollment(conn, e.id)?,
            None => None,
        },
        allowed: allowed.is_some(),
        auto_enroll: allowed.is_some_and(|a| a.auto_enroll),
        lifecycle,
    }))
}

/// One learner's roster row (by username or email) in a managed course and their place on
/// its waitlist, in one snapshot: 404 when they are neither enrolled, pre-enrolled nor
/// waiting. `request`'s error (the surface's own parse) comes after the course's 404 and 403.
pub fn managed_roster_entry(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    identifier: &str,
    request: Result<(), Error>,
) -> Result<(RosterRow, Option<i64>), Error> {
    db.snapshot(|conn| {
        let course = managed_course(conn, key, caller)?;
        request?;
        let row = roster_entry(conn, &course, identifier)?.ok_or_else(|| {
            Error::not_found(format!("{identifier} is neither enrolled nor pre-enrolled in {}.", course.key))
        })?;
        let position = match row.username.as_ref().map(Username::as_str) {
            Some(username) => match crate::core::accounts::find_user(conn, username)? {
                Some(user) => waitlist_position(conn, &course, &user)?,
                None => None,
            },
            None => None,
        };
        Ok((row, position))
    })
}

/// A learner's place on the course's waitlist (1 is next), if they wait.
pub fn waitlist_position(conn: &Conn, course: &Course, user: &UserRecord) -> Result<Option<i64>, Error> {
    store::enrollments::waitlist_position(conn, course.id, user.id)
}

/// Course instructors and staff manage their own course; global staff manage every course.
pub fn may_manage(conn: &Conn, course: &Course, user_id: i64, is_global_staff: bool) -> Result<bool, Error> {
    Ok(is_global_staff || !store::courses::user_roles_in_course(conn, course.id, user_id)?.is_empty())
}

/// The course behind `key` for a caller who may manage it: 404 for an unknown course comes
/// before 403 for a caller who is neither its staff nor global staff (the server-to-server
/// API key manages every course). Run inside the use case's own scope.
pub fn managed_course(conn: &Conn, key: &CourseKey, caller: &Principal) -> Result<Course, Error> {
    let course = crate::core::catalog::course(conn, key)?;
    let allowed = match caller.user() {
        Some(user) => may_manage(conn, &course, user.id, caller.is_global_staff())?,
        None => true,
    };
    if !allowed {
        return Err(Error::forbidden(NOT_COURSE_STAFF));
    }
    Ok(course)
}

/// A course page that shows only the course (the batch form, the roster download): the
/// course, for a caller who may manage it.
pub fn course_for_staff(db: &Db, key: &CourseKey, caller: &Principal) -> Result<Course, Error> {
    db.snapshot(|conn| course_managed_by(conn, key, caller))
}

/// `managed_course` in the console's words: its pages tell a stranger "You are not on this
/// course's staff." where the APIs keep Open edX's message.
pub fn course_managed_by(conn: &Conn, key: &CourseKey, caller: &Principal) -> Result<Course, Error> {
    managed_course(conn, key, caller).map_err(in_console_words)
}

/// `managed_course`'s refusal, in Open edX's words (the APIs keep them).
const NOT_COURSE_STAFF: &str = "You do not have the required permissions for this course";

/// A staff use case's error as the console words it (see `course_managed_by`): only the
/// refusal of a stranger to the course changes; any other error (a form's missing CSRF
/// token is a 403 too) stays as it is.
pub fn in_console_words(e: Error) -> Error {
    if e.kind == ErrorKind::Forbidden && e.developer_message == NOT_COURSE_STAFF {
        Error::forbidden("You are not on this course's staff.")
    } else {
        e
    }
}

/// The courses the caller may manage (every course for global staff, else those they are
/// staff of), each with its number of active learners, as of one moment.
pub fn managed_courses(db: &Db, caller: &Principal) -> Result<Vec<(Course, i64)>, Error> {
    db.snapshot(|conn| {
        let courses = match caller.user() {
            Some(user) if !caller.is_global_staff() => {
                let mut keys: Vec<String> =
                    crate::core::catalog::roles_of_user(conn, user.id)?.into_iter().map(|(k, _)| k).collect();
                keys.dedup();
                keys.iter()
                    .filter_map(|k| CourseKey::parse(k).ok())
                    .map(|k| crate::core::catalog::course(conn, &k))
                    .collect::<Result<Vec<_>, Error>>()?
            }
            _ => crate::core::catalog::list(conn, false, 0, 1000)?.1,
        };
        courses
            .into_iter()
            .map(|course| {
                let (active, _) = roster(conn, &course, RosterFilter::Active, 0, 0)?;
                Ok((course, active))
            })
            .collect()
    })
}

/// Every enrollment matching the analytics filters (bounds are exclusive), each with its
/// progress, from one snapshot.
pub fn enrollment_batch(
    db: &Db,
    course_key: Option<&str>,
    username: Option<&str>,
    after: Option<crate::domain::Timestamp>,
    before: Option<crate::domain::Timestamp>,
) -> Result<Vec<(Enrollment, Option<Progress>)>, Error> {
    db.snapshot(|conn| {
        let rows =
            store::enrollments::batch(conn, course_key, username, after.map(|t| t.unix()), before.map(|t| t.unix()))?;
        rows.into_iter().map(|e| crate::core::progress::of_enrollment(conn, e.id).map(|p| (e.into(), p))).collect()
    })
}
