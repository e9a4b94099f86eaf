//! A request's body as the transport hands it to the handler: read from the connection on
//! demand (so a refused request is answered before its body arrives), within the deadline
//! each read is given, and never past the body's end (a pipelined request may follow).

use super::conn::Conn;
use super::head::Framing;
use std::cell::RefCell;
use std::io::{self, Read};
use std::time::Instant;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How the body reading ended, for what the connection can do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEnd {
    /// Read to its end: the next request may follow on the connection.
    Complete,
    /// Not (all) read: what is left must be drained before another request is read.
    Unread,
    /// A read failed (deadline, malformed chunks, the client went away): the connection
    /// cannot be used again.
    Broken,
}

/// The connection while a body is read from it: counts raw bytes (chunk-size lines
/// included) against a cap, and sends `100 Continue` before the first read.
struct Source {
    conn: Conn,
    deadline: Instant,
    raw: u64,
    raw_cap: u64,
    continue_pending: bool,
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.continue_pending {
            self.continue_pending = false;
            self.conn.write_all(CONTINUE, self.deadline)?;
        }
        let n = self.conn.read_into(out, self.deadline)?;
        // A body ends by its framing, never by the connection's end (the chunked decoder
        // would take an early end for the last chunk).
        if n == 0 && !out.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the client ended the body early"));
        }
        self.raw += n as u64;
        if self.raw > self.raw_cap {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the request body is too large"));
        }
        Ok(n)
    }
}

enum Reader {
    Length { source: Source, left: u64 },
    Chunked(chunked_transfer::Decoder<Source>),
}

struct State {
    reader: Reader,
    end: BodyEnd,
}

/// The body of the request being handled. Reads take `&self` (handlers see the request and
/// its body through shared references).
pub struct RequestBody {
    state: RefCell<State>,
}

impl RequestBody {
    /// `raw_cap`: most bytes read off the wire for this body (chunk framing included).
    pub(super) fn new(conn: Conn, framing: Framing, expect_continue: bool, raw_cap: u64) -> RequestBody {
        let source = Source { conn, deadline: Instant::now(), raw: 0, raw_cap, continue_pending: expect_continue };
        let (reader, end) = match framing {
            Framing::Empty => (Reader::Length { source, left: 0 }, BodyEnd::Complete),
            Framing::Length(n) => (Reader::Length { source, left: n }, BodyEnd::Unread),
            Framing::Chunked => (Reader::Chunked(chunked_transfer::Decoder::new(source)), BodyEnd::Unread),
        };
        RequestBody { state: RefCell::new(State { reader, end }) }
    }

    /// Reads some of the body into `out` (0: the body is over), waiting for the client up
    /// to `deadline` (`TimedOut` after it). After an error the body cannot be read on.
    pub fn read(&self, out: &mut [u8], deadline: Instant) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut state = self.state.borrow_mut();
        match state.end {
            BodyEnd::Complete => return Ok(0),
            BodyEnd::Broken => return Err(io::Error::other("the request body could not be read")),
            BodyEnd::Unread => {}
        }
        let read = match &mut state.reader {
            Reader::Length { left: 0, .. } => Ok(0),
            Reader::Length { source, left } => {
                source.deadline = deadline;
                let want = out.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let read = source.read(&mut out[..want]);
                if let Ok(n) = read {
                    *left -= n as u64;
                }
                read
            }
            Reader::Chunked(decoder) => {
                decoder.get_mut().deadline = deadline;
                decoder.read(out)
            }
        };
        match read {
            Ok(0) => state.end = BodyEnd::Complete,
            Ok(_) => {}
            Err(_) => state.end = BodyEnd::Broken,
        }
        read
    }

    /// Whether the client still waits for `100 Continue` (nothing of the body was asked for).
    pub(super) fn continue_pending(&self) -> bool {
        match &self.state.borrow().reader {
            Reader::Length { source, .. } => source.continue_pending,
            Reader::Chunked(decoder) => decoder.get_ref().continue_pending,
        }
    }

    /// Bytes still to come of a Content-Length body (None: chunked, length unknown).
    pub(super) fn left(&self) -> Option<u64> {
        match (&self.state.borrow().reader, self.end()) {
            (_, BodyEnd::Complete) => Some(0),
            (Reader::Length { left, .. }, _) => Some(*left),
            (Reader::Chunked(_), _) => None,
        }
    }

    pub(super) fn end(&self) -> BodyEnd {
        self.state.borrow().end
    }

    /// Reads and discards the rest of the body by `deadline`; true if it all arrived.
    pub(super) fn drain(&self, deadline: Instant) -> bool {
        let mut scratch = vec![0u8; 16 * 1024];
        loop {
            match self.read(&mut scratch, deadline) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }

    pub(super) fn conn_mut(&mut self) -> &mut Conn {
        match &mut self.state.get_mut().reader {
            Reader::Length { source, .. } => &mut source.conn,
            Reader::Chunked(decoder) => &mut decoder.get_mut().conn,
        }
    }

    pub(super) fn into_conn(self) -> Conn {
        match self.state.into_inner().reader {
            Reader::Length { source, .. } => source.conn,
            Reader::Chunked(decoder) => decoder.into_inner().conn,
        }
    }
}
