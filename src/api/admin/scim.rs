//! The console's SCIM page, for superusers only (as `/api/admin/v1/scim-tokens`): the
//! tokens an identity provider presents at `/scim/v2`, created (the token shown once) and
//! revoked through the same calls as the admin API.

use super::{csrf_field, form, page, redirect, visitor, when, Visitor};
use crate::api::http::Ctx;
use crate::core::scim;
use crate::core::Error;
use maud::html;
use rouille::Response;

fn superuser(ctx: &Ctx) -> Result<Visitor, Error> {
    let v = visitor(ctx)?;
    crate::core::scim_tokens::require_superuser(v.user.is_superuser)?;
    Ok(v)
}

fn tokens_page(ctx: &Ctx, v: &Visitor, created: Option<scim::NewToken>) -> Result<Response, Error> {
    let tokens = scim::tokens(&ctx.env.db, v.user.is_superuser)?;
    let content = html! {
        p.muted {
            "An identity provider (Entra ID's \"Secret Token\", Okta's API token) sends one of these as "
            code { "Authorization: Bearer …" } " to " code { "/scim/v2" } "; it opens nothing else."
        }
        @if let Some(new) = created {
            div.card role="status" {
                p.ok { strong { "SCIM token “" (new.record.name) "” created." } }
                p.error { "Copy it now: it is stored hashed and is never shown again. Anyone holding it can create and deactivate accounts." }
                p { "Token: " span.secret #new-scim-token { (new.token) } }
            }
        }
        div.table-wrap { table #scim-tokens {
            thead { tr { th { "Name" } th { "Created" } th { "" } } }
            tbody {
                @for t in &tokens { tr {
                    td { (t.name) }
                    td { (when(t.created.unix())) }
                    td { form method="post" action={ "/admin/scim/" (t.id) "/delete" } {
                        (csrf_field(v)) button.link type="submit" { "Revoke" }
                    } }
                } }
                @if tokens.is_empty() { tr { td colspan="3" .muted { "No SCIM tokens." } } }
            }
        } }
        h2 { "New token" }
        form.card method="post" action="/admin/scim" {
            (csrf_field(v))
            label { "Name" input name="name" required maxlength="255" placeholder="Entra ID"; }
            button type="submit" { "Create token" }
        }
    };
    Ok(page("SCIM tokens", Some(v), content))
}

pub(super) fn tokens(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = superuser(ctx)?;
    tokens_page(ctx, &v, None)
}

pub(super) fn create_token(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = superuser(ctx)?;
    let form = form(ctx, Some(&v))?;
    let name = form.text("name");
    let new = scim::create_token(&ctx.env.db, v.user.is_superuser, Ok(name), ctx.now)?;
    tokens_page(ctx, &v, Some(new))
}

pub(super) fn revoke_token(ctx: &mut Ctx) -> Result<Response, Error> {
    let v = superuser(ctx)?;
    form(ctx, Some(&v))?;
    scim::revoke_token(&ctx.env.db, v.user.is_superuser, ctx.param("id"))?;
    Ok(redirect("/admin/scim"))
}
