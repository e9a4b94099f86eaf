//! Runs bulk enrollment tasks: claims one, then processes it batch by batch, one
//! transaction per batch, until it is done or cancelled.

use crate::core::bulk;
use crate::domain::Timestamp;
use crate::App;

/// Identifiers per transaction: large enough that commits (fsync) are not the cost, small
/// enough that a cancel or a crash loses little.
const BATCH: i64 = 500;

/// Returns whether there was a task to work on.
pub fn step(app: &App) -> bool {
    // Idle workers only read; the write lock is taken when there is a task to claim.
    if !app.db.read(bulk::any_pending).unwrap_or(false) {
        return false;
    }
    let task = match app.db.write(|conn| bulk::claim_next(conn, Timestamp::now())) {
        Ok(Some(task)) => task,
        Ok(None) => return false,
        Err(e) => {
            log::error!("claiming a task: {e}");
            return false;
        }
    };
    log::info!("task {} ({} {} identifiers in {}) started", task.public_id, task.action, task.total, task.course_key);
    loop {
        match app.db.write(|conn| bulk::run_batch(conn, &task, BATCH, Timestamp::now())) {
            Ok(true) => app.jobs.wake(),
            Ok(false) => break,
            Err(e) => {
                log::error!("task {} failed: {e}", task.public_id);
                let _ = app.db.write(|conn| bulk::fail(conn, &task, Timestamp::now()));
                break;
            }
        }
    }
    log::info!("task {} finished", task.public_id);
    true
}
