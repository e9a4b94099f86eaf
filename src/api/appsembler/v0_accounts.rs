//! `/appsembler_api/v0/accounts/…`: creating, connecting and updating accounts.

use super::super::http::{email_change_link, json, ok, Ctx};
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
    let exists = ctx.app.db.read(|c| {
        Ok(crate::core::accounts::find_user(c, username.as_str())?.is_some()
            || accounts::user_by_email(c, email.as_str())?.is_some())
    })?;
    if exists {
        return Ok(user_message(409, "User already exists"));
    }
    // The original disables it only for the string "False"; its clients also send JSON false.
    let send_activation_email = match body.get("send_activation_email") {
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        Some(Value::Bool(b)) => *b,
        _ => true,
    };
    let hash = ctx.app.auth.passwords.hash(&password);
    let new = NewUser {
        username,
        email,
        password_hash: Some(hash),
        name,
        first_name: String::new(),
        last_name: String::new(),
        profile: Profile::default(),
        is_active: true,
        is_staff: false,
        is_superuser: false,
    };
    let created = ctx.app.db.write(|c| {
        let user = accounts::create_user(c, &actor(&principal), new, ctx.now)?;
        if send_activation_email {
            accounts::send_account_created(c, &user, ctx.now)?;
        }
        Ok(user)
    });
    match created {
        // The key's trailing space is the original's; its clients read it that way.
        Ok(user) => {
            ctx.app.jobs.wake();
            Ok(ok(json!({"user_id ": user.id})))
        }
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
    let exists = ctx.app.db.read(|c| Ok(accounts::user_by_email(c, email.trim())?.is_some()))?;
    if exists {
        return Ok(user_message(409, "User already exists"));
    }
    let Ok(email) = Email::parse(&email) else { return Ok(user_message(400, "Wrong email format")) };
    // The vocabulary-checked profile fields; any bad one is the original's 400.
    let checked = |name: &str| -> Result<Result<Option<String>, String>, Error> {
        Ok(field(&body, name)?.map(|v| accounts::check_profile_value(name, &v)).transpose())
    };
    let (Ok(country), Ok(gender), Ok(level_of_education), Ok(year_of_birth)) =
        (checked("country")?, checked("gender")?, checked("level_of_education")?, checked("year_of_birth")?)
    else {
        return Ok(user_message(400, "Wrong parameters on user creation"));
    };
    let profile = Profile {
        country,
        city: field(&body, "city")?,
        gender,
        goals: field(&body, "goals")?,
        level_of_education,
        year_of_birth: year_of_birth.and_then(|y| y.parse().ok()),
        ..Profile::default()
    };
    let base_url = ctx.app.base_url.clone();
    let user = ctx.app.db.write(|c| {
        let username = accounts::username_from_email(c, &email)?;
        let new = NewUser {
            username,
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
        let user = accounts::create_user(c, &actor(&principal), new, ctx.now)?;
        let expires = ctx.now.unix() + 72 * 3600;
        let state = auth::links::PasswordState {
            password_hash: user.password_hash.as_deref().unwrap_or(""),
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
        };
        let token = auth::links::sign(&ctx.app.auth.link_secret, user.id, expires, &state);
        accounts::send_set_password_link(c, &user, &format!("{base_url}/account/set-password?token={token}"), ctx.now)?;
        Ok(user)
    })?;
    ctx.app.jobs.wake();
    Ok(ok(json!({"user_id": user.id, "username": user.username})))
}

pub(super) fn post_accounts_connect(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let username = field(&body, "username")?;
    let principal = staff_or_owner(ctx, username.as_deref())?;
    let actor = actor(&principal);
    let Some(username) = username else { return Ok(user_message(400, "Wrong parameters on user connection")) };
    let Some(user) = ctx.app.db.read(|c| crate::core::accounts::find_user(c, &username))? else {
        return Ok(Response::empty_404());
    };
    let password = field(&body, "password")?.filter(|p| !p.trim().is_empty());
    if password.as_ref().is_some_and(|p| p.len() > 1024) {
        return Ok(user_message(400, "Wrong parameters on user connection"));
    }
    let name = field(&body, "name")?.filter(|n| !n.trim().is_empty());
    let email = match field(&body, "email")?.filter(|e| !e.trim().is_empty() && !e.eq_ignore_ascii_case(&user.email)) {
        None => None,
        Some(raw) => match Email::parse(&raw) {
            Ok(e) => Some(e),
            // 409 for a malformed email is the original's answer.
            Err(_) => return Ok(user_message(409, "Invalid email format")),
        },
    };
    if let Some(email) = &email {
        if ctx.app.db.read(|c| accounts::user_by_email(c, email.as_str()))?.is_some() {
            return Ok(user_message(409, &format!("The email {email} is in use by another user")));
        }
    }
    // Not in the original (which only staff called): a learner changing their own password
    // proves the current one, under the name Django's password-change form gives it.
    let current_password_verified = match field(&body, "old_password")? {
        Some(old) => auth::tokens::current_password_matches(&ctx.app.auth, &user, &old, ctx.now.unix())?,
        None => false,
    };
    // A learner's new address waits for confirmation from that address; staff and
    // integrations change it at once, as the original does.
    let confirm =
        email.as_ref().filter(|_| !actor.is_staff).map(|e| (e.clone(), email_change_link(ctx.app, &user, e, ctx.now)));
    let changes = accounts::UserChanges {
        email: if confirm.is_some() { None } else { email },
        password_hash: password.map(|p| ctx.app.auth.passwords.hash(&p)),
        current_password_verified,
        name,
        ..Default::default()
    };
    let username = Username::existing(&user.username)?;
    let user = ctx.app.db.write(|c| {
        let updated = accounts::update_user(c, &actor, &username, changes, ctx.now)?;
        if let Some((email, link)) = &confirm {
            accounts::request_email_change(c, &updated, email, link, ctx.now)?;
        }
        Ok(updated)
    })?;
    if confirm.is_some() {
        ctx.app.jobs.wake();
    }
    Ok(ok(json!({"user_id": user.id})))
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

pub(super) fn post_update_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let body = body(ctx)?;
    let actor = actor(&staff_or_owner(ctx, None)?);
    let lookup = field(&body, "user_lookup")?.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    let Some(lookup) = lookup else {
        return Ok(json(400, &json!({"lookup_error": "No user lookup has been provided"})));
    };
    let user: Option<UserRecord> = ctx.app.db.read(|c| accounts::find_by_login(c, &lookup))?;
    let Some(user) = user else {
        return Ok(json(404, &json!({"user_not_found": "The user for the Given username or email doesn't exists"})));
    };
    let mut updated: Vec<(String, String)> = Vec::new();
    let mut changes = ProfileChanges::default();
    let invalid = |message: String| Ok(json(400, &json!({"integrity_error": message})));
    if let Some(raw) = field(&body, "email")?.filter(|e| *e != user.email) {
        let Ok(email) = Email::parse(&raw) else { return invalid("Valid e-mail address required.".into()) };
        if ctx.app.db.read(|c| accounts::user_by_email(c, email.as_str()))?.is_some() {
            return invalid("An account with this e-mail already exists.".into());
        }
        updated.push(("email".into(), email.to_string()));
        changes.email = Some(email);
    }
    for name in PROFILE_FIELDS {
        // JSON null clears the field (the original's `update(bio=None)` stores NULL); it
        // never becomes the text "null". The full name is never null (a NOT NULL column).
        let text = match body.get(name) {
            None => continue,
            Some(Value::Null) if name == "name" => return invalid("name may not be null.".into()),
            Some(Value::Null) => None,
            Some(_) => match field(&body, name)?.map(|v| accounts::check_profile_value(name, &v)).transpose() {
                Ok(v) => v,
                Err(message) => return invalid(message),
            },
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
            if let Some(v) = field(&body, key)? {
                changes.custom_fields.push((key.clone(), v.clone()));
                updated.push((key.clone(), v));
            }
        }
    }
    ctx.app.db.write(|c| accounts::update_profile(c, &actor, &user.username, changes, ctx.now))?;
    let list: Vec<String> = updated.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(ok(json!({"success": format!("The following fields has been updated: {}", list.join(", "))})))
}

pub(super) fn get_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let username = ctx.param("username").to_owned();
    staff_or_owner(ctx, Some(&username))?;
    let exists = ctx.app.db.read(|c| crate::core::accounts::find_user(c, &username))?.is_some();
    // The original answers with the username under "user_id".
    Ok(if exists { ok(json!({"user_id": username})) } else { Response::empty_404() })
}
