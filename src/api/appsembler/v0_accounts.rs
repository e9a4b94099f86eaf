//! `/appsembler_api/v0/accounts/…`: creating, connecting and updating accounts.

use super::super::http::{json, ok, Ctx};
use super::*;
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

pub(super) fn post_accounts_create(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, field(&body, "username")?.as_deref())?;
    let (Some(username), Some(password), Some(email), Some(name)) =
        (field(&body, "username")?, field(&body, "password")?, field(&body, "email")?, field(&body, "name")?)
    else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    let (Ok(username), Ok(email)) = (Username::parse(&username), Email::parse(&email)) else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    if password.is_empty() || name.trim().is_empty() {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    }
    // The original disables it only for the string "False"; its clients also send JSON false.
    let send_activation_email = match body.get("send_activation_email") {
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        Some(Value::Bool(b)) => *b,
        _ => true,
    };
    let new = NewUser {
        username,
        email,
        password_hash: None,
        name,
        first_name: String::new(),
        last_name: String::new(),
        profile: Profile::default(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    };
    match accounts::create_account(ctx.env, &actor(&principal), new, password, send_activation_email, ctx.now) {
        // The key's trailing space is the original's; its clients read it that way.
        Ok(user) => Ok(ok(json!({"user_id ": user.id}))),
        Err(e) if e.kind == ErrorKind::Conflict => Ok(user_message(409, "User already exists")),
        Err(e) => Err(e),
    }
}

pub(super) fn post_user_without_password(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let principal = staff_or_owner(ctx, None)?;
    let (Some(email), Some(name)) = (field(&body, "email")?, field(&body, "name")?) else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    let parsed = inactive_account(&body, &email, name);
    let user = accounts::create_inactive_account(ctx.env, &actor(&principal), email.trim(), parsed, ctx.now)?;
    Ok(ok(json!({"user_id": user.id, "username": user.username})))
}

/// The rest of a `user_without_password` request; its faults are the original's 400s,
/// answered after the check that the address is free.
fn inactive_account(
    body: &serde_json::Map<String, Value>,
    email: &str,
    name: String,
) -> Result<accounts::InactiveAccount, Error> {
    let email = Email::parse(email).map_err(|_| Error::validation("Wrong email format"))?;
    // The vocabulary-checked profile fields; any bad one is the original's 400.
    let checked = |name: &str| -> Result<Result<Option<String>, String>, Error> {
        Ok(field(body, name)?.map(|v| accounts::check_profile_value(name, &v)).transpose())
    };
    let (Ok(country), Ok(gender), Ok(level_of_education), Ok(year_of_birth)) =
        (checked("country")?, checked("gender")?, checked("level_of_education")?, checked("year_of_birth")?)
    else {
        return Err(Error::validation("Wrong parameters on user creation"));
    };
    let profile = Profile {
        country,
        city: field(body, "city")?,
        gender,
        goals: field(body, "goals")?,
        level_of_education,
        year_of_birth: year_of_birth.and_then(|y| y.parse().ok()),
        ..Profile::default()
    };
    Ok(accounts::InactiveAccount { email, name, profile })
}

pub(super) fn post_accounts_connect(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let username = field(&body, "username")?;
    let principal = staff_or_owner(ctx, username.as_deref())?;
    let actor = actor(&principal);
    let Some(username) = username else { return Ok(user_message(400, "Wrong parameters on user connection")) };
    let not_blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let password = field(&body, "password").map(not_blank).and_then(|password| match password {
        Some(p) if p.len() > 1024 => Err(Error::validation("Wrong parameters on user connection")),
        password => Ok(password),
    });
    let request = accounts::ConnectRequest {
        username,
        password,
        name: field(&body, "name").map(not_blank),
        email: field(&body, "email").map(not_blank),
    };
    // Not in the original (which only staff called): a learner changing their own password
    // proves the current one, under the name Django's password-change form gives it.
    let old_password = field(&body, "old_password");
    let Some(connected) = accounts::connect_account(ctx.env, &actor, request, old_password, ctx.now)? else {
        return Ok(Response::empty_404());
    };
    Ok(ok(json!({"user_id": connected.user.id})))
}

/// Profile fields in the order the original reports them.
pub(super) const PROFILE_FIELDS: [&str; 10] = [
    "name",
    "level_of_education",
    "gender",
    "mailing_address",
    "city",
    "country",
    "goals",
    "bio",
    "year_of_birth",
    "language",
];

/// A refusal of `update_user`'s fields: the answer itself, or an error in the dialect.
type Refusal = Result<Response, Error>;

fn integrity_error(message: &str) -> Response {
    json(400, &json!({"integrity_error": message}))
}

pub(super) fn post_update_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let actor = actor(&staff_or_owner(ctx, None)?);
    let lookup = field(&body, "user_lookup")?.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    let Some(lookup) = lookup else {
        return Ok(json(400, &json!({"lookup_error": "No user lookup has been provided"})));
    };
    let email = field(&body, "email").map_err(Err);
    let (changes, mut updated) = match profile_changes(&body) {
        Ok((changes, updated)) => (Ok(changes), updated),
        Err(refusal) => (Err(refusal), Vec::new()),
    };
    match accounts::update_profile_by_login(&ctx.env.db, &actor, &lookup, email, changes, ctx.now)? {
        ProfileUpdate::NoSuchUser => {
            Ok(json(404, &json!({"user_not_found": "The user for the Given username or email doesn't exists"})))
        }
        ProfileUpdate::InvalidEmail => Ok(integrity_error("Valid e-mail address required.")),
        ProfileUpdate::EmailTaken => Ok(integrity_error("An account with this e-mail already exists.")),
        ProfileUpdate::Refused(refusal) => refusal,
        ProfileUpdate::Updated { email } => {
            if let Some(email) = email {
                updated.insert(0, ("email".into(), email.to_string()));
            }
            let list: Vec<String> = updated.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Ok(ok(json!({"success": format!("The following fields has been updated: {}", list.join(", "))})))
        }
    }
}

/// The profile and custom fields of an `update_user` request, with what the answer lists
/// as updated.
fn profile_changes(body: &serde_json::Map<String, Value>) -> Result<(ProfileChanges, Vec<(String, String)>), Refusal> {
    let mut updated: Vec<(String, String)> = Vec::new();
    let mut changes = ProfileChanges::default();
    let invalid = |message: &str| Err(Ok(integrity_error(message)));
    for name in PROFILE_FIELDS {
        // JSON null clears the field (the original's `update(bio=None)` stores NULL); it
        // never becomes the text "null". The full name is never null (a NOT NULL column).
        let text = match body.get(name) {
            None => continue,
            Some(Value::Null) if name == "name" => return invalid("name may not be null."),
            Some(Value::Null) => None,
            Some(_) => {
                match field(body, name).map_err(Err)?.map(|v| accounts::check_profile_value(name, &v)).transpose() {
                    Ok(v) => v,
                    Err(message) => return invalid(&message),
                }
            }
        };
        match name {
            "name" => changes.name = text.clone(),
            "level_of_education" => changes.level_of_education = Some(text.clone()),
            "gender" => changes.gender = Some(text.clone()),
            "mailing_address" => changes.mailing_address = Some(text.clone()),
            "city" => changes.city = Some(text.clone()),
            "country" => changes.country = Some(text.clone()),
            "goals" => changes.goals = Some(text.clone()),
            "bio" => changes.bio = Some(text.clone()),
            "year_of_birth" => changes.year_of_birth = Some(text.as_deref().and_then(|v| v.parse().ok())),
            _ => changes.language = Some(text.clone()),
        }
        // The original's message prints a cleared field as Python's str(None).
        updated.push((name.to_owned(), text.unwrap_or_else(|| "None".to_owned())));
    }
    // Any other string field is a custom registration field (Appsembler's extension form).
    for key in body.keys() {
        if key != "user_lookup" && key != "email" && !PROFILE_FIELDS.contains(&key.as_str()) && key.len() <= 100 {
            if let Some(v) = field(body, key).map_err(Err)? {
                changes.custom_fields.push((key.clone(), v.clone()));
                updated.push((key.clone(), v));
            }
        }
    }
    Ok((changes, updated))
}

pub(super) fn get_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let username = ctx.param("username").to_owned();
    staff_or_owner(ctx, Some(&username))?;
    let exists = accounts::user_exists(&ctx.env.db, &username)?;
    // The original answers with the username under "user_id".
    Ok(if exists { ok(json!({"user_id": username})) } else { Response::empty_404() })
}
