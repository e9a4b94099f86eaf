//! `Idempotency-Key` on every state-changing API request (the IETF httpapi draft "The
//! Idempotency-Key HTTP Header Field", with Stripe's choices where it leaves one; README
//! "Idempotency keys"). The first request with a key runs as usual and its answer is
//! written in the same transaction as its writes (`core::idempotency`), so a retry —
//! even after a crash between that commit and the answer — gets the same answer with
//! `Idempotent-Replayed: true` and nothing runs twice. The router wraps every handler in
//! `run`; handlers know nothing of keys.

use super::errors::{render, Dialect};
use super::http::Ctx;
use super::router::{Handler, Route};
use crate::core::idempotency::{self, KeyScope, StoredAnswer};
use crate::core::{Error, ErrorKind};
use crate::domain::{AuthMethod, Principal};
use rouille::{Response, ResponseBody};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io::Read;

pub const HEADER: &str = "Idempotency-Key";
pub const REPLAYED: &str = "Idempotent-Replayed";
/// The draft leaves the length to the server; Stripe's limit.
const MAX_KEY_CHARS: usize = 255;
/// The answer's headers worth replaying; the rest are the request's own (ids, limits).
const STORED_HEADERS: [&str; 4] = ["Content-Type", "Location", "Cache-Control", "Link"];
/// Answer fields that carry a secret shown once: never stored, so never replayed.
const SECRET_FIELDS: [&str; 5] = ["client_secret", "secret", "token", "access_token", "refresh_token"];
/// What a replay says in place of a removed secret.
const SECRET_REMOVED: &str = "This is a replay of the first answer to this Idempotency-Key; its secret was shown only then and is not kept. Rotate or recreate the credential if it was lost.";

/// The routes that take a key: the API's `POST`, `PUT` and `PATCH` for an authenticated
/// caller (a key is scoped to its caller; the console's forms carry CSRF tokens instead).
pub fn accepts_key(route: &Route) -> bool {
    matches!(route.method, "POST" | "PUT" | "PATCH") && route.doc.auth && route.dialect != Dialect::Console
}

/// The header's value: a structured-field String (`"abc"`, RFC 8941 §3.3.3, the draft's
/// form) or a bare token (what Stripe's clients send), 1 to 255 characters.
pub fn parse_key(raw: &str) -> Result<String, Error> {
    // A malformed request (400 in every dialect, the checkout's too), not a field of the body.
    let invalid = |why: &str| {
        let mut error = Error::new(ErrorKind::MalformedJson, format!("The {HEADER} header {why}."));
        error.field_errors.insert(HEADER.to_owned(), error.developer_message.clone());
        error.with_code("INVALID_IDEMPOTENCY_KEY")
    };
    let raw = raw.trim_matches(' ');
    let key = match raw.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"').ok_or_else(|| invalid("opens a quoted string it does not close"))?;
            let mut key = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some(escaped @ ('"' | '\\')) => key.push(escaped),
                        _ => return Err(invalid("has a backslash that escapes neither \" nor \\")),
                    },
                    '"' => return Err(invalid("holds an unescaped quote (send one key)")),
                    ' '..='~' => key.push(c),
                    _ => return Err(invalid("may hold printable ASCII characters only")),
                }
            }
            key
        }
        None => {
            let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~:/=".contains(c);
            if !raw.chars().all(token_char) {
                return Err(invalid(
                    "must be a quoted string (\"…\") or a token of letters, digits and !#$%&'*+-.^_`|~:/=",
                ));
            }
            raw.to_owned()
        }
    };
    match key.chars().count() {
        0 => Err(invalid("is empty")),
        n if n > MAX_KEY_CHARS => Err(invalid(&format!("is longer than {MAX_KEY_CHARS} characters"))),
        _ => Ok(key),
    }
}

/// Who the caller is for its keys: an OAuth client, a browser session or the API key. A
/// user's session and a user's client are different callers (their retries are separate).
fn caller_scope(principal: &Principal) -> String {
    match principal {
        Principal::ApiKey => "api-key".into(),
        Principal::User(u) => match (u.method, &u.client_id) {
            (AuthMethod::Session, _) => format!("user:{}:session", u.id),
            (_, Some(client)) => format!("user:{}:client:{client}", u.id),
            (_, None) => format!("user:{}:token", u.id),
        },
    }
}

/// SHA-256 of the method, the path with its query, and the body.
fn fingerprint(method: &str, url: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(url.as_bytes());
    hash.update([0]);
    hash.update(body);
    crate::domain::hex(&hash.finalize())
}

/// Runs `handler` for the request in `ctx`, honouring its `Idempotency-Key` if it has one.
pub fn run(ctx: &mut Ctx, route: &Route, handler: Handler) -> Result<Response, Error> {
    let Some(raw) = ctx.req.header(HEADER).filter(|_| accepts_key(route)) else { return handler(ctx) };
    let key = parse_key(raw)?;
    let scope =
        KeyScope { caller: caller_scope(ctx.caller()?), route: format!("{} {}", route.method, route.path), key };
    let body = ctx.body_bytes()?;
    let fingerprint = fingerprint(route.method, ctx.req.raw_url(), &body);
    ctx.read_ahead.set(Some(body));
    let claim = ctx.env.idempotency.claim(&scope)?;
    let retention = ctx.env.config.idempotency.retention_seconds();
    if let Some(stored) = idempotency::earlier_answer(&ctx.env.db, &claim, &fingerprint, ctx.now, retention)? {
        return Ok(replay(stored));
    }
    let answer = idempotency::expect_answer(&ctx.env.db);
    let outcome = handler(ctx);
    if !answer.wrote() {
        // Refused before any work (or it wrote nothing): a retry may run it afresh.
        return outcome;
    }
    let (sent, error) = match outcome {
        Ok(response) => (response, None),
        // Stored as the dialect renders it; the router renders (and logs) the error itself.
        Err(e) => (render(route.dialect, &e), Some(e)),
    };
    let (sent, stored) = capture(sent, &fingerprint);
    // Fails only when the batch's commit failed: then nothing was written either.
    idempotency::keep_answer(answer, &claim, stored, ctx.now)?;
    match error {
        Some(e) => Err(e),
        None => Ok(sent),
    }
}

/// The answer as it is sent and as it is stored (secrets removed), from one response.
fn capture(response: Response, fingerprint: &str) -> (Response, StoredAnswer) {
    let Response { status_code, headers, data, upgrade } = response;
    let mut body = Vec::new();
    let (mut reader, _) = data.into_reader_and_size();
    // Our handlers answer from memory; a failed read would leave an empty stored body.
    let _ = reader.read_to_end(&mut body);
    let kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| STORED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let stored = StoredAnswer {
        fingerprint: fingerprint.to_owned(),
        status: status_code,
        headers: kept,
        body: without_secrets(&body),
    };
    let response = Response { status_code, headers, data: ResponseBody::from_data(body), upgrade };
    (response, stored)
}

/// A JSON body with its secrets set to null and a `detail` saying why; any other body as
/// it is.
fn without_secrets(body: &[u8]) -> Vec<u8> {
    // Every secret field's name holds "secret" or "token": most answers (enrollments,
    // orders) have neither and are stored without being parsed.
    let mentions = |word: &[u8]| body.windows(word.len()).any(|w| w == word);
    if !mentions(b"secret") && !mentions(b"token") {
        return body.to_vec();
    }
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else { return body.to_vec() };
    let mut removed = false;
    for field in SECRET_FIELDS {
        if let Some(value) = object.get_mut(field).filter(|v| !v.is_null()) {
            *value = Value::Null;
            removed = true;
        }
    }
    if !removed {
        return body.to_vec();
    }
    object.insert("detail".into(), json!(SECRET_REMOVED));
    Value::Object(object).to_string().into_bytes()
}

fn replay(stored: StoredAnswer) -> Response {
    let mut response = Response::from_data("application/octet-stream", stored.body).with_status_code(stored.status);
    response.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("Content-Type"));
    for (name, value) in stored.headers {
        response.headers.push((name.into(), value.into()));
    }
    response.with_additional_header(REPLAYED, "true")
}

/// Adds the header and its answers to the OpenAPI operation of a route that takes a key;
/// `error` is the route's error response.
pub fn document(route: &Route, op: &mut Value, error: &dyn Fn(&str) -> Value) {
    if !accepts_key(route) {
        return;
    }
    // Described, not listed under `parameters`: a listed header is fuzzed with bytes the
    // current HTTP layer drops the connection on (non-ASCII), which no contract test can
    // tell from a fault. The extension carries the same schema for generators that read it.
    let about = format!(
        "Accepts an optional `{HEADER}` header (a token, or a quoted string \"…\"; 1–{MAX_KEY_CHARS} characters): a retry with the same key, method, path and body gets the first answer again, with `{REPLAYED}: true`, for idempotency.retention_hours (24 by default)."
    );
    op["description"] = json!(match op.get("description").and_then(Value::as_str) {
        Some(existing) => format!("{existing}\n\n{about}"),
        None => about,
    });
    op["x-idempotency-key"] = json!({
        "name": HEADER, "in": "header", "required": false,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
        "example": "5f0c2a9e-8a4b-4d3c-9b7e-2f1d6c8e4a10",
    });
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { return };
    for (status, what) in [
        ("400", "Invalid input, or an empty, malformed or over-long Idempotency-Key"),
        ("409", "A request with this Idempotency-Key is still running; retry later"),
        ("422", "This Idempotency-Key was used with a different request"),
    ] {
        add_answer(responses, status, what, error);
    }
    let replayed = json!({"description": "true when this is the stored answer to an earlier request with the same Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}});
    for (status, response) in responses.iter_mut().filter(|(s, _)| s.starts_with('2')) {
        let _ = status;
        response["headers"][REPLAYED] = replayed.clone();
    }
}

fn add_answer(responses: &mut Map<String, Value>, status: &str, what: &str, error: &dyn Fn(&str) -> Value) {
    match responses.get_mut(status) {
        Some(existing) => {
            let description = existing["description"].as_str().unwrap_or("").to_owned();
            if !description.contains(HEADER) {
                existing["description"] = json!(format!("{description}; or: {what}"));
            }
        }
        None => {
            responses.insert(status.to_owned(), error(what));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `without_secrets` skips answers that mention neither word; a new secret field
    /// whose name holds neither would be stored unless this fails.
    #[test]
    fn every_secret_field_is_caught_by_the_quick_check() {
        assert!(SECRET_FIELDS.iter().all(|f| f.contains("secret") || f.contains("token")));
        let stored = without_secrets(br#"{"client_id": "a", "client_secret": "s3cr3t"}"#);
        assert!(!String::from_utf8(stored).unwrap().contains("s3cr3t"));
        assert_eq!(without_secrets(br#"{"results": []}"#), br#"{"results": []}"#);
    }

    #[test]
    fn keys_are_quoted_strings_or_bare_tokens_of_one_to_255_characters() {
        assert_eq!(parse_key("\"abc\"").unwrap(), "abc");
        assert_eq!(parse_key("\"a \\\"b\\\\\"").unwrap(), "a \"b\\");
        assert_eq!(parse_key("5f0c2a9e-8a4b-4d3c").unwrap(), "5f0c2a9e-8a4b-4d3c");
        assert_eq!(parse_key(&"k".repeat(255)).unwrap().len(), 255);
        for bad in ["", "\"\"", "\"abc", "a b", "a,b", "\"a\",\"b\"", "\"a\\nb\"", &"k".repeat(256)] {
            assert_eq!(parse_key(bad).unwrap_err().status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn a_stored_answer_keeps_no_secret_and_says_so() {
        let body = br#"{"client_id":"abc","client_secret":"s3cret","name":"n"}"#;
        let stored: Value = serde_json::from_slice(&without_secrets(body)).unwrap();
        assert_eq!(stored["client_secret"], Value::Null);
        assert_eq!(stored["client_id"], "abc");
        assert!(stored["detail"].as_str().unwrap().contains("replay"));
        assert_eq!(without_secrets(b"{\"id\":1}"), b"{\"id\":1}");
    }
}
