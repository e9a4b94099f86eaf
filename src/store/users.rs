//! Users and their profile fields.

use crate::domain::Profile;
use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

/// A user as stored. Profile fields are optional strings; Open edX shows them as null.
#[derive(Debug, Clone, Default)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub profile: Profile,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub date_joined: i64,
    pub last_login: Option<i64>,
    /// Unix time before which issued tokens are refused.
    pub credentials_valid_after: i64,
}

impl UserRecord {
    /// An account created inactive that has not been activated yet (nor deactivated, nor
    /// had its credentials ended): Open edX issues it password-grant tokens, with learner
    /// permissions only, which the activation and mobile flows rely on.
    pub fn awaiting_activation(&self) -> bool {
        !self.is_active && self.credentials_valid_after == 0
    }
}

const COLUMNS: &str = "id, username, email, password_hash, name, first_name, last_name, country, city, gender, \
    level_of_education, year_of_birth, mailing_address, language, goals, bio, phone, date_of_birth, \
    is_active, is_staff, is_superuser, date_joined, last_login, credentials_valid_after";

fn from_row(r: &Row) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        password_hash: r.get(3)?,
        name: r.get(4)?,
        first_name: r.get(5)?,
        last_name: r.get(6)?,
        profile: Profile {
            country: r.get(7)?,
            city: r.get(8)?,
            gender: r.get(9)?,
            level_of_education: r.get(10)?,
            year_of_birth: r.get(11)?,
            mailing_address: r.get(12)?,
            language: r.get(13)?,
            goals: r.get(14)?,
            bio: r.get(15)?,
            phone: r.get(16)?,
            date_of_birth: r.get(17)?,
        },
        is_active: r.get(18)?,
        is_staff: r.get(19)?,
        is_superuser: r.get(20)?,
        date_joined: r.get(21)?,
        last_login: r.get(22)?,
        credentials_valid_after: r.get(23)?,
    })
}

fn one(conn: &Connection, filter: &str, value: &dyn rusqlite::ToSql) -> Result<Option<UserRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE {filter}");
    Ok(conn.prepare_cached(&sql)?.query_row([value], from_row).optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<UserRecord>, Error> {
    one(conn, "id = ?1", &id)
}

pub fn by_username(conn: &Connection, username: &str) -> Result<Option<UserRecord>, Error> {
    one(conn, "username = ?1", &username)
}

pub fn by_email(conn: &Connection, email: &str) -> Result<Option<UserRecord>, Error> {
    one(conn, "email = ?1", &email)
}

/// The account a typed identifier names: one with `@` is an email (Open edX's rule), and a
/// username only for an account imported with `@` in its name and no account has that
/// email; anything else is a username.
pub fn by_login(conn: &Connection, identifier: &str) -> Result<Option<UserRecord>, Error> {
    if identifier.contains('@') {
        if let Some(user) = by_email(conn, identifier)? {
            return Ok(Some(user));
        }
    }
    by_username(conn, identifier)
}

/// Whether `username`, or one a reader would take for it, is taken
/// (`Username::similarity_key`).
pub fn name_or_look_alike_taken(conn: &Connection, username: &str) -> Result<bool, Error> {
    let key = crate::domain::Username::similarity_key(username);
    Ok(conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM users WHERE username_key = ?1 OR username = ?2)")?
        .query_row(params![key, username], |r| r.get(0))?)
}

pub fn count(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}

/// One page of users in id order. OFFSET is fine at admin-list sizes; enrollment lists seek.
pub fn list(conn: &Connection, offset: i64, limit: i64) -> Result<Vec<UserRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id LIMIT ?1 OFFSET ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![limit, offset], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Accounts made before schema 5 get their look-alike key (one transaction, at start-up).
pub fn fill_username_keys(conn: &Connection) -> Result<(), Error> {
    let tx = conn.unchecked_transaction()?;
    let names: Vec<(i64, String)> = tx
        .prepare("SELECT id, username FROM users WHERE username_key IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE users SET username_key = ?2 WHERE id = ?1")?;
    for (id, name) in names {
        update.execute(params![id, crate::domain::Username::similarity_key(&name)])?;
    }
    drop(update);
    tx.commit()?;
    Ok(())
}

/// Inserts `user` (its `id` is ignored) and returns the new id. A taken username or email
/// is a conflict naming the field; so is a username another reads the same (`Cat`, `ｃat`
/// and Cyrillic `сat` beside `cat`).
pub fn insert(conn: &Connection, user: &UserRecord) -> Result<i64, Error> {
    let key = refuse_look_alike(conn, &user.username, 0)?;
    let p = &user.profile;
    let result = conn
        .prepare_cached(
            "INSERT INTO users (username, email, password_hash, name, first_name, last_name, country, city, gender, \
             level_of_education, year_of_birth, mailing_address, language, goals, bio, phone, date_of_birth, \
             is_active, is_staff, is_superuser, date_joined, username_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
        )?
        .execute(params![
            user.username,
            user.email,
            user.password_hash,
            user.name,
            user.first_name,
            user.last_name,
            p.country,
            p.city,
            p.gender,
            p.level_of_education,
            p.year_of_birth,
            p.mailing_address,
            p.language,
            p.goals,
            p.bio,
            p.phone,
            p.date_of_birth,
            user.is_active,
            user.is_staff,
            user.is_superuser,
            user.date_joined,
            key,
        ]);
    match result {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(e) if super::db::is_unique_violation(&e) => Err(taken(conn, &user.username, &user.email, 0)?),
        Err(e) => Err(e.into()),
    }
}

/// The look-alike key of `username`, or a conflict when another account (not `own_id`)
/// reads the same. An exact duplicate is left to the UNIQUE constraint, whose error also
/// names a taken email.
fn refuse_look_alike(conn: &Connection, username: &str, own_id: i64) -> Result<String, Error> {
    let key = crate::domain::Username::similarity_key(username);
    let look_alike: Option<String> = conn
        .prepare_cached("SELECT username FROM users WHERE username_key = ?1 AND username != ?2 AND id != ?3 LIMIT 1")?
        .query_row(params![key, username, own_id], |r| r.get(0))
        .optional()?;
    if let Some(existing) = look_alike {
        let message = format!("The username '{username}' is too similar to the existing username '{existing}'.");
        let mut error = Error::conflict(message.clone());
        error.field_errors.insert("username".into(), message);
        return Err(error);
    }
    Ok(key)
}

/// Gives an account a new username, under the same uniqueness and look-alike rules as a
/// new account.
pub fn rename(conn: &Connection, user_id: i64, username: &str) -> Result<(), Error> {
    let key = refuse_look_alike(conn, username, user_id)?;
    let result = conn
        .prepare_cached("UPDATE users SET username = ?2, username_key = ?3 WHERE id = ?1")?
        .execute(params![user_id, username, key]);
    match result {
        Ok(_) => Ok(()),
        Err(e) if super::db::is_unique_violation(&e) => Err(taken(conn, username, "", user_id)?),
        Err(e) => Err(e.into()),
    }
}

/// Writes every mutable column of `user` back.
pub fn update(conn: &Connection, user: &UserRecord) -> Result<(), Error> {
    let p = &user.profile;
    let result = conn
        .prepare_cached(
            "UPDATE users SET username = ?2, email = ?3, password_hash = ?4, name = ?5, first_name = ?6, last_name = ?7, \
             country = ?8, city = ?9, gender = ?10, level_of_education = ?11, year_of_birth = ?12, mailing_address = ?13, \
             language = ?14, goals = ?15, bio = ?16, phone = ?17, date_of_birth = ?18, is_active = ?19, is_staff = ?20, \
             is_superuser = ?21, last_login = ?22 WHERE id = ?1",
        )?
        .execute(params![
            user.id,
            user.username,
            user.email,
            user.password_hash,
            user.name,
            user.first_name,
            user.last_name,
            p.country,
            p.city,
            p.gender,
            p.level_of_education,
            p.year_of_birth,
            p.mailing_address,
            p.language,
            p.goals,
            p.bio,
            p.phone,
            p.date_of_birth,
            user.is_active,
            user.is_staff,
            user.is_superuser,
            user.last_login,
        ]);
    match result {
        Ok(_) => Ok(()),
        Err(e) if super::db::is_unique_violation(&e) => Err(taken(conn, &user.username, &user.email, user.id)?),
        Err(e) => Err(e.into()),
    }
}

pub fn set_password_hash(conn: &Connection, user_id: i64, hash: &str) -> Result<(), Error> {
    conn.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?.execute(params![user_id, hash])?;
    Ok(())
}

pub fn set_last_login(conn: &Connection, user_id: i64, at: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE users SET last_login = ?2 WHERE id = ?1")?.execute(params![user_id, at])?;
    Ok(())
}

/// Which of username and email another user (not `own_id`) already has.
fn taken(conn: &Connection, username: &str, email: &str, own_id: i64) -> Result<Error, Error> {
    let mut error = Error::conflict("A user with this username or email already exists.");
    let username_taken: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE username = ?1 AND id != ?2)",
        params![username, own_id],
        |r| r.get(0),
    )?;
    let email_taken: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE email = ?1 AND id != ?2)",
        params![email, own_id],
        |r| r.get(0),
    )?;
    if username_taken {
        error.developer_message = format!("The username '{username}' is already taken.");
        error.field_errors.insert("username".into(), error.developer_message.clone());
    }
    if email_taken {
        let message = format!("The email '{email}' is already in use.");
        if !username_taken {
            error.developer_message = message.clone();
        }
        error.field_errors.insert("email".into(), message);
    }
    error.user_message = error.developer_message.clone();
    Ok(error)
}

pub fn custom_fields(conn: &Connection, user_id: i64) -> Result<Vec<(String, String)>, Error> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM user_custom_fields WHERE user_id = ?1 ORDER BY key")?;
    let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_custom_field(conn: &Connection, user_id: i64, key: &str, value: &str) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO user_custom_fields(user_id, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT(user_id, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![user_id, key, value])?;
    Ok(())
}

pub fn joined_between(conn: &Connection, after: Option<i64>, before: Option<i64>) -> Result<Vec<UserRecord>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE (?1 IS NULL OR date_joined > ?1) AND (?2 IS NULL OR date_joined < ?2) ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![after, before], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Tokens issued before `at` stop working (checked with the user row on each request).
pub fn set_credentials_valid_after(conn: &Connection, user_id: i64, at: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE users SET credentials_valid_after = ?2 WHERE id = ?1")?
        .execute(params![user_id, at])?;
    Ok(())
}

/// Deactivates an account (a learner's `deactivate_logout`).
pub fn deactivate(conn: &Connection, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE users SET is_active = 0 WHERE id = ?1")?.execute([user_id])?;
    Ok(())
}
