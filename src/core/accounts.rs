//! User accounts: creation, profile and privilege changes, deactivation. Every surface
//! that creates or changes a user comes through here, so later rules (auto-enrollment on
//! activation) apply everywhere at once.

use crate::core::Error;
use crate::domain::{Email, Timestamp, Username};
use crate::store::users::{Profile, UserRecord};
use crate::store::{self, Conn};

pub struct NewUser {
    pub username: Username,
    pub email: Email,
    /// Already hashed (`auth::passwords`); None: the user cannot log in with a password.
    pub password_hash: Option<String>,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub profile: Profile,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// Field changes: `None` = leave as is.
#[derive(Default)]
pub struct UserChanges {
    pub email: Option<Email>,
    pub password_hash: Option<String>,
    /// The surface checked the account's current password (a learner changing their own
    /// password must give it; staff and service callers need not).
    pub current_password_verified: bool,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_superuser: Option<bool>,
}

/// Who is asking for a change: the caller's real flags, never a stand-in, so that the one
/// rule below (`check_may_change`) holds on every surface.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    /// The calling account; None for a server-to-server caller (API key) or the system.
    pub user_id: Option<i64>,
    pub is_staff: bool,
    pub is_superuser: bool,
}

impl Actor {
    /// Rollcall itself: first start, the command line, imports, fixtures.
    pub const SYSTEM: Actor = Actor { user_id: None, is_staff: true, is_superuser: true };
    /// A self-service sign-up (checkout): may create a learner and nothing else.
    pub const ANONYMOUS: Actor = Actor { user_id: None, is_staff: false, is_superuser: false };
}

/// What a change touches, for `check_may_change`.
#[derive(Default, Clone, Copy)]
pub struct ChangeKind {
    /// Grants or revokes staff/superuser.
    pub privileges: bool,
    pub email: bool,
    pub password: bool,
    pub current_password_verified: bool,
    pub activity: bool,
}

/// The one rule for changing an account, on every surface: only a superuser changes a
/// superuser or grants and revokes privileges; staff (and server-to-server callers) change
/// learners and staff who are not superusers; a learner changes only their own account, and
/// then not their active flag, their email only through a confirmed link
/// (`request_email_change`), and their password only with the current one (Open edX's
/// rules for its account settings).
pub fn check_may_change(actor: &Actor, target: &UserRecord, change: ChangeKind) -> Result<(), Error> {
    if actor.is_superuser {
        return Ok(());
    }
    if target.is_superuser || change.privileges {
        return Err(Error::forbidden("Only a superuser may change a superuser account or grant privileges."));
    }
    if actor.is_staff {
        return Ok(());
    }
    if actor.user_id != Some(target.id) {
        return Err(Error::forbidden("You do not have permission to change this account."));
    }
    if change.activity {
        return Err(Error::forbidden("You cannot activate or deactivate your own account here."));
    }
    if change.email {
        return Err(Error::forbidden("A new email address must be confirmed from that address first."));
    }
    if change.password && !change.current_password_verified {
        return Err(Error::field("old_password", "Your current password is required to set a new one.")
            .with_code("CURRENT_PASSWORD_REQUIRED"));
    }
    Ok(())
}

pub fn create_user(conn: &Conn, actor: &Actor, new: NewUser, now: Timestamp) -> Result<UserRecord, Error> {
    if !actor.is_superuser && (new.is_staff || new.is_superuser) {
        return Err(Error::forbidden("Only a superuser may create staff and superuser accounts."));
    }
    if !actor.is_staff && !actor.is_superuser && actor.user_id.is_some() {
        return Err(Error::forbidden("You do not have permission to create accounts."));
    }
    check_name_lengths(&new.name, &new.first_name, &new.last_name)?;
    let mut record = UserRecord {
        id: 0,
        username: new.username.as_str().to_owned(),
        email: new.email.as_str().to_owned(),
        password_hash: new.password_hash,
        name: new.name,
        first_name: new.first_name,
        last_name: new.last_name,
        profile: new.profile,
        is_active: new.is_active,
        is_staff: new.is_staff,
        is_superuser: new.is_superuser,
        date_joined: now.unix(),
        last_login: None,
        credentials_valid_after: 0,
    };
    record.id = store::users::insert(conn, &record)?;
    crate::core::enrollment::activate_pending(conn, &record, "accounts", now)?;
    Ok(record)
}

/// Appsembler's `auto_generate_username`: an email's local part, letters and digits only,
/// plus three random digits while that is taken.
pub fn username_from_email(conn: &Conn, email: &Email) -> Result<Username, Error> {
    let base: String =
        email.as_str().split('@').next().unwrap_or("").chars().filter(|c| c.is_alphanumeric()).take(27).collect();
    let base = if base.chars().count() < 2 { "learner".to_owned() } else { base };
    let mut candidate = base.clone();
    for _ in 0..50 {
        if !store::users::name_or_look_alike_taken(conn, &candidate)? {
            return Ok(Username::parse(&candidate)?);
        }
        let digits = crate::auth::secrets::random_bytes(2);
        candidate = format!("{base}{}", 100 + (u16::from_le_bytes([digits[0], digits[1]]) % 900));
    }
    Err(Error::internal("no free username"))
}

/// The account a typed identifier names: with `@`, an email first (`store::users::by_login`).
pub fn find_by_login(conn: &Conn, identifier: &str) -> Result<Option<UserRecord>, Error> {
    store::users::by_login(conn, identifier)
}

/// The user with this username, if any.
pub fn find_user(conn: &Conn, username: &str) -> Result<Option<UserRecord>, Error> {
    store::users::by_username(conn, username)
}

/// The learner a staff call names by username in its path; unknown is a 404.
pub fn named_user(conn: &Conn, username: &str) -> Result<UserRecord, Error> {
    find_user(conn, username)?.ok_or_else(|| Error::not_found(format!("No user '{username}'.")))
}

pub fn user_by_username(conn: &Conn, username: &str) -> Result<UserRecord, Error> {
    store::users::by_username(conn, username)?
        .ok_or_else(|| Error::not_found(format!("The user {username} does not exist.")))
}

pub fn update_user(
    conn: &Conn,
    actor: &Actor,
    username: &Username,
    changes: UserChanges,
    now: Timestamp,
) -> Result<UserRecord, Error> {
    let mut user = user_by_username(conn, username.as_str())?;
    let (was_active, old_email) = (user.is_active, user.email.clone());
    let kind = ChangeKind {
        privileges: changes.is_staff.is_some_and(|v| v != user.is_staff)
            || changes.is_superuser.is_some_and(|v| v != user.is_superuser),
        email: changes.email.as_ref().is_some_and(|e| !e.as_str().eq_ignore_ascii_case(&user.email)),
        password: changes.password_hash.is_some(),
        current_password_verified: changes.current_password_verified,
        activity: changes.is_active.is_some_and(|v| v != user.is_active),
    };
    check_may_change(actor, &user, kind)?;
    let deactivating = changes.is_active == Some(false) && user.is_active;
    if let Some(email) = changes.email {
        user.email = email.as_str().to_owned();
    }
    macro_rules! take {
        ($($field:ident),*) => { $( if let Some(v) = changes.$field { user.$field = v; } )* };
    }
    take!(name, first_name, last_name, is_active, is_staff, is_superuser);
    if let Some(hash) = &changes.password_hash {
        user.password_hash = Some(hash.clone());
    }
    let password_changed = changes.password_hash.is_some();
    check_name_lengths(&user.name, &user.first_name, &user.last_name)?;
    store::users::update(conn, &user)?;
    if deactivating || password_changed {
        end_credentials(conn, &user, now)?;
    }
    if user.is_active && (!was_active || !user.email.eq_ignore_ascii_case(&old_email)) {
        crate::core::enrollment::activate_pending(conn, &user, "accounts", now)?;
    }
    Ok(user)
}

/// Gives an account a new username (SCIM, when `scim.allow_username_change` is on): a
/// taken one is a conflict, as at creation. Sessions and tokens name the user by id or
/// are checked against the row, so they go on working.
pub fn rename_user(conn: &Conn, user_id: i64, username: &Username) -> Result<UserRecord, Error> {
    store::users::rename(conn, user_id, username.as_str())?;
    store::users::by_id(conn, user_id)?.ok_or_else(|| Error::not_found("The user no longer exists."))
}

/// After a password change or a deactivation: the user's sessions and opaque tokens end
/// now, and JWTs issued before this second are refused (their `iat` is compared with the
/// user row each request reads anyway). A token issued later in the same second stays
/// valid: JWT times have one-second resolution.
pub fn end_credentials(conn: &Conn, user: &UserRecord, now: Timestamp) -> Result<(), Error> {
    store::sessions::delete_for_user(conn, user.id)?;
    store::clients::delete_tokens_for_user(conn, user.id)?;
    store::users::set_credentials_valid_after(conn, user.id, now.unix())
}

fn check_name_lengths(name: &str, first: &str, last: &str) -> Result<(), Error> {
    for (field, value) in [("name", name), ("first_name", first), ("last_name", last)] {
        if value.chars().count() > crate::domain::Title::MAX_CHARS {
            return Err(Error::field(field, format!("{field} can be at most 255 characters.")));
        }
    }
    Ok(())
}

/// One page of users and the total.
pub fn list_users(conn: &Conn, offset: i64, limit: i64) -> Result<(i64, Vec<UserRecord>), Error> {
    Ok((store::users::count(conn)?, store::users::list(conn, offset, limit)?))
}

/// Whether the database has been initialised (bootstrap done).
pub fn is_initialised(conn: &Conn) -> Result<bool, Error> {
    Ok(store::settings::get(conn, "initialised_at")?.is_some())
}

pub fn mark_initialised(conn: &Conn, now: Timestamp) -> Result<(), Error> {
    store::settings::set(conn, "initialised_at", &now.to_iso())
}

/// Profile changes from the account API: `None` = leave; `Some(None)` = clear.
#[derive(Default)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub country: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub gender: Option<Option<String>>,
    pub level_of_education: Option<Option<String>>,
    pub year_of_birth: Option<Option<i64>>,
    pub mailing_address: Option<Option<String>>,
    pub language: Option<Option<String>>,
    pub goals: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub date_of_birth: Option<Option<String>>,
    /// Custom registration fields (Open edX `extended_profile`).
    pub custom_fields: Vec<(String, String)>,
}

/// Applies profile changes; an email change made while active claims the new address's
/// auto-enroll pre-enrollments.
pub fn update_profile(
    conn: &Conn,
    actor: &Actor,
    username: &str,
    changes: ProfileChanges,
    now: Timestamp,
) -> Result<UserRecord, Error> {
    let mut user = user_by_username(conn, username)?;
    let email = changes.email.as_ref().is_some_and(|e| !e.as_str().eq_ignore_ascii_case(&user.email));
    check_may_change(actor, &user, ChangeKind { email, ..ChangeKind::default() })?;
    let old_email = user.email.clone();
    let p = &mut user.profile;
    macro_rules! apply {
        ($($field:ident),*) => { $( if let Some(v) = changes.$field { p.$field = v; } )* };
    }
    apply!(
        country,
        city,
        gender,
        level_of_education,
        year_of_birth,
        mailing_address,
        language,
        goals,
        bio,
        phone,
        date_of_birth
    );
    if let Some(name) = changes.name {
        user.name = name;
    }
    if let Some(email) = changes.email {
        user.email = email.as_str().to_owned();
    }
    check_name_lengths(&user.name, &user.first_name, &user.last_name)?;
    store::users::update(conn, &user)?;
    for (key, value) in &changes.custom_fields {
        store::users::set_custom_field(conn, user.id, key, value)?;
    }
    if user.is_active && !user.email.eq_ignore_ascii_case(&old_email) {
        crate::core::enrollment::activate_pending(conn, &user, "accounts", now)?;
    }
    Ok(user)
}

pub fn custom_fields(conn: &Conn, user: &UserRecord) -> Result<Vec<(String, String)>, Error> {
    store::users::custom_fields(conn, user.id)
}

pub fn user_by_email(conn: &Conn, email: &str) -> Result<Option<UserRecord>, Error> {
    store::users::by_email(conn, email)
}

/// Sets a new password hash and activates the account (a set-password link was followed):
/// activation claims the user's auto-enroll pre-enrollments.
pub fn set_password_and_activate(
    conn: &Conn,
    user_id: i64,
    password_hash: &str,
    now: Timestamp,
) -> Result<UserRecord, Error> {
    let mut user = store::users::by_id(conn, user_id)?.ok_or_else(|| Error::not_found("The user no longer exists."))?;
    user.password_hash = Some(password_hash.to_owned());
    user.is_active = true;
    store::users::update(conn, &user)?;
    end_credentials(conn, &user, now)?;
    crate::core::enrollment::activate_pending(conn, &user, "accounts", now)?;
    Ok(user)
}

/// Queues the email with a set-password link (the link is a single-use credential; it is
/// kept in the outbox only until the message is delivered and expires in any case).
pub fn send_set_password_link(conn: &Conn, user: &UserRecord, link: &str, now: Timestamp) -> Result<(), Error> {
    let payload = serde_json::json!({"full_name": if user.name.is_empty() { &user.username } else { &user.name }, "link": link, "username": user.username});
    store::outbox::enqueue(conn, "email", "set_password", &user.email, &payload.to_string(), now.unix())?;
    Ok(())
}

/// How long an email-change confirmation link works.
pub const EMAIL_CHANGE_HOURS: i64 = 24;

/// A learner asked for a new address: it is not applied (and claims no pre-enrollment)
/// until the link mailed *to the new address* is followed (Open edX's PendingEmailChange).
/// `link` is built by the caller from `auth::links::sign_email_change`.
pub fn request_email_change(
    conn: &Conn,
    user: &UserRecord,
    new_email: &Email,
    link: &str,
    now: Timestamp,
) -> Result<(), Error> {
    if store::users::by_email(conn, new_email.as_str())?.is_some_and(|other| other.id != user.id) {
        return Err(
            Error::field("email", format!("The email '{new_email}' is already in use.")).with_code("EMAIL_TAKEN")
        );
    }
    let payload = serde_json::json!({"full_name": if user.name.is_empty() { &user.username } else { &user.name }, "link": link, "username": user.username});
    store::outbox::enqueue(conn, "email", "email_change", new_email.as_str(), &payload.to_string(), now.unix())?;
    Ok(())
}

/// A confirmed email change: the address becomes the account's and, on an active account,
/// claims that address's auto-enroll pre-enrollments.
pub fn confirm_email_change(conn: &Conn, user_id: i64, new_email: &Email, now: Timestamp) -> Result<UserRecord, Error> {
    let mut user = store::users::by_id(conn, user_id)?.ok_or_else(|| Error::not_found("The user no longer exists."))?;
    user.email = new_email.as_str().to_owned();
    store::users::update(conn, &user)?;
    if user.is_active {
        crate::core::enrollment::activate_pending(conn, &user, "accounts", now)?;
    }
    Ok(user)
}

/// Queues the email Appsembler's `accounts/create` sends: the account exists and is active
/// (the original forces it active even while it sends Open edX's activation email).
pub fn send_account_created(conn: &Conn, user: &UserRecord, now: Timestamp) -> Result<(), Error> {
    let payload = serde_json::json!({"full_name": if user.name.is_empty() { &user.username } else { &user.name }, "username": user.username});
    store::outbox::enqueue(conn, "email", "account_created", &user.email, &payload.to_string(), now.unix())?;
    Ok(())
}

pub fn user_by_id(conn: &Conn, id: i64) -> Result<Option<UserRecord>, Error> {
    store::users::by_id(conn, id)
}

/// Users who joined strictly between the bounds (Appsembler's analytics).
pub fn joined_between(
    conn: &Conn,
    after: Option<Timestamp>,
    before: Option<Timestamp>,
) -> Result<Vec<UserRecord>, Error> {
    store::users::joined_between(conn, after.map(|t| t.unix()), before.map(|t| t.unix()))
}

pub fn set_custom_fields(conn: &Conn, user: &UserRecord, fields: &[(String, String)]) -> Result<(), Error> {
    for (k, v) in fields {
        store::users::set_custom_field(conn, user.id, k, v)?;
    }
    Ok(())
}

/// Open edX's codes for `level_of_education`.
pub const EDUCATION_LEVELS: [&str; 9] = ["p", "m", "b", "a", "hs", "jhs", "el", "none", "other"];

/// Checks a profile field with a fixed vocabulary or format (gender, level of education,
/// country, year of birth) and returns it as stored; other fields pass as they are.
pub fn check_profile_value(field: &str, value: &str) -> Result<String, String> {
    match field {
        "gender" if !["m", "f", "o"].contains(&value) => Err(format!("\"{value}\" is not a valid gender (m, f, o).")),
        "level_of_education" if !EDUCATION_LEVELS.contains(&value) => {
            Err(format!("\"{value}\" is not a valid level_of_education."))
        }
        "country" if value.len() != 2 || !value.chars().all(|c| c.is_ascii_alphabetic()) => {
            Err(format!("\"{value}\" is not a 2-letter ISO country code."))
        }
        "country" => Ok(value.to_ascii_uppercase()),
        "year_of_birth" if value.parse::<i64>().map_or(true, |y| !(1900..=2100).contains(&y)) => {
            Err(format!("\"{value}\" is not a year."))
        }
        _ => Ok(value.to_owned()),
    }
}
