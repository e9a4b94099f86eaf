//! The rules, shared by every API surface: no HTTP, no SQL strings (those live in `store`). A
//! surface parses into `domain` types, calls one function here and renders the read model it returns.

pub mod accounts;
pub mod bulk;
pub mod catalog;
pub mod checkout;
pub mod codes;
pub mod course_definition;
pub mod emails;
pub mod enrollment;
pub mod env;
pub mod fields;
pub mod idempotency;
pub mod import;
pub mod learning_paths;
pub mod lifecycle;
pub mod outbox;
pub mod privacy;
pub mod progress;
pub mod rate_limit;
pub mod roster;
pub mod scim;
pub mod scim_groups;
pub mod scim_tokens;
pub mod sessions;
pub mod stats;
pub mod tokens;
pub mod webhooks;

pub use env::Env;

// The error type is the leaf module `crate::error` (store and auth use it too); the core's
// callers name it from here.
pub use crate::error::{Error, ErrorKind};
