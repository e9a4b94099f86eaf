//! `/api-docs/openapi.json` covers every route the router has; `/api-docs/` is readable.

use crate::helpers::TestApp;
use serde_json::Value;

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_openapi_document_lists_every_route_with_its_schemas() {
    let app = TestApp::spawn();
    let reply = app.get("/api-docs/openapi.json", None);
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for route in rollcall::api::router::routes() {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(op.is_object(), "the document lacks {} {}", route.method, route.path);
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{} {} has no responses",
            route.method,
            route.path
        );
        if route.doc.auth {
            assert!(op["security"].as_array().is_some_and(|s| !s.is_empty()), "{} {}", route.method, route.path);
        }
        if matches!(route.method, "POST" | "PATCH") && route.doc.request.is_some() {
            assert!(op["requestBody"].is_object(), "{} {}", route.method, route.path);
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "dangling $ref {r}");
    }
    for scheme in ["jwt", "bearer", "session", "apiKey"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
}

#[test]
fn the_docs_page_is_html_that_names_the_routes() {
    let app = TestApp::spawn();
    let page = app.get("/api-docs/", None);
    assert_eq!(page.status, 200);
    assert!(page.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("/api/admin/v1/courses") && page.text.contains("/oauth2/access_token"));
    assert!(!page.text.contains("https://"), "the page must not load anything from the internet");
}
