//! Integration tests: one binary, one module per API surface (zero2prod's layout). Every
//! test starts the real server on port 0 with a fresh database file.

mod admin;
mod appsembler;
mod architecture;
mod checkout;
mod cli;
mod console;
mod docs;
mod enrollment_v2;
mod examples;
mod helpers;
mod http;
mod idempotency;
mod learning_paths;
mod lifecycle;
mod lms_v1;
mod oauth;
mod privacy;
mod replication;
mod scim;
mod security;
mod security_review;
mod user_v1;
