//! The rules, shared by every API surface: no HTTP here, and no SQL strings (those live in
//! `store`). Each surface parses its input into `domain` types and calls one function here.

pub mod accounts;
pub mod bulk;
pub mod catalog;
pub mod checkout;
pub mod codes;
pub mod emails;
pub mod enrollment;
pub mod errors;
pub mod import;
pub mod learning_paths;
pub mod outbox;
pub mod roster;
pub mod webhooks;

pub use errors::{Error, ErrorKind};
