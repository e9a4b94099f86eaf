//! Roster changes for many learners at once: a task with one item per identifier,
//! processed in batches (one transaction per batch) by the background workers. An item's
//! result is written in the same transaction as its enrollment change, so a crash loses
//! no work and repeats none.

use crate::core::catalog::{self, Course};
use crate::core::enrollment::{self, Access, Change, EnrollOptions, Outcome, Source, State};
use crate::core::lifecycle::AccessDates;
use crate::core::roster::managed_course;
use crate::core::{Env, Error};
use crate::domain::Principal;
use crate::domain::{CourseKey, Timestamp};
use crate::store::tasks::{NewTask, TaskRecord};
use crate::store::{self, Conn, Db};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enroll,
    Unenroll,
    /// Record each row's progress report (a progress CSV).
    Progress,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enroll => "enroll",
            Action::Unenroll => "unenroll",
            Action::Progress => "progress",
        }
    }

    fn parse(raw: &str) -> Result<Action, Error> {
        match raw {
            "enroll" => Ok(Action::Enroll),
            "unenroll" => Ok(Action::Unenroll),
            "progress" => Ok(Action::Progress),
            other => Err(Error::internal(format!("unknown task action {other}"))),
        }
    }
}

/// What a roster change asks for besides the identifiers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RosterOptions {
    pub mode: Option<String>,
    pub auto_enroll: bool,
    pub email_students: bool,
    pub reason: Option<String>,
    /// Access dates (unix seconds) for the learners enrolled; none: the course's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_end: Option<i64>,
}

/// Who asks, through which surface, and how the audit trail files it.
#[derive(Debug, Clone)]
pub struct Requester {
    pub actor: String,
    pub surface: &'static str,
    pub source: Source,
}

impl Requester {
    /// A staff member's (or the API key's) roster change through `surface`.
    pub fn of(caller: &Principal, surface: &'static str) -> Requester {
        let actor = caller.user().map(|u| u.username.clone()).unwrap_or_else(|| "api-key".into());
        Requester { actor, surface, source: Source::Api }
    }

    /// The change a staff member's waitlist or enrollment edit records (no email, no reason).
    pub fn change(&self) -> Change<'_> {
        Change { actor: &self.actor, surface: self.surface, source: self.source, reason: None, notify: false }
    }
}

/// A staff roster change asked synchronously: the action, the identifiers, the options.
pub struct RosterChange {
    pub action: Action,
    pub identifiers: Vec<String>,
    pub options: RosterOptions,
}

/// A synchronous staff roster change (the v2 API's one learner, the instructor dashboard's
/// list): the course, the caller's right to manage it and every change run in one write,
/// so the check cannot race the change. A refusal for one identifier (full, not a valid
/// email…) is that identifier's result and undoes only its own writes; a fault fails the
/// whole call. `request` is the surface's parse: its error comes after the course's 404
/// and 403, as these APIs always answered.
pub fn apply_as_manager(
    env: &Env,
    key: &CourseKey,
    caller: &Principal,
    surface: &'static str,
    request: Result<RosterChange, Error>,
    now: Timestamp,
) -> Result<Vec<Result<Outcome, Error>>, Error> {
    env.write_for_workers(|conn| {
        let course = managed_course(conn, key, caller)?;
        let change = request?;
        let requester = Requester::of(caller, surface);
        let mut results = Vec::with_capacity(change.identifiers.len());
        for identifier in &change.identifiers {
            let result = store::db::savepoint(conn, || {
                apply(conn, &course, change.action, identifier, &change.options, &requester, now)
            })?;
            match result {
                Err(e) if e.is_fault() => return Err(e),
                other => results.push(other),
            }
        }
        Ok(results)
    })
}

/// Enrolls or unenrolls one identifier (a username or an email) as an instructor's
/// roster change. Shared by the synchronous single-learner calls and the task workers.
pub fn apply(
    conn: &Conn,
    course: &Course,
    action: Action,
    identifier: &str,
    options: &RosterOptions,
    requester: &Requester,
    now: Timestamp,
) -> Result<Outcome, Error> {
    let change = Change {
        actor: &requester.actor,
        surface: requester.surface,
        source: requester.source,
        reason: options.reason.as_deref(),
        notify: options.email_students,
    };
    match action {
        Action::Enroll => {
            let at = |t: Option<i64>| t.map(|t| Some(Timestamp::from_unix(t)));
            let wanted = EnrollOptions {
                mode: options.mode.as_deref(),
                auto_enroll: options.auto_enroll,
                access: Access::Instructor,
                dates: AccessDates { start: at(options.access_start), end: at(options.access_end) },
                // Staff roster changes put learners on a full course's waitlist when it has one.
                waitlist: true,
            };
            enrollment::enroll_identifier(conn, identifier, course, wanted, &change, now)
        }
        Action::Unenroll => enrollment::unenroll_identifier(conn, identifier, course, &change, now),
        Action::Progress => Err(Error::internal("a progress row is applied by run_batch")),
    }
}

/// Appsembler's bulk-enroll, in one write: every course is found and the caller's right to
/// manage it checked (in the order given; the per-course check the original leaves to
/// edx's `students_update_enrollment`) before any learner changes; then each identifier in
/// each course, in a savepoint of its own, so a refused learner undoes only their own
/// writes. A fault undoes everything.
#[allow(clippy::too_many_arguments)]
pub fn apply_to_courses(
    env: &Env,
    caller: &Principal,
    keys: &[CourseKey],
    action: Action,
    identifiers: &[String],
    options: &RosterOptions,
    requester: &Requester,
    now: Timestamp,
) -> Result<Vec<Vec<Result<Outcome, Error>>>, Error> {
    env.write_for_workers(|conn| {
        let mut courses = Vec::with_capacity(keys.len());
        for key in keys {
            let course = catalog::course(conn, key)?;
            let allowed = match caller.user() {
                Some(user) => crate::core::roster::may_manage(conn, &course, user.id, caller.is_global_staff())?,
                None => true,
            };
            if !allowed {
                return Err(Error::forbidden("You do not have permission to perform this action."));
            }
            courses.push(course);
        }
        let apply_all = |course: &Course| {
            identifiers
                .iter()
                .map(|identifier| {
                    match store::db::savepoint(conn, || {
                        apply(conn, course, action, identifier, options, requester, now)
                    })? {
                        Err(e) if e.is_fault() => Err(e),
                        outcome => Ok(outcome),
                    }
                })
                .collect::<Result<Vec<_>, Error>>()
        };
        courses.iter().map(apply_all).collect()
    })
}

/// One row of a task: who, and what this row asks beyond the task's options.
#[derive(Debug, Clone)]
pub struct Item {
    pub identifier: String,
    pub own: ItemOptions,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ItemOptions {
    /// The row's mode (a roster CSV's column), else the task's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The row's progress report (a progress CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<StoredReport>,
    /// The row's access dates (a roster CSV's columns), else the task's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_end: Option<i64>,
}

/// A progress report as a task row keeps it (checked when the row was parsed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReport {
    pub completion: f64,
    pub grade: f64,
    pub passed: bool,
    pub completed_at: Option<i64>,
    pub certificate_url: Option<String>,
}

impl StoredReport {
    pub fn of(report: &crate::core::progress::Report) -> StoredReport {
        StoredReport {
            completion: report.completion.value(),
            grade: report.grade.value(),
            passed: report.passed,
            completed_at: report.completed_at.map(|t| t.unix()),
            certificate_url: report.certificate_url.clone(),
        }
    }

    fn report(&self) -> Result<crate::core::progress::Report, Error> {
        let share = |v: f64| crate::domain::Fraction::parse(v).map_err(|e| Error::internal(e.0));
        Ok(crate::core::progress::Report {
            completion: share(self.completion)?,
            grade: share(self.grade)?,
            passed: self.passed,
            completed_at: self.completed_at.map(Timestamp::from_unix),
            certificate_url: self.certificate_url.clone(),
        })
    }
}

impl Item {
    pub fn plain(identifier: String) -> Item {
        Item { identifier, own: ItemOptions::default() }
    }
}

/// A task for `items`.
/// The surfaces that start tasks (a task row stores its surface as text).
const TASK_SURFACES: [&str; 4] = ["enrollment_v2", "admin_csv", "admin_console", "admin_progress_csv"];

pub fn create_task(
    conn: &Conn,
    course: &Course,
    action: Action,
    items: &[Item],
    options: &RosterOptions,
    requester: &Requester,
    now: Timestamp,
) -> Result<TaskRecord, Error> {
    let public_id = uuid_v4();
    let options = serde_json::to_string(options).map_err(Error::internal)?;
    let task = NewTask {
        public_id: &public_id,
        course_id: course.id,
        action: action.as_str(),
        options: &options,
        actor: &requester.actor,
        surface: requester.surface,
    };
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let plain = item.own.mode.is_none()
            && item.own.progress.is_none()
            && item.own.access_start.is_none()
            && item.own.access_end.is_none();
        let own = if plain { None } else { Some(serde_json::to_string(&item.own).map_err(Error::internal)?) };
        rows.push((item.identifier.clone(), own));
    }
    let id = store::tasks::insert(conn, &task, &rows, now.unix())?;
    store::tasks::by_id(conn, id)?.ok_or_else(|| Error::internal("task vanished after insert"))
}

/// A task as the surfaces report it.
#[derive(Debug, Clone)]
pub struct Task {
    pub public_id: String,
    pub course_key: CourseKey,
    /// `Action::as_str`.
    pub action: String,
    /// Who started it, and on which surface (`TASK_SURFACES`).
    pub actor: String,
    pub surface: String,
    pub created: Timestamp,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    /// `pending`, `running`, `succeeded`, `failed` or `cancelled`; then the items: all,
    /// handled, and of those, succeeded and failed.
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub succeeded: i64,
    pub failed: i64,
}

impl From<TaskRecord> for Task {
    fn from(t: TaskRecord) -> Task {
        Task {
            public_id: t.public_id,
            course_key: CourseKey::from_stored(t.course_key),
            action: t.action,
            actor: t.actor,
            surface: t.surface,
            created: Timestamp::from_unix(t.created),
            started: t.started.map(Timestamp::from_unix),
            finished: t.finished.map(Timestamp::from_unix),
            status: t.status,
            total: t.total,
            done: t.done,
            succeeded: t.succeeded,
            failed: t.failed,
        }
    }
}

/// What a task started by staff holds: the action, its rows and the task's options.
pub struct TaskRequest {
    pub action: Action,
    pub items: Vec<Item>,
    pub options: RosterOptions,
}

/// Starts a task on a course the caller manages (the v2 API's several learners, the admin
/// roster and progress CSVs): the check and the task's rows in one write. `request`'s error
/// (the surface's parse of the body) comes after the course's 404 and 403.
pub fn create_task_as_manager(
    env: &Env,
    key: &CourseKey,
    caller: &Principal,
    surface: &'static str,
    request: Result<TaskRequest, Error>,
    now: Timestamp,
) -> Result<(Course, Task), Error> {
    env.write_for_workers(|conn| {
        let course = managed_course(conn, key, caller)?;
        let request = request?;
        let requester = Requester::of(caller, surface);
        let task = create_task(conn, &course, request.action, &request.items, &request.options, &requester, now)?;
        Ok((course, task.into()))
    })
}

/// A random UUID v4 string, as Open edX task ids look.
pub(crate) fn uuid_v4() -> String {
    let mut random = [0u8; 16];
    random.copy_from_slice(&crate::auth::secrets::random_bytes(16));
    crate::domain::Uuid::new_v4(random).as_str().to_owned()
}

/// The stored result of one item: before/after, or the error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemResult {
    pub before: Option<State>,
    pub after: Option<State>,
    pub error: Option<String>,
    pub error_code: Option<String>,
}

/// Processes up to `batch` pending items of `task` (for at most about 100 ms) in this
/// transaction. Returns false
/// when the task has nothing left (finished or cancelled).
pub fn run_batch(conn: &Conn, task: &TaskRecord, batch: i64, now: Timestamp) -> Result<bool, Error> {
    let current = store::tasks::by_id(conn, task.id)?.ok_or_else(|| Error::internal("task vanished"))?;
    if current.status == "cancelled" {
        return Ok(false);
    }
    let items = store::tasks::pending_items(conn, task.id, current.done, batch)?;
    if items.is_empty() {
        store::tasks::set_status(conn, task.id, "succeeded", Some(now.unix()))?;
        return Ok(false);
    }
    let course = catalog::course_by_id(conn, task.course_id)?;
    let action = Action::parse(&task.action)?;
    let options: RosterOptions = serde_json::from_str(&task.options).map_err(Error::internal)?;
    // The history names the surface that started the task (its source says "bulk").
    let surface = TASK_SURFACES.iter().copied().find(|s| *s == task.surface).unwrap_or("bulk");
    let requester = Requester { actor: task.actor.clone(), surface, source: Source::Bulk };
    // Bounded in time as well as in size, so that a batch never holds the write lock long
    // enough to make interactive requests wait (they give up after busy_timeout).
    let started = std::time::Instant::now();
    for (position, identifier, own) in items {
        if started.elapsed() > std::time::Duration::from_millis(100) {
            break;
        }
        let own: ItemOptions = match own {
            Some(json) => serde_json::from_str(&json).map_err(Error::internal)?,
            None => ItemOptions::default(),
        };
        let with_own;
        let options = if own.mode.is_some() || own.access_start.is_some() || own.access_end.is_some() {
            with_own = RosterOptions {
                mode: own.mode.clone().or(options.mode.clone()),
                access_start: own.access_start.or(options.access_start),
                access_end: own.access_end.or(options.access_end),
                ..options.clone()
            };
            &with_own
        } else {
            &options
        };
        // One learner's failure undoes only that learner's writes.
        let result = match store::db::savepoint(conn, || match (&action, &own.progress) {
            (Action::Progress, Some(report)) => {
                let user = crate::core::accounts::user_by_username(conn, &identifier)?;
                crate::core::progress::record(conn, &course, &user, &report.report()?, &requester.actor, surface, now)?;
                let state = enrollment::state(conn, &course, Some(&user), &user.email)?;
                Ok(Outcome { before: state.clone(), after: state, enrollment: None })
            }
            (Action::Progress, None) => Err(Error::internal("a progress row without its report")),
            _ => apply(conn, &course, action, &identifier, options, &requester, now),
        })? {
            Ok(outcome) => {
                ItemResult { before: Some(outcome.before), after: Some(outcome.after), error: None, error_code: None }
            }
            Err(e) => {
                // A fault is the batch's (rolled back, retried or failed by the worker),
                // never an item's recorded result.
                if e.is_fault() {
                    return Err(e);
                }
                ItemResult {
                    before: None,
                    after: None,
                    error: Some(e.developer_message.clone()),
                    error_code: Some(e.code().to_owned()),
                }
            }
        };
        let succeeded = result.error.is_none();
        let json = serde_json::to_string(&result).map_err(Error::internal)?;
        store::tasks::finish_item(conn, task.id, position, succeeded, &json)?;
    }
    Ok(true)
}

pub fn task(conn: &Conn, course: &Course, public_id: &str) -> Result<TaskRecord, Error> {
    store::tasks::by_public_id(conn, public_id)?
        .filter(|t| t.course_id == course.id)
        .ok_or_else(|| Error::not_found(format!("No task {public_id} in {}.", course.key)))
}

/// Cancels a pending or running task; what was done stays done.
pub fn cancel(conn: &Conn, course: &Course, public_id: &str, now: Timestamp) -> Result<TaskRecord, Error> {
    let task = task(conn, course, public_id)?;
    if !matches!(task.status.as_str(), "pending" | "running") {
        return Err(Error::conflict(format!("Task {public_id} is already {}.", task.status)).with_code("TASK_FINISHED"));
    }
    store::tasks::set_status(conn, task.id, "cancelled", Some(now.unix()))?;
    store::tasks::by_id(conn, task.id)?.ok_or_else(|| Error::internal("task vanished"))
}

/// A task of a course the caller manages and one page (from, limit) of its per-identifier
/// results, read in one snapshot so the page agrees with the counts; `page`'s error comes
/// after the course's and the task's.
pub fn managed_task(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    public_id: &str,
    page: Result<(i64, i64), Error>,
) -> Result<(Task, Vec<TaskItem>), Error> {
    db.snapshot(|conn| {
        let course = managed_course(conn, key, caller)?;
        let task = task(conn, &course, public_id)?;
        let (from, limit) = page?;
        let items = task_items(conn, &task, from, limit)?;
        Ok((task.into(), items))
    })
}

/// Cancels a task of a course the caller manages and reads a page of its results, in one
/// write: a bad page asked with the cancel undoes the cancel.
pub fn cancel_managed_task(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    public_id: &str,
    page: Result<(i64, i64), Error>,
    now: Timestamp,
) -> Result<(Task, Vec<TaskItem>), Error> {
    db.write(|conn| {
        let course = managed_course(conn, key, caller)?;
        let task = cancel(conn, &course, public_id, now)?;
        let (from, limit) = page?;
        let items = task_items(conn, &task, from, limit)?;
        Ok((task.into(), items))
    })
}

pub struct TaskItem {
    pub identifier: String,
    pub status: String,
    pub result: Option<ItemResult>,
}

/// One page of a task's items: (position, identifier, status, result).
pub fn task_items(conn: &Conn, task: &TaskRecord, from: i64, limit: i64) -> Result<Vec<TaskItem>, Error> {
    Ok(store::tasks::items(conn, task.id, from, limit)?
        .into_iter()
        .map(|item| TaskItem {
            identifier: item.identifier,
            status: item.status,
            result: item.result.and_then(|r| serde_json::from_str(&r).ok()),
        })
        .collect())
}

/// A course's task and its first `limit` items, for a caller who may manage the course.
pub fn task_with_items(
    db: &Db,
    key: &CourseKey,
    caller: &Principal,
    public_id: &str,
    limit: i64,
) -> Result<(Course, Task, Vec<TaskItem>), Error> {
    db.snapshot(|conn| {
        let course = crate::core::roster::course_managed_by(conn, key, caller)?;
        let task = task(conn, &course, public_id)?;
        let items = task_items(conn, &task, 0, limit)?;
        Ok((course, task.into(), items))
    })
}

pub fn any_pending(conn: &Conn) -> Result<bool, Error> {
    store::tasks::any_pending(conn)
}

/// Claims the next pending task for a worker.
pub fn claim_next(conn: &Conn, now: Timestamp) -> Result<Option<TaskRecord>, Error> {
    store::tasks::claim_next(conn, now.unix())
}

pub fn requeue_interrupted(conn: &Conn) -> Result<usize, Error> {
    store::tasks::requeue_running(conn)
}

/// Marks a task failed after an internal error (done items stay done).
pub fn fail(conn: &Conn, task: &TaskRecord, now: Timestamp) -> Result<(), Error> {
    store::tasks::set_status(conn, task.id, "failed", Some(now.unix()))
}

/// The newest tasks; with `staff_of`, only those of that user's courses.
pub fn recent(conn: &Conn, staff_of: Option<i64>, limit: i64) -> Result<Vec<TaskRecord>, Error> {
    store::tasks::recent(conn, staff_of, limit)
}

/// The newest tasks the caller may see: every course's for global staff (and the API key),
/// else those of the courses they are staff of.
pub fn recent_for(db: &Db, caller: &Principal, limit: i64) -> Result<Vec<Task>, Error> {
    let staff_of = caller.user().filter(|_| !caller.is_global_staff()).map(|user| user.id);
    Ok(db.read(|conn| recent(conn, staff_of, limit))?.into_iter().map(Task::from).collect())
}
