//! Cross-origin requests (CORS) from the browser origins in `server.cors_allowed_origins`:
//! their preflights are answered, and their answers carry the headers that let the page
//! read them, with credentials. Any other origin gets no CORS header (same-origin only),
//! as Open edX's CORS_ORIGIN_WHITELIST does for its MFEs.

use crate::core::Env;
use rouille::{Request, Response};

/// What scripts on an allowed origin may read besides the simple headers.
const EXPOSED: &str = "Location, Link, X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining";
/// What such a page may send.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, X-CSRFToken, X-Request-Id, X-Edx-Api-Key, Use-Jwt-Cookie";

/// The request's `Origin` when it is one of the configured origins.
pub fn allowed_origin(env: &Env, req: &Request) -> Option<String> {
    let origin = req.header("Origin")?;
    env.config.server.cors_allowed_origins.iter().any(|o| o.eq_ignore_ascii_case(origin)).then(|| origin.to_owned())
}

/// A preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin:
/// 204 naming the methods the path takes (`methods`, from the route table).
pub fn preflight(req: &Request, origin: &str, methods: &[&str]) -> Option<Response> {
    if req.method() != "OPTIONS" {
        return None;
    }
    req.header("Access-Control-Request-Method")?;
    let response = Response::empty_204()
        .with_additional_header("Access-Control-Allow-Methods", methods.join(", "))
        .with_additional_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
        .with_additional_header("Access-Control-Max-Age", "600");
    Some(allow(response, origin))
}

/// An answer readable by a page on `origin`, with credentials.
pub fn allow(response: Response, origin: &str) -> Response {
    response
        .with_additional_header("Access-Control-Allow-Origin", origin.to_owned())
        .with_additional_header("Access-Control-Allow-Credentials", "true")
        .with_additional_header("Access-Control-Expose-Headers", EXPOSED)
        .with_additional_header("Vary", "Origin")
}
