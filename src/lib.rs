//! Rollcall: one binary, one SQLite file, every enrollment API a school needs.
//! `Server::build(config)` binds and wires the application; `main.rs` and the tests both
//! use it.

// The OpenAPI schemas are one large `json!` literal.
#![recursion_limit = "512"]

pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod core;
pub mod domain;
pub mod jobs;
pub mod store;

use config::Config;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Everything a request handler needs, shared by all worker threads.
pub struct App {
    pub config: Config,
    pub db: store::Db,
    pub auth: auth::Auth,
    pub router: api::router::Router,
    /// How clients reach us, without a trailing slash.
    pub base_url: String,
    pub request_id_prefix: String,
    /// Wakes the background workers when new work is written.
    pub jobs: jobs::Signal,
    pub mailer: jobs::outbox::Mailer,
}

type BoxedHandler = Box<dyn Fn(&rouille::Request) -> rouille::Response + Send + Sync>;

/// tiny_http writes a response's headers and a body larger than its 1 KiB buffer in two
/// writes; with Nagle's algorithm on, the second waits for the client's delayed ACK (40 ms).
/// rouille gives no access to the sockets, but Linux copies TCP_NODELAY from a listening
/// socket to the connections it accepts, so set it on the listener: found among our own
/// file descriptors by its bound address.
#[cfg(target_os = "linux")]
fn set_nodelay_on_listener(addr: SocketAddr) {
    use std::mem::ManuallyDrop;
    use std::os::fd::{AsRawFd, FromRawFd, RawFd};
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok()) else {
            continue;
        };
        let is_socket =
            std::fs::read_link(entry.path()).is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the fd is open (listed above) and a socket; ManuallyDrop keeps these
        // borrowed views from closing it. Only getsockname/getsockopt/setsockopt run on it.
        let listener = ManuallyDrop::new(unsafe { std::net::TcpListener::from_raw_fd(fd) });
        if listener.local_addr().ok() == Some(addr) && listener.as_raw_fd() == fd {
            let stream = ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(fd) });
            if let Err(e) = stream.set_nodelay(true) {
                log::warn!("could not set TCP_NODELAY on the listening socket: {e}");
            }
            return;
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn set_nodelay_on_listener(_addr: SocketAddr) {}

/// Tracks requests in flight so that shutdown can wait for them.
struct Lifecycle {
    in_flight: AtomicUsize,
    stopping: AtomicBool,
}

pub struct Server {
    app: Arc<OnceLock<App>>,
    lifecycle: Arc<Lifecycle>,
    addr: SocketAddr,
    server: rouille::Server<BoxedHandler>,
    jobs_stop: Arc<AtomicBool>,
}

impl Server {
    /// Opens the database (applying the schema), binds the listen address and builds the app.
    pub fn build(config: Config) -> Result<Server, String> {
        let db = store::Db::open(&config.database.path, &config.database.synchronous, config.database.busy_timeout_ms)
            .map_err(|e| e.developer_message)?;
        let cell: Arc<OnceLock<App>> = Arc::new(OnceLock::new());
        let lifecycle = Arc::new(Lifecycle { in_flight: AtomicUsize::new(0), stopping: AtomicBool::new(false) });
        let handler_cell = cell.clone();
        let handler_life = lifecycle.clone();
        let handler: BoxedHandler = Box::new(move |req| {
            handler_life.in_flight.fetch_add(1, Ordering::SeqCst);
            let response = match handler_cell.get() {
                Some(app) if !handler_life.stopping.load(Ordering::SeqCst) => api::router::handle(app, req),
                _ => rouille::Response::from_data(
                    "application/json",
                    r#"{"detail": "The server is starting or stopping."}"#,
                )
                .with_status_code(503)
                .with_additional_header("Connection", "close"),
            };
            handler_life.in_flight.fetch_sub(1, Ordering::SeqCst);
            response
        });
        let server = rouille::Server::new(config.server.listen.as_str(), handler)
            .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?
            .pool_size(config.worker_threads());
        let addr = server.server_addr();
        set_nodelay_on_listener(addr);
        let base_url = config.public_base_url(&addr.to_string());
        let auth = auth::Auth::new(&config, &db, &base_url).map_err(|e| e.developer_message)?;
        let prefix = auth::secrets::random_token(6);
        let mailer = jobs::outbox::Mailer::from_config(&config.email)?;
        let job_workers = config.jobs.workers;
        let app = App {
            config,
            db,
            auth,
            router: api::router::Router::new(),
            base_url,
            request_id_prefix: prefix,
            jobs: jobs::Signal::default(),
            mailer,
        };
        let _ = cell.set(app);
        let jobs_stop = Arc::new(AtomicBool::new(false));
        jobs::start(cell.clone(), job_workers, jobs_stop.clone());
        Ok(Server { app: cell, lifecycle, addr, server, jobs_stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn app(&self) -> &App {
        self.app.get().expect("set in build")
    }

    /// Serves until `stop` becomes true, then refuses new requests and waits (up to 30 s)
    /// for those in flight to finish.
    pub fn run_until(self, stop: Arc<AtomicBool>) {
        let lifecycle = self.lifecycle.clone();
        let server = self.server;
        std::thread::spawn(move || server.run());
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        lifecycle.stopping.store(true, Ordering::SeqCst);
        self.jobs_stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(30);
        while lifecycle.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Handlers are done; give their threads a moment to write the responses out.
        std::thread::sleep(Duration::from_millis(200));
        log::info!("stopped");
    }
}
