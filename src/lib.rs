//! Rollcall: one binary, one SQLite file, every enrollment API a school needs.
//! `Server::build(config)` binds and wires the application; the `cli` commands (which
//! `main.rs` runs) and the tests both use it.

// The OpenAPI schemas are one large `json!` literal.
#![recursion_limit = "512"]

pub mod api;
pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod core;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod server;
pub mod store;
pub mod telemetry;

pub use app::App;
use config::Config;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

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

/// The transport's body is what the API reads a request's body from.
impl api::body::RequestBody for server::RequestBody {
    fn read(&self, out: &mut [u8], deadline: Instant) -> std::io::Result<usize> {
        server::RequestBody::read(self, out, deadline)
    }
}

pub struct Server {
    app: Arc<OnceLock<App>>,
    addr: SocketAddr,
    listener: std::net::TcpListener,
    jobs_stop: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Opens the database (applying the schema), binds the listen address and builds the app.
    pub fn build(config: Config) -> Result<Server, String> {
        let db = store::Db::open(&config.database).map_err(|e| e.developer_message)?;
        server::raise_fd_limit();
        return_big_allocations_to_the_system();
        let cell: Arc<OnceLock<App>> = Arc::new(OnceLock::new());
        let listener = std::net::TcpListener::bind(config.server.listen.as_str())
            .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
        let addr = listener.local_addr().map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
        let base_url = config.public_base_url(&addr.to_string());
        let auth = auth::Auth::new(&config, &db, &base_url).map_err(|e| e.developer_message)?;
        let limits = core::rate_limit::Limits::new(&config.rate_limits);
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
            config.server.trusted_proxies.iter().filter_map(|p| domain::AddressBlock::parse(p)).collect();
        let retention = config.idempotency.retention_seconds();
        let idempotency = core::idempotency::Registry::load(&db, domain::Timestamp::now(), retention)
            .map_err(|e| e.developer_message)?;
        let env = core::Env {
            config,
            db,
            auth,
            limits,
            base_url,
            jobs: core::env::Signal::default(),
            coupons,
            templates,
            idempotency,
        };
        let site = api::http::Site { request_id_prefix: prefix, trusted_proxies, metrics: Default::default() };
        let app = App { env, site, mailer };
        let _ = cell.set(app);
        let jobs_stop = Arc::new(AtomicBool::new(false));
        let workers = jobs::start(cell.clone(), job_workers, webhook_workers, jobs_stop.clone());
        Ok(Server { app: cell, addr, listener, jobs_stop, workers })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn app(&self) -> &App {
        self.app.get().expect("set in build")
    }

    /// Serves until `stop` becomes true, then stops accepting, answers the requests in
    /// flight or still arriving (up to 30 s), and closes idle connections.
    pub fn run_until(self, stop: Arc<AtomicBool>) -> Result<(), String> {
        let app = self.app.get().expect("set in build");
        let server = &app.env.config.server;
        let limits = server::Limits {
            workers: app.env.config.worker_threads(),
            idle_timeout: Duration::from_secs(server.idle_timeout_seconds),
            header_timeout: Duration::from_secs(server.header_timeout_seconds),
            send_timeout: Duration::from_secs(server.send_timeout_seconds),
            max_body_bytes: server.max_body_bytes as u64,
        };
        let cell = self.app.clone();
        let handler: Box<server::Handler> = Box::new(move |req, body| match cell.get() {
            Some(app) => api::router::handle(&app.env, &app.site, req, body),
            None => rouille::Response::from_data("application/json", r#"{"detail": "The server is starting."}"#)
                .with_status_code(503),
        });
        let transport = server::Transport::start(self.listener, limits, handler)
            .map_err(|e| format!("cannot start serving on {}: {e}", self.addr))?;
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        transport.stop();
        self.jobs_stop.store(true, Ordering::SeqCst);
        app.env.jobs.wake();
        let deadline = Instant::now() + Duration::from_secs(30);
        if !transport.drain(deadline) {
            log::warn!("stopping with requests still in flight after 30 s");
        }
        // Background workers finish the message or batch in hand (an email being sent is
        // sent and recorded; the rest are released), so a restart sends nothing twice.
        while !self.workers.iter().all(|w| w.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        log::info!("stopped");
        Ok(())
    }
}
