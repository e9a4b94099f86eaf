//! What the process tells its operator: the log, one line per record on stderr, as text or
//! (with `server.log_format = "json"`) as JSON lines whose access records keep their
//! fields. (The request metrics `/metrics` serves are the HTTP layer's, `api::metrics`.)

use crate::domain::Timestamp;
use std::sync::atomic::{AtomicBool, Ordering};

/// `server.log_format = "json"`, known once the config is read (after the logger starts).
static JSON_LINES: AtomicBool = AtomicBool::new(false);

/// Switches the log to JSON lines (or back to text).
pub fn use_json_lines(json: bool) {
    JSON_LINES.store(json, Ordering::Relaxed);
}

/// Starts the logger: `RUST_LOG` decides what is logged, `info` by default.
pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            use std::io::Write;
            let time = Timestamp::now().to_iso();
            if !JSON_LINES.load(Ordering::Relaxed) {
                return writeln!(buf, "{time} {:<5} {}: {}", record.level(), record.target(), record.args());
            }
            // JSON lines: access lines are already objects (fields, not text).
            let message = record.args().to_string();
            let mut line = match serde_json::from_str::<serde_json::Value>(&message) {
                Ok(serde_json::Value::Object(fields)) if record.target() == "access" => {
                    serde_json::Value::Object(fields)
                }
                _ => serde_json::json!({"message": message}),
            };
            line["time"] = time.into();
            line["level"] = record.level().as_str().into();
            line["target"] = record.target().into();
            writeln!(buf, "{line}")
        })
        .init();
}
