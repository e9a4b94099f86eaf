//! One client connection: its socket (non-blocking, one descriptor, never duplicated), the
//! bytes received and not yet used, and reads and writes that wait with poll(2) up to a
//! deadline, so that no client can hold a thread past it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How much one read takes from the socket into a connection's buffer.
pub const READ_CHUNK: usize = 16 * 1024;

pub struct Conn {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Received bytes; those before `pos` are used. Empty (no allocation) while idle.
    buf: Vec<u8>,
    pos: usize,
    /// When the connection was accepted or last finished an answer.
    pub idle_since: Instant,
    /// When the first byte of a head not yet complete arrived.
    pub head_started: Option<Instant>,
    /// Requests answered on it.
    pub served: u32,
    _open: OpenSlot,
}

/// Counts open connections (the cap); released when the connection is dropped, however.
struct OpenSlot(Arc<AtomicUsize>);

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Conn {
    pub fn new(stream: TcpStream, peer: SocketAddr, open: Arc<AtomicUsize>) -> io::Result<Conn> {
        open.fetch_add(1, Ordering::SeqCst);
        let slot = OpenSlot(open);
        stream.set_nonblocking(true)?;
        // Headers and a small body go out in one write; the rest must not wait for the
        // client's delayed ACK (Nagle's algorithm).
        stream.set_nodelay(true)?;
        let now = Instant::now();
        Ok(Conn { stream, peer, buf: Vec::new(), pos: 0, idle_since: now, head_started: None, served: 0, _open: slot })
    }

    /// Received bytes not used yet.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos >= self.buf.len() {
            self.buf = Vec::new();
            self.pos = 0;
        }
    }

    /// Appends what the socket has now, without waiting: `Ok(0)` is the client's end of
    /// stream; `WouldBlock` means nothing yet.
    pub fn receive_now(&mut self, scratch: &mut [u8]) -> io::Result<usize> {
        let n = loop {
            match self.stream.read(scratch) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(&scratch[..n]);
        Ok(n)
    }

    /// Appends at least one byte from the socket, waiting up to `deadline`.
    pub fn receive(&mut self, deadline: Instant) -> io::Result<usize> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + READ_CHUNK, 0);
        let read = read_until(&mut self.stream, &mut self.buf[start..], deadline);
        self.buf.truncate(start + *read.as_ref().unwrap_or(&0));
        read
    }

    /// Reads into `out`, from the buffer first, waiting up to `deadline`.
    pub fn read_into(&mut self, out: &mut [u8], deadline: Instant) -> io::Result<usize> {
        if self.pending().is_empty() {
            // A large read goes straight to the caller; a small one (a chunk-size line is
            // read byte by byte) is served from the buffer.
            if out.len() >= READ_CHUNK {
                return read_until(&mut self.stream, out, deadline);
            }
            if self.receive(deadline)? == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.pending().len());
        out[..n].copy_from_slice(&self.pending()[..n]);
        self.consume(n);
        Ok(n)
    }

    /// Writes all of `data` by `deadline`.
    pub fn write_all(&mut self, mut data: &[u8], deadline: Instant) -> io::Result<()> {
        while !data.is_empty() {
            match self.stream.write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait(&self.stream, libc::POLLOUT, deadline)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn read_until(stream: &mut TcpStream, out: &mut [u8], deadline: Instant) -> io::Result<usize> {
    loop {
        match stream.read(out) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait(stream, libc::POLLIN, deadline)?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Waits until the socket is ready for `events` or the deadline passes (`TimedOut`).
fn wait(stream: &TcpStream, events: libc::c_short, deadline: Instant) -> io::Result<()> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let mut fd = libc::pollfd { fd: stream.as_raw_fd(), events, revents: 0 };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd, for the length given.
        match unsafe { libc::poll(&mut fd, 1, ms) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            // Ready, or an error or hang-up the next read or write reports.
            _ => return Ok(()),
        }
    }
}
