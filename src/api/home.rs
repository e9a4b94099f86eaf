//! `/`: the front page. A browser gets a page naming the school, the version and where
//! each API surface's reference starts; `Accept: application/json` gets the same as JSON.

use super::errors::Dialect;
use super::http::{ok, Ctx};
use super::router::{Doc, Route};
use super::surfaces::SURFACES;
use crate::core::Error;
use maud::{html, DOCTYPE};
use rouille::Response;
use serde_json::json;

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: "GET",
        path: "/",
        dialect: Dialect::Drf,
        handler: get_home,
        doc: Doc {
            summary:
                "The front page: the school, the version and the API surfaces (JSON with Accept: application/json)",
            tag: "system",
            auth: false,
            request: None,
            status: 200,
            response: Some("Html"),
            query: &[],
        },
    }]
}

fn wants_json(ctx: &Ctx) -> bool {
    let accept = ctx.req.header("Accept").unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

fn get_home(ctx: &mut Ctx) -> Result<Response, Error> {
    let school = &ctx.env.config.server.school_name;
    // The build is for staff to see: to anyone else it only says which known flaws apply.
    let staff = ctx.principal().ok().flatten().is_some_and(|p| p.is_global_staff());
    let version = staff.then_some(env!("CARGO_PKG_VERSION"));
    if wants_json(ctx) {
        // Links from the public base URL, so that they hold behind a proxy at a sub-path.
        let base = &ctx.env.base_url;
        let surfaces: Vec<_> = SURFACES
            .iter()
            .filter(|s| s.documented)
            .map(|s| json!({"name": s.title, "for": s.summary, "reference": format!("{base}/api-docs/#{}", s.id), "starts_at": s.prefix}))
            .collect();
        let mut body = json!({"school": school, "server": "Rollcall", "reference": format!("{base}/api-docs/"),
            "openapi": format!("{base}/api-docs/openapi.json"), "console": format!("{base}/admin/"), "health": format!("{base}/health"), "surfaces": surfaces});
        if let Some(version) = version {
            body["version"] = json!(version);
        }
        return Ok(ok(body));
    }
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (super::admin::head(&format!("{school} · Rollcall"), false))
            body {
                header.top { a.brand href="/" { (school) } nav { a href="/api-docs/" { "API reference" } a href="/admin/" { "Admin console" } a href="/health" { "Health" } } }
                main {
                    h1 { (school) }
                    p { "Enrollment server: Rollcall" @if let Some(v) = version { " " (v) } ". Every surface below runs over one enrollment core and one database." }
                    p.actions {
                        a.button href="/api-docs/" { "API reference" }
                        a.button href="/admin/" { "Admin console" }
                        a href="/api-docs/openapi.json" { "OpenAPI 3.1 document" }
                    }
                    div.table-wrap { table #surfaces {
                        thead { tr { th { "Surface" } th { "For" } th { "Starts at" } } }
                        tbody { @for s in SURFACES.iter().filter(|s| s.documented) { tr {
                            td { a href={ "/api-docs/#" (s.id) } { (s.title) } }
                            td.wrap { (s.summary) }
                            td { code { (s.prefix) } }
                        } } }
                    } }
                }
            }
        }
    };
    Ok(Response::html(page.into_string()))
}
