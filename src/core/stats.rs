//! What the operator's `/metrics` reads from the database at each scrape.

use crate::core::Error;
use crate::store::{self, Conn};

pub struct Gauges {
    pub tasks: Vec<(String, i64)>,
    pub outbox: Vec<(String, String, i64)>,
    pub db_size_bytes: i64,
}

pub fn gauges(conn: &Conn) -> Result<Gauges, Error> {
    let (tasks, outbox, db_size_bytes) = store::maintenance::gauges(conn)?;
    Ok(Gauges { tasks, outbox, db_size_bytes })
}
