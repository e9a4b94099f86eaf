//! The application's state, built once by `Server::build` (lib.rs) and shared by every
//! request and background worker: what the use cases run against (`core::Env`), what the
//! HTTP layer keeps (`api::http::Site`) and the mailer the workers send with.

use crate::config::Config;
use crate::core::env::Signal;
use crate::core::Env;

pub struct App {
    pub env: Env,
    pub site: crate::api::http::Site,
    pub mailer: crate::jobs::outbox::Mailer,
}

/// The workers' narrow view of the application.
impl crate::jobs::Context for App {
    fn db(&self) -> &crate::store::Db {
        &self.env.db
    }
    fn config(&self) -> &Config {
        &self.env.config
    }
    fn base_url(&self) -> &str {
        &self.env.base_url
    }
    fn mailer(&self) -> &crate::jobs::outbox::Mailer {
        &self.mailer
    }
    fn templates(&self) -> &crate::core::emails::Templates {
        &self.env.templates
    }
    fn signal(&self) -> &Signal {
        &self.env.jobs
    }
    fn rate_limits(&self) -> &crate::core::rate_limit::Limits {
        &self.env.limits
    }
}
