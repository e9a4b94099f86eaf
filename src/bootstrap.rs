//! First start: the superuser and OAuth client printed once, and the optional demo catalog.

use crate::auth::{self, passwords::Hasher};
use crate::core::accounts::{self, Actor, NewUser};
use crate::core::catalog::{self, CourseFields, Mode};
use crate::core::enrollment::{self, Access, Change, Source};
use crate::core::Error;
use crate::core::{codes, learning_paths};
use crate::domain::{CourseKey, Currency, Email, Fraction, LearningPathKey, Money, Profile, Timestamp, Username};
use crate::store::{self, Db};
use std::path::{Path, PathBuf};

pub struct Credentials {
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Credentials {
    /// The four secrets, one `name: value` line each.
    pub fn text(&self) -> String {
        format!(
            "username: {}\npassword: {}\nclient_id: {}\nclient_secret: {}",
            self.username, self.password, self.client_id, self.client_secret
        )
    }
}

fn credentials_file_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.first-start-credentials", db.display()))
}

/// Where the first start's secrets go when stdout is not a terminal (a service manager's
/// journal must never hold them): a new file beside the database, readable by its owner.
pub fn write_credentials_file(db: &Path, text: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = credentials_file_path(db);
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path).map_err(cannot)?;
    file.write_all(text.as_bytes()).map_err(cannot)?;
    Ok(path)
}

/// Adds `text` (the demo's passwords) to the first start's secrets file.
pub fn append_to_credentials_file(db: &Path, text: &str) -> Result<PathBuf, String> {
    let existing = std::fs::read_to_string(credentials_file_path(db)).unwrap_or_default();
    write_credentials_file(db, &format!("{existing}{text}"))
}

/// Creates the superuser and an OAuth client acting as it, in one transaction. Refuses on
/// an initialised database: a password is never reset silently.
pub fn initialise(db: &Db, hasher: &Hasher) -> Result<Credentials, Error> {
    let password = auth::secrets::random_token(18);
    let hash = hasher.hash(&password);
    let now = Timestamp::now();
    db.write(|conn| {
        if accounts::is_initialised(conn)? {
            return Err(Error::conflict(format!(
                "the database {} is already initialised; use `rollcall create-user` and `rollcall create-client` to add accounts",
                db.path().display()
            )));
        }
        let username = if store::users::by_username(conn, "admin")?.is_none() { "admin".to_owned() } else { format!("admin-{}", &auth::secrets::random_token(4)) };
        let user = accounts::create_user(
            conn,
            &Actor::SYSTEM,
            NewUser {
                username: Username::parse(&username)?,
                email: Email::parse(&format!("{username}@rollcall.invalid"))?,
                password_hash: Some(hash),
                name: "Rollcall Administrator".into(),
                first_name: String::new(),
                last_name: String::new(),
                profile: Profile::default(),
                is_active: true,
                is_staff: true,
                is_superuser: true,
            },
            now,
        )?;
        let client = auth::clients::create(conn, "Rollcall bootstrap client", &user.username, false, now.unix())?;
        accounts::mark_initialised(conn, now)?;
        Ok(Credentials { username: user.username, password, client_id: client.record.client_id, client_secret: client.client_secret.unwrap_or_default() })
    })
}

pub fn is_initialised(db: &Db) -> Result<bool, Error> {
    db.read(accounts::is_initialised)
}

/// What the demo seeded: its learners' usernames and passwords (shown once) and the
/// enrollment codes it generated.
pub struct DemoSeed {
    pub learners: Vec<(String, String)>,
    pub codes: Vec<String>,
}

/// Seeds a small demo once: the catalog, three learners with enrollments, a pre-enrollment,
/// a learning path and enrollment codes, in one transaction. None if it was already there.
pub fn seed_demo(db: &Db, hasher: &Hasher) -> Result<Option<DemoSeed>, Error> {
    let now = Timestamp::now();
    let day = 24 * 3600;
    let usd = Currency::USD;
    let money = |s: &str| Money::parse(s, usd);
    let mode = |slug: &str, name: &str, price: &str| -> Result<Mode, Error> {
        Ok(Mode {
            slug: slug.into(),
            name: name.into(),
            min_price: money(price)?,
            expiration: None,
            description: None,
            sku: None,
        })
    };
    let courses: Vec<(&str, CourseFields)> = vec![
        (
            "course-v1:Rollcall+WEB-101+2026",
            CourseFields {
                code: Some(Some("WEB-101".into())),
                title: Some("Web Foundations".into()),
                level: Some(Some("beginner".into())),
                duration_hours: Some(Some(12)),
                price: Some(money("0")?),
                self_paced: Some(true),
                start: Some(Some(now.plus_seconds(-30 * day))),
                modes: Some(vec![mode("audit", "Audit", "0")?, mode("verified", "Verified Certificate", "49.00")?]),
                ..CourseFields::default()
            },
        ),
        (
            "course-v1:Rollcall+WEB-301+2026",
            CourseFields {
                code: Some(Some("WEB-301".into())),
                title: Some("Advanced Web Systems".into()),
                level: Some(Some("advanced".into())),
                duration_hours: Some(Some(40)),
                price: Some(money("299.00")?),
                start: Some(Some(now.plus_seconds(14 * day))),
                end: Some(Some(now.plus_seconds(104 * day))),
                enrollment_start: Some(Some(now.plus_seconds(-7 * day))),
                enrollment_end: Some(Some(now.plus_seconds(60 * day))),
                modes: Some(vec![mode("audit", "Audit", "0")?, mode("verified", "Verified Certificate", "299.00")?]),
                ..CourseFields::default()
            },
        ),
        (
            "course-v1:Rollcall+RES-501+2026",
            CourseFields {
                code: Some(Some("RES-501".into())),
                title: Some("Research Methods (by invitation)".into()),
                level: Some(Some("advanced".into())),
                duration_hours: Some(Some(30)),
                price: Some(money("0")?),
                invitation_only: Some(true),
                ..CourseFields::default()
            },
        ),
        (
            "course-v1:Rollcall+SEM-201+2026",
            CourseFields {
                code: Some(Some("SEM-201".into())),
                title: Some("Small-Group Seminar".into()),
                level: Some(Some("intermediate".into())),
                duration_hours: Some(Some(8)),
                price: Some(money("25.00")?),
                max_enrollments: Some(Some(3)),
                modes: Some(vec![mode("audit", "Audit", "0")?]),
                ..CourseFields::default()
            },
        ),
    ];
    // Hashed before the write transaction: argon2 is slow on purpose.
    let learners: Vec<(String, String, String)> = ["ann", "bob", "cat"]
        .iter()
        .map(|name| {
            let password = auth::secrets::random_token(12);
            let hash = hasher.hash(&password);
            (name.to_string(), password, hash)
        })
        .collect();
    db.write(|conn| {
        if store::settings::get(conn, "demo_seeded_at")?.is_some() {
            return Ok(None);
        }
        for (key, fields) in &courses {
            let key = CourseKey::parse(key)?;
            if store::courses::by_key(conn, key.as_str())?.is_none() {
                catalog::create(conn, &key, fields, now)?;
            }
        }
        let course = |key: &str| catalog::course(conn, &CourseKey::parse(key)?);
        let change = Change { actor: "demo", surface: "demo", source: Source::Api, reason: None, notify: false };
        let mut users = Vec::new();
        for (name, _, hash) in &learners {
            let title = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
            let new = NewUser {
                username: Username::parse(name)?,
                email: Email::parse(&format!("{name}@demo.rollcall.invalid"))?,
                password_hash: Some(hash.clone()),
                name: format!("{title} Demo"),
                first_name: title,
                last_name: "Demo".into(),
                profile: Profile::default(),
                is_active: true,
                is_staff: false,
                is_superuser: false,
            };
            users.push(accounts::create_user(conn, &Actor::SYSTEM, new, now)?);
        }
        let (web101, sem201) = (course("course-v1:Rollcall+WEB-101+2026")?, course("course-v1:Rollcall+SEM-201+2026")?);
        for (user, course, mode) in [
            (&users[0], &web101, "verified"),
            (&users[1], &web101, "audit"),
            (&users[1], &sem201, "audit"),
            (&users[2], &sem201, "audit"),
        ] {
            enrollment::enroll_user(conn, user, course, Some(mode), Access::Instructor, &change, now)?;
        }
        let research = course("course-v1:Rollcall+RES-501+2026")?;
        enrollment::create_pre_enrollment(
            conn,
            &Email::parse("dana@demo.rollcall.invalid")?,
            &research,
            true,
            &change,
            now,
        )?;
        let path = learning_paths::create(
            conn,
            learning_paths::NewPath {
                key: LearningPathKey::parse("path-v1:Rollcall+WEB+2026+T1")?,
                display_name: "Web track".into(),
                subtitle: "From foundations to systems".into(),
                description: "Web Foundations, then Advanced Web Systems.".into(),
                level: "beginner".into(),
                duration: "4 months".into(),
                time_commitment: "4-6 hours/week".into(),
                sequential: true,
                invite_only: false,
                steps: vec![
                    (CourseKey::parse("course-v1:Rollcall+WEB-101+2026")?, 0.4),
                    (CourseKey::parse("course-v1:Rollcall+WEB-301+2026")?, 0.6),
                ],
                required_completion: Fraction::parse(0.8)?,
                required_grade: Fraction::parse(0.75)?,
            },
            now,
        )?;
        learning_paths::enroll(conn, &path, &users[0], now)?;
        let codes = codes::generate(conn, &course("course-v1:Rollcall+WEB-301+2026")?, 3, None, now)?;
        store::settings::set(conn, "demo_seeded_at", &now.to_iso())?;
        Ok(Some(DemoSeed {
            learners: learners.iter().map(|(name, password, _)| (name.clone(), password.clone())).collect(),
            codes,
        }))
    })
}

/// `serve --fixtures FILE.json`: users, OAuth clients with the exact ids and secrets given,
/// courses (the admin API's course body), enrollments and pre-enrollments, loaded in one
/// transaction. Entries already there are left alone, so loading a file twice changes
/// nothing; a bad entry stops start-up naming it and its field.
pub fn load_fixtures(db: &Db, hasher: &Hasher, text: &str) -> Result<usize, Error> {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(text).map_err(|e| Error::validation(format!("fixtures: {e}")))?;
    let list = |name: &str| -> Result<Vec<Value>, Error> {
        match doc.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(Error::validation(format!("fixtures: {name} must be a list"))),
        }
    };
    if let Some(unknown) = doc.as_object().and_then(|o| {
        o.keys().find(|k| !["users", "clients", "courses", "enrollments", "pre_enrollments"].contains(&k.as_str()))
    }) {
        return Err(Error::validation(format!("fixtures: unknown section '{unknown}'")));
    }
    let bad = |section: &str, i: usize, field: &str, why: &str| {
        Error::validation(format!("fixtures {section}[{i}].{field}: {why}"))
    };
    let text_of = |v: &Value, section: &str, i: usize, field: &str| -> Result<String, Error> {
        v.get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad(section, i, field, "a string is required"))
    };
    let flag = |v: &Value, field: &str, default: bool| v.get(field).and_then(Value::as_bool).unwrap_or(default);
    // Passwords are hashed before the transaction: argon2 is slow on purpose.
    let users = list("users")?;
    let mut hashes = Vec::new();
    for (i, u) in users.iter().enumerate() {
        hashes.push(match u.get("password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if p.chars().count() >= 8 => Some(hasher.hash(p)),
            Some(_) => return Err(bad("users", i, "password", "at least 8 characters")),
        });
    }
    let now = Timestamp::now();
    db.write(|conn| {
        let mut loaded = 0;
        for (i, u) in users.iter().enumerate() {
            let username =
                Username::parse(&text_of(u, "users", i, "username")?).map_err(|e| bad("users", i, "username", &e.0))?;
            let email = Email::parse(&text_of(u, "users", i, "email")?).map_err(|e| bad("users", i, "email", &e.0))?;
            if accounts::find_user(conn, username.as_str())?.is_some() {
                continue;
            }
            let new = NewUser {
                username,
                email,
                password_hash: hashes[i].clone(),
                name: u.get("name").and_then(Value::as_str).unwrap_or("").to_owned(),
                first_name: String::new(),
                last_name: String::new(),
                profile: Profile::default(),
                is_active: flag(u, "is_active", true),
                is_staff: flag(u, "is_staff", false),
                is_superuser: flag(u, "is_superuser", false),
            };
            accounts::create_user(conn, &Actor::SYSTEM, new, now)
                .map_err(|e| bad("users", i, "username", &e.developer_message))?;
            loaded += 1;
        }
        for (i, c) in list("clients")?.iter().enumerate() {
            let client_id = text_of(c, "clients", i, "client_id")?;
            let secret = text_of(c, "clients", i, "client_secret")?;
            let user = text_of(c, "clients", i, "user")?;
            if store::clients::by_client_id(conn, &client_id)?.is_some() {
                continue;
            }
            let owner = accounts::find_user(conn, &user)?
                .ok_or_else(|| bad("clients", i, "user", &format!("no user {user}")))?;
            let name = c.get("name").and_then(Value::as_str).unwrap_or(&client_id).to_owned();
            store::clients::insert(
                conn,
                &client_id,
                &auth::secrets::sha256_hex(&secret),
                &name,
                owner.id,
                false,
                now.unix(),
            )?;
            loaded += 1;
        }
        for (i, body) in list("courses")?.iter().enumerate() {
            let (key, fields) = crate::core::course_definition::parse_course_fields(body).map_err(|e| {
                bad(
                    "courses",
                    i,
                    e.field_errors.keys().next().map(String::as_str).unwrap_or("course"),
                    &e.developer_message,
                )
            })?;
            let key = key.ok_or_else(|| bad("courses", i, "course_key", "required"))?;
            if store::courses::by_key(conn, key.as_str())?.is_some() {
                continue;
            }
            catalog::create(conn, &key, &fields, now)
                .map_err(|e| bad("courses", i, "course_key", &e.developer_message))?;
            loaded += 1;
        }
        let change = Change { actor: "fixtures", surface: "cli", source: Source::Import, reason: None, notify: false };
        for (i, e) in list("enrollments")?.iter().enumerate() {
            let user = text_of(e, "enrollments", i, "user")?;
            let user = accounts::find_user(conn, &user)?
                .ok_or_else(|| bad("enrollments", i, "user", &format!("no user {user}")))?;
            let key = CourseKey::parse(&text_of(e, "enrollments", i, "course_id")?)
                .map_err(|x| bad("enrollments", i, "course_id", &x.0))?;
            let course =
                catalog::course(conn, &key).map_err(|x| bad("enrollments", i, "course_id", &x.developer_message))?;
            let mode = e.get("mode").and_then(Value::as_str);
            let outcome = if flag(e, "is_active", true) {
                enrollment::enroll_user(conn, &user, &course, mode, Access::Instructor, &change, now)
            } else {
                enrollment::deactivate_or_create_inactive(conn, &user, &course, mode, &change, now)
            }
            .map_err(|x| bad("enrollments", i, "mode", &x.developer_message))?;
            if outcome.changed() {
                loaded += 1;
            }
        }
        for (i, p) in list("pre_enrollments")?.iter().enumerate() {
            let email = Email::parse(&text_of(p, "pre_enrollments", i, "email")?)
                .map_err(|e| bad("pre_enrollments", i, "email", &e.0))?;
            let key = CourseKey::parse(&text_of(p, "pre_enrollments", i, "course_id")?)
                .map_err(|e| bad("pre_enrollments", i, "course_id", &e.0))?;
            match enrollment::pre_enroll_by_key(conn, &email, &key, flag(p, "auto_enroll", false), &change, now) {
                Ok(_) => loaded += 1,
                Err(e) if e.kind == crate::core::ErrorKind::Conflict => {}
                Err(e) => return Err(bad("pre_enrollments", i, "course_id", &e.developer_message)),
            }
        }
        // A fixture-loaded database needs no bootstrap superuser: the file names who exists.
        if !accounts::is_initialised(conn)? {
            accounts::mark_initialised(conn, now)?;
        }
        Ok(loaded)
    })
}
