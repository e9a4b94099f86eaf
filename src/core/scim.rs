//! SCIM provisioning of accounts (RFC 7643 §4.1, RFC 7644 §3): every account except
//! superusers is a SCIM User. Creation, changes and deactivation go through
//! `core::accounts`, so SCIM follows the same username, email and deactivation rules as
//! every other surface (a deactivation ends sessions and tokens). Groups and their course
//! links are in `scim_groups`.

use super::scim_tokens;
use crate::core::accounts::{self, Actor, NewUser, UserChanges};
use crate::core::{Error, ErrorKind};
use crate::domain::{Email, Timestamp, Username};
use crate::store::scim::ScimTokenRecord;
use crate::store::scim::ScimUserRow;
pub use crate::store::scim::{GroupColumn, UserColumn};
use crate::store::users::UserRecord;
use crate::store::{self, Conn, Db};

/// RFC 7644 §3.12's `scimType` values this server answers with (in `Error::code`).
pub mod scim_type {
    pub const INVALID_FILTER: &str = "invalidFilter";
    pub const UNIQUENESS: &str = "uniqueness";
    pub const MUTABILITY: &str = "mutability";
    pub const INVALID_SYNTAX: &str = "invalidSyntax";
    pub const INVALID_PATH: &str = "invalidPath";
    pub const NO_TARGET: &str = "noTarget";
    pub const INVALID_VALUE: &str = "invalidValue";
    pub const INVALID_VERSION: &str = "invalidVers";
}

/// A 400 with its `scimType`.
pub fn bad_request(scim_type: &'static str, message: impl Into<String>) -> Error {
    Error::validation(message).with_code(scim_type)
}

/// Who SCIM acts as for `core::accounts`' rule: a server-to-server caller with staff's
/// reach (learners and staff, never a superuser, never privileges), as the token's maker,
/// a superuser, allowed it.
const SCIM_ACTOR: Actor = Actor { user_id: None, is_staff: true, is_superuser: false };

/// Settings the SCIM rules read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// `scim.allow_username_change`: usernames are how the other surfaces name people, so
    /// a provider may not change them unless the school says so.
    pub allow_username_change: bool,
}

/// A SCIM token as the admin surfaces list it (and as the SCIM surface names its caller);
/// the token itself is shown once, at creation (`NewToken`).
#[derive(Debug, Clone)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub created: Timestamp,
}

impl From<ScimTokenRecord> for Token {
    fn from(t: ScimTokenRecord) -> Token {
        Token { id: t.id, name: t.name, created: Timestamp::from_unix(t.created) }
    }
}

pub struct NewToken {
    pub record: Token,
    /// Shown once, at creation.
    pub token: String,
}

/// The SCIM tokens, for a superuser only: a token creates and deactivates accounts.
pub fn tokens(db: &Db, is_superuser: bool) -> Result<Vec<Token>, Error> {
    scim_tokens::require_superuser(is_superuser)?;
    Ok(db.read(scim_tokens::list)?.into_iter().map(Token::from).collect())
}

/// A new SCIM token (shown once), made by a superuser; `name` is the request's parse, whose
/// faults are answered only after the permission (a staff member who is not a superuser
/// is refused whatever they send).
pub fn create_token(
    db: &Db,
    is_superuser: bool,
    name: Result<String, Error>,
    now: Timestamp,
) -> Result<NewToken, Error> {
    scim_tokens::require_superuser(is_superuser)?;
    let name = name?;
    let new = db.write(|conn| scim_tokens::create(conn, &name, now.unix()))?;
    Ok(NewToken { record: new.record.into(), token: new.token })
}

/// Revokes the token a path names, for a superuser; 404 when there is none.
pub fn revoke_token(db: &Db, is_superuser: bool, id: &str) -> Result<(), Error> {
    scim_tokens::require_superuser(is_superuser)?;
    db.write(|conn| scim_tokens::delete(conn, id))
}

/// An account as SCIM shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    pub id: i64,
    pub user_name: String,
    pub external_id: Option<String>,
    /// `name.formatted` (also shown as `displayName`).
    pub formatted: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub active: bool,
    pub created: i64,
    pub last_modified: i64,
}

impl ScimUser {
    /// The weak ETag of the resource (RFC 7644 §3.14): a digest of what SCIM shows, so a
    /// change through any surface changes it.
    pub fn version(&self) -> String {
        let fields = serde_json::json!([
            self.user_name,
            self.external_id,
            self.formatted,
            self.given_name,
            self.family_name,
            self.email,
            self.active
        ]);
        weak_etag(&fields.to_string())
    }
}

pub(crate) fn weak_etag(content: &str) -> String {
    format!("W/\"{}\"", &crate::auth::secrets::sha256_hex(content)[..16])
}

/// An `If-Match` header (a list of ETags, or `*`) against the current version.
pub(crate) fn check_version(if_match: Option<&str>, current: &str) -> Result<(), Error> {
    let Some(header) = if_match else { return Ok(()) };
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").trim_matches('"').to_owned();
    if header.trim() == "*" || header.split(',').any(|tag| bare(tag) == bare(current)) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::PreconditionFailed,
        format!("The resource has changed: its version is {current}, not {header}."),
    )
    .with_code(scim_type::INVALID_VERSION))
}

fn view(user: &UserRecord, row: &ScimUserRow) -> ScimUser {
    ScimUser {
        id: user.id,
        user_name: user.username.clone(),
        external_id: row.external_id.clone(),
        formatted: user.name.clone(),
        given_name: user.first_name.clone(),
        family_name: user.last_name.clone(),
        email: user.email.clone(),
        active: user.is_active,
        created: user.date_joined,
        last_modified: row.updated.max(user.date_joined),
    }
}

fn user_not_found(id: &str) -> Error {
    Error::not_found(format!("No User with id '{id}' exists."))
}

/// The account behind a SCIM id, if SCIM may see it: superusers and accounts SCIM
/// deleted are not there.
pub(crate) fn visible_user(conn: &Conn, id: &str) -> Result<(UserRecord, ScimUserRow), Error> {
    let user_id: i64 = id.parse().map_err(|_| user_not_found(id))?;
    let user = store::users::by_id(conn, user_id)?.filter(|u| !u.is_superuser).ok_or_else(|| user_not_found(id))?;
    let row = store::scim::user_row(conn, user_id)?.unwrap_or_default();
    if row.deleted {
        return Err(user_not_found(id));
    }
    Ok((user, row))
}

/// GET /Users/{id}.
pub fn get_user(db: &Db, id: &str) -> Result<ScimUser, Error> {
    db.read(|conn| {
        let (user, row) = visible_user(conn, id)?;
        Ok(view(&user, &row))
    })
}

/// One page (1-based `start_index`) of the users matching every condition, and the total.
/// One snapshot, so the total and the page agree.
pub fn list_users(
    db: &Db,
    conditions: &[UserColumn],
    start_index: i64,
    count: i64,
) -> Result<(i64, Vec<ScimUser>), Error> {
    db.snapshot(|conn| {
        let (total, ids) = store::scim::search_users(conn, conditions, start_index - 1, count)?;
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            let (user, row) = visible_user(conn, &id.to_string())?;
            users.push(view(&user, &row));
        }
        Ok((total, users))
    })
}

/// A whole User as POST and PUT send it, parsed.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub user_name: Username,
    pub external_id: Option<String>,
    pub formatted: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<Email>,
    /// None: true at creation, unchanged on replace.
    pub active: Option<bool>,
}

/// A userName for a new account or a rename follows the rules for new usernames (no `@`:
/// an identifier with `@` is an email on every surface); existing names may predate them.
fn new_username(name: &Username) -> Result<Username, Error> {
    Username::parse(name.as_str()).map_err(|e| bad_request(scim_type::INVALID_VALUE, format!("userName: {}", e.0)))
}

fn email_required() -> Error {
    bad_request(scim_type::INVALID_VALUE, "A Rollcall account needs an email address: send emails with a value.")
}

/// POST /Users. A userName SCIM deleted before is brought back (deactivated accounts keep
/// their username, and an IdP that deleted someone may provision them again).
pub fn create_user(db: &Db, input: UserInput, settings: Settings, now: Timestamp) -> Result<ScimUser, Error> {
    db.write(|conn| {
        if let Some(existing) = store::users::by_username(conn, input.user_name.as_str())? {
            let row = store::scim::user_row(conn, existing.id)?.unwrap_or_default();
            if row.deleted && !existing.is_superuser {
                store::scim::save_user_row(conn, existing.id, &ScimUserRow { deleted: false, ..row })?;
                let active = Some(input.active.unwrap_or(true));
                let (user, row) = visible_user(conn, &existing.id.to_string())?;
                return replace(conn, user, row, UserInput { active, ..input }, settings, now);
            }
            return Err(Error::conflict(format!("A user with userName '{}' already exists.", input.user_name))
                .with_code(scim_type::UNIQUENESS));
        }
        let email = input.email.ok_or_else(email_required)?;
        let new = NewUser {
            username: new_username(&input.user_name)?,
            email,
            password_hash: None,
            name: input.formatted.or(input.display_name).unwrap_or_default(),
            first_name: input.given_name.unwrap_or_default(),
            last_name: input.family_name.unwrap_or_default(),
            profile: Default::default(),
            is_active: input.active.unwrap_or(true),
            is_staff: false,
            is_superuser: false,
        };
        let user = accounts::create_user(conn, &SCIM_ACTOR, new, now)?;
        let row = ScimUserRow { external_id: input.external_id, deleted: false, updated: now.unix() };
        store::scim::save_user_row(conn, user.id, &row)?;
        Ok(view(&user, &row))
    })
}

/// What an account should become.
struct Desired {
    user_name: Username,
    external_id: Option<String>,
    formatted: String,
    given_name: String,
    family_name: String,
    email: Email,
    active: bool,
}

/// Writes `desired` over the account through `core::accounts` (which ends sessions and
/// tokens on deactivation), and SCIM's own row.
fn write_user(
    conn: &Conn,
    mut user: UserRecord,
    row: ScimUserRow,
    desired: Desired,
    settings: Settings,
    now: Timestamp,
) -> Result<ScimUser, Error> {
    // userName is caseExact false: a different case is the same name.
    if !desired.user_name.as_str().eq_ignore_ascii_case(&user.username) {
        if !settings.allow_username_change {
            return Err(bad_request(
                scim_type::MUTABILITY,
                format!(
                    "userName cannot change from '{}' to '{}': usernames name people on every other surface (set scim.allow_username_change = true to allow it).",
                    user.username, desired.user_name
                ),
            ));
        }
        let new_name = new_username(&desired.user_name)?;
        user = accounts::rename_user(conn, user.id, &new_name).map_err(|e| {
            if e.kind == ErrorKind::Conflict {
                e.with_code(scim_type::UNIQUENESS)
            } else {
                e
            }
        })?;
    }
    let changes = UserChanges {
        email: Some(desired.email),
        name: Some(desired.formatted),
        first_name: Some(desired.given_name),
        last_name: Some(desired.family_name),
        is_active: Some(desired.active),
        ..UserChanges::default()
    };
    let username = Username::existing(&user.username)?;
    let user = accounts::update_user(conn, &SCIM_ACTOR, &username, changes, now)?;
    let row = ScimUserRow { external_id: desired.external_id, deleted: false, updated: now.unix().max(row.updated) };
    store::scim::save_user_row(conn, user.id, &row)?;
    Ok(view(&user, &row))
}

/// PUT /Users/{id}: the whole resource; what is not sent is cleared (active: kept).
pub fn replace_user(
    db: &Db,
    id: &str,
    input: UserInput,
    if_match: Option<&str>,
    settings: Settings,
    now: Timestamp,
) -> Result<ScimUser, Error> {
    db.write(|conn| {
        let (user, row) = visible_user(conn, id)?;
        check_version(if_match, &view(&user, &row).version())?;
        replace(conn, user, row, input, settings, now)
    })
}

/// `input` over the account: what it does not send is cleared (active: kept).
fn replace(
    conn: &Conn,
    user: UserRecord,
    row: ScimUserRow,
    input: UserInput,
    settings: Settings,
    now: Timestamp,
) -> Result<ScimUser, Error> {
    let desired = Desired {
        user_name: input.user_name,
        external_id: input.external_id,
        formatted: input.formatted.or(input.display_name).unwrap_or_default(),
        given_name: input.given_name.unwrap_or_default(),
        family_name: input.family_name.unwrap_or_default(),
        email: input.email.ok_or_else(email_required)?,
        active: input.active.unwrap_or(user.is_active),
    };
    write_user(conn, user, row, desired, settings, now)
}

/// One attribute change of a PATCH, its path already resolved (`None`: removed).
#[derive(Debug, Clone, PartialEq)]
pub enum UserChange {
    UserName(Option<Username>),
    ExternalId(Option<String>),
    /// name.formatted and displayName both name the account.
    Formatted(Option<String>),
    GivenName(Option<String>),
    FamilyName(Option<String>),
    Email(Option<Email>),
    Active(bool),
}

/// PATCH /Users/{id}: the changes in order, all or nothing.
pub fn patch_user(
    db: &Db,
    id: &str,
    changes: Vec<UserChange>,
    if_match: Option<&str>,
    settings: Settings,
    now: Timestamp,
) -> Result<ScimUser, Error> {
    db.write(|conn| {
        let (user, row) = visible_user(conn, id)?;
        let current = view(&user, &row);
        check_version(if_match, &current.version())?;
        let mut desired = Desired {
            user_name: Username::existing(&user.username)?,
            external_id: current.external_id,
            formatted: current.formatted,
            given_name: current.given_name,
            family_name: current.family_name,
            email: Email::parse(&user.email)?,
            active: current.active,
        };
        for change in changes {
            match change {
                UserChange::UserName(Some(name)) => desired.user_name = name,
                UserChange::UserName(None) => {
                    return Err(bad_request(scim_type::MUTABILITY, "userName is required and cannot be removed."))
                }
                UserChange::ExternalId(v) => desired.external_id = v,
                UserChange::Formatted(v) => desired.formatted = v.unwrap_or_default(),
                UserChange::GivenName(v) => desired.given_name = v.unwrap_or_default(),
                UserChange::FamilyName(v) => desired.family_name = v.unwrap_or_default(),
                UserChange::Email(Some(email)) => desired.email = email,
                UserChange::Email(None) => return Err(email_required()),
                UserChange::Active(active) => desired.active = active,
            }
        }
        write_user(conn, user, row, desired, settings, now)
    })
}

/// DELETE /Users/{id}: the account is deactivated (its sessions and tokens end; its
/// enrollments and history stay) and leaves SCIM: later requests for it are 404. Erasing
/// personal data is the privacy API's job.
pub fn delete_user(db: &Db, id: &str, if_match: Option<&str>, now: Timestamp) -> Result<(), Error> {
    db.write(|conn| {
        let (user, row) = visible_user(conn, id)?;
        check_version(if_match, &view(&user, &row).version())?;
        if user.is_active {
            let changes = UserChanges { is_active: Some(false), ..UserChanges::default() };
            let username = Username::existing(&user.username)?;
            accounts::update_user(conn, &SCIM_ACTOR, &username, changes, now)?;
        } else {
            // Already inactive: its credentials still end now.
            accounts::end_credentials(conn, &user, now)?;
        }
        store::scim::forget_memberships(conn, user.id)?;
        store::scim::save_user_row(conn, user.id, &ScimUserRow { deleted: true, updated: now.unix(), ..row })
    })
}
