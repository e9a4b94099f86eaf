//! What the operator's `/metrics` reads from the database at each scrape.

use crate::core::Error;
use crate::store::{self, Conn};

pub use crate::store::maintenance::Gauges;

pub fn gauges(conn: &Conn) -> Result<Gauges, Error> {
    store::maintenance::gauges(conn)
}
