//! Runs retirement tasks (a learner's queued `deactivate_logout`, a bulk retirement):
//! claims one, retires its accounts batch by batch, one transaction per batch, then
//! empties the WAL so that no old frame keeps a retired person (README "Privacy requests").

use super::Context;
use crate::core::privacy;
use crate::domain::Timestamp;

/// Accounts per transaction: each retirement rewrites a handful of rows.
const BATCH: i64 = 100;

/// Returns whether there was a task to work on.
pub fn step(cx: &dyn Context) -> bool {
    if !cx.db().read(privacy::any_pending_task).unwrap_or(false) {
        return false;
    }
    let task = match cx.db().write(|conn| privacy::claim_next_task(conn, Timestamp::now())) {
        Ok(Some(task)) => task,
        Ok(None) => return false,
        Err(e) => {
            log::error!("claiming a retirement task: {e}");
            return false;
        }
    };
    log::info!("retirement task {} ({} accounts) started", task.public_id, task.total);
    loop {
        match cx.db().write(|conn| privacy::run_batch(conn, &task, BATCH, Timestamp::now())) {
            Ok((retired, more)) => {
                privacy::forget_traces(cx.db(), cx.rate_limits(), &retired);
                if !more {
                    break;
                }
            }
            Err(e) => {
                log::error!("retirement task {} failed: {e}", task.public_id);
                let _ = cx.db().write(|conn| privacy::fail_task(conn, &task, Timestamp::now()));
                break;
            }
        }
    }
    log::info!("retirement task {} finished", task.public_id);
    true
}
