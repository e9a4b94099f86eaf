//! The one thread that holds every connection not being answered: new ones, idle
//! keep-alive ones, ones whose head is still arriving, and ones being closed. It waits on
//! them all with poll(2), reads heads without blocking, and hands a connection to the
//! worker pool only once its head is complete, so an idle or slow client holds its socket
//! and nothing else. It also keeps the idle and header deadlines and sheds the
//! longest-idle connections when the accept loop runs short of descriptors.

use super::conn::{Conn, READ_CHUNK};
use super::head::{self, MAX_HEAD};
use super::{Job, Shared};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a connection being closed is read (and discarded) so that the client gets our
/// last answer: closing a socket with unread input sends a reset, which can destroy an
/// answer the client has not read yet.
pub(super) const LINGER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parking {
    /// Waits for (the rest of) a request head.
    Waiting,
    /// Our side is shut; its input is discarded until the client closes or `LINGER` passes.
    Lingering { until: Instant },
}

struct Parked {
    conn: Conn,
    parking: Parking,
}

impl Parked {
    fn deadline(&self, shared: &Shared) -> Instant {
        let limits = &shared.limits;
        match (self.parking, self.conn.head_started) {
            (Parking::Lingering { until }, _) => until,
            (Parking::Waiting, Some(started)) => started + limits.header_timeout,
            // A first request gets the header deadline too, counted from the accept.
            (Parking::Waiting, None) if self.conn.served == 0 => {
                self.conn.idle_since + limits.idle_timeout.min(limits.header_timeout)
            }
            (Parking::Waiting, None) => self.conn.idle_since + limits.idle_timeout,
        }
    }

    fn idle(&self) -> bool {
        self.parking == Parking::Waiting && self.conn.pending().is_empty()
    }
}

pub fn run(shared: Arc<Shared>, wake: UnixStream) {
    let mut parked: Vec<Parked> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut scratch = vec![0u8; READ_CHUNK];
    loop {
        let (incoming, shed) = {
            let mut inbox = shared.inbox();
            (std::mem::take(&mut inbox.conns), std::mem::take(&mut inbox.shed))
        };
        for (conn, parking, returning) in incoming {
            if returning {
                shared.busy.fetch_sub(1, Ordering::SeqCst);
            }
            parked.push(Parked { conn, parking });
        }
        if shed > 0 {
            shed_longest_idle(&mut parked, shed);
        }
        if shared.stopping.load(Ordering::SeqCst) {
            parked.retain(|p| !p.idle());
        }
        let now = Instant::now();
        parked.retain(|p| p.deadline(&shared) > now);
        let arriving = parked.iter().filter(|p| p.parking == Parking::Waiting && !p.idle()).count();
        shared.arriving.store(arriving, Ordering::SeqCst);
        let next = parked.iter().map(|p| p.deadline(&shared)).min();
        let timeout =
            next.map_or(Duration::from_secs(1), |d| d.saturating_duration_since(now)).min(Duration::from_secs(1));
        fds.clear();
        fds.push(libc::pollfd { fd: wake.as_raw_fd(), events: libc::POLLIN, revents: 0 });
        fds.extend(parked.iter().map(|p| libc::pollfd {
            fd: p.conn.stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }));
        let ms = (timeout.as_millis() as libc::c_int).max(1);
        // SAFETY: `fds` is a valid array of `fds.len()` pollfds for the whole call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                log::warn!("poll failed: {error}");
                std::thread::sleep(Duration::from_millis(10));
            }
            continue;
        }
        if fds[0].revents != 0 {
            let mut sink = [0u8; 64];
            while matches!((&wake).read(&mut sink), Ok(n) if n > 0) {}
        }
        // Backwards, so that swap_remove only moves entries already looked at.
        for i in (0..parked.len()).rev() {
            if fds[i + 1].revents == 0 {
                continue;
            }
            match parked[i].parking {
                Parking::Lingering { .. } => {
                    if !discard(&mut parked[i].conn, &mut scratch) {
                        parked.swap_remove(i);
                    }
                }
                Parking::Waiting => {
                    let outcome = read_head(&mut parked[i].conn, &mut scratch);
                    if matches!(outcome, HeadRead::Waiting) {
                        continue;
                    }
                    let Parked { conn, .. } = parked.swap_remove(i);
                    match outcome {
                        HeadRead::Complete(head) => shared.dispatch(Job { conn, head: Ok(head) }),
                        HeadRead::Refused(refusal) => shared.dispatch(Job { conn, head: Err(refusal) }),
                        HeadRead::Closed | HeadRead::Waiting => drop(conn),
                    }
                }
            }
        }
    }
}

enum HeadRead {
    /// Not complete yet.
    Waiting,
    /// Complete, and taken from the buffer.
    Complete(head::Head),
    Refused(head::Refusal),
    /// The client closed the connection, or it failed.
    Closed,
}

/// Reads what has arrived of a head.
fn read_head(conn: &mut Conn, scratch: &mut [u8]) -> HeadRead {
    let before = conn.pending().len();
    match conn.receive_now(scratch) {
        Ok(0) => return HeadRead::Closed,
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return HeadRead::Waiting,
        Err(_) => return HeadRead::Closed,
    }
    if conn.head_started.is_none() {
        conn.head_started = Some(Instant::now());
    }
    // A head can only end at a line feed: parsing again for each byte of a slowly sent
    // head would cost quadratic time. Past the limits, parsing refuses it (414, 431).
    let pending = conn.pending();
    let line_feed = pending[before..].contains(&b'\n');
    let over_limit = pending.len() > MAX_HEAD || (pending.len() > head::MAX_TARGET + 32 && !pending.contains(&b'\n'));
    if !line_feed && !over_limit {
        return HeadRead::Waiting;
    }
    match head::parse(conn.pending()) {
        Ok(None) => HeadRead::Waiting,
        Ok(Some((head, length))) => {
            conn.consume(length);
            conn.head_started = None;
            HeadRead::Complete(head)
        }
        Err(refusal) => HeadRead::Refused(refusal),
    }
}

/// Reads and drops input of a closing connection; false once it is over.
fn discard(conn: &mut Conn, scratch: &mut [u8]) -> bool {
    loop {
        match (&conn.stream).read(scratch) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Closes up to `n` idle connections, the longest idle first (nginx reuses idle keep-alive
/// connections the same way when it runs out).
fn shed_longest_idle(parked: &mut Vec<Parked>, n: usize) {
    let mut idle: Vec<(Instant, usize)> =
        parked.iter().enumerate().filter(|(_, p)| p.idle()).map(|(i, p)| (p.conn.idle_since, i)).collect();
    idle.sort_unstable();
    let mut doomed: Vec<usize> = idle.into_iter().take(n).map(|(_, i)| i).collect();
    if !doomed.is_empty() {
        log::debug!("making room: closing {} idle connections", doomed.len());
    }
    doomed.sort_unstable_by(|a, b| b.cmp(a));
    for i in doomed {
        parked.swap_remove(i);
    }
}
