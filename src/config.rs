//! Settings: built-in defaults, then the TOML file, then `ROLLCALL_<SECTION>_<KEY>`
//! environment variables. An unknown key or a bad value stops start-up, naming it.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub rate_limits: RateLimitConfig,
    pub email: EmailConfig,
    pub jobs: JobsConfig,
    pub checkout: CheckoutConfig,
    pub webhooks: WebhooksConfig,
    pub scim: ScimConfig,
    pub idempotency: IdempotencyConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencyConfig {
    /// How long the first answer to an `Idempotency-Key` is kept and replayed (fractions
    /// allowed); older keys are forgotten and purged in the background.
    pub retention_hours: f64,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        // Stripe's choice: a day covers a client's retries after any outage it would sit out.
        IdempotencyConfig { retention_hours: 24.0 }
    }
}

impl IdempotencyConfig {
    /// The retention in whole seconds (at least one).
    pub fn retention_seconds(&self) -> i64 {
        ((self.retention_hours * 3600.0) as i64).max(1)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScimConfig {
    /// true: an identity provider may change a userName (PUT or PATCH); otherwise that is
    /// 400 `mutability`, since usernames name people on every other surface.
    pub allow_username_change: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Hosts (names or addresses, exactly as in the URL) a webhook may reach although they
    /// are loopback, private or link-local: a receiver on the school's LAN, or a test's.
    pub allowed_hosts: Vec<String>,
    /// Delivery threads for webhooks, apart from the email and task workers.
    pub workers: usize,
    /// The most one delivery may take, connecting included.
    pub timeout_seconds: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig { allowed_hosts: Vec::new(), workers: 2, timeout_seconds: 5 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckoutConfig {
    /// `CODE=percent` pairs, comma-separated: the coupons checkout accepts.
    pub coupons: String,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        // The checkout spec's own example sends SUMMER2024; an install without it would
        // refuse the documented request. Replace with the school's own codes.
        CheckoutConfig { coupons: "SUMMER2024=10".into() }
    }
}

impl CheckoutConfig {
    /// (upper-cased code, percent off 1–100).
    pub fn coupon_table(&self) -> Result<Vec<(String, u32)>, String> {
        self.coupons
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (code, percent) = pair.split_once('=').ok_or_else(|| format!("'{pair}' is not CODE=percent"))?;
                let percent: u32 =
                    percent.trim().parse().map_err(|_| format!("'{pair}': the percent is not a number"))?;
                let code = code.trim().to_ascii_uppercase();
                if code.is_empty() || code.len() > 50 || !(1..=100).contains(&percent) {
                    return Err(format!("'{pair}': codes have 1 to 50 characters and take 1 to 100 percent off"));
                }
                Ok((code, percent))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    /// Request-handling threads; each owns its own SQLite connection. 0: sixteen per CPU
    /// core, at least 32 (see `worker_threads`).
    pub workers: usize,
    pub max_body_bytes: usize,
    /// Where clients reach this server; used in links, emails and the default JWT issuer.
    pub public_base_url: String,
    pub school_name: String,
    /// A connection that sends nothing (or reads nothing of our answer) for this long is
    /// closed: the socket timeouts accepted connections inherit from the listener.
    pub idle_timeout_seconds: u64,
    /// A request head must be complete within this many seconds of its first byte (a new
    /// connection's first head: of the accept, or the idle timeout if shorter).
    pub header_timeout_seconds: u64,
    /// An answer must be written within this many seconds; a client that does not read
    /// it is disconnected.
    pub send_timeout_seconds: u64,
    /// The whole request body must arrive within this (and no slower than 1 KiB/s after
    /// the first 5 s), else 408.
    pub body_timeout_seconds: u64,
    /// Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For / Forwarded header
    /// names the real client, for rate limits and logs.
    pub trusted_proxies: Vec<String>,
    /// Browser origins (`https://app.example`) allowed to call the API from their pages,
    /// with credentials (CORS). Empty: same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// true: `/metrics` answers without credentials (otherwise staff only).
    pub metrics_public: bool,
    /// "text" (default) or "json": one JSON object per log line, for log shippers.
    pub log_format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub path: PathBuf,
    /// "full" (default: a committed write survives power loss), "normal" or "extra".
    pub synchronous: String,
    /// Also how long a write waits while Litestream holds the write lock for a checkpoint
    /// (its documentation asks applications for 5 s; "Replication and restore" in README.md).
    pub busy_timeout_ms: u64,
    /// Who moves the WAL back into the database file: "rollcall" (SQLite's automatic
    /// checkpoint after 1,000 pages, and one when the server closes) or "external" (never:
    /// Litestream replicating this database does it, after copying the pages it ships).
    pub checkpoints: String,
    /// The database file holds the JWT signing key: it is created 0600, and a start on one
    /// that others may read is refused unless this is true.
    pub allow_shared_permissions: bool,
    /// 0: no cap. Otherwise writes past this size fail as a full disk would (503), a quota
    /// for a shared box.
    pub max_size_mb: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub token_lifetime_seconds: i64,
    /// Empty: `<public_base_url>/oauth2`, as Open edX derives it.
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Empty: a secret is generated on first start and kept in the database.
    pub jwt_secret: String,
    /// Empty: no `X-Edx-Api-Key` access.
    pub api_key: String,
    pub session_lifetime_seconds: i64,
    /// Mark session cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Each argon2 hash holds `argon2_memory_kib` of memory; this caps how many run at once
    /// (0: one per CPU core).
    pub max_concurrent_password_hashes: usize,
    /// OAuth client ids whose tokens may retire accounts (`POST /api/user/v1/accounts/retire/`)
    /// although the client's user is not staff: Open edX's retirement service user. They
    /// gain nothing else.
    pub retirement_clients: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Failed login attempts per minute for one account from one address (a stranger's
    /// wrong guesses elsewhere cannot lock the owner out).
    pub login_per_minute: u32,
    /// Failed login attempts per minute from one address, whatever the account (a school
    /// behind one NAT shares it). Successful logins never count.
    pub login_address_per_minute: u32,
    /// Token requests per minute per address.
    pub token_per_minute: u32,
    /// Requests per minute per caller on each API surface.
    pub admin_per_minute: u32,
    pub lms_v1_per_minute: u32,
    pub lms_v1_staff_per_minute: u32,
    pub enrollment_v2_per_minute: u32,
    pub appsembler_per_minute: u32,
    pub learning_paths_per_minute: u32,
    pub checkout_per_minute: u32,
    /// django-ratelimit's rate for invalid enrollment codes per caller and minute: once more
    /// than this many failed in the minute, `enroll-user` answers 403.
    pub code_failures_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// "log", "dir" or "smtp".
    pub backend: String,
    pub from: String,
    pub dir: PathBuf,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_username: String,
    pub smtp_password: String,
    /// "starttls", "tls" or "none".
    pub smtp_security: String,
    /// Where learners take their courses (the LMS): course and registration links in
    /// emails point there. Empty: emails carry no such links (Rollcall serves neither page).
    pub lms_base_url: String,
    /// A directory of `<message type>.<part>` files overriding the built-in emails.
    pub templates_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Background threads for bulk tasks and outbox delivery.
    pub workers: usize,
    /// How often the expiry job looks for enrollments past their `access_end` and for
    /// expiry notices due.
    pub expiry_tick_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8000".into(),
            workers: 0,
            max_body_bytes: 1024 * 1024,
            public_base_url: String::new(),
            school_name: "Rollcall School".into(),
            idle_timeout_seconds: 30,
            body_timeout_seconds: 30,
            header_timeout_seconds: 10,
            send_timeout_seconds: 30,
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
            metrics_public: false,
            log_format: "text".into(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            path: PathBuf::from("rollcall.db"),
            synchronous: "full".into(),
            busy_timeout_ms: 5000,
            checkpoints: "rollcall".into(),
            allow_shared_permissions: false,
            max_size_mb: 0,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_lifetime_seconds: 3600,
            jwt_issuer: String::new(),
            jwt_audience: "rollcall".into(),
            jwt_secret: String::new(),
            api_key: String::new(),
            session_lifetime_seconds: 14 * 24 * 3600,
            secure_cookies: false,
            // argon2's own default: OWASP's minimum for argon2id.
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_concurrent_password_hashes: 0,
            retirement_clients: Vec::new(),
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            login_per_minute: 10,
            token_per_minute: 60,
            admin_per_minute: 600,
            // Open edX's EnrollmentUserThrottle: user 40/minute, staff 120/minute.
            lms_v1_per_minute: 40,
            lms_v1_staff_per_minute: 120,
            enrollment_v2_per_minute: 600,
            appsembler_per_minute: 600,
            learning_paths_per_minute: 600,
            checkout_per_minute: 10,
            login_address_per_minute: 100,
            code_failures_per_minute: 6,
        }
    }
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            backend: "log".into(),
            from: "no-reply@rollcall.invalid".into(),
            dir: PathBuf::from("outbox"),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_security: "starttls".into(),
            lms_base_url: String::new(),
            templates_dir: String::new(),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig { workers: 2, expiry_tick_seconds: 60 }
    }
}

const SECTIONS: [&str; 10] =
    ["server", "database", "auth", "rate_limits", "email", "jobs", "checkout", "webhooks", "scim", "idempotency"];

impl Config {
    /// Defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, String> {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("ROLLCALL_")).collect();
        Config::load_from(file, &env)
    }

    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Config, String> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                text.parse::<toml::Table>().map_err(|e| format!("config file {}: {e}", path.display()))?
            }
            None => toml::Table::new(),
        };
        let defaults = toml::Table::try_from(Config::default()).map_err(|e| e.to_string())?;
        for (name, raw) in env {
            let (section, key) = split_env_name(name)?;
            let expected = defaults
                .get(section)
                .and_then(|s| s.get(&key))
                .ok_or_else(|| format!("unknown setting {name} (no key '{key}' in [{section}])"))?;
            let value = env_value(expected, raw).ok_or_else(|| format!("bad value for {name}: '{raw}'"))?;
            let section_table = table
                .entry(section.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| format!("[{section}] in the config file must be a table"))?;
            section_table.insert(key, value);
        }
        check_keys_and_types(&table, &defaults)?;
        let config: Config = table.try_into().map_err(|e: toml::de::Error| format!("config: {}", e.message()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let bad = |key: &str, why: &str| Err(format!("config: {key}: {why}"));
        if !matches!(self.database.synchronous.as_str(), "full" | "normal" | "extra") {
            return bad("database.synchronous", "must be \"full\", \"normal\" or \"extra\"");
        }
        if !matches!(self.database.checkpoints.as_str(), "rollcall" | "external") {
            return bad("database.checkpoints", "must be \"rollcall\" or \"external\" (Litestream checkpoints)");
        }
        if self.server.workers > 1024 {
            return bad("server.workers", "must be between 0 (automatic) and 1024");
        }
        if self.jobs.workers == 0 || self.jobs.workers > 64 {
            return bad("jobs.workers", "must be between 1 and 64");
        }
        if self.jobs.expiry_tick_seconds == 0 || self.jobs.expiry_tick_seconds > 86_400 {
            return bad("jobs.expiry_tick_seconds", "must be between 1 and 86400");
        }
        if !matches!(self.server.log_format.as_str(), "text" | "json") {
            return bad("server.log_format", "must be \"text\" or \"json\"");
        }
        for proxy in &self.server.trusted_proxies {
            if crate::domain::AddressBlock::parse(proxy).is_none() {
                return bad("server.trusted_proxies", &format!("'{proxy}' is not an address or a CIDR block"));
            }
        }
        for origin in &self.server.cors_allowed_origins {
            let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")).unwrap_or("");
            if host.is_empty() || host.contains(['/', ' ', '*']) {
                return bad(
                    "server.cors_allowed_origins",
                    &format!("'{origin}' is not an origin (scheme://host[:port], no path, no wildcard)"),
                );
            }
        }
        if let Err(why) = self.checkout.coupon_table() {
            return bad("checkout.coupons", &why);
        }
        let s = &self.server;
        for (name, value) in [
            ("server.idle_timeout_seconds", s.idle_timeout_seconds),
            ("server.body_timeout_seconds", s.body_timeout_seconds),
            ("server.header_timeout_seconds", s.header_timeout_seconds),
            ("server.send_timeout_seconds", s.send_timeout_seconds),
        ] {
            if !(1..=3600).contains(&value) {
                return bad(name, "must be between 1 and 3600");
            }
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes", "must be at least 1024");
        }
        if self.auth.token_lifetime_seconds <= 0 || self.auth.session_lifetime_seconds <= 0 {
            return bad("auth.token_lifetime_seconds", "lifetimes must be positive");
        }
        if self.auth.argon2_parallelism == 0
            || self.auth.argon2_iterations == 0
            || self.auth.argon2_memory_kib < 8 * self.auth.argon2_parallelism
        {
            return bad("auth.argon2_memory_kib", "argon2 needs iterations ≥ 1 and memory ≥ 8 KiB per lane");
        }
        if !matches!(self.email.backend.as_str(), "log" | "dir" | "smtp") {
            return bad("email.backend", "must be \"log\", \"dir\" or \"smtp\"");
        }
        if !matches!(self.email.smtp_security.as_str(), "starttls" | "tls" | "none") {
            return bad("email.smtp_security", "must be \"starttls\", \"tls\" or \"none\"");
        }
        if self.email.backend == "smtp" && self.email.smtp_host.is_empty() {
            return bad("email.smtp_host", "required when email.backend = \"smtp\"");
        }
        if !(self.idempotency.retention_hours > 0.0 && self.idempotency.retention_hours <= 24.0 * 365.0) {
            return bad("idempotency.retention_hours", "must be more than 0 and at most a year (8760)");
        }
        let url = &self.server.public_base_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return bad("server.public_base_url", "must start with http:// or https://");
        }
        Ok(())
    }

    /// `server.workers`, with 0 resolved to sixteen per CPU core, at least 32: a write waits
    /// on the group commit without using a core, waiting writes share one fsync, and a
    /// batch held open for an idempotent request's answer holds fewer of them back.
    pub fn worker_threads(&self) -> usize {
        match self.server.workers {
            0 => std::thread::available_parallelism().map_or(32, |n| (16 * n.get()).max(32)),
            n => n,
        }
    }

    /// The base URL clients use; derived from the listen address when not configured.
    pub fn public_base_url(&self, bound: &str) -> String {
        if self.server.public_base_url.is_empty() {
            format!("http://{bound}")
        } else {
            self.server.public_base_url.trim_end_matches('/').to_owned()
        }
    }
}

/// Names the first unknown section or key, or the first value of the wrong type, by its
/// dotted name (serde's own message does not say which key it was).
fn check_keys_and_types(table: &toml::Table, defaults: &toml::Table) -> Result<(), String> {
    for (section, values) in table {
        let known = defaults
            .get(section)
            .and_then(toml::Value::as_table)
            .ok_or_else(|| format!("config: unknown section [{section}]"))?;
        let values = values.as_table().ok_or_else(|| format!("config: [{section}] must be a table"))?;
        for (key, value) in values {
            let expected = known.get(key).ok_or_else(|| format!("config: unknown setting {section}.{key}"))?;
            let integer_for_float = matches!((expected, value), (toml::Value::Float(_), toml::Value::Integer(_)));
            if expected.type_str() != value.type_str() && !integer_for_float {
                return Err(format!("config: {section}.{key} must be a {}, not {value}", expected.type_str()));
            }
        }
    }
    Ok(())
}

/// `ROLLCALL_RATE_LIMITS_ENABLED` → ("rate_limits", "enabled"): sections may hold underscores,
/// so match the known section names rather than splitting at the first one.
fn split_env_name(name: &str) -> Result<(&'static str, String), String> {
    let rest = name.trim_start_matches("ROLLCALL_").to_ascii_lowercase();
    SECTIONS
        .iter()
        .find_map(|section| {
            rest.strip_prefix(section)
                .and_then(|r| r.strip_prefix('_'))
                .filter(|key| !key.is_empty())
                .map(|key| (*section, key.to_owned()))
        })
        .ok_or_else(|| {
            format!("unknown setting {name} (expected ROLLCALL_<SECTION>_<KEY>, sections: {})", SECTIONS.join(", "))
        })
}

/// An environment string typed like the default it replaces.
fn env_value(expected: &toml::Value, raw: &str) -> Option<toml::Value> {
    Some(match expected {
        toml::Value::String(_) => toml::Value::String(raw.to_owned()),
        toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().ok()?),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return None,
        }),
        toml::Value::Float(_) => toml::Value::Float(raw.trim().parse().ok()?),
        // A list from the environment: comma-separated.
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::Config;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn environment_overrides_typed_settings() {
        let c = Config::load_from(
            None,
            &env(&[
                ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
                ("ROLLCALL_SERVER_WORKERS", "4"),
                ("ROLLCALL_AUTH_API_KEY", "123"),
            ]),
        )
        .unwrap();
        assert!(!c.rate_limits.enabled);
        assert_eq!(c.server.workers, 4);
        assert_eq!(c.auth.api_key, "123");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = Config::load_from(None, &env(&[("ROLLCALL_SERVER_NOPE", "1")])).unwrap_err();
        assert!(e.contains("ROLLCALL_SERVER_NOPE"), "{e}");
        let e = Config::load_from(None, &env(&[("ROLLCALL_SERVER_WORKERS", "many")])).unwrap_err();
        assert!(e.contains("ROLLCALL_SERVER_WORKERS"), "{e}");
        let e = Config::load_from(None, &env(&[("ROLLCALL_DATABASE_SYNCHRONOUS", "off")])).unwrap_err();
        assert!(e.contains("database.synchronous"), "{e}");
        let e = Config::load_from(None, &env(&[("ROLLCALL_DATABASE_CHECKPOINTS", "litestream")])).unwrap_err();
        assert!(e.contains("database.checkpoints"), "{e}");
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let c = Config::load_from(Some(&path), &[]).unwrap();
        let d = Config::default();
        assert_eq!(toml::to_string(&c).unwrap(), toml::to_string(&d).unwrap());
    }
}
