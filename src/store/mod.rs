//! All SQL lives here, one file per aggregate. `db` opens connections (one per thread) and
//! runs transactions; the other files are plain functions over a `Connection`.

pub mod checkout;
pub mod clients;
pub mod codes;
pub mod courses;
pub mod db;
pub mod enrollments;
pub mod idempotency;
pub mod learning_paths;
pub mod maintenance;
pub mod outbox;
pub mod privacy;
pub mod progress;
pub mod scim;
pub mod sessions;
pub mod settings;
pub mod tasks;
pub mod users;
pub mod webhooks;

pub use db::{Conn, Db};
