//! The HTTP plumbing every surface shares: the per-request context, bounded body reading,
//! JSON and form parsing, query strings, page parameters and JSON responses.

use super::body::Parsers;
use crate::core::rate_limit::Limiter;
use crate::core::{sessions, Env, Error, ErrorKind};
use crate::domain::{Credentials, Principal, Timestamp, SESSION_COOKIE};
// The typed JSON field readers are the core's (its course definition reads with them);
// every surface reads its bodies with them too, by these names.
pub use crate::core::fields::{as_bool, as_int, as_string, as_text, as_timestamp, Fields};
use rouille::{Request, Response};
use serde_json::Value;
use std::time::Duration;

/// Shared with the router, which turns it into `X-RateLimit-*` headers.
pub type RateLimitSeen = std::rc::Rc<std::cell::Cell<Option<(u32, u32)>>>;

/// What the HTTP layer keeps for the life of the process, beside the use cases' `Env`.
pub struct Site {
    /// Starts the request ids we make up (unique to this process).
    pub request_id_prefix: String,
    /// `server.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<crate::domain::AddressBlock>,
    /// Request counts and durations for `/metrics`.
    pub metrics: super::metrics::Metrics,
}

/// What a handler gets: what the use cases run against, the request, its path parameters,
/// and (on demand) the authenticated caller.
pub struct Ctx<'a> {
    pub env: &'a Env,
    pub site: &'a Site,
    pub req: &'a Request,
    /// The request's body, read on demand from the connection (`body::read`).
    pub body: &'a dyn super::body::RequestBody,
    pub params: super::router::Params,
    pub now: Timestamp,
    /// The bodies this route's dialect reads.
    pub parsers: Parsers,
    principal: Option<Result<Option<Principal>, Error>>,
    /// (limit, remaining) of the last rate limit checked, for the response headers.
    pub rate_limit: RateLimitSeen,
    /// The body, when it was read before the handler ran (to fingerprint an idempotent
    /// request); the handler's own read then takes it from here.
    pub read_ahead: std::cell::Cell<Option<Vec<u8>>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        env: &'a Env,
        site: &'a Site,
        req: &'a Request,
        body: &'a dyn super::body::RequestBody,
        params: super::router::Params,
        parsers: Parsers,
    ) -> Ctx<'a> {
        Ctx {
            env,
            site,
            req,
            body,
            params,
            parsers,
            now: Timestamp::now(),
            principal: None,
            rate_limit: Default::default(),
            read_ahead: Default::default(),
        }
    }

    /// The raw request body within `server.max_body_bytes` and `server.body_timeout_seconds`.
    pub fn body_bytes(&self) -> Result<Vec<u8>, Error> {
        if let Some(body) = self.read_ahead.take() {
            return Ok(body);
        }
        let server = &self.env.config.server;
        super::body::read(self.req, self.body, server.max_body_bytes, Duration::from_secs(server.body_timeout_seconds))
    }

    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The caller's address, for rate limits and logs.
    pub fn remote(&self) -> String {
        client_address(self.req, &self.site.trusted_proxies).to_string()
    }

    /// The authenticated caller, or None for an anonymous one; bad credentials are an error.
    pub fn principal(&mut self) -> Result<Option<&Principal>, Error> {
        if self.principal.is_none() {
            let cookie = super::cookies::read(self.req, SESSION_COOKIE);
            let creds = Credentials {
                authorization: self.req.header("Authorization"),
                api_key: self.req.header("X-Edx-Api-Key"),
                session_cookie: cookie.as_deref(),
                csrf_header: self.req.header("X-CSRFToken"),
                unsafe_method: !matches!(self.req.method(), "GET" | "HEAD" | "OPTIONS"),
            };
            let principal = sessions::authenticate(self.env, &creds, self.now.unix())
                .and_then(|p| sessions::check_scope(p.as_ref(), creds.unsafe_method).map(|()| p));
            self.principal = Some(principal);
        }
        match self.principal.as_ref() {
            Some(Ok(p)) => Ok(p.as_ref()),
            Some(Err(e)) => Err(e.clone()),
            None => unreachable!("set above"),
        }
    }

    /// Who the caller turned out to be, if the handler asked (for the access log).
    pub fn caller_key(&self) -> Option<String> {
        match &self.principal {
            Some(Ok(Some(p))) => Some(p.key()),
            _ => None,
        }
    }

    /// The caller, or 401.
    pub fn caller(&mut self) -> Result<&Principal, Error> {
        sessions::required(self.principal()?)
    }

    /// Counts this request against `limiter` for `key`; over the limit is DRF's 429.
    pub fn throttle(&self, limiter: &Limiter, key: &str) -> Result<(), Error> {
        let checked = self.env.limits.check(limiter, key, self.now.unix());
        // Reported as X-RateLimit-* headers on the response, whatever it turns out to be.
        if self.env.limits.enabled {
            let remaining = match &checked {
                Ok(Some(n)) => *n,
                _ => 0,
            };
            self.rate_limit.set(Some((limiter.per_minute(), remaining)));
        }
        checked.map(|_| ()).map_err(|wait| {
            let mut e = Error::new(
                ErrorKind::RateLimited,
                format!("Request was throttled. Expected available in {wait} seconds."),
            );
            e.retry_after = Some(wait);
            e
        })
    }

    pub fn query(&self) -> Vec<(String, String)> {
        parse_urlencoded(self.req.raw_query_string())
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The body as a JSON value, after the size limit; which content types are read is
    /// the route's dialect's (`body::Parsers`). A DRF route with no body reads as `{}`.
    pub fn json_body(&self) -> Result<Value, Error> {
        let content_type = self.req.header("Content-Type").unwrap_or("");
        super::body::check_content_type(content_type, self.parsers)?;
        let body = self.body_bytes()?;
        if body.is_empty() && self.parsers == Parsers::Drf {
            return Ok(Value::Object(Default::default()));
        }
        super::body::parse(content_type, &body, self.parsers)
    }

    /// The body as a JSON object (DRF's `request.data`); any other JSON value is a 400.
    pub fn body_object(&self) -> Result<serde_json::Map<String, Value>, Error> {
        match self.json_body()? {
            Value::Object(map) => Ok(map),
            _ => Err(Error::new(ErrorKind::MalformedJson, "The JSON body must be an object.")),
        }
    }
}

/// Login CSRF: a sign-in form posted from another site would sign the victim in to the
/// attacker's account. A browser says where a request comes from (`Sec-Fetch-Site`,
/// `Origin`); anything but this origin is refused. Requests without either header (curl,
/// server-side clients) are no browser's and pass.
pub fn refuse_cross_site(ctx: &Ctx) -> Result<(), Error> {
    let refused = || Error::forbidden("Sign-in is refused from another site (CSRF).").with_code("CROSS_SITE");
    if let Some(site) = ctx.req.header("Sec-Fetch-Site") {
        if !matches!(site.trim().to_ascii_lowercase().as_str(), "same-origin" | "none") {
            return Err(refused());
        }
    }
    let Some(origin) = ctx.req.header("Origin").map(str::trim) else { return Ok(()) };
    let host = ctx.req.header("Host").unwrap_or("");
    let own = [format!("http://{host}"), format!("https://{host}"), origin_of(&ctx.env.base_url)];
    if own.iter().any(|o| !o.is_empty() && o.eq_ignore_ascii_case(origin)) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return String::new() };
    format!("{scheme}://{}", rest.split('/').next().unwrap_or(""))
}

/// The caller as the core's account rules see it (`core::accounts::check_may_change`).
/// An API-key caller is a server-to-server integration: staff, never a superuser.
pub fn actor_of(principal: &Principal) -> crate::core::accounts::Actor {
    match principal {
        Principal::User(u) => actor_of_user(u),
        Principal::ApiKey => crate::core::accounts::Actor { user_id: None, is_staff: true, is_superuser: false },
    }
}

pub fn actor_of_user(u: &crate::domain::User) -> crate::core::accounts::Actor {
    crate::core::accounts::Actor {
        user_id: Some(u.id),
        is_staff: u.is_staff || u.is_superuser,
        is_superuser: u.is_superuser,
    }
}

/// The client's address: the socket's peer, unless that is a trusted proxy; then the
/// right-most address in X-Forwarded-For (or Forwarded's `for=`) that is not one of ours,
/// so a client cannot pick its own address by sending the header itself.
pub fn client_address(req: &Request, trusted: &[crate::domain::AddressBlock]) -> std::net::IpAddr {
    let peer = req.remote_addr().ip();
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|b| b.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded_for: Vec<String> = match req.header("X-Forwarded-For") {
        Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        None => req
            .header("Forwarded")
            .unwrap_or("")
            .split([',', ';'])
            .filter_map(|part| {
                let (k, v) = part.trim().split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim().trim_matches('"').to_owned())
            })
            .collect(),
    };
    let parse = |raw: &str| -> Option<std::net::IpAddr> {
        // Forwarded writes `[2001:db8::1]:4711` and `192.0.2.1:8080`.
        let raw = raw.trim();
        if let Some(inner) = raw.strip_prefix('[') {
            return inner.split(']').next()?.parse().ok();
        }
        raw.parse().ok().or_else(|| raw.rsplit_once(':').and_then(|(host, _)| host.parse().ok()))
    };
    forwarded_for.iter().rev().filter_map(|a| parse(a)).find(|ip| !is_trusted(*ip)).unwrap_or(peer)
}

/// `a=1&b=x+y%21` → pairs, `+` as space (HTML forms and query strings).
pub fn parse_urlencoded(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decodes `%XX`; `plus_is_space` for form encoding (not for path segments, where a
/// course key's `+` is literal).
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986's unreserved characters (for query strings).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An optional Unix time as ISO 8601 with `Z`, or JSON null.
pub fn iso(t: Option<i64>) -> Value {
    t.map(|t| Value::String(Timestamp::from_unix(t).to_iso())).unwrap_or(Value::Null)
}

/// Open edX's profile_image object for a user without an uploaded image.
pub fn default_profile_image() -> Value {
    let base = "/static/images/profiles/default";
    serde_json::json!({"has_image": false, "image_url_full": format!("{base}_500.png"), "image_url_large": format!("{base}_120.png"),
        "image_url_medium": format!("{base}_50.png"), "image_url_small": format!("{base}_30.png")})
}

pub fn json(status: u16, value: &Value) -> Response {
    Response::from_data("application/json", value.to_string()).with_status_code(status)
}

pub fn ok(value: Value) -> Response {
    json(200, &value)
}

/// A 200 that caches can keep: an `ETag` (a hash of the body) and `Cache-Control:
/// no-cache` (keep it, ask again), and 304 Not Modified without a body when the caller's
/// `If-None-Match` already names that tag.
pub fn with_etag(ctx: &Ctx, response: Response) -> Response {
    use sha2::Digest;
    if response.status_code != 200 {
        return response;
    }
    let Response { status_code, headers, data, upgrade } = response;
    let mut body = Vec::new();
    let (mut reader, _) = data.into_reader_and_size();
    if std::io::Read::read_to_end(&mut reader, &mut body).is_err() {
        return Response::empty_404().with_status_code(500);
    }
    let digest = sha2::Sha256::digest(&body);
    let tag = crate::domain::hex(&digest[..16]);
    let tag = format!("\"{tag}\"");
    let known = ctx
        .req
        .header("If-None-Match")
        .is_some_and(|list| list.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == tag || t == "*"));
    let response = if known {
        Response { status_code: 304, headers, data: rouille::ResponseBody::empty(), upgrade: None }
    } else {
        Response { status_code, headers, data: rouille::ResponseBody::from_data(body), upgrade }
    };
    response.with_additional_header("ETag", tag).with_additional_header("Cache-Control", "no-cache")
}

pub fn created(value: Value) -> Response {
    json(201, &value)
}

pub fn no_content() -> Response {
    Response::empty_204()
}

/// Page-number paging as DRF does it: 1-based `page`, `page_size` clamped to `max`.
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Page {
    pub fn from_query(ctx: &Ctx, default_size: i64, max: i64) -> Result<Page, Error> {
        let read = |name: &str, default: i64| -> Result<i64, Error> {
            match ctx.query_param(name) {
                None => Ok(default),
                // A number too large for i64 is still a whole number: it is clamped (a
                // page past the end is then the usual 404).
                Some(v)
                    if !v.is_empty()
                        && v.bytes().all(|b| b.is_ascii_digit())
                        && !v.trim_start_matches('0').is_empty() =>
                {
                    Ok(v.parse::<i64>().unwrap_or(i64::MAX))
                }
                Some(v) => Err(Error::field(name, format!("{name} must be a positive whole number, not '{v}'."))),
            }
        };
        Ok(Page { number: read("page", 1)?, size: read("page_size", default_size)?.min(max) })
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1).saturating_mul(self.size)
    }

    /// DRF's flat page body: count, num_pages, next, previous, current_page, start, results.
    pub fn body(&self, ctx: &Ctx, total: i64, results: Vec<Value>) -> Result<Value, Error> {
        let num_pages = ((total + self.size - 1) / self.size).max(1);
        if self.number > num_pages {
            return Err(Error::not_found("Invalid page.").with_code("INVALID_PAGE"));
        }
        // Links keep the caller's other parameters (filters, requested_fields).
        let kept: String = ctx
            .query()
            .iter()
            .filter(|(k, _)| k != "page" && k != "page_size")
            .map(|(k, v)| format!("&{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        let link = |n: i64| {
            Value::String(format!("{}{}?page={n}&page_size={}{kept}", ctx.env.base_url, ctx.req.url(), self.size))
        };
        Ok(serde_json::json!({
            "count": total,
            "num_pages": num_pages,
            "current_page": self.number,
            "start": self.offset(),
            "next": if self.number < num_pages { link(self.number + 1) } else { Value::Null },
            "previous": if self.number > 1 { link(self.number - 1) } else { Value::Null },
            "results": results,
        }))
    }
}

/// A page in Open edX's NamespacedPageNumberPagination shape (`results` + `pagination`),
/// built from `Page::body`'s flat one, with its `Link` header.
pub fn namespaced_page(flat: &Value) -> Response {
    let body = serde_json::json!({
        "results": flat["results"],
        "pagination": {"next": flat["next"], "previous": flat["previous"], "count": flat["count"], "num_pages": flat["num_pages"]},
    });
    with_link_header(ok(body), flat)
}

/// A page in DRF's own PageNumberPagination shape (`count`, `next`, `previous`, `results`),
/// from `Page::body`'s flat one.
pub fn drf_page(flat: &Value) -> Value {
    serde_json::json!({"count": flat["count"], "next": flat["next"], "previous": flat["previous"], "results": flat["results"]})
}

/// `Link` header (RFC 8288) for a page body with next/previous.
pub fn with_link_header(response: Response, body: &Value) -> Response {
    let mut links = Vec::new();
    for rel in ["next", "previous"] {
        if let Some(url) = body.get(rel).and_then(Value::as_str) {
            links.push(format!("<{url}>; rel=\"{rel}\""));
        }
    }
    if links.is_empty() {
        response
    } else {
        response.with_additional_header("Link", links.join(", "))
    }
}

/// A query value that must be a whole number of at least 1 (a page size, a seek id), when
/// given.
pub fn positive_number(name: &str, value: Option<String>) -> Result<Option<i64>, Error> {
    value
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| Error::field(name, format!("{name} must be a positive whole number, not '{v}'.")))
        })
        .transpose()
}
