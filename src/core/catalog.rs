//! The course catalog: courses, their modes (enrollment tracks with prices) and their
//! staff. A course that ever had an enrollment is only ever unpublished, never deleted.

use crate::core::{Error, ErrorKind};
use crate::domain::{CourseKey, Currency, Email, Money, Principal, Timestamp, Username};
use crate::store::courses::{CourseRecord, ModeRecord};
use crate::store::{self, Conn, Db};

/// Course fields as parsed from a request: `None` = not given; `Some(None)` = cleared.
#[derive(Debug, Default)]
pub struct CourseFields {
    pub code: Option<Option<String>>,
    pub title: Option<String>,
    pub level: Option<Option<String>>,
    pub duration_hours: Option<Option<i64>>,
    pub price: Option<Money>,
    pub start: Option<Option<Timestamp>>,
    pub end: Option<Option<Timestamp>>,
    pub enrollment_start: Option<Option<Timestamp>>,
    pub enrollment_end: Option<Option<Timestamp>>,
    pub invitation_only: Option<bool>,
    pub max_enrollments: Option<Option<i64>>,
    pub self_paced: Option<bool>,
    pub published: Option<bool>,
    /// Replaces every mode when given.
    pub modes: Option<Vec<Mode>>,
    pub access_days: Option<Option<i64>>,
    /// One of `lifecycle::EXPIRY_ACTIONS`.
    pub expiry_action: Option<String>,
    pub expiry_notice_days: Option<Option<i64>>,
    pub waitlist: Option<bool>,
    pub waitlist_limit: Option<Option<i64>>,
    pub suspended_holds_seat: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Mode {
    pub slug: String,
    pub name: String,
    pub min_price: Money,
    pub expiration: Option<Timestamp>,
    pub description: Option<String>,
    pub sku: Option<String>,
}

impl Mode {
    fn record(&self) -> ModeRecord {
        ModeRecord {
            slug: self.slug.clone(),
            name: self.name.clone(),
            min_price_minor: self.min_price.minor(),
            currency: self.min_price.currency().as_str().to_owned(),
            expiration_datetime: self.expiration.map(|t| t.unix()),
            description: self.description.clone(),
            sku: self.sku.clone(),
        }
    }
}

impl From<ModeRecord> for Mode {
    /// Only parsed currency codes are stored (`Mode::record`), so the fallback is never taken.
    fn from(m: ModeRecord) -> Mode {
        let currency = Currency::parse(&m.currency).unwrap_or(Currency::USD);
        Mode {
            slug: m.slug,
            name: m.name,
            min_price: Money::from_minor(m.min_price_minor, currency),
            expiration: m.expiration_datetime.map(Timestamp::from_unix),
            description: m.description,
            sku: m.sku,
        }
    }
}

fn modes_of(conn: &Conn, course_id: i64) -> Result<Vec<Mode>, Error> {
    Ok(store::courses::modes(conn, course_id)?.into_iter().map(Mode::from).collect())
}

/// A course with its modes, as every surface shows it.
#[derive(Debug, Clone)]
pub struct Course {
    pub id: i64,
    pub key: CourseKey,
    pub title: String,
    /// The catalog code the checkout API orders by (`WEB-301`).
    pub code: Option<String>,
    pub level: Option<String>,
    pub duration_hours: Option<i64>,
    pub price: Money,
    pub published: bool,
    pub self_paced: bool,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// When learners may enroll on their own (staff may enroll them at any time).
    pub enrollment_start: Option<Timestamp>,
    pub enrollment_end: Option<Timestamp>,
    pub invitation_only: bool,
    /// Seats: the active learners it takes (and the suspended, if they hold their seat).
    pub max_enrollments: Option<i64>,
    pub suspended_holds_seat: bool,
    /// Whether a full course takes learners onto its waitlist, and how many at the most.
    pub waitlist: bool,
    pub waitlist_limit: Option<i64>,
    /// An enrollment's default length in days, its `access_end` set when it starts.
    pub access_days: Option<i64>,
    /// What the expiry job does at `access_end` (one of `lifecycle::EXPIRY_ACTIONS`), and
    /// how many days before it the learner is told.
    pub expiry_action: String,
    pub expiry_notice_days: Option<i64>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub modes: Vec<Mode>,
}

impl Course {
    /// Keys and currency codes are stored only as parsed (`create`, `apply`; the column's
    /// default is `USD`), so the currency fallback is never taken.
    fn from_stored(r: CourseRecord, modes: Vec<Mode>) -> Course {
        let currency = Currency::parse(&r.currency).unwrap_or(Currency::USD);
        Course {
            id: r.id,
            key: CourseKey::from_stored(r.course_key),
            code: r.code,
            title: r.title,
            level: r.level,
            duration_hours: r.duration_hours,
            price: Money::from_minor(r.price_minor, currency),
            start: r.start.map(Timestamp::from_unix),
            end: r.end.map(Timestamp::from_unix),
            enrollment_start: r.enrollment_start.map(Timestamp::from_unix),
            enrollment_end: r.enrollment_end.map(Timestamp::from_unix),
            invitation_only: r.invitation_only,
            max_enrollments: r.max_enrollments,
            self_paced: r.self_paced,
            published: r.published,
            created: Timestamp::from_unix(r.created),
            updated: Timestamp::from_unix(r.updated),
            access_days: r.access_days,
            expiry_action: r.expiry_action,
            expiry_notice_days: r.expiry_notice_days,
            waitlist: r.waitlist,
            waitlist_limit: r.waitlist_limit,
            suspended_holds_seat: r.suspended_holds_seat,
            modes,
        }
    }
}

fn with_modes(conn: &Conn, record: CourseRecord) -> Result<Course, Error> {
    let modes = modes_of(conn, record.id)?;
    Ok(Course::from_stored(record, modes))
}

/// The stored row of a course, for the changes that rewrite it.
fn row(conn: &Conn, key: &CourseKey) -> Result<CourseRecord, Error> {
    store::courses::by_key(conn, key.as_str())?.ok_or_else(|| {
        Error::not_found(format!("No course '{key}' exists."))
            .with_user_message("The requested course could not be found.")
    })
}

pub fn course(conn: &Conn, key: &CourseKey) -> Result<Course, Error> {
    with_modes(conn, row(conn, key)?)
}

/// A course the public may see: `None` when it does not exist or is unpublished, which
/// the public surfaces answer alike so a draft's existence does not leak.
pub fn published_course(db: &Db, key: &CourseKey) -> Result<Option<Course>, Error> {
    match db.read(|conn| course(conn, key)) {
        Ok(c) => Ok(Some(c).filter(|c| c.published)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// One course with its modes, for a surface that shows it.
pub fn show_course(db: &Db, key: &CourseKey) -> Result<Course, Error> {
    db.read(|conn| course(conn, key))
}

pub fn course_by_id(conn: &Conn, id: i64) -> Result<Course, Error> {
    let record = store::courses::by_id(conn, id)?.ok_or_else(|| Error::internal(format!("course {id} vanished")))?;
    with_modes(conn, record)
}

pub fn list(conn: &Conn, published_only: bool, offset: i64, limit: i64) -> Result<(i64, Vec<Course>), Error> {
    let total = store::courses::count(conn, published_only)?;
    let courses = store::courses::list(conn, published_only, offset, limit)?
        .into_iter()
        .map(|record| with_modes(conn, record))
        .collect::<Result<_, Error>>()?;
    Ok((total, courses))
}

/// Appsembler's `search_courses`: the published courses whose title, code or key hold every
/// word of `term` (any case), of one organization if `org` is given; the total and one page.
pub fn search_published(
    db: &Db,
    term: &str,
    org: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Course>), Error> {
    let (_, all) = db.snapshot(|conn| list(conn, true, 0, i64::MAX))?;
    let term = term.to_lowercase();
    let matches: Vec<Course> = all
        .into_iter()
        .filter(|c| {
            let haystack = format!("{} {} {}", c.title, c.code.clone().unwrap_or_default(), c.key).to_lowercase();
            let org_ok = org.is_none_or(|o| c.key.org().eq_ignore_ascii_case(o));
            org_ok && term.split_whitespace().all(|w| haystack.contains(w))
        })
        .collect();
    let total = matches.len() as i64;
    Ok((total, matches.into_iter().skip(offset as usize).take(limit as usize).collect()))
}

/// A page of the catalog and the total, from one snapshot so that the two agree.
pub fn courses_page(db: &Db, published_only: bool, offset: i64, limit: i64) -> Result<(i64, Vec<Course>), Error> {
    db.snapshot(|conn| list(conn, published_only, offset, limit))
}

pub fn create(conn: &Conn, key: &CourseKey, fields: &CourseFields, now: Timestamp) -> Result<Course, Error> {
    let title = fields.title.clone().ok_or_else(|| Error::field("title", "A course needs a title."))?;
    let mut record = CourseRecord {
        course_key: key.as_str().to_owned(),
        title,
        currency: "USD".into(),
        published: true,
        created: now.unix(),
        expiry_action: "keep".into(),
        suspended_holds_seat: true,
        ..CourseRecord::default()
    };
    apply(&mut record, fields, now)?;
    record.id = store::courses::insert(conn, &record)?;
    if let Some(modes) = &fields.modes {
        replace_modes(conn, record.id, modes)?;
    }
    let created = course(conn, key)?;
    crate::core::enrollment::claim_pending_pre_enrollments(conn, &created, now)?;
    Ok(created)
}

/// Adds a course to the catalog (global staff, through the admin API or the console).
pub fn create_course(db: &Db, key: &CourseKey, fields: &CourseFields, now: Timestamp) -> Result<Course, Error> {
    db.write(|conn| create(conn, key, fields, now))
}

pub fn update(conn: &Conn, key: &CourseKey, fields: &CourseFields, now: Timestamp) -> Result<Course, Error> {
    let mut record = row(conn, key)?;
    apply(&mut record, fields, now)?;
    store::courses::update(conn, &record)?;
    if let Some(modes) = &fields.modes {
        replace_modes(conn, record.id, modes)?;
    }
    // A capacity raised (or removed, or suspended learners no longer holding seats) frees
    // seats: the waitlist fills them now.
    crate::core::lifecycle::fill_seats(conn, &course(conn, key)?, "admin", now)?;
    course(conn, key)
}

/// Changes a course's settings, for a caller who may manage it. `fields` is the parsed
/// form or why it did not parse: a missing course or a stranger is told first.
pub fn update_course_as_manager(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    fields: Result<CourseFields, Error>,
    now: Timestamp,
) -> Result<Course, Error> {
    db.write(|conn| {
        crate::core::roster::course_managed_by(conn, key, caller)?;
        update(conn, key, &fields?, now)
    })
}

/// An admin changes a course; the seats it frees go to its waitlist in the same write.
pub fn update_course(db: &Db, key: &CourseKey, fields: &CourseFields, now: Timestamp) -> Result<Course, Error> {
    db.write(|conn| update(conn, key, fields, now))
}

fn apply(r: &mut CourseRecord, f: &CourseFields, now: Timestamp) -> Result<(), Error> {
    fn set<T: Clone>(target: &mut T, value: &Option<T>) {
        if let Some(v) = value {
            *target = v.clone();
        }
    }
    let unix = |v: &Option<Option<Timestamp>>| v.map(|t| t.map(|t| t.unix()));
    set(&mut r.code, &f.code);
    set(&mut r.title, &f.title);
    set(&mut r.level, &f.level);
    set(&mut r.duration_hours, &f.duration_hours);
    if let Some(price) = f.price {
        r.price_minor = price.minor();
        r.currency = price.currency().as_str().to_owned();
    }
    set(&mut r.start, &unix(&f.start));
    set(&mut r.end, &unix(&f.end));
    set(&mut r.enrollment_start, &unix(&f.enrollment_start));
    set(&mut r.enrollment_end, &unix(&f.enrollment_end));
    set(&mut r.invitation_only, &f.invitation_only);
    set(&mut r.max_enrollments, &f.max_enrollments);
    set(&mut r.self_paced, &f.self_paced);
    set(&mut r.published, &f.published);
    set(&mut r.access_days, &f.access_days);
    set(&mut r.expiry_action, &f.expiry_action);
    set(&mut r.expiry_notice_days, &f.expiry_notice_days);
    set(&mut r.waitlist, &f.waitlist);
    set(&mut r.waitlist_limit, &f.waitlist_limit);
    set(&mut r.suspended_holds_seat, &f.suspended_holds_seat);
    r.updated = now.unix();

    if r.title.trim().is_empty() || r.title.chars().count() > crate::domain::Title::MAX_CHARS {
        return Err(Error::field("title", "A course title must be 1 to 255 characters."));
    }
    if let (Some(s), Some(e)) = (r.start, r.end) {
        if e < s {
            return Err(Error::field("end", "The course cannot end before it starts."));
        }
    }
    if let (Some(s), Some(e)) = (r.enrollment_start, r.enrollment_end) {
        if e < s {
            return Err(Error::field("enrollment_end", "Enrollment cannot close before it opens."));
        }
    }
    if r.max_enrollments.is_some_and(|m| m < 0) {
        return Err(Error::field("max_enrollments", "max_enrollments cannot be negative."));
    }
    if r.access_days.is_some_and(|d| !(1..=36_500).contains(&d)) {
        return Err(Error::field("access_days", "access_days must be between 1 and 36500."));
    }
    if !crate::core::lifecycle::EXPIRY_ACTIONS.contains(&r.expiry_action.as_str()) {
        return Err(Error::field("expiry_action", "expiry_action must be keep, suspend or unenroll."));
    }
    if r.expiry_notice_days.is_some_and(|d| !(0..=3_650).contains(&d)) {
        return Err(Error::field("expiry_notice_days", "expiry_notice_days must be between 0 and 3650."));
    }
    if r.waitlist_limit.is_some_and(|l| l < 0) {
        return Err(Error::field("waitlist_limit", "waitlist_limit cannot be negative."));
    }
    if r.duration_hours.is_some_and(|d| d < 0) {
        return Err(Error::field("duration_hours", "duration_hours cannot be negative."));
    }
    Ok(())
}

fn replace_modes(conn: &Conn, course_id: i64, modes: &[Mode]) -> Result<(), Error> {
    for (i, mode) in modes.iter().enumerate() {
        if modes[..i].iter().any(|m| m.slug == mode.slug) {
            return Err(Error::field("modes", format!("The mode '{}' is listed twice.", mode.slug)));
        }
    }
    store::courses::delete_modes(conn, course_id)?;
    for mode in modes {
        store::courses::upsert_mode(conn, course_id, &mode.record())?;
    }
    Ok(())
}

/// Adds or replaces one mode.
pub fn put_mode(conn: &Conn, key: &CourseKey, mode: &Mode) -> Result<Course, Error> {
    let existing = course(conn, key)?;
    store::courses::upsert_mode(conn, existing.id, &mode.record())?;
    course(conn, key)
}

/// Adds or replaces one mode parsed by `parse` with the course's currency as the default one:
/// the course is looked up first, so an unknown course is a 404 before any field error.
pub fn add_mode(
    db: &Db,
    key: &CourseKey,
    parse: impl FnOnce(Currency) -> Result<Mode, Error> + Send,
) -> Result<Course, Error> {
    db.write(|conn| {
        let currency = course(conn, key)?.price.currency();
        put_mode(conn, key, &parse(currency)?)
    })
}

pub fn delete_mode(conn: &Conn, key: &CourseKey, slug: &str) -> Result<(), Error> {
    let existing = course(conn, key)?;
    if !store::courses::delete_mode(conn, existing.id, slug)? {
        return Err(Error::not_found(format!("Course '{key}' has no mode '{slug}'.")));
    }
    Ok(())
}

/// An admin removes one of a course's modes.
pub fn remove_mode(db: &Db, key: &CourseKey, slug: &str) -> Result<(), Error> {
    db.write(|conn| delete_mode(conn, key, slug))
}

pub enum Removal {
    Unpublished,
    Deleted,
}

/// Unpublishes; `purge` deletes instead, but only a course that never had an enrollment.
pub fn remove(conn: &Conn, key: &CourseKey, purge: bool, now: Timestamp) -> Result<Removal, Error> {
    let mut record = row(conn, key)?;
    if purge {
        if store::courses::has_enrollments(conn, record.id)? {
            return Err(Error::conflict(format!(
                "Course '{key}' has enrollments and is kept for the record; it can only be unpublished."
            )));
        }
        store::courses::delete(conn, record.id)?;
        return Ok(Removal::Deleted);
    }
    record.published = false;
    record.updated = now.unix();
    store::courses::update(conn, &record)?;
    Ok(Removal::Unpublished)
}

/// An admin unpublishes (or, with `purge`, deletes) a course.
pub fn remove_course(db: &Db, key: &CourseKey, purge: bool, now: Timestamp) -> Result<Removal, Error> {
    db.write(|conn| remove(conn, key, purge, now))
}

pub const COURSE_ROLES: [&str; 2] = ["instructor", "staff"];

/// One role a person holds in a course.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub username: Username,
    pub email: Email,
    /// One of `COURSE_ROLES`.
    pub role: String,
    pub created: Timestamp,
}

/// A course's staff, as the surfaces show them.
fn staff_of(conn: &Conn, course_id: i64) -> Result<Vec<StaffMember>, Error> {
    let roles = store::courses::roles(conn, course_id)?;
    Ok(roles
        .into_iter()
        .map(|r| StaffMember {
            username: Username::from_stored(r.username),
            email: Email::from_stored(r.email),
            role: r.role,
            created: Timestamp::from_unix(r.created),
        })
        .collect())
}

pub fn staff(conn: &Conn, key: &CourseKey) -> Result<Vec<StaffMember>, Error> {
    let c = course(conn, key)?;
    staff_of(conn, c.id)
}

/// A course and its staff (the console's settings page), for a caller who may manage it.
pub fn course_with_staff(db: &Db, key: &CourseKey, caller: &Principal) -> Result<(Course, Vec<StaffMember>), Error> {
    db.snapshot(|conn| {
        let course = crate::core::roster::course_managed_by(conn, key, caller)?;
        let roles = staff_of(conn, course.id)?;
        Ok((course, roles))
    })
}

/// A course's instructors and staff.
pub fn course_staff(db: &Db, key: &CourseKey) -> Result<Vec<StaffMember>, Error> {
    db.read(|conn| staff(conn, key))
}

pub fn grant_role(
    conn: &Conn,
    key: &CourseKey,
    username: &Username,
    role: &str,
    now: Timestamp,
) -> Result<Vec<StaffMember>, Error> {
    if !COURSE_ROLES.contains(&role) {
        return Err(Error::field("role", format!("role must be 'instructor' or 'staff', not '{role}'.")));
    }
    let c = course(conn, key)?;
    let user = store::users::by_username(conn, username.as_str())?
        .ok_or_else(|| Error::not_found(format!("The user {username} does not exist.")))?;
    store::courses::grant_role(conn, c.id, user.id, role, now.unix())?;
    staff_of(conn, c.id)
}

/// An admin grants a course role; answers the course's staff after the change.
pub fn grant_course_role(
    db: &Db,
    key: &CourseKey,
    username: &Username,
    role: &str,
    now: Timestamp,
) -> Result<Vec<StaffMember>, Error> {
    db.write(|conn| grant_role(conn, key, username, role, now))
}

pub fn revoke_role(conn: &Conn, key: &CourseKey, username: &Username, role: Option<&str>) -> Result<(), Error> {
    let c = course(conn, key)?;
    let user = store::users::by_username(conn, username.as_str())?
        .ok_or_else(|| Error::not_found(format!("The user {username} does not exist.")))?;
    if !store::courses::revoke_role(conn, c.id, user.id, role)? {
        return Err(Error::not_found(format!("{username} holds no such role in {key}.")));
    }
    Ok(())
}

/// One change to a course's staff: a role given, or taken back.
pub struct StaffChange {
    pub username: Username,
    pub role: String,
    pub remove: bool,
}

/// Gives or takes back one staff role, for a caller who may manage the course. `change` is
/// the parsed form or why it did not parse: a missing course or a stranger is told first.
pub fn change_staff(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    change: Result<StaffChange, Error>,
    now: Timestamp,
) -> Result<Course, Error> {
    db.write(|conn| {
        let course = crate::core::roster::course_managed_by(conn, key, caller)?;
        let change = change?;
        if change.remove {
            revoke_role(conn, key, &change.username, Some(&change.role))?;
        } else {
            grant_role(conn, key, &change.username, &change.role, now)?;
        }
        Ok(course)
    })
}

/// An admin revokes one course role, or all of the user's roles in the course.
pub fn revoke_course_role(db: &Db, key: &CourseKey, username: &Username, role: Option<&str>) -> Result<(), Error> {
    db.write(|conn| revoke_role(conn, key, username, role))
}

/// (course key, role) for every course the user has a staff role in.
pub fn roles_of_user(conn: &Conn, user_id: i64) -> Result<Vec<(String, String)>, Error> {
    crate::store::courses::roles_of_user(conn, user_id)
}

/// The caller's own course roles (LMS v1's roles list), in one read.
pub fn own_roles(db: &Db, user_id: i64) -> Result<Vec<(String, String)>, Error> {
    db.read(|conn| roles_of_user(conn, user_id))
}
