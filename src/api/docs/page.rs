//! `/api-docs/`: the HTML reference page, built from the document (it needs no internet).

use super::*;
use crate::api::surfaces::Surface;

/// A ready curl line for an operation: the example's parameters, the credentials its
/// surface takes, and the example body.
fn curl_line(method: &str, path: &str, op: &Value) -> String {
    let mut url = path.to_owned();
    for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
        let name = p["name"].as_str().unwrap_or("");
        let value = p["example"].as_str().map(str::to_owned).unwrap_or_else(|| format!("<{name}>"));
        url = url.replace(&format!("{{{name}}}"), &value);
    }
    let mut line = String::from("curl -s");
    if method != "get" {
        line.push_str(&format!(" -X {}", method.to_uppercase()));
    }
    line.push_str(&format!(" \"$B{url}\""));
    if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
        line.push_str(" -H \"Authorization: JWT $TOKEN\"");
    }
    let content = &op["requestBody"]["content"];
    if let Some(example) = content["application/json"].get("example") {
        line.push_str(&format!(" -H 'Content-Type: application/json' -d '{example}'"));
    } else if content.get("text/csv").is_some() {
        line.push_str(" -H 'Content-Type: text/csv' --data-binary @file.csv");
    } else if content.get("application/json").is_some() {
        line.push_str(" -H 'Content-Type: application/json' -d '{…}'");
    }
    line
}

/// A recorded request body that is text (a CSV, a form), for the page.
fn recorded_text_body(method: &str, path: &str) -> Option<String> {
    let example = crate::api::examples::recorded().get(&format!("{} {path}", method.to_uppercase()))?;
    example["body"].as_str().map(str::to_owned)
}

fn schema_name(schema: &Value) -> Option<&str> {
    schema["$ref"].as_str().and_then(|r| r.rsplit('/').next())
}

/// `/api-docs/`: the reference grouped by surface, each with its introduction; every
/// operation with its parameters, bodies, examples and a curl line. Plain HTML.
pub(super) fn get_docs_page(ctx: &mut Ctx) -> Result<Response, Error> {
    static PAGE: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    let base = ctx.env.base_url.clone();
    Ok(crate::api::http::with_etag(ctx, Response::html(cached(&PAGE, &base, || docs_page(&base)))))
}

fn docs_page(base_url: &str) -> String {
    use maud::{html, DOCTYPE};
    let doc = document(base_url);
    let empty = Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    let operations = |surface: &Surface| -> Vec<(String, String, Value)> {
        let mut ops = Vec::new();
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                if op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| surface.tags.contains(&t.as_str().unwrap_or(""))))
                {
                    ops.push((method.clone(), path.clone(), op.clone()));
                }
            }
        }
        ops
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (crate::api::admin::head("API reference · Rollcall", false))
            body {
                header.top { a.brand href="/" { "Rollcall" } nav {
                    @for s in SURFACES.iter().filter(|s| s.documented) { a href={ "#" (s.id) } { (s.title) } }
                    a href="#schemas" { "Schemas" }
                } }
                main {
                    h1 { "API reference" }
                    p { "Every route of this server, grouped by the API surface it belongs to. The same, machine-readable: "
                        a href="openapi.json" { code { "/api-docs/openapi.json" } } " (OpenAPI 3.1). In the curl lines, "
                        code { "B" } " is this server's address and " code { "TOKEN" } " a token from " code { "POST /oauth2/access_token" } "." }
                    @for s in SURFACES.iter().filter(|s| s.documented) {
                        section.surface id=(s.id) {
                            h2 { (s.title) " " span.muted { code { (s.prefix) } } }
                            p { (s.intro) }
                            @for (method, path, op) in operations(s) {
                                details.op {
                                    summary { span.method { (method.to_uppercase()) } " " code { (path) } " — " (op["summary"].as_str().unwrap_or("")) }
                                    div.card {
                                        p { @if op["security"].as_array().is_some_and(|a| !a.is_empty()) { "Needs credentials." } @else { "No credentials needed." } }
                                        @if let Some(params) = op["parameters"].as_array() {
                                            div.table-wrap { table {
                                                thead { tr { th { "Parameter" } th { "In" } th { "Example" } th { "About" } } }
                                                tbody { @for p in params { tr {
                                                    td { code { (p["name"].as_str().unwrap_or("")) } }
                                                    td { (p["in"].as_str().unwrap_or("")) }
                                                    td { @if let Some(e) = p["example"].as_str() { code { (e) } } }
                                                    td.wrap { (p["description"].as_str().unwrap_or("")) }
                                                } } }
                                            } }
                                        }
                                        @if let Some(content) = op["requestBody"]["content"].as_object() {
                                            p { "Request body: "
                                                @for (media, body) in content {
                                                    code { (media) } " "
                                                    @if let Some(name) = schema_name(&body["schema"]) { a href={ "#schema-" (name) } { (name) } " " }
                                                }
                                            }
                                            @if let Some(example) = content.get("application/json").and_then(|m| m.get("example")) {
                                                p { "Example request:" } pre { (pretty(example)) }
                                            } @else if let Some(text) = recorded_text_body(&method, &path) {
                                                p { "Example request:" } pre { (text) }
                                            }
                                        }
                                        div.table-wrap { table {
                                            thead { tr { th { "Status" } th { "Means" } th { "Body" } } }
                                            tbody { @for (status, response) in op["responses"].as_object().into_iter().flatten() { tr {
                                                td { code { (status) } }
                                                td.wrap { (response["description"].as_str().unwrap_or("")) }
                                                td { @for (media, body) in response["content"].as_object().into_iter().flatten() {
                                                    code { (media) } " "
                                                    @if let Some(name) = schema_name(&body["schema"]) { a href={ "#schema-" (name) } { (name) } }
                                                } }
                                            } } }
                                        } }
                                        @for (status, response) in op["responses"].as_object().into_iter().flatten() {
                                            @if let Some(example) = response["content"]["application/json"].get("example") {
                                                p { "Example answer, " code { (status) } ":" } pre { (pretty(example)) }
                                            }
                                        }
                                        p { "Try it:" } pre { (curl_line(&method, &path, &op)) }
                                    }
                                }
                            }
                        }
                    }
                    section id="schemas" {
                        h2 { "Schemas" }
                        @for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
                            details id={ "schema-" (name) } { summary { code { (name) } } pre { (pretty(schema)) } }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}
