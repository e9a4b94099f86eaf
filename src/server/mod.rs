//! Rollcall's own HTTP/1.1 transport under rouille: it accepts connections, reads request
//! heads and bodies, and writes answers; rouille keeps what the handlers use (`Request`,
//! `Response`, cookies). Three kinds of thread share the work:
//!
//! - the accept loop (this file), which never ends on an error and keeps the number of
//!   connections below the descriptor limit;
//! - one poll thread (`poller.rs`) holding every connection that waits for a request, so
//!   idle and slow clients hold no worker;
//! - a fixed pool of workers (`worker.rs`) that run the handler for a complete head, read
//!   its body on demand and write the answer, one request at a time per connection.
//!
//! Every wait has a deadline: idle, header, body (the handler's reads) and send.

mod body;
mod conn;
mod head;
mod poller;
mod response;
mod worker;

pub use body::RequestBody;
use conn::Conn;
use poller::Parking;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// What the transport calls for each request: the request as rouille's, and its body.
pub type Handler = dyn Fn(&rouille::Request, &RequestBody) -> rouille::Response + Send + Sync;

#[derive(Debug, Clone)]
pub struct Limits {
    pub workers: usize,
    /// A keep-alive connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// A request head must be complete this long after its first byte (and a new
    /// connection's first head this long after the accept).
    pub header_timeout: Duration,
    /// An answer must be written within this (a client that does not read is dropped).
    pub send_timeout: Duration,
    /// `server.max_body_bytes`: an unread body up to this size is drained after the answer
    /// so the connection can go on; a larger one ends it.
    pub max_body_bytes: u64,
}

/// A connection with a complete head (or one refused), for a worker.
struct Job {
    conn: Conn,
    head: Result<head::Head, head::Refusal>,
}

#[derive(Default)]
struct Inbox {
    /// Connections for the poller: (connection, how it waits, back from a worker).
    conns: Vec<(Conn, Parking, bool)>,
    /// Idle connections the accept loop wants closed.
    shed: usize,
}

struct Shared {
    limits: Limits,
    handler: Box<Handler>,
    open: Arc<AtomicUsize>,
    /// Connections handed to the workers and not yet back: requests in flight.
    busy: AtomicUsize,
    /// Connections at the poller with part of a head received.
    arriving: AtomicUsize,
    stopping: AtomicBool,
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
    inbox: Mutex<Inbox>,
    /// Written to wake the poller when its inbox has something.
    wake: UnixStream,
}

impl Shared {
    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_poller(&self) {
        // A full socket already holds a wake-up.
        let _ = (&self.wake).write(&[1]);
    }

    /// Gives a connection to the poller; `returning`: from a worker (no longer busy).
    fn park(&self, conn: Conn, parking: Parking, returning: bool) {
        self.inbox().conns.push((conn, parking, returning));
        self.wake_poller();
    }

    /// Shuts our side of `conn` and lets the poller read what the client still sends, so
    /// our last answer is not lost to a reset.
    fn linger(&self, conn: Conn, returning: bool) {
        let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        self.park(conn, Parking::Lingering { until: Instant::now() + poller::LINGER }, returning);
    }

    /// Queues a job for the workers.
    fn dispatch(&self, job: Job) {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.requeue(job);
    }

    /// Queues a job that is already counted busy.
    fn requeue(&self, job: Job) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).push_back(job);
        self.ready.notify_one();
    }
}

/// A running transport: `stop` it, then `drain` it.
pub struct Transport {
    shared: Arc<Shared>,
    accept: std::thread::JoinHandle<()>,
}

impl Transport {
    /// Serves `listener` with `handler` on `limits.workers` threads.
    pub fn start(listener: TcpListener, limits: Limits, handler: Box<Handler>) -> io::Result<Transport> {
        listener.set_nonblocking(true)?;
        let (wake, woken) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        woken.set_nonblocking(true)?;
        let workers = limits.workers.max(1);
        let shared = Arc::new(Shared {
            limits,
            handler,
            open: Arc::new(AtomicUsize::new(0)),
            busy: AtomicUsize::new(0),
            arriving: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            inbox: Mutex::new(Inbox::default()),
            wake,
        });
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| std::thread::Builder::new().name(name).spawn(f);
        let poller = shared.clone();
        spawn("http-poll".into(), Box::new(move || poller::run(poller, woken)))?;
        for i in 0..workers {
            let worker = shared.clone();
            spawn(format!("http-worker-{i}"), Box::new(move || worker::run(&worker)))?;
        }
        let acceptor = shared.clone();
        let accept = std::thread::Builder::new().name("http-accept".into()).spawn(move || {
            accept_loop(&acceptor, listener);
        })?;
        Ok(Transport { shared, accept })
    }

    /// Stops accepting (the listening socket closes) and closes idle connections; answers
    /// still to be written go out with `Connection: close`.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.wake_poller();
        self.shared.ready.notify_all();
    }

    /// Waits, up to `deadline`, until no request is in flight or arriving; true if none is.
    pub fn drain(self, deadline: Instant) -> bool {
        while !self.accept.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        loop {
            let shared = &self.shared;
            let idle = shared.busy.load(Ordering::SeqCst) == 0 && shared.arriving.load(Ordering::SeqCst) == 0;
            if idle || Instant::now() >= deadline {
                return idle;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Accepts until stopped. No error ends it: out of descriptors, it closes the longest-idle
/// connections and backs off; anything else is retried.
fn accept_loop(shared: &Shared, listener: TcpListener) {
    let cap = connection_cap();
    log::info!("accepting up to {cap} connections");
    let mut backoff = Duration::from_millis(10);
    let mut last_warning: Option<Instant> = None;
    let mut warn = |message: String| {
        if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
            log::warn!("{message}");
            last_warning = Some(Instant::now());
        }
    };
    while !shared.stopping.load(Ordering::SeqCst) {
        if shared.open.load(Ordering::SeqCst) >= cap {
            warn(format!("{cap} connections open (the cap below the descriptor limit): closing idle ones"));
            shed(shared, cap / 16);
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if !readable(&listener, Duration::from_millis(200)) {
            continue;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(10);
                match Conn::new(stream, peer, shared.open.clone()) {
                    Ok(conn) => shared.park(conn, Parking::Waiting, false),
                    Err(e) => log::debug!("dropped a connection from {peer}: {e}"),
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            // The client gave up before we took its connection.
            Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) => {}
            Err(e) => {
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)) {
                    shed(shared, shared.open.load(Ordering::SeqCst) / 16);
                }
                warn(format!("accept failed: {e}; retrying in {} ms", backoff.as_millis()));
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    log::info!("stopped accepting connections");
}

fn shed(shared: &Shared, n: usize) {
    shared.inbox().shed += n.max(1);
    shared.wake_poller();
}

fn readable(listener: &TcpListener, timeout: Duration) -> bool {
    let mut fd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, for the length given.
    unsafe { libc::poll(&mut fd, 1, timeout.as_millis() as libc::c_int) > 0 }
}

/// Connections allowed at once: the open-file limit less a reserve for the database files
/// (each worker's SQLite connection holds its own), logs, and outgoing mail and webhooks.
fn connection_cap() -> usize {
    let limit = fd_limit();
    let reserve = (limit / 8).max(128);
    limit.saturating_sub(reserve).max(16)
}

fn fd_limit() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    }
}

/// Raises the soft open-file limit to the hard one (each connection holds a descriptor).
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        log::warn!("could not read the open-file limit: {}", io::Error::last_os_error());
        return;
    }
    let soft = limit.rlim_cur;
    // macOS refuses a soft limit above OPEN_MAX whatever the hard limit says.
    #[cfg(target_os = "macos")]
    {
        limit.rlim_max = limit.rlim_max.min(libc::OPEN_MAX as libc::rlim_t);
    }
    if soft < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            log::warn!("could not raise the open-file limit: {}", io::Error::last_os_error());
            limit.rlim_cur = soft;
        }
    }
    log::info!("open-file limit: soft {soft} raised to {} (hard {})", limit.rlim_cur, limit.rlim_max);
}
