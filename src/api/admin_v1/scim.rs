//! `/api/admin/v1/scim-tokens…` (superusers only: a SCIM token creates and deactivates
//! accounts) and `/api/admin/v1/scim-groups…`: which courses a SCIM group enrolls its
//! members in, and what each link did.

use super::super::http::{as_string, created, no_content, ok, Ctx, Fields};
use super::{admin, iso};
use crate::core::scim::{self, Token};
use crate::core::scim_groups::{self, Actor, GroupLinks};
use crate::core::Error;
use crate::domain::CourseKey;
use rouille::Response;
use serde_json::{json, Value};

fn is_superuser(ctx: &mut Ctx) -> Result<bool, Error> {
    Ok(admin(ctx)?.is_superuser)
}

fn token_json(t: &Token) -> Value {
    json!({"id": t.id, "name": t.name, "created": t.created})
}

pub(super) fn get_scim_tokens(ctx: &mut Ctx) -> Result<Response, Error> {
    let tokens = scim::tokens(&ctx.env.db, is_superuser(ctx)?)?;
    Ok(ok(json!({"results": tokens.iter().map(token_json).collect::<Vec<_>>()})))
}

pub(super) fn post_scim_tokens(ctx: &mut Ctx) -> Result<Response, Error> {
    let is_superuser = is_superuser(ctx)?;
    let name = token_name(ctx);
    let new = scim::create_token(&ctx.env.db, is_superuser, name, ctx.now)?;
    let mut body = token_json(&new.record);
    body["token"] = json!(new.token);
    Ok(created(body))
}

/// The new token's name from the body.
fn token_name(ctx: &Ctx) -> Result<String, Error> {
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["name"]);
    let name = f.required("name", as_string);
    f.finish()?;
    Ok(name.expect("checked"))
}

pub(super) fn delete_scim_token(ctx: &mut Ctx) -> Result<Response, Error> {
    let is_superuser = is_superuser(ctx)?;
    scim::revoke_token(&ctx.env.db, is_superuser, ctx.param("id"))?;
    Ok(no_content())
}

fn group_json(g: &GroupLinks) -> Value {
    let links: Vec<Value> = g
        .links
        .iter()
        .map(|(link, members)| {
            let count = |status: &str| members.iter().filter(|m| m.status == status).count();
            let refused: Vec<Value> = members
                .iter()
                .filter(|m| m.status == "refused")
                .map(|m| json!({"username": m.username, "detail": m.detail, "at": iso(Some(m.updated))}))
                .collect();
            json!({"course_key": link.course_key, "mode": link.mode, "created": iso(Some(link.created)),
                "enrolled": count("enrolled"), "already_enrolled": count("present"), "refused": refused})
        })
        .collect();
    json!({"id": g.group.id.to_string(), "display_name": g.group.display_name, "external_id": g.group.external_id,
        "members": g.group.members.len(), "courses": links})
}

pub(super) fn get_scim_groups(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let groups = scim_groups::groups_with_links(&ctx.env.db)?;
    Ok(ok(json!({"results": groups.iter().map(group_json).collect::<Vec<_>>()})))
}

fn group_id(ctx: &Ctx) -> Result<i64, Error> {
    ctx.param("id").parse().map_err(|_| Error::not_found(format!("No SCIM group {}.", ctx.param("id"))))
}

fn actor(ctx: &mut Ctx) -> Result<String, Error> {
    Ok(ctx.caller()?.user().map(|u| u.username.clone()).unwrap_or_else(|| "admin".into()))
}

pub(super) fn post_scim_group_courses(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let actor = actor(ctx)?;
    let group_id = group_id(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["course_key", "mode"]);
    let key = f.required("course_key", |v| CourseKey::parse(&as_string(v)?).map_err(|e| e.0));
    let mode = f.get("mode", as_string).flatten();
    f.finish()?;
    let key = key.expect("checked");
    let group = scim_groups::link_course(&ctx.env.db, group_id, &key, mode.as_deref(), Actor(&actor), ctx.now)?;
    Ok(created(group_json(&group)))
}

pub(super) fn delete_scim_group_course(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let actor = actor(ctx)?;
    let group_id = group_id(ctx)?;
    let key = CourseKey::parse(ctx.param("course_key"))
        .map_err(|_| Error::not_found(format!("No course '{}' exists.", ctx.param("course_key"))))?;
    scim_groups::unlink_course(&ctx.env.db, group_id, &key, Actor(&actor), ctx.now)?;
    Ok(no_content())
}
