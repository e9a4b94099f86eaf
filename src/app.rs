//! The application's state, built once by `Server::build` (lib.rs) and shared by every
//! request and background worker: its own module, so that the API (which takes it) and
//! the crate root (which builds it and serves the API) do not import each other.

use crate::config::Config;

/// Everything a request handler needs, shared by all worker threads.
pub struct App {
    pub config: Config,
    pub db: crate::store::Db,
    pub auth: crate::auth::Auth,
    /// How clients reach us, without a trailing slash.
    pub base_url: String,
    pub request_id_prefix: String,
    /// Wakes the background workers when new work is written.
    pub jobs: crate::jobs::Signal,
    pub mailer: crate::jobs::outbox::Mailer,
    /// `checkout.coupons`, parsed (and checked) at start-up.
    pub coupons: Vec<(String, u32)>,
    /// `server.trusted_proxies`, parsed.
    pub trusted_proxies: Vec<crate::domain::AddressBlock>,
    /// `email.templates_dir`, loaded and checked at start-up.
    pub templates: crate::core::emails::Templates,
    /// Request counts and durations for `/metrics`.
    pub metrics: crate::telemetry::metrics::Metrics,
    /// Idempotency keys running now, and which have answers.
    pub idempotency: crate::core::idempotency::Registry,
}

/// The workers' narrow view of the application.
impl crate::jobs::Context for App {
    fn db(&self) -> &crate::store::Db {
        &self.db
    }
    fn config(&self) -> &Config {
        &self.config
    }
    fn base_url(&self) -> &str {
        &self.base_url
    }
    fn mailer(&self) -> &crate::jobs::outbox::Mailer {
        &self.mailer
    }
    fn templates(&self) -> &crate::core::emails::Templates {
        &self.templates
    }
    fn signal(&self) -> &crate::jobs::Signal {
        &self.jobs
    }
    fn rate_limits(&self) -> &crate::auth::rate_limit::Limits {
        &self.auth.limits
    }
}
