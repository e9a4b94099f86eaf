//! The connection deadlines tiny_http (under rouille) does not keep: idle connections, slow
//! request bodies and clients that never read their answers would each hold a thread
//! forever. tiny_http gives no access to its sockets, so a reaper thread finds each
//! connection's socket among our own file descriptors (by its addresses) and shuts down
//! the ones past their deadline; the blocked read or write then returns and the thread is
//! free. Socket timeouts on the listener cannot do it: Linux applies SO_RCVTIMEO to
//! `accept` too, and tiny_http's accept thread gives up for good on the first error.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What is known of one client connection, by its peer address.
#[derive(Debug, Clone, Copy)]
struct Peer {
    /// When a request last started or ended on it (or it was first seen).
    last_active: Instant,
    in_flight: u32,
    /// While a request body is being read: when it must have arrived.
    body_deadline: Option<Instant>,
}

pub struct Connections {
    port: u16,
    idle_timeout: Duration,
    /// The soft open-file limit: near it, idle connections are closed early, since at it
    /// tiny_http stops accepting for good.
    fd_limit: u64,
    peers: Mutex<HashMap<SocketAddr, Peer>>,
}

/// How often the reaper looks; deadlines hold to within this.
const SWEEP: Duration = Duration::from_millis(500);

impl Connections {
    pub fn new(port: u16, idle_timeout: Duration) -> Arc<Connections> {
        Arc::new(Connections { port, idle_timeout, fd_limit: fd_limit(), peers: Mutex::new(HashMap::new()) })
    }

    fn with_peer(&self, peer: SocketAddr, f: impl FnOnce(&mut Peer)) {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let entry =
            peers.entry(peer).or_insert(Peer { last_active: Instant::now(), in_flight: 0, body_deadline: None });
        f(entry);
    }

    pub fn begin(&self, peer: SocketAddr) {
        self.with_peer(peer, |p| {
            p.in_flight += 1;
            p.last_active = Instant::now();
        });
    }

    /// The request's handler is done; the idle clock restarts (it also bounds how long
    /// writing the answer to a client that does not read may take).
    pub fn end(&self, peer: SocketAddr) {
        self.with_peer(peer, |p| {
            p.in_flight = p.in_flight.saturating_sub(1);
            p.last_active = Instant::now();
            p.body_deadline = None;
        });
    }

    /// While `Some`, the body must have arrived by then or the socket's reading side is shut.
    pub fn body_deadline(&self, peer: SocketAddr, deadline: Option<Instant>) {
        self.with_peer(peer, |p| p.body_deadline = deadline);
    }

    /// Ends reading on this client's connection: a body we will not read (a 408, or one
    /// left behind by a refused request) must not keep tiny_http draining it at the
    /// client's pace. The answer can still be written.
    pub fn stop_reading(&self, peer: SocketAddr) {
        for (stream, found) in sockets(self.port) {
            if found == peer {
                let _ = stream.shutdown(Shutdown::Read);
            }
        }
    }

    /// One sweep: shuts down connections idle past the timeout, and the reading side of
    /// those whose body deadline passed; forgets peers whose sockets are gone.
    fn sweep(&self) {
        let now = Instant::now();
        let open = sockets(self.port);
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut seen = std::collections::HashSet::with_capacity(open.len());
        // Each connection holds two descriptors; past three quarters of the limit, any
        // connection idle for a second is shed.
        let crowded = (open.len() as u64) * 2 > self.fd_limit * 3 / 4;
        let idle_timeout = if crowded { Duration::from_secs(1).min(self.idle_timeout) } else { self.idle_timeout };
        for (stream, peer) in &open {
            seen.insert(*peer);
            let p = peers.entry(*peer).or_insert(Peer { last_active: now, in_flight: 0, body_deadline: None });
            if p.in_flight == 0 && now.duration_since(p.last_active) >= idle_timeout {
                log::debug!("closing idle connection from {peer}");
                let _ = stream.shutdown(Shutdown::Both);
            } else if p.body_deadline.is_some_and(|d| now >= d) {
                log::info!("request body from {peer} too slow; no longer reading it");
                let _ = stream.shutdown(Shutdown::Read);
                p.body_deadline = None;
            }
        }
        peers.retain(|peer, _| seen.contains(peer));
    }

    /// How many connections are mid-request: a handler runs, or the client sent data in
    /// the last second that we have not answered yet (tiny_http reads a small body before
    /// it hands us the request, so such a request is not in flight for us yet). Shutdown
    /// waits for these to be answered.
    pub fn mid_request(&self) -> usize {
        let in_flight: usize =
            self.peers.lock().unwrap_or_else(PoisonError::into_inner).values().filter(|p| p.in_flight > 0).count();
        let arriving = sockets(self.port)
            .iter()
            .filter(|(stream, _)| {
                tcp_idle_ms(stream).is_some_and(|(since_received, since_sent)| {
                    // Equal when nothing was ever sent on it: Linux stamps both at the start.
                    since_received <= 1000 && since_received <= since_sent
                })
            })
            .count();
        in_flight + arriving
    }

    /// Sweeps every half second for the life of the process.
    pub fn spawn_reaper(self: &Arc<Self>) {
        let me = self.clone();
        std::thread::Builder::new()
            .name("connection-reaper".into())
            .spawn(move || loop {
                std::thread::sleep(SWEEP);
                me.sweep();
            })
            .expect("spawn the connection reaper");
    }
}

/// Our open file descriptors that are sockets (from /proc/self/fd).
#[cfg(target_os = "linux")]
fn socket_fds() -> Vec<std::os::fd::RawFd> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:")))
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

/// Borrowed views of our connected TCP sockets whose local port is `port`, with their
/// peers (the listener has no peer; outbound SMTP and webhook sockets have other ports).
/// ManuallyDrop keeps a view from closing a descriptor that is not ours to close.
#[cfg(target_os = "linux")]
fn sockets(port: u16) -> Vec<(ManuallyDrop<TcpStream>, SocketAddr)> {
    use std::os::fd::FromRawFd;
    let mut found = Vec::new();
    for fd in socket_fds() {
        // SAFETY: the fd was open a moment ago and is a socket; only getsockname,
        // getpeername and shutdown run on it, and the view never closes it. Should it be
        // closed and reused meanwhile, the address checks below fail or name the new one.
        let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr()) else { continue };
        if local.port() == port {
            found.push((stream, peer));
        }
    }
    found
}

#[cfg(not(target_os = "linux"))]
fn sockets(_port: u16) -> Vec<(ManuallyDrop<TcpStream>, SocketAddr)> {
    Vec::new()
}

/// (ms since data was last received, ms since data was last sent) on a TCP socket.
#[cfg(target_os = "linux")]
fn tcp_idle_ms(stream: &TcpStream) -> Option<(u32, u32)> {
    use std::os::fd::AsRawFd;
    // SAFETY: tcp_info is plain data; getsockopt writes at most `len` bytes into it.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some((info.tcpi_last_data_recv, info.tcpi_last_data_sent))
}

#[cfg(not(target_os = "linux"))]
fn tcp_idle_ms(_stream: &TcpStream) -> Option<(u32, u32)> {
    None
}

/// The listening socket, found among our own file descriptors by its bound address
/// (rouille gives no access to it).
#[derive(Debug, Clone, Copy)]
pub struct Listener {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fd: Option<std::os::fd::RawFd>,
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    addr: SocketAddr,
}

impl Listener {
    #[cfg(target_os = "linux")]
    pub fn find(addr: SocketAddr) -> Listener {
        use std::os::fd::FromRawFd;
        let fd = socket_fds().into_iter().find(|&fd| {
            // SAFETY: an open socket, viewed without closing it.
            let listener = ManuallyDrop::new(unsafe { std::net::TcpListener::from_raw_fd(fd) });
            listener.local_addr().ok() == Some(addr) && accepts_connections(fd)
        });
        if fd.is_none() {
            log::warn!("could not find the listening socket among our file descriptors");
        }
        Listener { fd, addr }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn find(addr: SocketAddr) -> Listener {
        Listener { fd: None, addr }
    }

    /// tiny_http writes a response's headers and a body larger than its 1 KiB buffer in
    /// two writes; with Nagle's algorithm on, the second waits for the client's delayed ACK
    /// (40 ms). Linux copies TCP_NODELAY from a listening socket to the connections it
    /// accepts, so it is set once, here.
    #[cfg(target_os = "linux")]
    pub fn set_nodelay(&self) {
        use std::os::fd::FromRawFd;
        let Some(fd) = self.fd else { return };
        // SAFETY: as in `find`.
        let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        if let Err(e) = stream.set_nodelay(true) {
            log::warn!("could not set TCP_NODELAY on the listening socket: {e}");
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn set_nodelay(&self) {}

    /// False once the socket is closed. tiny_http's accept thread ends on the first accept
    /// error, but it also panics (without telling anyone) when duplicating an accepted
    /// socket fails for want of descriptors; either way the listener is dropped. A reused
    /// descriptor number would be an accepted connection (same local address, but not
    /// listening), so SO_ACCEPTCONN tells them apart.
    #[cfg(target_os = "linux")]
    pub fn is_listening(&self) -> bool {
        use std::os::fd::FromRawFd;
        let Some(fd) = self.fd else { return true };
        // SAFETY: getsockname and getsockopt on a descriptor number; at worst it is closed
        // (both fail) or another socket (the checks fail).
        let view = ManuallyDrop::new(unsafe { std::net::TcpListener::from_raw_fd(fd) });
        view.local_addr().ok() == Some(self.addr) && accepts_connections(fd)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn is_listening(&self) -> bool {
        true
    }
}

#[cfg(target_os = "linux")]
fn accepts_connections(fd: std::os::fd::RawFd) -> bool {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN, (&mut value as *mut libc::c_int).cast(), &mut len)
    };
    rc == 0 && value != 0
}

#[cfg(unix)]
fn fd_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur as u64
    } else {
        1024
    }
}

#[cfg(not(unix))]
fn fd_limit() -> u64 {
    u64::MAX
}

/// Raises the soft open-file limit to the hard one: each connection takes two descriptors,
/// and at the soft limit tiny_http's accept thread stops for good.
#[cfg(unix)]
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        log::warn!("could not read the open-file limit: {}", std::io::Error::last_os_error());
        return;
    }
    let soft = limit.rlim_cur;
    if soft < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            log::warn!("could not raise the open-file limit: {}", std::io::Error::last_os_error());
            limit.rlim_cur = soft;
        }
    }
    log::info!("open-file limit: soft {soft} raised to {} (hard {})", limit.rlim_cur, limit.rlim_max);
}

#[cfg(not(unix))]
pub fn raise_fd_limit() {}
