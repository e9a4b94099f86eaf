//! The API surfaces, one file each, named after the URL prefix they serve; `router` maps
//! URLs to them and `http` holds what they share.

pub mod admin;
pub mod admin_v1;
pub mod appsembler;
pub mod body;
pub mod checkout;
pub mod cookies;
pub mod cors;
pub mod courses_v1;
pub mod docs;
pub mod enrollment_v1;
pub mod enrollment_v2;
pub mod errors;
pub mod examples;
pub mod home;
pub mod http;
pub mod idempotency;
pub mod instructor_v2;
pub mod learning_paths;
pub mod metrics;
pub mod oauth;
pub mod router;
pub mod scim;
pub mod surfaces;

pub mod shared;
pub mod system;
pub mod user_v1;
