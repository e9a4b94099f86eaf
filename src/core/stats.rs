//! What the operator's readiness probe and `/metrics` read from the database.

use crate::core::Error;
use crate::store::{self, Db};

/// What `/metrics` reads from the database at each scrape.
pub struct Gauges {
    /// (status, count) of background tasks.
    pub tasks: Vec<(String, i64)>,
    /// (channel, status, count) of outbox messages.
    pub outbox: Vec<(String, String, i64)>,
    pub db_size_bytes: i64,
    pub wal_size_bytes: u64,
}

pub fn gauges(db: &Db) -> Result<Gauges, Error> {
    db.read(|conn| {
        let tasks = store::maintenance::task_counts(conn)?;
        let outbox = store::maintenance::outbox_counts(conn)?;
        let (db_size_bytes, wal_size_bytes) = store::maintenance::file_sizes(conn)?;
        Ok(Gauges { tasks, outbox, db_size_bytes, wal_size_bytes })
    })
}

/// Whether the database takes writes now: an empty write goes through the group writer
/// (BEGIN IMMEDIATE and COMMIT), as every real write does.
pub fn takes_writes(db: &Db) -> bool {
    db.write(|_| Ok(())).is_ok()
}
