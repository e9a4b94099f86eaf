//! The route table and request dispatch: every route of every surface is listed here once
//! (`routes()`), which is also what the OpenAPI document is generated from. Dispatch adds
//! what every response needs: errors in the route's dialect, JSON 404/405, panics turned
//! into JSON 500s, `X-Request-Id` and one access-log line.

use super::errors::{render, Dialect};
use super::http::{Ctx, Site};
use super::surfaces::dialect_for_path;
use crate::core::Env;
use crate::core::{Error, ErrorKind};
use rouille::{Request, Response};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub type Handler = fn(&mut Ctx) -> Result<Response, Error>;
/// Path parameters by name, percent-decoded.
pub type Params = Vec<(&'static str, String)>;

/// How a route is documented in the OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub tag: &'static str,
    /// Whether the route needs credentials.
    pub auth: bool,
    /// Component schema name of the request body, if any.
    pub request: Option<&'static str>,
    /// Success status and component schema name of its body (None: empty body).
    pub status: u16,
    pub response: Option<&'static str>,
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
}

pub struct Route {
    pub method: &'static str,
    /// `/api/admin/v1/courses/{course_key}`: a `{name}` matches one path segment.
    pub path: &'static str,
    pub dialect: Dialect,
    pub handler: Handler,
    pub doc: Doc,
}

/// Every route of the API document, in documentation order (the surface registry's).
pub fn routes() -> Vec<Route> {
    super::surfaces::documented_routes()
}

enum Segment {
    Literal(&'static str),
    Param(&'static str),
}

/// The route table, built once: it is the same for every server in the process.
pub fn router() -> &'static Router {
    static ROUTER: std::sync::OnceLock<Router> = std::sync::OnceLock::new();
    ROUTER.get_or_init(Router::new)
}

pub struct Router {
    routes: Vec<(Vec<Segment>, Route)>,
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

impl Router {
    pub fn new() -> Router {
        let routes = super::surfaces::all_routes()
            .into_iter()
            .map(|route| {
                let segments = split(route.path)
                    .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param(name),
                        None => Segment::Literal(s),
                    })
                    .collect();
                (segments, route)
            })
            .collect();
        Router { routes }
    }

    /// The route for this method and path with its parameters; or the methods the path
    /// does allow (empty: no such path).
    fn find(&self, method: &str, raw_path: &str) -> Result<(&Route, Params), Vec<&'static str>> {
        let parts: Vec<&str> = split(raw_path).collect();
        // A path that a route names literally belongs to that route alone: its other methods
        // are 405s, not a `{username}` route's (`/accounts/retire/` is not an account named
        // "retire"), as Django matches `accounts/retire/` before `accounts/<username>`.
        let mut matches: Vec<(usize, &Route, Params)> = Vec::new();
        for (segments, route) in &self.routes {
            // A trailing slash is optional everywhere: Open edX is strict about it per
            // route, and a client that gets it wrong should not get a 404 for it.
            if segments.len() != parts.len() {
                continue;
            }
            let mut params = Vec::new();
            let matched = segments.iter().zip(&parts).all(|(segment, part)| match segment {
                Segment::Literal(l) => l == part,
                Segment::Param(name) => {
                    let value = super::http::percent_decode(part, false);
                    let ok = !value.is_empty();
                    params.push((*name, value));
                    ok
                }
            });
            if matched {
                let literals = segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
                matches.push((literals, route, params));
            }
        }
        let most = matches.iter().map(|(literals, _, _)| *literals).max().unwrap_or(0);
        matches.retain(|(literals, _, _)| *literals == most);
        let mut allowed = Vec::new();
        for (_, route, params) in matches {
            let head_as_get = method == "HEAD" && route.method == "GET";
            if route.method == method || head_as_get {
                return Ok((route, params));
            }
            allowed.push(route.method);
        }
        Err(allowed)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A caller's `X-Request-Id` if it is short and printable; otherwise one of ours.
fn request_id(req: &Request, prefix: &str) -> String {
    match req.header("X-Request-Id") {
        Some(id) if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) => id.to_owned(),
        _ => format!("{prefix}-{}", REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)),
    }
}

/// The URL as logged: `token=` values (set-password links) are single-use credentials and
/// stay out of the log; query values that are email addresses are personal data and are
/// logged only at debug level.
fn redact_secrets(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((path, query)) = url.split_once('?') else { return url.into() };
    let show_personal = log::log_enabled!(target: "access", log::Level::Debug);
    let mut changed = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let personal = value.contains('@') || value.to_ascii_lowercase().contains("%40");
            if key == "token" || (personal && !show_personal) {
                changed = true;
                format!("{key}=[redacted]")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    if changed {
        format!("{path}?{}", pairs.join("&")).into()
    } else {
        url.into()
    }
}

/// Runs a handler; an error or a panic becomes a response in `dialect`. The error comes
/// back too, for the log.
fn guarded(dialect: Dialect, handler: impl FnOnce() -> Result<Response, Error>) -> (Response, Option<Error>) {
    match catch_unwind(AssertUnwindSafe(handler)) {
        Ok(Ok(response)) => (response, None),
        Ok(Err(error)) => (render(dialect, &error), Some(error)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let error = Error::internal(format!("handler panicked: {message}"));
            (render(dialect, &error), Some(error))
        }
    }
}

pub fn handle(env: &Env, site: &Site, req: &Request, body: &dyn super::body::RequestBody) -> Response {
    let started = Instant::now();
    let id = request_id(req, &site.request_id_prefix);
    let raw_path = req.raw_url().split('?').next().unwrap_or("/").to_owned();
    let rate_limit: super::http::RateLimitSeen = Default::default();
    let mut surface = "unmatched";
    let mut caller: Option<String> = None;
    let origin = super::cors::allowed_origin(env, req);
    let preflight = origin.as_deref().and_then(|origin| {
        let mut methods = router().find("OPTIONS", &raw_path).err().unwrap_or_default();
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        super::cors::preflight(req, origin, &methods)
    });
    let (response, error) = match router().find(req.method(), &raw_path) {
        _ if preflight.is_some() => (preflight.expect("checked"), None),
        Ok((route, params)) => guarded(route.dialect, || {
            surface = route.doc.tag;
            let mut ctx = Ctx::new(env, site, req, body, params, route.dialect.parsers());
            ctx.rate_limit = rate_limit.clone();
            // A 401 is decided before any body is read. SCIM takes its own tokens only
            // (`scim::token`), which its handlers check first.
            if route.doc.auth && route.dialect != Dialect::Scim {
                ctx.caller()?;
            }
            let answer = super::idempotency::run(&mut ctx, route, route.handler);
            caller = ctx.caller_key();
            answer
        }),
        Err(allowed) if allowed.is_empty() => {
            let error = Error::new(ErrorKind::RouteNotFound, format!("No route matches {raw_path}."));
            (render(dialect_for_path(&raw_path), &error), None)
        }
        Err(mut allowed) => {
            if allowed.contains(&"GET") {
                allowed.push("HEAD");
            }
            let error = Error::new(ErrorKind::MethodNotAllowed, format!("Method \"{}\" not allowed.", req.method()));
            let response =
                render(dialect_for_path(&raw_path), &error).with_additional_header("Allow", allowed.join(", "));
            (response, None)
        }
    };
    if let Some(error) = error.filter(|e| e.kind == ErrorKind::Internal) {
        log::error!("request {id}: {}", error.developer_message);
    }
    let status = response.status_code;
    let elapsed = started.elapsed().as_secs_f64();
    site.metrics.observe(surface, req.method(), status, elapsed);
    let client = super::http::client_address(req, &site.trusted_proxies);
    if env.config.server.log_format == "json" {
        let line = serde_json::json!({"method": req.method(), "path": redact_secrets(req.raw_url()), "status": status,
            "duration_ms": (elapsed * 100_000.0).round() / 100.0, "request_id": id, "client": client.to_string(), "surface": surface,
            "caller": caller});
        log::info!(target: "access", "{line}");
    } else {
        log::info!(
            target: "access",
            "{client} {} {} {status} {:.2}ms id={id}",
            req.method(),
            redact_secrets(req.raw_url()),
            elapsed * 1000.0
        );
    }
    let response = match rate_limit.get() {
        Some((limit, remaining)) => response
            .with_additional_header("X-RateLimit-Limit", limit.to_string())
            .with_additional_header("X-RateLimit-Remaining", remaining.to_string()),
        None => response,
    };
    let response = match origin {
        Some(origin)
            if response.headers.iter().all(|(k, _)| !k.eq_ignore_ascii_case("Access-Control-Allow-Origin")) =>
        {
            super::cors::allow(response, &origin)
        }
        _ => response,
    };
    // Our own name, without a version, so that the HTTP layer does not announce itself.
    response.with_additional_header("X-Request-Id", id).with_unique_header("Server", "Rollcall")
}

#[cfg(test)]
mod tests {
    use super::{guarded, Dialect, Router};

    #[test]
    fn a_panicking_handler_becomes_an_opaque_json_500() {
        let (response, error) = guarded(Dialect::V2, || panic!("boom"));
        assert_eq!(response.status_code, 500);
        assert!(error.unwrap().developer_message.contains("boom"));
        let mut body = String::new();
        response.data.into_reader_and_size().0.read_to_string(&mut body).unwrap();
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error_code"], "INTERNAL_ERROR");
        assert!(!body.to_string().contains("boom"));
    }

    #[test]
    fn finds_routes_with_parameters_and_reports_allowed_methods() {
        let router = Router::new();
        let (route, params) = router.find("GET", "/api/admin/v1/courses/course-v1:A+B+C").ok().unwrap();
        assert_eq!(route.path, "/api/admin/v1/courses/{course_key}");
        assert_eq!(params, vec![("course_key", "course-v1:A+B+C".to_string())]);
        let allowed = router.find("PUT", "/api/admin/v1/courses").err().unwrap();
        assert!(allowed.contains(&"GET") && allowed.contains(&"POST"));
        assert!(router.find("GET", "/nope").err().unwrap().is_empty());
    }
}
