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
                forget(cx, &retired);
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

/// After a committed retirement: the in-memory traces (rate-limit keys) go, and the WAL
/// is emptied unless Litestream owns checkpoints.
pub fn forget(cx: &dyn Context, retired: &[privacy::Retired]) {
    if retired.is_empty() {
        return;
    }
    for person in retired {
        cx.rate_limits().forget_login(&person.old_username);
        cx.rate_limits().forget_login(&person.old_email);
    }
    match cx.db().checkpoint_truncate() {
        Ok(_) => {}
        Err(e) => log::warn!("checkpoint after a retirement: {e}"),
    }
}
