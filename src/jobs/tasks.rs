//! Runs bulk enrollment tasks: claims one, then processes it batch by batch, one
//! transaction per batch, until it is done or cancelled.

use super::Context;
use crate::core::bulk;
use crate::domain::Timestamp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Identifiers per transaction: large enough that commits (fsync) are not the cost, small
/// enough that a cancel or a crash loses little.
const BATCH: i64 = 500;

/// Returns whether there was a task to work on. A batch the database refuses (full,
/// read-only, busy) wrote nothing and is tried again, after a growing pause, until it goes
/// through: its items are not failed for the server's fault. At `stop` the task is left
/// running, and the next start resumes it.
pub fn step(cx: &dyn Context, stop: &AtomicBool) -> bool {
    // Idle workers only read; the write lock is taken when there is a task to claim.
    if !cx.db().read(bulk::any_pending).unwrap_or(false) {
        return false;
    }
    let task = match cx.db().write(|conn| bulk::claim_next(conn, Timestamp::now())) {
        Ok(Some(task)) => task,
        Ok(None) => return false,
        Err(e) => {
            log::error!("claiming a task: {e}");
            return false;
        }
    };
    log::info!("task {} ({} {} identifiers in {}) started", task.public_id, task.action, task.total, task.course_key);
    let mut pause = Duration::from_millis(250);
    loop {
        match cx.db().write(|conn| bulk::run_batch(conn, &task, BATCH, Timestamp::now())) {
            Ok(true) => {
                pause = Duration::from_millis(250);
                cx.signal().wake()
            }
            Ok(false) => break,
            Err(e) if e.kind == crate::core::ErrorKind::Unavailable => {
                log::warn!("task {}: the database refused a batch; retrying in {pause:?}", task.public_id);
                let until = std::time::Instant::now() + pause;
                while std::time::Instant::now() < until {
                    if stop.load(Ordering::SeqCst) {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                pause = (pause * 2).min(Duration::from_secs(30));
            }
            Err(e) => {
                log::error!("task {} failed: {e}", task.public_id);
                let _ = cx.db().write(|conn| bulk::fail(conn, &task, Timestamp::now()));
                break;
            }
        }
    }
    log::info!("task {} finished", task.public_id);
    true
}
