//! User accounts: creation, profile and privilege changes, deactivation. Every surface
//! that creates or changes a user comes through here, so later rules (auto-enrollment on
//! activation) apply everywhere at once.

use crate::auth::links;
use crate::core::{Env, Error};
use crate::domain::{Email, Profile, Timestamp, Username};
use crate::store::clients::ClientRecord;
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};

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

/// An admin creates an account; enrollments waiting for its email become its own in the same write.
/// An admin adds an account; `password` (already checked against the rules) is hashed
/// here, before the write: a hash must not hold the writer.
pub fn add_user(
    env: &Env,
    actor: &Actor,
    new: NewUser,
    password: Option<String>,
    now: Timestamp,
) -> Result<Account, Error> {
    let new = with_password(env, new, password);
    env.db.write(|conn| create_user(conn, actor, new, now)).map(Account::from)
}

/// `new` with `password`'s hash, when one is given.
fn with_password(env: &Env, new: NewUser, password: Option<String>) -> NewUser {
    match password {
        Some(password) => NewUser { password_hash: Some(env.auth.passwords.hash(&password)), ..new },
        None => new,
    }
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

/// An account as the surfaces show it: never its password hash or its credentials' cut-off.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: Username,
    pub email: Email,
    /// Full, first and last name ("" when not given).
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub profile: Profile,
    pub date_joined: Timestamp,
    pub last_login: Option<Timestamp>,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

impl From<UserRecord> for Account {
    fn from(u: UserRecord) -> Account {
        Account {
            id: u.id,
            username: Username::from_stored(u.username),
            email: Email::from_stored(u.email),
            name: u.name,
            first_name: u.first_name,
            last_name: u.last_name,
            profile: u.profile,
            date_joined: Timestamp::from_unix(u.date_joined),
            last_login: u.last_login.map(Timestamp::from_unix),
            is_active: u.is_active,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
        }
    }
}

/// The account a typed identifier names: with `@`, an email first (`store::users::by_login`).
pub fn find_by_login(conn: &Conn, identifier: &str) -> Result<Option<UserRecord>, Error> {
    store::users::by_login(conn, identifier)
}

/// The user with this username, if any.
pub fn find_user(conn: &Conn, username: &str) -> Result<Option<UserRecord>, Error> {
    store::users::by_username(conn, username)
}

/// Whether an account has this username (Appsembler's `get-user`).
pub fn user_exists(db: &Db, username: &str) -> Result<bool, Error> {
    Ok(db.read(|conn| find_user(conn, username))?.is_some())
}

/// The learner a staff call names by username in its path; unknown is a 404.
pub fn named_user(conn: &Conn, username: &str) -> Result<UserRecord, Error> {
    find_user(conn, username)?.ok_or_else(|| Error::not_found(format!("No user '{username}'.")))
}

pub fn user_by_username(conn: &Conn, username: &str) -> Result<UserRecord, Error> {
    store::users::by_username(conn, username)?
        .ok_or_else(|| Error::not_found(format!("The user {username} does not exist.")))
}

/// One account, for an admin to look at.
pub fn show_user(db: &Db, username: &Username) -> Result<Account, Error> {
    db.read(|conn| user_by_username(conn, username.as_str())).map(Account::from)
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

/// An admin changes an account, within what `check_may_change` allows the caller.
/// An admin changes an account; a new `password` is hashed before the write.
pub fn change_user(
    env: &Env,
    actor: &Actor,
    username: &Username,
    changes: UserChanges,
    password: Option<String>,
    now: Timestamp,
) -> Result<Account, Error> {
    let changes = UserChanges { password_hash: password.map(|p| env.auth.passwords.hash(&p)), ..changes };
    env.db.write(|conn| update_user(conn, actor, username, changes, now)).map(Account::from)
}

/// An admin deactivates an account (it is kept); nobody deactivates their own, which would
/// lock the last admin out.
pub fn deactivate_user(db: &Db, actor: &Actor, username: &Username, now: Timestamp) -> Result<Account, Error> {
    db.write(|conn| {
        if let Some(id) = actor.user_id {
            if user_by_username(conn, username.as_str())?.id == id {
                return Err(Error::validation("You cannot deactivate your own account."));
            }
        }
        let changes = UserChanges { is_active: Some(false), ..UserChanges::default() };
        update_user(conn, actor, username, changes, now)
    })
    .map(Account::from)
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

/// An OAuth client as staff list it: without its secret's hash (the secret itself is shown
/// once, in `NewClient`).
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// The account it acts as.
    pub username: Username,
    pub public: bool,
    pub created: Timestamp,
}

impl From<ClientRecord> for Client {
    fn from(c: ClientRecord) -> Client {
        Client {
            client_id: c.client_id,
            name: c.name,
            username: Username::from_stored(c.username),
            public: c.public,
            created: Timestamp::from_unix(c.created),
        }
    }
}

pub struct NewClient {
    pub record: Client,
    /// Shown once, at creation; None for a public client, which has none.
    pub client_secret: Option<String>,
}

/// The OAuth clients, each acting as an account (staff's list).
pub fn oauth_clients(db: &Db) -> Result<Vec<Client>, Error> {
    Ok(db.read(crate::auth::clients::list)?.into_iter().map(Client::from).collect())
}

/// Staff register an OAuth client acting as `username`; only a superuser may make one that
/// acts as staff or a superuser (`auth::clients::create_as_admin`).
pub fn create_oauth_client(
    db: &Db,
    caller_is_superuser: bool,
    name: &str,
    username: &str,
    public: bool,
    now: Timestamp,
) -> Result<NewClient, Error> {
    let new = db.write(|conn| {
        crate::auth::clients::create_as_admin(conn, caller_is_superuser, name, username, public, now.unix())
    })?;
    Ok(NewClient { record: new.record.into(), client_secret: new.client_secret })
}

/// Staff remove an OAuth client (its tokens go with it); only a superuser removes one
/// acting as a superuser. A 404 when there is none.
pub fn delete_oauth_client(db: &Db, caller_is_superuser: bool, client_id: &str) -> Result<(), Error> {
    if !db.write(|conn| crate::auth::clients::delete(conn, client_id, caller_is_superuser))? {
        return Err(Error::not_found(format!("No OAuth client '{client_id}' exists.")));
    }
    Ok(())
}

/// A page of users and the total, from one snapshot so that the two agree.
pub fn users_page(db: &Db, offset: i64, limit: i64) -> Result<(i64, Vec<Account>), Error> {
    let (total, users) = db.snapshot(|conn| list_users(conn, offset, limit))?;
    Ok((total, users.into_iter().map(Account::from).collect()))
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

/// What `update_profile_by_login` did; `R` is the surface's own refusal of its input.
pub enum ProfileUpdate<R> {
    NoSuchUser,
    InvalidEmail,
    EmailTaken,
    Refused(R),
    /// `email`: the new address, when it changed.
    Updated {
        email: Option<Email>,
    },
}

/// Appsembler's `accounts/update_user`: the account a username or email names gets a new
/// email (as sent; the current one is no change) and profile changes. Its answers come in
/// the original's order: no such account, then the address (malformed, taken), then the
/// surface's refusal of the other fields (`changes`, read before the write).
pub fn update_profile_by_login<R: Send>(
    db: &Db,
    actor: &Actor,
    login: &str,
    email: Result<Option<String>, R>,
    changes: Result<ProfileChanges, R>,
    now: Timestamp,
) -> Result<ProfileUpdate<R>, Error> {
    db.write(|conn| {
        let Some(user) = find_by_login(conn, login)? else { return Ok(ProfileUpdate::NoSuchUser) };
        let raw = match email {
            Ok(raw) => raw.filter(|e| *e != user.email),
            Err(refusal) => return Ok(ProfileUpdate::Refused(refusal)),
        };
        let email = match raw.map(|raw| Email::parse(&raw)) {
            None => None,
            Some(Err(_)) => return Ok(ProfileUpdate::InvalidEmail),
            Some(Ok(email)) if user_by_email(conn, email.as_str())?.is_some() => return Ok(ProfileUpdate::EmailTaken),
            Some(Ok(email)) => Some(email),
        };
        let changes = match changes {
            Ok(changes) => ProfileChanges { email: email.clone(), ..changes },
            Err(refusal) => return Ok(ProfileUpdate::Refused(refusal)),
        };
        update_profile(conn, actor, &user.username, changes, now)?;
        Ok(ProfileUpdate::Updated { email })
    })
}

pub fn custom_fields(conn: &Conn, user: &UserRecord) -> Result<Vec<(String, String)>, Error> {
    store::users::custom_fields(conn, user.id)
}

/// Who looks at accounts on the account API: the person themself and staff (the API key
/// too) see an account whole, anyone else only its public part (Open edX's private
/// visibility).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub username: Option<String>,
    pub staff: bool,
}

impl Viewer {
    pub fn sees_whole(&self, username: &str) -> bool {
        self.staff || self.username.as_deref() == Some(username)
    }
}

/// An account as its viewer may see it: whole (with its custom fields), or shared.
#[derive(Debug)]
pub enum AccountView {
    Whole(Account, Vec<(String, String)>),
    Shared(Account),
}

fn view_of(conn: &Conn, viewer: &Viewer, user: UserRecord) -> Result<AccountView, Error> {
    if viewer.sees_whole(&user.username) {
        let custom = custom_fields(conn, &user)?;
        Ok(AccountView::Whole(user.into(), custom))
    } else {
        Ok(AccountView::Shared(user.into()))
    }
}

/// The accounts with these usernames that exist, in the order asked, as the viewer may
/// see them.
pub fn accounts_named(db: &Db, viewer: &Viewer, usernames: &[&str]) -> Result<Vec<AccountView>, Error> {
    db.snapshot(|conn| {
        let mut out = Vec::new();
        for name in usernames {
            if let Some(user) = store::users::by_username(conn, name)? {
                out.push(view_of(conn, viewer, user)?);
            }
        }
        Ok(out)
    })
}

/// The account with this email address, if any, as the viewer may see it.
pub fn account_with_email(db: &Db, viewer: &Viewer, email: &str) -> Result<Option<AccountView>, Error> {
    db.snapshot(|conn| store::users::by_email(conn, email)?.map(|user| view_of(conn, viewer, user)).transpose())
}

/// A person changes their own profile (Open edX's `update_account_settings`): one write.
/// A learner's new address is not applied but confirmed from that address first (Open
/// edX's PendingEmailChange): the mailed link (`email_change_link`) binds the account as
/// it is and the new address. Returns the account as the viewer sees it and whether mail was queued
/// (the workers are woken for it).
pub fn change_own_profile(
    env: &Env,
    actor: &Actor,
    viewer: &Viewer,
    username: &str,
    mut changes: ProfileChanges,
    now: Timestamp,
) -> Result<(AccountView, bool), Error> {
    let (view, mailed) = env.db.write(|conn| {
        let current = user_by_username(conn, username)?;
        let confirm = match changes.email.take() {
            Some(email) if !actor.is_staff && !email.as_str().eq_ignore_ascii_case(&current.email) => {
                Some((email_change_link(env, &current, &email, now), email))
            }
            other => {
                changes.email = other;
                None
            }
        };
        let user = update_profile(conn, actor, username, changes, now)?;
        if let Some((link, email)) = &confirm {
            request_email_change(conn, &user, email, link, now)?;
        }
        Ok((view_of(conn, viewer, user)?, confirm.is_some()))
    })?;
    if mailed {
        env.jobs.wake();
    }
    Ok((view, mailed))
}

pub fn user_by_email(conn: &Conn, email: &str) -> Result<Option<UserRecord>, Error> {
    store::users::by_email(conn, email)
}

/// What a set-password or email-change link that does not (or no longer) work answers.
pub fn invalid_link() -> Error {
    Error::validation("This link is invalid, expired or already used.").with_code("invalid_link")
}

/// A set-password link was followed: sets the new password and activates the account
/// (activation claims the user's auto-enroll pre-enrollments). The link is checked against
/// the account on a read first, so that a bad link costs no hash (Argon2, run outside any
/// transaction so the single writer never waits for it), and again inside the write, so
/// two uses of one link cannot both succeed, nor one after the account changed.
pub fn set_password_and_activate(env: &Env, token: &str, password: &str, now: Timestamp) -> Result<UserRecord, Error> {
    let user_id = links::user_of(token).ok_or_else(invalid_link)?;
    let link_valid = |u: &UserRecord| links::verify(&env.auth.link_secret, token, u.id, &password_state(u), now.unix());
    let user = env.db.read(|conn| store::users::by_id(conn, user_id))?.ok_or_else(invalid_link)?;
    if !link_valid(&user) {
        return Err(invalid_link());
    }
    let password_hash = env.auth.passwords.hash(password);
    env.db.write(|conn| {
        let mut user = store::users::by_id(conn, user_id)?.ok_or_else(invalid_link)?;
        if !link_valid(&user) {
            return Err(invalid_link());
        }
        user.password_hash = Some(password_hash);
        user.is_active = true;
        store::users::update(conn, &user)?;
        end_credentials(conn, &user, now)?;
        crate::core::enrollment::activate_pending(conn, &user, "accounts", now)?;
        Ok(user)
    })
}

/// What a set-password link binds: it stops working once the password or the privileges
/// change.
fn password_state(user: &UserRecord) -> links::PasswordState<'_> {
    links::PasswordState {
        password_hash: user.password_hash.as_deref().unwrap_or(""),
        is_staff: user.is_staff,
        is_superuser: user.is_superuser,
    }
}

/// How long a set-password link mailed for a new account works.
const SET_PASSWORD_HOURS: i64 = 72;

/// The set-password link mailed for a new account (`/account/set-password`).
pub fn set_password_link(env: &Env, user: &UserRecord, now: Timestamp) -> String {
    let expires = now.unix() + SET_PASSWORD_HOURS * 3600;
    let token = links::sign(&env.auth.link_secret, user.id, expires, &password_state(user));
    format!("{}/account/set-password?token={token}", env.base_url)
}

/// The link mailed to a learner's requested new address (`/account/confirm-email`).
pub fn email_change_link(env: &Env, user: &UserRecord, new: &Email, now: Timestamp) -> String {
    let expires = now.unix() + EMAIL_CHANGE_HOURS * 3600;
    let token = links::sign_email_change(&env.auth.link_secret, user.id, expires, &user.email, new.as_str());
    format!("{}/account/confirm-email?token={token}", env.base_url)
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
/// `link` is `email_change_link`'s.
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
/// claims that address's auto-enroll pre-enrollments. The link is verified against the
/// account inside the write: it binds the current address, so of two uses only the first
/// finds it unchanged.
pub fn confirm_email_change(env: &Env, token: &str, now: Timestamp) -> Result<UserRecord, Error> {
    let user_id = links::user_of(token).ok_or_else(invalid_link)?;
    env.db.write(|conn| {
        let mut user = store::users::by_id(conn, user_id)?.ok_or_else(invalid_link)?;
        let new_email = links::verify_email_change(&env.auth.link_secret, token, user.id, &user.email, now.unix())
            .ok_or_else(invalid_link)?;
        let new_email = Email::parse(&new_email).map_err(|_| invalid_link())?;
        user.email = new_email.as_str().to_owned();
        store::users::update(conn, &user)?;
        if user.is_active {
            crate::core::enrollment::activate_pending(conn, &user, "accounts", now)?;
        }
        Ok(user)
    })
}

/// Queues the email Appsembler's `accounts/create` sends: the account exists and is active
/// (the original forces it active even while it sends Open edX's activation email).
pub fn send_account_created(conn: &Conn, user: &UserRecord, now: Timestamp) -> Result<(), Error> {
    let payload = serde_json::json!({"full_name": if user.name.is_empty() { &user.username } else { &user.name }, "username": user.username});
    store::outbox::enqueue(conn, "email", "account_created", &user.email, &payload.to_string(), now.unix())?;
    Ok(())
}

/// The conflict Appsembler's account creation answers for a username or email in use.
fn user_already_exists() -> Error {
    Error::conflict("User already exists")
}

/// Appsembler's `accounts/create`: an account, refused as a conflict when its username or
/// email is taken (checked in the insert's own write, so two requests cannot both pass),
/// with the account-created email when asked.
pub fn create_account(
    env: &Env,
    actor: &Actor,
    new: NewUser,
    password: String,
    send_email: bool,
    now: Timestamp,
) -> Result<Account, Error> {
    let new = with_password(env, new, Some(password));
    env.write_for_workers(|conn| {
        if find_user(conn, new.username.as_str())?.is_some() || user_by_email(conn, new.email.as_str())?.is_some() {
            return Err(user_already_exists());
        }
        let user = create_user(conn, actor, new, now)?;
        if send_email {
            send_account_created(conn, &user, now)?;
        }
        Ok(user.into())
    })
}

/// An account without a password as a surface read it (Appsembler's
/// `accounts/user_without_password`).
pub struct InactiveAccount {
    pub email: Email,
    pub name: String,
    pub profile: Profile,
}

/// Appsembler's `accounts/user_without_password`: an inactive account with a username made
/// from the email, and a set-password link (`set_password_link`, built for the new account)
/// mailed to it. An address in use (`raw_email` as sent) is a conflict before any fault of the rest
/// of the request (`parsed`, the surface's reading of it), as the original orders them.
pub fn create_inactive_account(
    env: &Env,
    actor: &Actor,
    raw_email: &str,
    parsed: Result<InactiveAccount, Error>,
    now: Timestamp,
) -> Result<Account, Error> {
    env.write_for_workers(|conn| {
        if user_by_email(conn, raw_email)?.is_some() {
            return Err(user_already_exists());
        }
        let InactiveAccount { email, name, profile } = parsed?;
        let new = NewUser {
            username: username_from_email(conn, &email)?,
            email,
            password_hash: None,
            name,
            first_name: String::new(),
            last_name: String::new(),
            profile,
            is_active: false,
            is_staff: false,
            is_superuser: false,
        };
        let user = create_user(conn, actor, new, now)?;
        send_set_password_link(conn, &user, &set_password_link(env, &user, now), now)?;
        Ok(user.into())
    })
}

/// Appsembler's `accounts/connect` as a surface read it. Each field is the surface's
/// reading, whose fault is answered only once the account is found (the original's order).
pub struct ConnectRequest {
    pub username: String,
    /// The new password (hashed before the write: a hash must not hold the writer).
    pub password: Result<Option<String>, Error>,
    pub name: Result<Option<String>, Error>,
    /// The new address as sent (blank: none).
    pub email: Result<Option<String>, Error>,
}

/// What `connect_account` changed.
pub struct Connected {
    pub user: Account,
    /// A learner's new address waits for the link mailed to it.
    pub confirmation_sent: bool,
}

/// Appsembler's `accounts/connect`: a new email, password or name for an account (None: no
/// such account). A malformed or taken address is the original's 409. A learner proves
/// their current password (`old_password`, checked against the account found, its fault
/// answered then) and confirms a new address from that address; staff and integrations
/// change the address at once, as the original does.
pub fn connect_account(
    env: &Env,
    actor: &Actor,
    request: ConnectRequest,
    old_password: Result<Option<String>, Error>,
    now: Timestamp,
) -> Result<Option<Connected>, Error> {
    let password_hash = request.password.map(|p| p.map(|p| env.auth.passwords.hash(&p)));
    let connected = env.db.write(|conn| {
        let Some(user) = find_user(conn, &request.username)? else { return Ok(None) };
        let password_hash = password_hash?;
        let name = request.name?;
        let email = match request.email?.filter(|e| !e.eq_ignore_ascii_case(&user.email)) {
            None => None,
            // 409 for a malformed email is the original's answer.
            Some(raw) => Some(Email::parse(&raw).map_err(|_| Error::conflict("Invalid email format"))?),
        };
        if let Some(email) = &email {
            if user_by_email(conn, email.as_str())?.is_some() {
                return Err(Error::conflict(format!("The email {email} is in use by another user")));
            }
        }
        let current_password_verified = match old_password? {
            Some(old) => super::tokens::current_password_matches(env, &user, &old, now.unix())?,
            None => false,
        };
        let confirm =
            email.as_ref().filter(|_| !actor.is_staff).map(|e| (e.clone(), email_change_link(env, &user, e, now)));
        let changes = UserChanges {
            email: if confirm.is_some() { None } else { email },
            password_hash,
            current_password_verified,
            name,
            ..Default::default()
        };
        let updated = update_user(conn, actor, &Username::existing(&user.username)?, changes, now)?;
        if let Some((email, link)) = &confirm {
            request_email_change(conn, &updated, email, link, now)?;
        }
        Ok(Some(Connected { user: updated.into(), confirmation_sent: confirm.is_some() }))
    })?;
    if connected.as_ref().is_some_and(|c| c.confirmation_sent) {
        env.jobs.wake();
    }
    Ok(connected)
}

pub fn user_by_id(conn: &Conn, id: i64) -> Result<Option<UserRecord>, Error> {
    store::users::by_id(conn, id)
}

/// Users who joined strictly between the bounds (Appsembler's analytics).
pub fn joined_between(db: &Db, after: Option<Timestamp>, before: Option<Timestamp>) -> Result<Vec<Account>, Error> {
    let (after, before) = (after.map(|t| t.unix()), before.map(|t| t.unix()));
    Ok(db.read(|conn| store::users::joined_between(conn, after, before))?.into_iter().map(Account::from).collect())
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
