//! The expiry job: every `jobs.expiry_tick_seconds` it applies each course's
//! `expiry_action` to the enrollments whose `access_end` has passed, and writes the
//! `enrollment_expiring` notices that are due. It keeps no state of its own: what is due
//! is read from the enrollments, so a job that was down catches up on its first tick, and
//! each change is its own transaction that checks again that it is still due (a change
//! is never applied twice).

use super::Context;
use crate::core::lifecycle;
use crate::domain::Timestamp;

/// Enrollments looked at per read; a tick goes on until nothing is due.
const BATCH: i64 = 200;

/// One tick: returns how many enrollments it changed or notified.
pub fn tick(cx: &dyn Context) -> usize {
    let mut done = 0;
    loop {
        let now = Timestamp::now();
        let (expiring, notices) = match cx.db().read(|conn| lifecycle::due(conn, now, BATCH)) {
            Ok(due) => due,
            Err(e) => {
                log::error!("expiry job: reading what is due: {e}");
                return done;
            }
        };
        if expiring.is_empty() && notices.is_empty() {
            break;
        }
        let mut progressed = false;
        for (user_id, course_id) in expiring {
            match cx.db().write(|conn| lifecycle::expire(conn, user_id, course_id, now)) {
                Ok(changed) => {
                    progressed |= changed;
                    done += usize::from(changed);
                }
                Err(e) => log::error!("expiry job: enrollment of user {user_id} in course {course_id}: {e}"),
            }
        }
        for enrollment_id in notices {
            match cx.db().write(|conn| lifecycle::send_expiry_notice(conn, enrollment_id, now)) {
                Ok(sent) => {
                    progressed |= sent;
                    done += usize::from(sent);
                }
                Err(e) => log::error!("expiry job: notice for enrollment {enrollment_id}: {e}"),
            }
        }
        if done > 0 {
            cx.signal().wake();
        }
        if !progressed {
            break;
        }
    }
    done
}
