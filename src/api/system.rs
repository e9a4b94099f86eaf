//! `/health`: liveness plus a database round trip, for load balancers and the benchmark.

use super::errors::Dialect;
use super::http::{json, Ctx};
use super::router::{Doc, Route};
use crate::core::Error;
use rouille::Response;
use serde_json::json;

pub fn routes() -> Vec<Route> {
    vec![Route {
        method: "GET",
        path: "/health",
        dialect: Dialect::Drf,
        handler: get_health,
        doc: Doc {
            summary: "Health check (200 when the database answers)",
            tag: "system",
            auth: false,
            request: None,
            status: 200,
            response: Some("Health"),
            query: &[],
        },
    }]
}

fn get_health(ctx: &mut Ctx) -> Result<Response, Error> {
    if ctx.app.db.is_reachable() {
        Ok(json(200, &json!({"status": "ok", "database": "ok"})))
    } else {
        Ok(json(503, &json!({"status": "unavailable", "database": "unreachable"})))
    }
}
