//! Writing a rouille `Response` to the connection (RFC 9112 §4, §6): the status line, the
//! handler's headers less those only the transport may set, `Date`, the body's framing,
//! and no body for `HEAD`, 1xx, 204 and 304. Every write has the send deadline.

use super::conn::Conn;
use std::io::{self, Read, Write};
use std::time::{Instant, SystemTime};

/// A body up to this size goes out in the same write as the head.
const INLINE_BODY: usize = 64 * 1024;

/// What the connection's next answer must respect.
pub struct Framing {
    pub head_request: bool,
    pub http10: bool,
    /// The connection ends after this answer.
    pub close: bool,
}

/// Writes `response`; `Ok(false)` if the connection cannot carry another answer after it
/// (a body of unknown length to an HTTP/1.0 client ends with the connection).
pub fn write(conn: &mut Conn, response: rouille::Response, framing: &Framing, deadline: Instant) -> io::Result<bool> {
    let status = response.status_code;
    let (mut body, size) = response.data.into_reader_and_size();
    let bodiless = framing.head_request || status < 200 || status == 204 || status == 304;
    // HTTP/1.0 has no chunked coding: a body of unknown length ends with the connection.
    let close = framing.close || (size.is_none() && framing.http10 && !bodiless);
    let chunked = size.is_none() && !close;
    let mut out = Vec::with_capacity(512);
    write!(out, "HTTP/1.1 {status} {}\r\n", reason(status))?;
    write!(out, "Date: {}\r\n", httpdate::fmt_http_date(SystemTime::now()))?;
    for (name, value) in &response.headers {
        if reserved(name) {
            continue;
        }
        if !valid_header(name, value) {
            log::warn!("response header {name:?} dropped: not a valid header field");
            continue;
        }
        write!(out, "{name}: {value}\r\n")?;
    }
    if !(status < 200 || status == 204 || status == 304) {
        match size {
            Some(n) => write!(out, "Content-Length: {n}\r\n")?,
            None if chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            None => {}
        }
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if framing.http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if bodiless {
        conn.write_all(&out, deadline)?;
        return Ok(!close);
    }
    match size {
        Some(n) if n <= INLINE_BODY => {
            let start = out.len();
            body.by_ref().take(n as u64).read_to_end(&mut out)?;
            if out.len() - start != n {
                return Err(short_body());
            }
            conn.write_all(&out, deadline)?;
        }
        Some(n) => {
            conn.write_all(&out, deadline)?;
            let mut sink = Deadlined { conn, deadline, failed: None };
            let copied = io::copy(&mut body.by_ref().take(n as u64), &mut sink)?;
            if copied != n as u64 {
                return Err(short_body());
            }
        }
        None => {
            conn.write_all(&out, deadline)?;
            let mut sink = Deadlined { conn, deadline, failed: None };
            if chunked {
                let mut encoder = chunked_transfer::Encoder::with_chunks_size(&mut sink, 16 * 1024);
                io::copy(&mut body, &mut encoder)?;
                encoder.flush()?;
                // Dropping it writes the last chunk (and swallows a failure: `failed` keeps it).
                drop(encoder);
                if let Some(e) = sink.failed.take() {
                    return Err(e);
                }
            } else {
                io::copy(&mut body, &mut sink)?;
            }
        }
    }
    Ok(!close)
}

fn short_body() -> io::Error {
    io::Error::other("the response body was shorter than its length")
}

/// The connection as a `Write` with one deadline for everything written.
struct Deadlined<'a> {
    conn: &'a mut Conn,
    deadline: Instant,
    failed: Option<io::Error>,
}

impl Write for Deadlined<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            return Err(io::Error::other("an earlier write failed"));
        }
        match self.conn.write_all(data, self.deadline) {
            Ok(()) => Ok(data.len()),
            Err(e) => {
                let kind = e.kind();
                self.failed = Some(e);
                Err(kind.into())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Headers the transport alone sets (rouille's `Response` documents that these are not
/// the handler's to set).
fn reserved(name: &str) -> bool {
    ["Connection", "Content-Length", "Transfer-Encoding", "Trailer", "Upgrade", "Date", "Keep-Alive"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

/// A field name is a token; a value has no line breaks or NUL (no response splitting).
fn valid_header(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && !value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

/// RFC 9110 §15's reason phrases.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
