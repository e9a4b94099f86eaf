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
    /// Idle and body deadlines for client connections.
    pub connections: Arc<api::connections::Connections>,
    /// `checkout.coupons`, parsed (and checked) at start-up.
    pub coupons: Vec<(String, u32)>,
    /// `server.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<auth::rate_limit::AddressBlock>,
    /// `email.templates_dir`, loaded and checked at start-up.
    pub templates: core::emails::Templates,
    /// Request counts and durations for `/metrics`.
    pub metrics: api::metrics::Metrics,
}

type BoxedHandler = Box<dyn Fn(&rouille::Request) -> rouille::Response + Send + Sync>;

/// glibc serves big allocations from its heap once it has freed a big mmap (its threshold
/// adapts upwards), and keeps that memory: after a burst of logins each argon2 working
/// buffer (MiBs) stayed resident for good. A fixed threshold keeps such buffers in mmap,
/// returned to the system when freed, so idle RSS comes back down.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_big_allocations_to_the_system() {
    // SAFETY: mallopt only changes an allocator setting; it runs before worker threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_big_allocations_to_the_system() {}

/// Tracks requests in flight so that shutdown can wait for them.
struct Lifecycle {
    in_flight: AtomicUsize,
    stopping: AtomicBool,
}

pub struct Server {
    app: Arc<OnceLock<App>>,
    lifecycle: Arc<Lifecycle>,
    addr: SocketAddr,
    listener: api::connections::Listener,
    server: rouille::Server<BoxedHandler>,
    jobs_stop: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Opens the database (applying the schema), binds the listen address and builds the app.
    pub fn build(config: Config) -> Result<Server, String> {
        let db = store::Db::open(&config.database).map_err(|e| e.developer_message)?;
        api::connections::raise_fd_limit();
        return_big_allocations_to_the_system();
        let cell: Arc<OnceLock<App>> = Arc::new(OnceLock::new());
        let lifecycle = Arc::new(Lifecycle { in_flight: AtomicUsize::new(0), stopping: AtomicBool::new(false) });
        let handler_cell = cell.clone();
        let handler_life = lifecycle.clone();
        let handler: BoxedHandler = Box::new(move |req| {
            handler_life.in_flight.fetch_add(1, Ordering::SeqCst);
            let app = handler_cell.get();
            if let Some(app) = app {
                app.connections.begin(*req.remote_addr());
            }
            let response = match app {
                // While stopping, requests that were already arriving are still answered
                // (run_until waits for them), and their connections end after the answer
                // (tiny_http ignores a Connection header; a shut reading side ends it).
                Some(app) if handler_life.stopping.load(Ordering::SeqCst) => {
                    let response = api::router::handle(app, req);
                    app.connections.stop_reading(*req.remote_addr());
                    response
                }
                Some(app) => api::router::handle(app, req),
                None => rouille::Response::from_data(
                    "application/json",
                    r#"{"detail": "The server is starting or stopping."}"#,
                )
                .with_status_code(503),
            };
            if let Some(app) = app {
                app.connections.end(*req.remote_addr());
            }
            handler_life.in_flight.fetch_sub(1, Ordering::SeqCst);
            response
        });
        let server = rouille::Server::new(config.server.listen.as_str(), handler)
            .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?
            .pool_size(config.worker_threads());
        let addr = server.server_addr();
        let listener = api::connections::Listener::find(addr);
        listener.set_nodelay();
        let connections =
            api::connections::Connections::new(addr.port(), Duration::from_secs(config.server.idle_timeout_seconds));
        connections.spawn_reaper();
        let base_url = config.public_base_url(&addr.to_string());
        let auth = auth::Auth::new(&config, &db, &base_url).map_err(|e| e.developer_message)?;
        let prefix = auth::secrets::random_token(6);
        let mailer = jobs::outbox::Mailer::from_config(&config.email)?;
        let job_workers = config.jobs.workers;
        let webhook_workers = config.webhooks.workers;
        let coupons = config.checkout.coupon_table()?;
        let templates = match config.email.templates_dir.as_str() {
            "" => core::emails::Templates::default(),
            dir => core::emails::Templates::load(std::path::Path::new(dir))?,
        };
        let trusted_proxies =
            config.server.trusted_proxies.iter().filter_map(|p| auth::rate_limit::AddressBlock::parse(p)).collect();
        let app = App {
            config,
            db,
            auth,
            router: api::router::Router::new(),
            base_url,
            request_id_prefix: prefix,
            jobs: jobs::Signal::default(),
            mailer,
            connections,
            coupons,
            trusted_proxies,
            templates,
            metrics: api::metrics::Metrics::default(),
        };
        let _ = cell.set(app);
        let jobs_stop = Arc::new(AtomicBool::new(false));
        let workers = jobs::start(cell.clone(), job_workers, webhook_workers, jobs_stop.clone());
        Ok(Server { app: cell, lifecycle, addr, listener, server, jobs_stop, workers })
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
        let serving = std::thread::spawn(move || server.run());
        while !stop.load(Ordering::SeqCst) {
            // tiny_http's accept thread gives up for good on the first accept error (e.g. out
            // of file descriptors; rouille's loop then ends) or panics when it cannot
            // duplicate an accepted socket (rouille never learns; the listener is closed). Staying alive then would serve nobody: exit so that a supervisor
            // (systemd's Restart=on-failure) starts us again.
            if serving.is_finished() || !self.listener.is_listening() {
                log::error!(
                    "the listening socket is gone (accept failed); exiting so a supervisor restarts the server"
                );
                eprintln!("rollcall: the listening socket is gone (accept failed); exiting");
                std::process::exit(3);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        lifecycle.stopping.store(true, Ordering::SeqCst);
        self.jobs_stop.store(true, Ordering::SeqCst);
        let app = self.app.get().expect("set in build");
        app.jobs.wake();
        let deadline = Instant::now() + Duration::from_secs(30);
        // Requests in flight, and those whose bodies are still arriving, get their answers
        // (within the body deadline); then the process may go.
        let body_deadline = Instant::now() + Duration::from_secs(app.config.server.body_timeout_seconds + 1);
        loop {
            let busy = lifecycle.in_flight.load(Ordering::SeqCst) > 0
                || (Instant::now() < body_deadline && app.connections.mid_request() > 0);
            if !busy || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Background workers finish the message or batch in hand (an email being sent is
        // sent and recorded; the rest are released), so a restart sends nothing twice.
        while !self.workers.iter().all(|w| w.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Handlers are done; give their threads a moment to write the responses out.
        std::thread::sleep(Duration::from_millis(200));
        log::info!("stopped");
    }
}
