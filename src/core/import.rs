//! Moving a school over from Open edX: users (with their Django password hashes, verified
//! and upgraded at first login) and enrollments, from JSON lines, each file in one
//! transaction — a bad line rejects the whole file, naming the line.

use crate::core::accounts::{self, Actor, NewUser};
use crate::core::enrollment::{self, Access, Change, Source};
use crate::core::{catalog, Error};
use crate::domain::{CourseKey, Email, Profile, Timestamp, Username};
use crate::store::{self, Conn};
use serde_json::Value;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn at_line(n: usize, e: impl std::fmt::Display) -> Error {
    Error::validation(format!("line {n}: {e}"))
}

/// What a users file did: how many were created and skipped, and which accounts came
/// without a usable password (a Django `!…` unusable hash, or an algorithm Rollcall cannot
/// verify): they are imported without one and can use a set-password link.
pub struct UsersImported {
    pub created: usize,
    pub skipped: usize,
    pub without_password: Vec<String>,
}

/// `{"username", "email", "password" (a Django or argon2 hash), "name", "is_active",
/// "is_staff", "date_joined"}` per line. Existing usernames are skipped.
pub fn users(conn: &Conn, lines: &str, now: Timestamp) -> Result<UsersImported, Error> {
    let (mut created, mut skipped) = (0, 0);
    let mut without_password = Vec::new();
    for (i, line) in lines.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        let v: Value = serde_json::from_str(line).map_err(|e| at_line(n, e))?;
        let username = Username::existing(&text(&v, "username").unwrap_or_default()).map_err(|e| at_line(n, e))?;
        if store::users::by_username(conn, username.as_str())?.is_some() {
            skipped += 1;
            continue;
        }
        let email = Email::parse(&text(&v, "email").unwrap_or_default()).map_err(|e| at_line(n, e))?;
        let given = text(&v, "password").filter(|h| !h.is_empty());
        let hash = given.clone().filter(|h| h.starts_with("pbkdf2_sha256$") || h.starts_with("$argon2"));
        if let (Some(raw), None) = (&given, &hash) {
            let kind = if raw.starts_with('!') {
                "unusable (Django '!')".to_owned()
            } else {
                format!(
                    "'{}…', which Rollcall cannot verify",
                    raw.split('$').next().unwrap_or("").chars().take(20).collect::<String>()
                )
            };
            without_password.push(format!("line {n} ({}): password hash {kind}", username.as_str()));
        }
        let joined = match text(&v, "date_joined") {
            Some(d) => Timestamp::parse(&d).map_err(|e| at_line(n, e))?,
            None => now,
        };
        let new = NewUser {
            username,
            email,
            password_hash: hash,
            name: text(&v, "name").unwrap_or_default(),
            first_name: text(&v, "first_name").unwrap_or_default(),
            last_name: text(&v, "last_name").unwrap_or_default(),
            profile: Profile::default(),
            is_active: v.get("is_active").and_then(Value::as_bool).unwrap_or(true),
            is_staff: v.get("is_staff").and_then(Value::as_bool).unwrap_or(false),
            is_superuser: false,
        };
        accounts::create_user(conn, &Actor::SYSTEM, new, joined).map_err(|e| at_line(n, e.developer_message))?;
        created += 1;
    }
    Ok(UsersImported { created, skipped, without_password })
}

/// `{"username", "course_id", "mode", "is_active", "created"}` per line, into existing
/// courses; the enrollment rules' window and invitation checks do not apply to a record
/// being moved, and the enrollment keeps its original `created` date.
pub fn enrollments(conn: &Conn, lines: &str, now: Timestamp) -> Result<usize, Error> {
    let change = Change { actor: "import", surface: "cli", source: Source::Import, reason: None, notify: false };
    let mut count = 0;
    for (i, line) in lines.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        let v: Value = serde_json::from_str(line).map_err(|e| at_line(n, e))?;
        let (user, course) = user_and_course(conn, &v, n)?;
        let mode = text(&v, "mode");
        let at = match text(&v, "created") {
            Some(d) => Timestamp::parse(&d).map_err(|e| at_line(n, e))?,
            None => now,
        };
        enrollment::enroll_user(conn, &user, &course, mode.as_deref(), Access::Instructor, &change, at)
            .map_err(|e| at_line(n, e.developer_message))?;
        if v.get("is_active").and_then(Value::as_bool) == Some(false) {
            enrollment::unenroll_user(conn, &user, &course, None, &change, at)
                .map_err(|e| at_line(n, e.developer_message))?;
        }
        count += 1;
    }
    Ok(count)
}

/// A line's `username` and `course_id`, both of which must exist.
fn user_and_course(
    conn: &Conn,
    v: &Value,
    n: usize,
) -> Result<(crate::store::users::UserRecord, catalog::Course), Error> {
    let username = text(v, "username").unwrap_or_default();
    let user = store::users::by_username(conn, &username)?.ok_or_else(|| at_line(n, format!("no user {username}")))?;
    let key = CourseKey::parse(&text(v, "course_id").unwrap_or_default()).map_err(|e| at_line(n, e))?;
    let course = catalog::course(conn, &key).map_err(|e| at_line(n, e.developer_message))?;
    Ok((user, course))
}

/// Progress reports (username, course_id, completion, grade, passed, completed_at,
/// certificate_url), one JSON object a line, for existing enrollments.
pub fn progress(conn: &Conn, lines: &str, now: Timestamp) -> Result<usize, Error> {
    let mut count = 0;
    for (i, line) in lines.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        let v: Value = serde_json::from_str(line).map_err(|e| at_line(n, e))?;
        let (user, course) = user_and_course(conn, &v, n)?;
        let share = |name: &str| -> Result<crate::domain::Fraction, Error> {
            match v.get(name) {
                None | Some(Value::Null) if name == "grade" => Ok(crate::domain::Fraction::default()),
                Some(Value::Number(x)) => crate::domain::Fraction::parse(x.as_f64().unwrap_or(-1.0))
                    .map_err(|e| at_line(n, format!("{name}: {e}"))),
                _ => Err(at_line(n, format!("{name} must be a number between 0 and 1"))),
            }
        };
        let report = crate::core::progress::Report {
            completion: share("completion")?,
            grade: share("grade")?,
            passed: v.get("passed").and_then(Value::as_bool).unwrap_or(false),
            completed_at: text(&v, "completed_at")
                .map(|d| Timestamp::parse(&d))
                .transpose()
                .map_err(|e| at_line(n, e))?,
            certificate_url: text(&v, "certificate_url"),
        };
        crate::core::progress::record(conn, &course, &user, &report, "import", "cli", now)
            .map_err(|e| at_line(n, e.developer_message))?;
        count += 1;
    }
    Ok(count)
}
