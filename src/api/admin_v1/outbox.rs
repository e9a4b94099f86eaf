//! `/api/admin/v1/outbox…`: outgoing emails and their delivery state.

use super::super::http::{self, ok, Ctx};
use super::admin;
use crate::core::Error;
use rouille::Response;
use serde_json::{json, Value};

pub(super) fn outbox_json(m: &crate::core::outbox::Message) -> Value {
    json!({
        "id": m.id, "channel": m.channel, "message_type": m.message_type, "recipient": m.recipient,
        "payload": serde_json::from_str::<Value>(&m.payload).unwrap_or(Value::Null), "status": m.status, "attempts": m.attempts,
        "last_error": m.last_error, "next_attempt_at": m.next_attempt_at, "created": m.created, "sent_at": m.sent_at,
    })
}

pub(super) fn get_outbox(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let status = ctx.query_param("status");
    let number = |name: &str| http::positive_number(name, ctx.query_param(name));
    let before = number("before")?;
    let size = number("page_size")?.unwrap_or(25).min(100);
    let (count, messages) = crate::core::outbox::list_messages(&ctx.env.db, status.as_deref(), before, size)?;
    let next = match messages.last() {
        Some(last) if messages.len() as i64 == size => {
            let mut url = format!("{}/api/admin/v1/outbox?before={}&page_size={size}", ctx.env.base_url, last.id);
            if let Some(s) = &status {
                url.push_str(&format!("&status={}", http::percent_encode(s)));
            }
            json!(url)
        }
        _ => Value::Null,
    };
    let body = json!({"count": count, "next": next, "results": messages.iter().map(outbox_json).collect::<Vec<_>>()});
    Ok(http::with_link_header(ok(body.clone()), &body))
}

pub(super) fn post_outbox_retry(ctx: &mut Ctx) -> Result<Response, Error> {
    admin(ctx)?;
    let id: i64 =
        ctx.param("id").parse().map_err(|_| Error::not_found(format!("No outbox message {}.", ctx.param("id"))))?;
    let message = crate::core::outbox::retry_message(ctx.env, id, ctx.now)?;
    Ok(ok(outbox_json(&message)))
}
