//! `/api/admin/v1/webhooks…`: subscribers to enrollment events. The signing secret is shown
//! once, at creation; deliveries appear in the outbox (channel `webhook`) and replay with
//! its retry. Superusers only: a webhook sends every enrollment change to an address of the
//! caller's choosing.

use super::super::http::{as_string, created, no_content, ok, Ctx, Fields};
use super::admin;
use crate::core::accounts::Actor;
use crate::core::webhooks::{self, Endpoint};
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

fn endpoint_json(e: &Endpoint) -> Value {
    json!({"id": e.id, "url": e.url, "active": e.active, "created": e.created})
}

fn superuser(ctx: &mut Ctx) -> Result<Actor, Error> {
    let actor = admin(ctx)?;
    webhooks::check_may_manage(&actor)?;
    Ok(actor)
}

pub(super) fn get_webhooks(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = superuser(ctx)?;
    let list = webhooks::endpoints(&ctx.env.db, &actor)?;
    Ok(ok(json!({"results": list.iter().map(endpoint_json).collect::<Vec<_>>()})))
}

pub(super) fn post_webhooks(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = superuser(ctx)?;
    let body = ctx.json_body()?;
    let mut f = Fields::of(&body)?;
    f.reject_unknown(&["url"]);
    let url = f.required("url", as_string);
    f.finish()?;
    let url = url.expect("checked");
    let allowed = &ctx.env.config.webhooks.allowed_hosts;
    let endpoint = webhooks::subscribe(&ctx.env.db, &actor, &url, allowed, ctx.now)?;
    let mut body = endpoint_json(&endpoint.endpoint);
    body["secret"] = json!(endpoint.secret);
    Ok(created(body).with_additional_header("Cache-Control", "no-store"))
}

pub(super) fn delete_webhook(ctx: &mut Ctx) -> Result<Response, Error> {
    let actor = superuser(ctx)?;
    let id: i64 =
        ctx.param("id").parse().map_err(|_| Error::not_found(format!("No webhook endpoint {}.", ctx.param("id"))))?;
    webhooks::unsubscribe(&ctx.env.db, &actor, id)?;
    Ok(no_content())
}
