//! `/api/admin/v1/users…` and `/api/admin/v1/oauth-clients…`: accounts and API clients.

use super::super::http::{self, as_bool, as_string, as_text, created, no_content, ok, Ctx, Fields, Page};
use super::admin;
use crate::core::accounts::{self, Account, NewUser, UserChanges};
use crate::core::Error;
use crate::domain::{Email, Profile, Title, Username};
use rouille::Response;
use serde_json::{json, Value};

pub(super) fn user_json(u: &Account) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email, "name": u.name, "first_name": u.first_name, "last_name": u.last_name,
        "is_staff": u.is_staff, "is_superuser": u.is_superuser, "is_active": u.is_active,
        "date_joined": u.date_joined, "last_login": u.last_login,
    })
}

const USER_FIELDS: [&str; 9] =
    ["username", "email", "name", "first_name", "last_name", "password", "is_staff", "is_superuser", "is_active"];

pub(super) fn check_password(p: String) -> Result<String, String> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err("must be 8 to 1024 characters".into());
    }
    Ok(p)
}

pub(super) fn get_users(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let page = Page::from_query(ctx, 25, 100)?;
    let (total, users) = accounts::users_page(&ctx.env.db, page.offset(), page.size)?;
    let body = page.body(ctx, total, users.iter().map(user_json).collect())?;
    Ok(http::with_link_header(ok(body.clone()), &body))
}

pub(super) fn post_users(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&USER_FIELDS);
    let username = f.required("username", |v| Username::parse(&as_string(v)?).map_err(|e| e.0));
    let email = f.required("email", |v| Email::parse(&as_string(v)?).map_err(|e| e.0));
    let password = f.get("password", |v| check_password(as_string(v)?)).flatten();
    let name = f.get("name", as_text::<Title>).flatten().unwrap_or_default();
    let first_name = f.get("first_name", as_text::<Title>).flatten().unwrap_or_default();
    let last_name = f.get("last_name", as_text::<Title>).flatten().unwrap_or_default();
    let flag = |f: &mut Fields, n: &str, d: bool| f.required_value(n, as_bool).unwrap_or(d);
    let (is_staff, is_superuser, is_active) =
        (flag(&mut f, "is_staff", false), flag(&mut f, "is_superuser", false), flag(&mut f, "is_active", true));
    f.finish()?;
    let new = NewUser {
        username: username.expect("checked"),
        email: email.expect("checked"),
        password_hash: None,
        name,
        first_name,
        last_name,
        profile: Profile::default(),
        is_active,
        is_staff,
        is_superuser,
    };
    let user = accounts::add_user(ctx.env, &actor, new, password, ctx.now)?;
    Ok(created(user_json(&user)))
}

pub(super) fn username_param(ctx: &Ctx) -> Result<Username, Error> {
    Username::existing(ctx.param("username"))
        .map_err(|_| Error::not_found(format!("The user {} does not exist.", ctx.param("username"))))
}

pub(super) fn get_user(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let username = username_param(ctx)?;
    Ok(ok(user_json(&accounts::show_user(&ctx.env.db, &username)?)))
}

pub(super) fn patch_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let username = username_param(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&USER_FIELDS);
    if f.has("username") {
        f.fail("username", "A username cannot be changed.");
    }
    let password = f.required_value("password", |v| check_password(as_string(v)?));
    let changes = UserChanges {
        email: f.required_value("email", |v| Email::parse(&as_string(v)?).map_err(|e| e.0)),
        password_hash: None,
        current_password_verified: false,
        name: f.required_value("name", as_text::<Title>),
        first_name: f.required_value("first_name", as_text::<Title>),
        last_name: f.required_value("last_name", as_text::<Title>),
        is_active: f.required_value("is_active", as_bool),
        is_staff: f.required_value("is_staff", as_bool),
        is_superuser: f.required_value("is_superuser", as_bool),
    };
    f.finish()?;
    let user = accounts::change_user(ctx.env, &actor, &username, changes, password, ctx.now)?;
    Ok(ok(user_json(&user)))
}

pub(super) fn delete_user(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let username = username_param(ctx)?;
    let user = accounts::deactivate_user(&ctx.env.db, &actor, &username, ctx.now)?;
    Ok(ok(user_json(&user)))
}

pub(super) fn client_json(c: &accounts::Client) -> Value {
    json!({"client_id": c.client_id, "name": c.name, "user": c.username, "public": c.public, "created": c.created})
}

pub(super) fn get_clients(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let clients = accounts::oauth_clients(&ctx.env.db)?;
    Ok(ok(json!({"results": clients.iter().map(client_json).collect::<Vec<_>>()})))
}

pub(super) fn post_clients(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["name", "user", "public"]);
    let name = f.required("name", as_text::<Title>);
    let user = f.required("user", as_string);
    let public = f.get("public", as_bool).flatten().unwrap_or(false);
    f.finish()?;
    let (name, user) = (name.expect("checked"), user.expect("checked"));
    let client = accounts::create_oauth_client(&ctx.env.db, actor.is_superuser, &name, &user, public, ctx.now)?;
    let mut body = client_json(&client.record);
    body["client_secret"] = json!(client.client_secret);
    Ok(created(body).with_additional_header("Cache-Control", "no-store"))
}

pub(super) fn delete_client(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = admin(ctx)?;
    let client_id = ctx.param("client_id").to_owned();
    accounts::delete_oauth_client(&ctx.env.db, actor.is_superuser, &client_id)?;
    Ok(no_content())
}
