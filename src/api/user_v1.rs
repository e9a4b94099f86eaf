//! `/api/user/v1/…`: Open edX's account API (edx-platform's user_api accounts views): look users up by
//! email or username, read one account, and PATCH it with `application/merge-patch+json`.
//! Non-staff callers see only a reduced view of other users.

use super::errors::Dialect;
use super::http::{default_profile_image, ok, Ctx};
use super::router::{Doc, Route};
use super::shared::export_response;
use crate::core::accounts::{self, Account, AccountView, Actor, ProfileChanges, Viewer};
use crate::core::privacy;
use crate::core::Error;
use crate::core::ErrorKind;
use crate::domain::Email;
use rouille::Response;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    let doc = |summary, request, response| Doc {
        summary,
        tag: "accounts",
        auth: true,
        request,
        status: 200,
        response,
        query: &[],
    };
    let r = |method, path, handler, doc| Route { method, path, dialect: Dialect::Developer, handler, doc };
    vec![
        r("GET", "/api/user/v1/me", get_me, doc("The caller's username", None, Some("Me"))),
        r(
            "GET",
            "/api/user/v1/accounts",
            get_accounts,
            Doc {
                query: &[("email", "one email address"), ("username", "comma-separated usernames")],
                ..doc("Accounts by email or usernames (an array)", None, Some("AccountList"))
            },
        ),
        r(
            "POST",
            "/api/user/v1/accounts/deactivate_logout/",
            post_deactivate_logout,
            Doc {
                status: 204,
                ..doc(
                    "The caller deactivates their own account (with their password): sessions and tokens end, and the account is retired within a minute",
                    Some("DeactivateLogout"),
                    None,
                )
            },
        ),
        r(
            "POST",
            "/api/user/v1/accounts/retire/",
            post_retire,
            doc(
                "Retire an account now ({\"username\"}: 200), or many as a task ({\"usernames\": [...]}: 202); staff, the API key, or a client in auth.retirement_clients",
                Some("RetireRequest"),
                Some("Retirement"),
            ),
        ),
        r(
            "GET",
            "/api/user/v1/accounts/retire/tasks/{task_id}",
            get_retirement_task,
            doc("A bulk retirement task with each account's result", None, Some("RetirementTask")),
        ),
        r(
            "GET",
            "/api/user/v1/accounts/{username}/export",
            get_account_export,
            doc("Everything Rollcall holds about a person, streamed as one JSON document; the person themself or staff", None, Some("UserExport")),
        ),
        r("GET", "/api/user/v1/accounts/{username}", get_account, doc("One account", None, Some("Account"))),
        r(
            "PATCH",
            "/api/user/v1/accounts/{username}",
            patch_account,
            doc(
                "Change your own account (Content-Type: application/merge-patch+json); only the user themself, as in Open edX (staff use the admin API)",
                Some("AccountPatch"),
                Some("Account"),
            ),
        ),
    ]
}

/// The full account, as the user themself and staff see it.
fn account_json(u: &Account, custom: &[(String, String)]) -> Value {
    let p = &u.profile;
    json!({
        "id": u.id, "username": u.username, "name": u.name, "email": u.email, "secondary_email": null,
        "is_active": u.is_active, "date_joined": u.date_joined, "last_login": u.last_login,
        "bio": p.bio, "country": p.country, "city": p.city, "gender": p.gender, "goals": p.goals, "language": p.language,
        "language_proficiencies": p.language.as_ref().map(|l| vec![json!({"code": l})]).unwrap_or_default(),
        "level_of_education": p.level_of_education, "mailing_address": p.mailing_address, "year_of_birth": p.year_of_birth,
        "phone_number": p.phone, "date_of_birth": p.date_of_birth, "profile_image": default_profile_image(),
        "requires_parental_consent": false, "social_links": [], "account_privacy": "private", "accomplishments_shared": false,
        "extended_profile": custom.iter().map(|(k, v)| json!({"field_name": k, "field_value": v})).collect::<Vec<_>>(),
        "time_zone": null,
    })
}

/// What another non-staff user may see (Open edX's private visibility).
fn shared_json(u: &Account) -> Value {
    json!({"username": u.username, "account_privacy": "private", "profile_image": default_profile_image()})
}

fn viewer(ctx: &mut Ctx) -> Result<Viewer, Error> {
    let caller = ctx.caller()?;
    Ok(Viewer {
        username: caller.user().map(|u| u.username.clone()),
        staff: caller.is_global_staff() || caller.user().is_none(),
    })
}

fn view_json(view: &AccountView) -> Value {
    match view {
        AccountView::Whole(user, custom) => account_json(user, custom),
        AccountView::Shared(user) => shared_json(user),
    }
}

fn get_me(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let user = caller.user().ok_or_else(|| Error::forbidden("An API key is not a user."))?;
    Ok(ok(json!({"username": user.username})))
}

fn get_accounts(ctx: &mut Ctx) -> Result<Response, Error> {
    let viewer = viewer(ctx)?;
    if let Some(email) = ctx.query_param("email") {
        let own_email = ctx.caller()?.user().map(|u| u.email.clone());
        // accounts/views.py AccountViewSet.list: a non-staff caller may look up only their
        // own address; anyone else's is a 403 (whether or not it is registered).
        if !viewer.staff && !own_email.is_some_and(|own| own.eq_ignore_ascii_case(email.trim())) {
            return Err(Error::forbidden("You do not have permission to perform this action."));
        }
        let found = accounts::account_with_email(&ctx.env.db, &viewer, email.trim())?;
        return Ok(found.map(|view| ok(json!([view_json(&view)]))).unwrap_or_else(Response::empty_404));
    }
    // With neither parameter Open edX lists the caller's own account.
    let usernames = match (ctx.query_param("username"), viewer.username.clone()) {
        (Some(names), _) => names,
        (None, Some(own)) => own,
        (None, None) => return Err(Error::validation("Give ?email= or ?username= (comma-separated).")),
    };
    let names: Vec<&str> = usernames.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.len() > 100 {
        return Err(Error::validation("At most 100 usernames at a time."));
    }
    let list = accounts::accounts_named(&ctx.env.db, &viewer, &names)?;
    if list.is_empty() {
        return Ok(Response::empty_404());
    }
    Ok(ok(json!(list.iter().map(view_json).collect::<Vec<_>>())))
}

fn get_account(ctx: &mut Ctx) -> Result<Response, Error> {
    let viewer = viewer(ctx)?;
    let username = ctx.param("username").to_owned();
    let found = accounts::accounts_named(&ctx.env.db, &viewer, &[username.as_str()])?;
    Ok(found.first().map(|view| ok(view_json(view))).unwrap_or_else(Response::empty_404))
}

const EDITABLE: [&str; 13] = [
    "name",
    "email",
    "bio",
    "country",
    "city",
    "gender",
    "goals",
    "language",
    "level_of_education",
    "mailing_address",
    "year_of_birth",
    "phone_number",
    "extended_profile",
];

fn patch_account(ctx: &mut Ctx) -> Result<Response, Error> {
    let viewer = viewer(ctx)?;
    let actor = super::http::actor_of(ctx.caller()?);
    let username = ctx.param("username").to_owned();
    // update_account_settings lets only the account's owner change it, staff included;
    // staff change other accounts through the admin API.
    if viewer.username.as_deref() != Some(username.as_str()) {
        return Err(Error::forbidden("You do not have permission to change this account."));
    }
    let content_type = ctx.req.header("Content-Type").unwrap_or("");
    if !content_type.trim().to_ascii_lowercase().starts_with("application/merge-patch+json") {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            format!("Unsupported media type \"{content_type}\" in request; send application/merge-patch+json."),
        ));
    }
    let body = ctx.json_body()?;
    let object = body.as_object().ok_or_else(|| Error::validation("The body must be a JSON object."))?;
    let mut errors = Error::validation("Some fields could not be changed.");
    let mut changes = ProfileChanges::default();
    for (field, value) in object {
        let text = || -> Result<Option<String>, String> {
            match value {
                Value::Null => Ok(None),
                Value::String(s) if s.chars().count() <= 3000 => Ok(Some(s.clone())),
                Value::String(_) => Err("is too long".into()),
                _ => Err("must be a string".into()),
            }
        };
        let result: Result<(), String> = match field.as_str() {
            "name" => text().and_then(|v| v.ok_or("may not be null".into())).map(|v| changes.name = Some(v)),
            "email" => text()
                .and_then(|v| v.ok_or("may not be null".into()))
                .and_then(|v| Email::parse(&v).map_err(|e| e.0))
                .map(|v| changes.email = Some(v)),
            "bio" => text().map(|v| changes.bio = Some(v)),
            "city" => text().map(|v| changes.city = Some(v)),
            "goals" => text().map(|v| changes.goals = Some(v)),
            "language" => text().map(|v| changes.language = Some(v)),
            "mailing_address" => text().map(|v| changes.mailing_address = Some(v)),
            "phone_number" => text().map(|v| changes.phone = Some(v)),
            "country" | "gender" | "level_of_education" => text().and_then(|v| {
                let checked = v.map(|v| accounts::check_profile_value(field, &v)).transpose()?;
                match field.as_str() {
                    "country" => changes.country = Some(checked),
                    "gender" => changes.gender = Some(checked),
                    _ => changes.level_of_education = Some(checked),
                }
                Ok(())
            }),
            "year_of_birth" => match value {
                Value::Null => {
                    changes.year_of_birth = Some(None);
                    Ok(())
                }
                v => v
                    .as_i64()
                    .filter(|y| (1900..=2100).contains(y))
                    .map(|y| changes.year_of_birth = Some(Some(y)))
                    .ok_or("must be a year".into()),
            },
            "extended_profile" => {
                value.as_array().ok_or("must be a list of {field_name, field_value}".to_owned()).and_then(|items| {
                    items.iter().try_for_each(|item| {
                        let name =
                            item.get("field_name").and_then(Value::as_str).ok_or("each item needs field_name")?;
                        let value = item
                            .get("field_value")
                            .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                            .unwrap_or_default();
                        changes.custom_fields.push((name.to_owned(), value));
                        Ok::<(), String>(())
                    })
                })
            }
            other if EDITABLE.contains(&other) => Ok(()),
            _ => Err("This field is not editable via this API".into()),
        };
        if let Err(message) = result {
            errors.field_errors.insert(field.clone(), format!("{field}: {message}"));
        }
    }
    if !errors.field_errors.is_empty() {
        return Err(errors);
    }
    // A learner's new address is confirmed from that address first (Open edX's
    // PendingEmailChange): the answer still shows the current one.
    let (account, _) = accounts::change_own_profile(ctx.env, &actor, &viewer, &username, changes, ctx.now)?;
    Ok(ok(view_json(&account)))
}

fn get_account_export(ctx: &mut Ctx) -> Result<Response, Error> {
    let viewer = viewer(ctx)?;
    let username = ctx.param("username").to_owned();
    export_response(ctx.env, &viewer, &username, ctx.now)
}

/// Open edX's `DeactivateLogoutView`: the signed-in learner confirms with their password.
fn post_deactivate_logout(ctx: &mut Ctx) -> Result<Response, Error> {
    let caller = ctx.caller()?;
    let user_id = caller.user().ok_or_else(|| Error::forbidden("An API key is not a user."))?.id;
    let body = ctx.json_body()?;
    let password = body.get("password").and_then(Value::as_str).unwrap_or("");
    if password.is_empty() {
        return Err(Error::field("password", "Your password is required to deactivate your account."));
    }
    privacy::deactivate_own_account(ctx.env, user_id, password, ctx.now)?;
    let mut response = Response::empty_204();
    for cookie in super::cookies::clearing(ctx.env) {
        response = response.with_additional_header("Set-Cookie", cookie);
    }
    Ok(response)
}

/// Staff, the API key, or a token of a client listed in `auth.retirement_clients`.
fn retirement_actor(ctx: &mut Ctx) -> Result<(Actor, String), Error> {
    let allowed = ctx.env.config.auth.retirement_clients.clone();
    let caller = ctx.caller()?;
    let name = match caller.user() {
        Some(u) => u.username.clone(),
        None => "api-key".to_owned(),
    };
    if caller.is_global_staff() || caller.user().is_none() {
        return Ok((super::http::actor_of(caller), name));
    }
    let client = caller.user().and_then(|u| u.client_id.as_deref());
    if client.is_some_and(|c| allowed.iter().any(|a| a == c)) {
        return Ok((Actor { user_id: None, is_staff: true, is_superuser: false }, name));
    }
    Err(Error::forbidden("Retiring accounts needs staff, or a client listed in auth.retirement_clients."))
}

fn post_retire(ctx: &mut Ctx) -> Result<Response, Error> {
    let (actor, actor_name) = retirement_actor(ctx)?;
    let body = ctx.json_body()?;
    if let Some(list) = body.get("usernames") {
        let names: Vec<String> = list
            .as_array()
            .ok_or_else(|| Error::field("usernames", "usernames must be a list of usernames."))?
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::field("usernames", "Each username must be a non-empty string."))?;
        if names.is_empty() || names.len() > privacy::MAX_BULK {
            return Err(Error::field("usernames", format!("Give 1 to {} usernames.", privacy::MAX_BULK)));
        }
        let task = privacy::queue_retirements(ctx.env, &actor_name, &names, ctx.now)?;
        return Ok(super::http::json(202, &task_json(ctx, &task, Vec::new())));
    }
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::field("username", "Give username (one account) or usernames (a list)."))?
        .to_owned();
    let retired = privacy::retire_now(&ctx.env.db, &actor, &username, ctx.now)?;
    let answer = json!({"username": retired.username, "email": format!("{}@retired.invalid", retired.username)});
    crate::core::privacy::forget_traces(&ctx.env.db, &ctx.env.limits, std::slice::from_ref(&retired));
    Ok(ok(answer))
}

fn task_json(ctx: &Ctx, task: &privacy::RetirementTask, results: Vec<privacy::ItemView>) -> Value {
    json!({
        "task_id": task.public_id, "status": task.status, "total": task.total, "done": task.done,
        "succeeded": task.succeeded, "failed": task.failed, "created": task.created,
        "started": task.started, "finished": task.finished,
        "url": format!("{}/api/user/v1/accounts/retire/tasks/{}", ctx.env.base_url, task.public_id),
        "results": results,
    })
}

fn get_retirement_task(ctx: &mut Ctx) -> Result<Response, Error> {
    retirement_actor(ctx)?;
    let public_id = ctx.param("task_id").to_owned();
    let (task, results) = privacy::task_with_items(&ctx.env.db, &public_id)?;
    Ok(ok(task_json(ctx, &task, results)))
}
