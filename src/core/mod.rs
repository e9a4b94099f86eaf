//! The rules, shared by every API surface: no HTTP here, and no SQL strings (those live in
//! `store`). Each surface parses its input into `domain` types and calls one function here.

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

/// The records the core hands to the surfaces (read from `store`, returned as they are):
/// surfaces name them from here and never reach into `store` themselves.
pub mod records {
    pub use crate::store::clients::ClientRecord;
    pub use crate::store::courses::{ModeRecord, RoleRecord};
    pub use crate::store::enrollments::{AllowedRecord, EnrollmentRecord};
    pub use crate::store::learning_paths::PathEnrollmentRecord;
    pub use crate::store::outbox::MessageRecord;
    pub use crate::store::privacy::RetirementTask;
    pub use crate::store::scim::ScimTokenRecord;
    pub use crate::store::tasks::TaskRecord;
    pub use crate::store::users::{Profile, UserRecord};
    pub use crate::store::webhooks::EndpointRecord;
    /// A connection inside a read or a write transaction.
    pub use crate::store::Conn;
    /// The database handle (cheap to clone), for work that outlives a request's borrow
    /// (a streamed download).
    pub use crate::store::Db;
}
