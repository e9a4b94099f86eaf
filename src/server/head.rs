//! Request heads: httparse reads the request line and fields; this file applies the limits
//! and the message-framing rules of RFC 9112 (§6, §7.1) that decide where a body ends.
//! Anything ambiguous is refused rather than guessed, since a proxy in front of us that
//! guessed differently would let a client smuggle a second request inside a body.

/// Longest request target (414 beyond).
pub const MAX_TARGET: usize = 8 * 1024;
/// Largest field section, and most fields (431 beyond either).
pub const MAX_FIELD_BYTES: usize = 32 * 1024;
pub const MAX_FIELDS: usize = 100;
/// Beyond this many bytes without a complete head, the head is refused: a request line
/// (method, target, version) and the field section at their limits.
pub const MAX_HEAD: usize = MAX_TARGET + MAX_FIELD_BYTES + 64;

/// Where the request body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    Length(u64),
    Chunked,
}

#[derive(Debug)]
pub struct Head {
    pub method: String,
    /// In origin form (`/path?query`); an absolute-form target is reduced to it.
    pub target: String,
    /// HTTP/1.0 or HTTP/1.1.
    pub http10: bool,
    pub headers: Vec<(String, String)>,
    pub framing: Framing,
    /// The client asked to keep the connection open (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for our go-ahead before sending the body.
    pub expect_continue: bool,
}

/// A head we will not serve: the status to answer with and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub detail: &'static str,
}

const fn refuse(status: u16, detail: &'static str) -> Refusal {
    Refusal { status, detail }
}

/// The head at the start of `buf`: `Ok(None)` while it is incomplete (and within the
/// limits), or the head and how many bytes of `buf` it took.
pub fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>, Refusal> {
    // RFC 9112 §2.2: empty lines before a request line are ignored (some clients send a
    // CRLF after a POST body).
    let skip = buf.iter().take(8).take_while(|b| matches!(b, b'\r' | b'\n')).count();
    let bytes = &buf[skip..];
    let line_end = bytes.iter().position(|&b| b == b'\n');
    if line_end.unwrap_or(bytes.len()) > MAX_TARGET + 32 {
        return Err(refuse(414, "The request target is longer than 8 KiB."));
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut fields);
    let length = match request.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD => {
            return Err(refuse(431, "The request's header fields are larger than 32 KiB."))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(refuse(431, "The request has more than 100 header fields."))
        }
        Err(httparse::Error::Version) => return Err(refuse(400, "Only HTTP/1.0 and HTTP/1.1 are served.")),
        Err(_) => return Err(refuse(400, "The request head is malformed.")),
    };
    let line_length = line_end.unwrap_or(0) + 1;
    if length - line_length > MAX_FIELD_BYTES {
        return Err(refuse(431, "The request's header fields are larger than 32 KiB."));
    }
    let (Some(method), Some(target), Some(version)) = (request.method, request.path, request.version) else {
        return Err(refuse(400, "The request line is malformed."));
    };
    if target.len() > MAX_TARGET {
        return Err(refuse(414, "The request target is longer than 8 KiB."));
    }
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).trim().to_owned()))
        .collect();
    let http10 = version == 0;
    let framing = framing(&headers, http10)?;
    let connection = |token: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    let keep_alive = !connection("close") && (!http10 || connection("keep-alive"));
    // RFC 9110 §10.1.1: an HTTP/1.0 client's 100-continue is ignored.
    let expect_continue = !http10
        && framing != Framing::Empty
        && headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("expect") && v.eq_ignore_ascii_case("100-continue"));
    let head = Head {
        method: method.to_owned(),
        target: origin_form(target),
        http10,
        headers,
        framing,
        keep_alive,
        expect_continue,
    };
    Ok(Some((head, skip + length)))
}

/// RFC 9112 §6.1–6.3 and §3.2: the body's framing, or a refusal when it is ambiguous.
fn framing(headers: &[(String, String)], http10: bool) -> Result<Framing, Refusal> {
    let named = |name: &'static str| headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name));
    let hosts = named("host").count();
    if (!http10 && hosts != 1) || hosts > 1 {
        return Err(refuse(400, "An HTTP/1.1 request needs exactly one Host header."));
    }
    let codings: Vec<&str> =
        named("transfer-encoding").flat_map(|(_, v)| v.split(',')).map(str::trim).filter(|c| !c.is_empty()).collect();
    let lengths: Vec<&str> = named("content-length").map(|(_, v)| v.as_str()).collect();
    if named("transfer-encoding").next().is_some() {
        if !lengths.is_empty() {
            return Err(refuse(400, "A request may not have both Transfer-Encoding and Content-Length."));
        }
        if http10 {
            return Err(refuse(400, "Transfer-Encoding is not HTTP/1.0."));
        }
        // Only `chunked` is decoded; `chunked` not last leaves the body's end unknown.
        return match codings.as_slice() {
            [only] if only.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            _ => Err(refuse(400, "The only transfer coding served is chunked, alone.")),
        };
    }
    match lengths.as_slice() {
        [] => Ok(Framing::Empty),
        [one] if !one.is_empty() && one.len() <= 18 && one.bytes().all(|b| b.is_ascii_digit()) => {
            match one.parse::<u64>() {
                Ok(0) => Ok(Framing::Empty),
                Ok(n) => Ok(Framing::Length(n)),
                Err(_) => Err(refuse(400, "Content-Length is not a decimal number.")),
            }
        }
        [_] => Err(refuse(400, "Content-Length is not a decimal number.")),
        _ => Err(refuse(400, "A request may have one Content-Length only.")),
    }
}

/// `http://host/path?q` (absolute form, RFC 9112 §3.2.2) becomes `/path?q`; other forms
/// are kept as they are.
fn origin_form(target: &str) -> String {
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("http://")
        .map(|_| &target[7..])
        .or_else(|| lower.strip_prefix("https://").map(|_| &target[8..]))
    else {
        return target.to_owned();
    };
    match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => format!("/{}", &rest[i..]),
        Some(i) => rest[i..].to_owned(),
        None => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Option<(Head, usize)>, Refusal> {
        parse(text.as_bytes())
    }

    fn status(text: &str) -> u16 {
        match head(text) {
            Ok(Some(_)) => 200,
            Ok(None) => 0,
            Err(r) => r.status,
        }
    }

    #[test]
    fn a_complete_head_says_where_its_body_ends() {
        let text = "\r\nPOST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        let (h, n) = head(text).unwrap().unwrap();
        assert_eq!((h.method.as_str(), h.target.as_str(), h.framing), ("POST", "/a?b=1", Framing::Length(5)));
        assert_eq!(&text[n..], "hello");
        assert!(h.keep_alive && !h.http10 && !h.expect_continue);
        assert!(head("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none(), "incomplete");
        let chunked = head("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").unwrap().unwrap();
        assert_eq!(chunked.0.framing, Framing::Chunked);
    }

    #[test]
    fn ambiguous_framing_is_refused() {
        for bad in [
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +8\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        ] {
            assert_eq!(status(bad), 400, "{bad:?}");
        }
        assert_eq!(status("GET / HTTP/1.0\r\n\r\n"), 200, "HTTP/1.0 needs no Host");
    }

    #[test]
    fn oversized_heads_are_refused_before_they_are_complete() {
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(MAX_TARGET + 1));
        assert_eq!(status(&long_target), 414);
        assert_eq!(status(&format!("GET /{}", "a".repeat(MAX_TARGET + 100))), 414, "still arriving");
        let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(status(&format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n")), 431);
        let big_field = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n", "b".repeat(MAX_HEAD));
        assert_eq!(status(&big_field), 431, "still arriving");
        let at_limit = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(MAX_FIELD_BYTES + 10));
        assert_eq!(status(&at_limit), 431);
    }

    #[test]
    fn connection_and_expect_are_read_per_version() {
        let h = |t: &str| head(t).unwrap().unwrap().0;
        assert!(!h("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!h("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(h("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(h("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").expect_continue);
        assert!(!h("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").expect_continue);
        assert_eq!(h("GET http://x.example/a/b?c HTTP/1.1\r\nHost: x\r\n\r\n").target, "/a/b?c");
        assert_eq!(h("GET http://x.example HTTP/1.1\r\nHost: x\r\n\r\n").target, "/");
    }
}
