//! `/health`: liveness plus a database round trip, for load balancers and the benchmark;
//! `/ready`: whether writes go through; `/metrics`: the Prometheus text exposition.

use super::errors::Dialect;
use super::http::{json, Ctx};
use super::router::{Doc, Route};
use crate::core::Error;
use rouille::Response;
use serde_json::json;

pub fn routes() -> Vec<Route> {
    let doc = |summary, response| Doc {
        summary,
        tag: "system",
        auth: false,
        request: None,
        status: 200,
        response,
        query: &[],
    };
    vec![
        Route {
            method: "GET",
            path: "/health",
            dialect: Dialect::Drf,
            handler: get_health,
            doc: doc("Health check (200 when the database answers)", Some("Health")),
        },
        Route {
            method: "GET",
            path: "/ready",
            dialect: Dialect::Drf,
            handler: get_ready,
            doc: doc("Readiness: 200 when the database takes writes, else 503", Some("Health")),
        },
        Route {
            method: "GET",
            path: "/metrics",
            dialect: Dialect::Drf,
            handler: get_metrics,
            doc: doc("Prometheus metrics (staff, or anyone with server.metrics_public)", Some("Html")),
        },
    ]
}

fn get_ready(ctx: &mut Ctx) -> Result<Response, Error> {
    if crate::core::stats::takes_writes(&ctx.env.db) {
        Ok(json(200, &json!({"status": "ok", "database": "writable"})))
    } else {
        Ok(json(503, &json!({"status": "unavailable", "database": "not writable"}))
            .with_additional_header("Retry-After", "10"))
    }
}

fn get_metrics(ctx: &mut Ctx) -> Result<Response, Error> {
    if !ctx.env.config.server.metrics_public && !ctx.caller()?.is_global_staff() {
        return Err(Error::forbidden("You do not have permission to perform this action."));
    }
    let g = crate::core::stats::gauges(&ctx.env.db)?;
    let label = super::metrics::label;
    let gauges = [
        (
            "rollcall_tasks",
            "Background tasks, by status.",
            g.tasks.iter().map(|(s, n)| (format!("status=\"{}\"", label(s)), *n as f64)).collect(),
        ),
        (
            "rollcall_outbox_messages",
            "Outbox messages (email, webhook, job), by kind and status.",
            g.outbox
                .iter()
                .map(|(k, s, n)| (format!("kind=\"{}\",status=\"{}\"", label(k), label(s)), *n as f64))
                .collect(),
        ),
        ("rollcall_db_size_bytes", "Size of the database file.", vec![(String::new(), g.db_size_bytes as f64)]),
        (
            "rollcall_db_wal_size_bytes",
            "Size of the database's -wal file: commits not yet checkpointed into the database file.",
            vec![(String::new(), g.wal_size_bytes as f64)],
        ),
    ];
    Ok(Response::from_data("text/plain; version=0.0.4; charset=utf-8", ctx.site.metrics.render(&gauges)))
}

fn get_health(ctx: &mut Ctx) -> Result<Response, Error> {
    if ctx.env.db.is_reachable() {
        Ok(json(200, &json!({"status": "ok", "database": "ok"})))
    } else {
        Ok(json(503, &json!({"status": "unavailable", "database": "unreachable"})))
    }
}
