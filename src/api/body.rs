//! Request bodies: the one reader of the bytes (`read`: size limit, deadline, 413/408), and
//! the bodies each dialect's original parses, decided here once: the DRF
//! dialects (Open edX, Appsembler, learning paths, OAuth) take JSON, form-encoded and
//! multipart/form-data bodies as DRF's default parsers do; the rest take JSON. Also the
//! readers every dialect applies to one field's value, so that JSON `null` is absent and
//! never the text "null".

use crate::core::{Error, ErrorKind};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// What the API needs of a request's body: the transport reads it from the connection on
/// demand (the composition root, `lib.rs`, hands the transport's body in as this).
pub trait RequestBody {
    /// Reads some of the body into `out` (0: the body is over), waiting for the client up
    /// to `deadline` (`TimedOut` after it).
    fn read(&self, out: &mut [u8], deadline: Instant) -> std::io::Result<usize>;
}

/// Reads the request body: at most `limit` bytes (more is a 413, checked against
/// Content-Length first so a large upload is refused before it is read), within `budget`
/// and no slower than 1 KiB/s after the first 5 s (else 408). The transport validated the
/// framing; a body not read here is drained or ends the connection after the answer.
pub fn read(req: &rouille::Request, body: &dyn RequestBody, limit: usize, budget: Duration) -> Result<Vec<u8>, Error> {
    let too_large =
        || Error::new(ErrorKind::PayloadTooLarge, format!("The request body is larger than {limit} bytes."));
    if req.header("Content-Length").and_then(|v| v.parse::<usize>().ok()).is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let too_slow = || {
        Error::new(
            ErrorKind::Timeout,
            format!("The request body did not arrive in time (within {} s, at 1 KiB/s or faster).", budget.as_secs()),
        )
    };
    let started = Instant::now();
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let elapsed = started.elapsed();
        if elapsed > budget || (elapsed.as_secs() > 5 && (bytes.len() as u64) < 1024 * (elapsed.as_secs() - 5)) {
            return Err(too_slow());
        }
        // A wait ends when the budget or the rate would be missed without more bytes; a
        // read that times out is final (a chunked body cannot resume mid-line).
        let rate = started + Duration::from_secs(5 + bytes.len() as u64 / 1024 + 1);
        let deadline = (started + budget).min(rate);
        match body.read(&mut chunk, deadline) {
            Ok(0) => return Ok(bytes),
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                if bytes.len() > limit {
                    return Err(too_large());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(too_slow()),
            Err(e) => return Err(Error::validation(format!("Could not read the request body: {e}"))),
        }
    }
}

/// Which bodies a route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsers {
    Json,
    /// DRF's `DEFAULT_PARSER_CLASSES`: JSONParser, FormParser, MultiPartParser.
    Drf,
}

impl Parsers {
    /// The media types, in the OpenAPI document's order.
    pub fn media_types(self) -> &'static [&'static str] {
        match self {
            Parsers::Json => &["application/json"],
            Parsers::Drf => &["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
        }
    }
}

pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// `application/json` and the `+json` family (merge-patch+json).
pub fn is_json(content_type: &str) -> bool {
    let media = media_type(content_type);
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

fn unsupported(content_type: &str, parsers: Parsers) -> Error {
    Error::new(
        ErrorKind::UnsupportedMediaType,
        format!("Unsupported media type \"{content_type}\" in request; send {}.", parsers.media_types().join(" or ")),
    )
}

/// Whether a body of this content type is worth reading (checked before reading it).
pub fn check_content_type(content_type: &str, parsers: Parsers) -> Result<(), Error> {
    let media = media_type(content_type);
    let form = media.is_empty() || media == "application/x-www-form-urlencoded" || media == "multipart/form-data";
    match parsers {
        _ if is_json(content_type) => Ok(()),
        Parsers::Drf if form => Ok(()),
        _ => Err(unsupported(content_type, parsers)),
    }
}

/// The body as a JSON value: form and multipart fields become an object of strings (the
/// last of a repeated name, as `QueryDict.get` reads it); multipart file parts are not
/// data. No content type with a body is read as a form, as curl's `-d` means it.
pub fn parse(content_type: &str, body: &[u8], parsers: Parsers) -> Result<Value, Error> {
    check_content_type(content_type, parsers)?;
    if is_json(content_type) {
        return serde_json::from_slice(body)
            .map_err(|e| Error::new(ErrorKind::MalformedJson, format!("Malformed JSON: {e}")));
    }
    let pairs = if media_type(content_type) == "multipart/form-data" {
        multipart(content_type, body)?
    } else {
        let text = std::str::from_utf8(body).map_err(|_| Error::validation("The form body is not UTF-8."))?;
        super::http::parse_urlencoded(text)
    };
    Ok(Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

fn malformed(detail: &str) -> Error {
    Error::new(ErrorKind::MalformedJson, format!("Multipart form parse error - {detail}"))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// The `name="…"` (or `filename="…"`) parameter of a Content-Disposition header.
fn disposition_param(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// One part of a multipart body: a field, or an uploaded file (`filename` set).
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content: Vec<u8>,
}

/// RFC 7578 `multipart/form-data`: the text fields, in order.
fn multipart(content_type: &str, body: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let mut fields = Vec::new();
    // Uploaded files are request.FILES in DRF, not data.
    for part in multipart_parts(content_type, body)?.into_iter().filter(|p| p.filename.is_none()) {
        let value = String::from_utf8(part.content)
            .map_err(|_| Error::field(&part.name, format!("{} is not UTF-8 text.", part.name)))?;
        fields.push((part.name, value));
    }
    Ok(fields)
}

/// Every part of a `multipart/form-data` body, files included (the console's CSV upload).
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Result<Vec<Part>, Error> {
    let boundary = content_type
        .split(';')
        .skip(1)
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| malformed("Invalid boundary in multipart: None"))?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at = find(body, delimiter, 0).ok_or_else(|| malformed("the body does not start with its boundary"))?;
    let mut parts = Vec::new();
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        let start = if body[at..].starts_with(b"\r\n") { at + 2 } else { at };
        let headers_end = find(body, b"\r\n\r\n", start).ok_or_else(|| malformed("a part has no header end"))?;
        let next = find(body, delimiter, headers_end).ok_or_else(|| malformed("the closing boundary is missing"))?;
        let content = &body[headers_end + 4..next];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let headers = std::str::from_utf8(&body[start..headers_end]).map_err(|_| malformed("headers are not UTF-8"))?;
        let disposition = headers
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim().eq_ignore_ascii_case("content-disposition").then_some(value)
            })
            .ok_or_else(|| malformed("a part has no Content-Disposition"))?;
        let name = disposition_param(disposition, "name").ok_or_else(|| malformed("a part has no name"))?;
        parts.push(Part { name, filename: disposition_param(disposition, "filename"), content: content.to_vec() });
        at = next;
    }
}

/// A text field's value: null is absent; numbers are their text (DRF's CharField takes
/// them); booleans, lists and objects are not text.
pub fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err("Not a valid string.".to_owned()),
    }
}

/// A boolean field's value as DRF's BooleanField reads it: JSON booleans, 0/1 and the
/// words forms send ("true", "False", "on", …); null is absent.
pub fn flag(value: &Value) -> Result<Option<bool>, String> {
    const TRUE: [&str; 6] = ["true", "t", "yes", "y", "on", "1"];
    const FALSE: [&str; 6] = ["false", "f", "no", "n", "off", "0"];
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(Some(true)),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(Some(false)),
        Value::String(s) if TRUE.contains(&s.to_ascii_lowercase().as_str()) => Ok(Some(true)),
        Value::String(s) if FALSE.contains(&s.to_ascii_lowercase().as_str()) => Ok(Some(false)),
        _ => Err("Must be a valid boolean.".to_owned()),
    }
}

/// `flag` and `text` for `http::Fields`, which has already taken null as absent.
pub fn as_flag(value: &Value) -> Result<bool, String> {
    flag(value)?.ok_or_else(|| "may not be null".to_owned())
}

pub fn as_text(value: &Value) -> Result<String, String> {
    text(value)?.ok_or_else(|| "may not be null".to_owned())
}

fn field_error(name: &str, message: String) -> Error {
    let mut error = Error::field(name, message.clone());
    error.developer_message = format!("{name}: {message}");
    error
}

/// A body object's text field, with a failure as that field's error.
pub fn text_field(body: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    body.get(name).map(text).transpose().map(Option::flatten).map_err(|m| field_error(name, m))
}

/// A body object's boolean field, with a failure as that field's error.
pub fn flag_field(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, Error> {
    body.get(name).map(flag).transpose().map(Option::flatten).map_err(|m| field_error(name, m))
}

/// Open edX's `_split_input_list` (`re.split(r'[\n\r\s,]', …)`): items separated by
/// commas, any whitespace or line breaks.
pub fn split_input_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|i| !i.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_is_absent_and_never_the_text_null() {
        assert_eq!(text(&json!(null)), Ok(None));
        assert_eq!(text(&json!("null")), Ok(Some("null".into())));
        assert_eq!(text(&json!(12)), Ok(Some("12".into())));
        assert_eq!(text(&json!(1.5)), Ok(Some("1.5".into())));
        for bad in [json!(true), json!([]), json!(["a"]), json!({}), json!({"a": 1})] {
            assert!(text(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_are_read_as_drf_reads_them() {
        for yes in [json!(true), json!(1), json!("true"), json!("True"), json!("on"), json!("1")] {
            assert_eq!(flag(&yes), Ok(Some(true)), "{yes}");
        }
        for no in [json!(false), json!(0), json!("false"), json!("False"), json!("off"), json!("0")] {
            assert_eq!(flag(&no), Ok(Some(false)), "{no}");
        }
        assert_eq!(flag(&json!(null)), Ok(None));
        for bad in [json!("maybe"), json!(2), json!([true]), json!({})] {
            assert!(flag(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_three_drf_body_types_are_read_and_others_refused() {
        let form = parse("application/x-www-form-urlencoded", b"a=1&b=x+y&a=2", Parsers::Drf).unwrap();
        assert_eq!(form, json!({"a": "2", "b": "x y"}));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nignored\r\n--XyZ--\r\n";
        let multi = parse("multipart/form-data; boundary=XyZ", body, Parsers::Drf).unwrap();
        assert_eq!(multi, json!({"grant_type": "client_credentials", "note": "line one\r\nline two"}));
        assert!(parse("multipart/form-data", body, Parsers::Drf).is_err());
        assert!(parse("multipart/form-data; boundary=XyZ", b"--XyZ\r\nno end", Parsers::Drf).is_err());
        let refused = parse("text/plain", b"a=1", Parsers::Drf).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::UnsupportedMediaType);
        assert_eq!(parse("application/x-www-form-urlencoded", b"a=1", Parsers::Json).unwrap_err().status(), 415);
        assert_eq!(parse("application/json", b"{\"a\":null}", Parsers::Json).unwrap(), json!({"a": null}));
    }
}
