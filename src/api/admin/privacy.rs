//! The console's privacy page, for global staff: download a person's data, or retire their
//! account (README "Privacy requests").

use super::{csrf_field, form, page, redirect, visitor};
use crate::api::http::{actor_of_user, percent_encode, Ctx};
use crate::core::privacy;
use crate::core::Error;
use maud::html;
use rouille::Response;

pub(super) fn privacy_page(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let retired = ctx.query_param("retired");
    let content = html! {
        @if let Some(name) = &retired { p.notice { "Retired as " (name) "." } }
        h2 { "Export a person's data" }
        form.row method="get" action="/admin/privacy/export" {
            label { "Username" input name="username" required; }
            button type="submit" { "Export data (JSON)" }
        }
        h2 { "Retire an account" }
        p.muted { "Final: the username, email, name and profile are erased; enrollments, grades and orders stay under a retired name." }
        form.row method="post" action="/admin/privacy/retire" {
            (csrf_field(&v))
            label { "Username" input name="username" required; }
            label { input type="checkbox" name="confirm" value="yes"; " I understand this cannot be undone" }
            button type="submit" { "Retire account" }
        }
    };
    Ok(page("Privacy requests", Some(&v), content))
}

pub(super) fn export(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let username = ctx.query_param("username").unwrap_or_default();
    let viewer = crate::core::accounts::Viewer { username: Some(v.user.username.clone()), staff: v.global_staff() };
    crate::api::shared::export_response(ctx.env, &viewer, username.trim(), ctx.now)
}

pub(super) fn retire(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = visitor(ctx)?;
    v.require_global_staff()?;
    let form = form(ctx, Some(&v))?;
    if !form.checked("confirm") {
        return Err(Error::field("confirm", "Tick the box to confirm: a retirement cannot be undone."));
    }
    let username = form.text("username");
    let actor = actor_of_user(&v.user);
    let retired = privacy::retire_account(&ctx.env.db, &actor, username.trim(), ctx.now)?;
    let name = retired.username.clone();
    privacy::forget_traces(&ctx.env.db, &ctx.env.limits, &[retired]);
    Ok(redirect(&format!("/admin/privacy?retired={}", percent_encode(&name))))
}
