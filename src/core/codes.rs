//! Enrollment codes (Appsembler's registration codes): generated per course, redeemed by a
//! learner's email to enroll them through the enrollment core, cancelled or restored.
//! A code may be redeemed again, as the original API allows (its clients rely on it).

use crate::auth::secrets;
use crate::core::catalog::{self, Course};
use crate::core::enrollment::{self, Access, Change, Source};
use crate::core::{Error, ErrorKind};
use crate::domain::{CourseKey, Timestamp};
use crate::store::{self, Conn, Db};

/// The original alphabet: no vowels, no `1` or `l`, so codes read unambiguously.
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXYZ023456789bcdfghjkmnpqrstvwxyz";
const LENGTH: usize = 8;

fn random_code() -> String {
    // Rejection sampling keeps every symbol equally likely (256 is not a multiple of 50).
    let mut code = String::with_capacity(LENGTH);
    while code.len() < LENGTH {
        for b in secrets::random_bytes(16) {
            if (b as usize) < 250 && code.len() < LENGTH {
                code.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    code
}

pub fn generate(
    conn: &Conn,
    course: &Course,
    count: usize,
    created_by: Option<i64>,
    now: Timestamp,
) -> Result<Vec<String>, Error> {
    if count > 10_000 {
        return Err(Error::validation("At most 10000 codes can be generated at once."));
    }
    // The course's default mode, as the original stores CourseMode.DEFAULT_MODE_SLUG.
    let mode = enrollment::available_modes(course, now, false).into_iter().next();
    let mut codes = Vec::with_capacity(count);
    while codes.len() < count {
        let code = random_code();
        if store::codes::insert(conn, &code, course.id, created_by, mode.as_deref(), now.unix())? {
            codes.push(code);
        }
    }
    Ok(codes)
}

/// Appsembler's `enrollment-codes/generate`: `count` codes for the course a key names, in
/// one write with the course's lookup.
pub fn generate_for(
    db: &Db,
    key: &CourseKey,
    count: usize,
    created_by: Option<i64>,
    now: Timestamp,
) -> Result<Vec<String>, Error> {
    db.write(|conn| {
        let course = catalog::course(conn, key)?;
        generate(conn, &course, count, created_by, now)
    })
}

/// Why a redemption failed, in the original API's words.
/// The reason given for a missing or cancelled code (the failures the brute-force limit counts).
pub const CODE_NOT_FOUND: &str = "Enrollment code not found";

/// Enrolls the learner an email names with a code, in one write. The inner `Err` is the
/// refusal in the original's words; what was written before a refusal stays, as before.
pub fn redeem(db: &Db, email: &str, code: &str, now: Timestamp) -> Result<Result<(), String>, Error> {
    db.write(|conn| Ok(try_redeem(conn, email, code, now)))
}

fn try_redeem(conn: &Conn, email: &str, code: &str, now: Timestamp) -> Result<(), String> {
    let internal = |e: Error| e.developer_message;
    let user = store::users::by_email(conn, email).map_err(internal)?;
    let record = store::codes::by_code(conn, code).map_err(internal)?.filter(|c| c.is_valid);
    let (user, record) = match (user, record) {
        (_, None) => return Err(CODE_NOT_FOUND.into()),
        (None, _) => return Err("User not found".into()),
        (Some(u), Some(r)) => (u, r),
    };
    let course = catalog::course_by_id(conn, record.course_id).map_err(internal)?;
    let change =
        Change { actor: &user.username, surface: "appsembler", source: Source::Code, reason: None, notify: false };
    // A code is an invitation: the window and invitation-only do not apply; capacity does.
    let outcome =
        enrollment::enroll_user(conn, &user, &course, record.mode_slug.as_deref(), Access::Instructor, &change, now)
            .map_err(|e| match e.kind {
                ErrorKind::CourseFull => "Course full".to_owned(),
                ErrorKind::EnrollmentClosed => "Enrollment closed".to_owned(),
                _ => "Enrollment code error".to_owned(),
            })?;
    store::codes::add_redemption(conn, record.id, user.id, outcome.enrollment.map(|e| e.id), now.unix())
        .map_err(internal)?;
    Ok(())
}

/// `cancel` invalidates a code, `restore` makes it usable again; both unenroll whoever
/// redeemed it. None when the code does not exist.
pub fn set_status(conn: &Conn, code: &str, valid: bool, actor: &str, now: Timestamp) -> Result<Option<()>, Error> {
    let Some(record) = store::codes::by_code(conn, code)? else { return Ok(None) };
    let course = catalog::course_by_id(conn, record.course_id)?;
    let change = Change { actor, surface: "appsembler", source: Source::Code, reason: None, notify: false };
    for user_id in store::codes::redeemers(conn, record.id)? {
        if let Some(user) = store::users::by_id(conn, user_id)? {
            enrollment::unenroll_user(conn, &user, &course, None, &change, now)?;
        }
    }
    store::codes::delete_redemptions(conn, record.id)?;
    store::codes::set_valid(conn, record.id, valid)?;
    Ok(Some(()))
}

/// Appsembler's `enrollment-codes/status`: `set_status` in a write of its own.
pub fn cancel_or_restore(db: &Db, code: &str, valid: bool, actor: &str, now: Timestamp) -> Result<Option<()>, Error> {
    db.write(|conn| set_status(conn, code, valid, actor, now))
}

/// One code of a course, as the codes page lists it.
#[derive(Debug, Clone)]
pub struct Code {
    pub code: String,
    pub is_valid: bool,
    pub created: Timestamp,
    /// How often it was redeemed.
    pub redemptions: i64,
}

/// A course's codes, newest first.
pub fn list(conn: &Conn, course: &Course, limit: i64) -> Result<Vec<Code>, Error> {
    let rows = store::codes::for_course(conn, course.id, limit)?;
    Ok(rows
        .into_iter()
        .map(|(c, created, redemptions)| Code {
            code: c.code,
            is_valid: c.is_valid,
            created: Timestamp::from_unix(created),
            redemptions,
        })
        .collect())
}

/// The codes page: every course, the one chosen and its newest codes.
pub struct Overview {
    pub courses: Vec<Course>,
    /// The key asked for, else the first course's.
    pub selected: Option<String>,
    /// The selected course, when its key is a course key.
    pub course: Option<Course>,
    pub codes: Vec<Code>,
}

/// The codes of the course `asked` names (else of the first course), with every course to
/// choose from, as of one moment. A key naming no course is a 404.
pub fn overview(db: &Db, asked: Option<String>, limit: i64) -> Result<Overview, Error> {
    db.snapshot(|conn| {
        let courses = catalog::list(conn, false, 0, 1000)?.1;
        let selected = asked.or_else(|| courses.first().map(|c| c.key.to_string()));
        let course = match selected.as_deref().map(CourseKey::parse) {
            Some(Ok(key)) => Some(catalog::course(conn, &key)?),
            _ => None,
        };
        let codes = match &course {
            Some(course) => list(conn, course, limit)?,
            None => Vec::new(),
        };
        Ok(Overview { courses, selected, course, codes })
    })
}
