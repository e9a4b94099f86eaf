//! What the operator's readiness probe and `/metrics` read from the database.

use crate::core::Error;
use crate::store::{self, Db};

pub use crate::store::maintenance::Gauges;

pub fn gauges(db: &Db) -> Result<Gauges, Error> {
    db.read(store::maintenance::gauges)
}

/// Whether the database takes writes now: an empty write goes through the group writer
/// (BEGIN IMMEDIATE and COMMIT), as every real write does.
pub fn takes_writes(db: &Db) -> bool {
    db.write(|_| Ok(())).is_ok()
}
