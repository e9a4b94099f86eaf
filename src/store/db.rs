//! Opening the database, applying `schema.sql`, and transactions. Each thread keeps its own
//! connection (no global `Mutex<Connection>`: a panic would poison it for everyone).
//!
//! Every connection is set up to share the file with Litestream, which replicates it from
//! another process (litestream.io/tips; README "Replication and restore"): WAL mode, a busy
//! timeout longer than Litestream's brief write locks, normal (never exclusive) locking, and
//! with `database.checkpoints = "external"` no checkpoint of our own. Rollcall never runs
//! VACUUM: rewriting every page would ship the whole database through the WAL again.

use crate::config::DatabaseConfig;
use crate::error::Error;
use rusqlite::{Connection, OpenFlags};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

pub type Conn = Connection;

pub const SCHEMA_VERSION: i64 = 8;
const SCHEMA: &str = include_str!("../../schema.sql");

/// What a database of an older version needs besides `schema.sql` (whose CREATE … IF NOT
/// EXISTS leaves existing tables as they are): (version it brings, statements). Version 6
/// (SCIM provisioning) only adds tables, which schema.sql creates: it needs no statement.
const MIGRATIONS: [(i64, &str); 13] = [
    (3, "ALTER TABLE oauth_clients ADD COLUMN public INTEGER NOT NULL DEFAULT 0;"),
    (3, "ALTER TABLE users ADD COLUMN credentials_valid_after INTEGER NOT NULL DEFAULT 0;"),
    // Paths created before uuids existed get a random v4 one.
    (
        3,
        "ALTER TABLE learning_paths ADD COLUMN uuid TEXT; \
         UPDATE learning_paths SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || \
         substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || \
         substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) WHERE uuid IS NULL;",
    ),
    // The filtered roster's block counts (schema.sql keeps them from here on).
    (
        4,
        "CREATE TABLE roster_blocks (course_id INTEGER NOT NULL, block INTEGER NOT NULL, \
         active INTEGER NOT NULL DEFAULT 0, inactive INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (course_id, block)) WITHOUT ROWID; \
         INSERT INTO roster_blocks SELECT course_id, course_seq >> 10, SUM(is_active != 0), SUM(is_active = 0) \
         FROM enrollments GROUP BY course_id, course_seq >> 10;",
    ),
    (4, "ALTER TABLE task_items ADD COLUMN options TEXT;"),
    (
        4,
        "ALTER TABLE courses ADD COLUMN enrollment_seq INTEGER NOT NULL DEFAULT 0; \
         UPDATE courses SET enrollment_seq = COALESCE((SELECT MAX(course_seq) FROM enrollments WHERE course_id = courses.id), 0);",
    ),
    // Progress tasks. SQLite cannot alter a CHECK constraint; widening one changes no
    // stored row, so the table's SQL is edited in place (SQLite's ALTER TABLE page, "other
    // kinds of table schema changes"). This connection closes after migrating, so every
    // later one reads the new schema.
    (
        4,
        "PRAGMA writable_schema = ON; \
         UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (action IN (''enroll'', ''unenroll''))', \
         'CHECK (action IN (''enroll'', ''unenroll'', ''progress''))') WHERE type = 'table' AND name = 'tasks'; \
         PRAGMA writable_schema = OFF;",
    ),
    // Look-alike usernames (filled in Rust by `fill_username_keys`: SQL has no NFKC).
    (5, "ALTER TABLE users ADD COLUMN username_key TEXT;"),
    // Webhook ids are never reused (AUTOINCREMENT cannot be added in place: the table is
    // rebuilt), and endpoints get a circuit breaker.
    (
        5,
        "CREATE TABLE webhook_endpoints_v5 (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, \
         secret TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL, \
         consecutive_failures INTEGER NOT NULL DEFAULT 0, paused_until INTEGER NOT NULL DEFAULT 0); \
         INSERT INTO webhook_endpoints_v5 (id, url, secret, active, created) SELECT id, url, secret, active, created FROM webhook_endpoints; \
         DROP TABLE webhook_endpoints; \
         ALTER TABLE webhook_endpoints_v5 RENAME TO webhook_endpoints;",
    ),
    // The enrollment lifecycle: dates and status per enrollment (an inactive row gets the
    // status `inactive`), expiry and waitlist settings per course (schema.sql has the rest).
    (
        7,
        "ALTER TABLE enrollments ADD COLUMN status TEXT NOT NULL DEFAULT 'active' \
         CHECK (status IN ('active', 'suspended', 'expired', 'inactive')); \
         UPDATE enrollments SET status = 'inactive' WHERE is_active = 0; \
         ALTER TABLE enrollments ADD COLUMN access_start INTEGER; \
         ALTER TABLE enrollments ADD COLUMN access_end INTEGER; \
         ALTER TABLE enrollments ADD COLUMN expiry_notified INTEGER;",
    ),
    (
        7,
        "ALTER TABLE courses ADD COLUMN access_days INTEGER; \
         ALTER TABLE courses ADD COLUMN expiry_action TEXT NOT NULL DEFAULT 'keep' \
         CHECK (expiry_action IN ('keep', 'suspend', 'unenroll')); \
         ALTER TABLE courses ADD COLUMN expiry_notice_days INTEGER; \
         ALTER TABLE courses ADD COLUMN waitlist INTEGER NOT NULL DEFAULT 0; \
         ALTER TABLE courses ADD COLUMN waitlist_limit INTEGER; \
         ALTER TABLE courses ADD COLUMN suspended_holds_seat INTEGER NOT NULL DEFAULT 1;",
    ),
    // Stored answers move from a WITHOUT ROWID table keyed by (caller, route, key) to an
    // appended rowid table (schema.sql says why), oldest first so rowids follow `created`.
    // A database from before version 7 has no such table: an empty one of the old shape
    // stands in, so one statement list serves both.
    (
        8,
        "CREATE TABLE IF NOT EXISTS idempotency_keys (caller TEXT, route TEXT, key TEXT, fingerprint TEXT, \
         status INTEGER, headers TEXT, body BLOB, created INTEGER); \
         ALTER TABLE idempotency_keys RENAME TO idempotency_keys_v7; \
         CREATE TABLE idempotency_keys (id INTEGER PRIMARY KEY, caller TEXT NOT NULL, route TEXT NOT NULL, \
         key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL, \
         body BLOB NOT NULL, created INTEGER NOT NULL); \
         INSERT INTO idempotency_keys (caller, route, key, fingerprint, status, headers, body, created) \
         SELECT caller, route, key, fingerprint, status, headers, body, created FROM idempotency_keys_v7 ORDER BY created; \
         DROP TABLE idempotency_keys_v7;",
    ),
    // The outbox's due index gains the message's kind (schema.sql creates the new one).
    (8, "DROP INDEX IF EXISTS outbox_due;"),
];

#[derive(Debug, Clone)]
pub struct Db {
    path: PathBuf,
    synchronous: String,
    busy_timeout_ms: u64,
    /// `database.checkpoints = "external"`: Litestream checkpoints, we never do.
    external_checkpoints: bool,
    /// 0: no cap (`PRAGMA max_page_count` otherwise).
    max_pages: u64,
    writer: Arc<GroupWriter>,
    /// Stops the writer thread when the last handle goes (None: the writer thread's own
    /// handle, which only opens its connection).
    _writer_thread: Option<Arc<WriterThread>>,
}

/// Group commit: every write of this process runs on one connection, owned by one writer
/// thread, inside one open transaction, each in its own savepoint (a failing write rolls
/// back alone). Writers queue their closures; the writer thread runs them back to back in
/// arrival order and commits when the queue is empty (or the batch is full), so a batch
/// costs one fsync however many writes it holds, and no write waits for another thread to
/// be scheduled before it can run (the hand-off a shared mutex costs each write). Every
/// writer returns only after the commit that made its work durable, and all of a batch
/// learn if that commit failed.
#[derive(Debug)]
struct GroupWriter {
    state: Mutex<Batch>,
    /// Wakes the writer thread: a write queued, an answer handed in, a hold let go, stop.
    work: Condvar,
    /// Wakes writers waiting for a batch's commit.
    done: Condvar,
}

#[derive(Debug)]
struct Batch {
    queue: Queue,
    next_ticket: u64,
    /// Every queued write up to this ticket has run.
    ran: u64,
    in_transaction: bool,
    /// Writes in the open transaction.
    size: usize,
    /// The open (or next) batch's number, and the last one committed or failed.
    current: u64,
    finished: u64,
    /// How the open batch ends, shared with each of its writers: every one of them reads
    /// its own batch's outcome, however many batches have ended since.
    outcome: Outcome,
    /// Requests whose writes are in the open transaction and whose answer is still to be
    /// written beside them (`AnswerScope`): the batch may not commit before they have.
    held: usize,
    /// Answers handed in (`AnswerScope::commit_with`), written just before the batch's COMMIT.
    answers: Answers,
    stop: bool,
}

/// A queued write: its closure runs on the writer thread's connection (Err: the write
/// could not join a transaction) with the batch's number, and says whether it succeeded.
struct Job {
    ticket: u64,
    /// The writer's thread, woken alone when its write has run (waking every waiting
    /// writer for each write cost a wake-up per waiter per write).
    waiter: std::thread::Thread,
    /// The first write of an answer scope: on success it holds the batch open.
    holds: bool,
    run: JobFn,
}

type JobFn = Box<dyn FnOnce(Result<&Connection, Error>, BatchRef) -> bool + Send>;

/// Why a batch's commit failed, set once when it ends (unset: it committed).
type Outcome = Arc<std::sync::OnceLock<String>>;

/// A batch as its writers know it: its number, and how it ended once it has.
struct BatchRef {
    number: u64,
    outcome: Outcome,
}

#[derive(Default)]
struct Queue(std::collections::VecDeque<Job>);

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} queued write(s)", self.0.len())
    }
}

#[derive(Default)]
struct Answers(Vec<AnswerWrite>);

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} answer(s)", self.0.len())
    }
}

/// An answer's write, run on the writer thread's connection.
pub type AnswerWrite = Box<dyn FnOnce(&Connection) -> Result<(), Error> + Send>;

/// A batch commits at this many writes even while more wait, bounding latency.
const MAX_BATCH: usize = 256;

impl GroupWriter {
    fn new() -> GroupWriter {
        let batch = Batch {
            queue: Queue::default(),
            next_ticket: 1,
            ran: 0,
            in_transaction: false,
            size: 0,
            current: 1,
            finished: 0,
            outcome: Outcome::default(),
            held: 0,
            answers: Answers::default(),
            stop: false,
        };
        GroupWriter { state: Mutex::new(batch), work: Condvar::new(), done: Condvar::new() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Batch> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer thread, stopped and joined when the last `Db` handle is dropped (so its
/// connection closes, as SQLite expects of the last one, before `Db`'s owner goes on).
#[derive(Debug)]
struct WriterThread {
    writer: Arc<GroupWriter>,
    handle: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        self.writer.state().stop = true;
        self.writer.work.notify_all();
        if let Some(handle) = self.handle.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = handle.join();
        }
    }
}

/// The writer thread's loop: runs queued writes in the open transaction, and commits when
/// nothing is queued (or the batch is full) and no answer is outstanding.
fn run_writer(db: Db) {
    ON_WRITER_THREAD.with(|w| w.set(db.writer_id()));
    let writer = db.writer.clone();
    let mut conn: Option<Connection> = None;
    let mut state = writer.state();
    loop {
        let full = state.size >= MAX_BATCH;
        if state.in_transaction && state.held == 0 && (state.queue.0.is_empty() || full) {
            let answers = std::mem::take(&mut state.answers.0);
            let batch = state.current;
            let outcome = std::mem::take(&mut state.outcome);
            drop(state);
            let result = match conn.as_ref() {
                Some(c) => commit(c, answers),
                None => Err("no write connection".to_owned()),
            };
            if let Err(why) = result {
                let _ = outcome.set(why);
                // A connection that even ROLLBACK could not bring out of its transaction
                // would refuse every later BEGIN: the next write opens a new one.
                if conn.as_ref().is_some_and(|c| !c.is_autocommit()) {
                    conn = None;
                }
            }
            state = writer.state();
            state.in_transaction = false;
            state.size = 0;
            state.finished = batch;
            state.current = batch + 1;
            writer.done.notify_all();
            continue;
        }
        if let Some(job) = state.queue.0.pop_front() {
            let begin = !state.in_transaction;
            let batch = BatchRef { number: state.current, outcome: state.outcome.clone() };
            drop(state);
            let ready = ready_connection(&db, &mut conn, begin);
            let joined = ready.is_ok();
            let succeeded = match (ready, conn.as_ref()) {
                (Ok(()), Some(c)) => (job.run)(Ok(c), batch),
                (Err(e), _) => (job.run)(Err(e), batch),
                (Ok(()), None) => (job.run)(Err(Error::internal("no write connection")), batch),
            };
            state = writer.state();
            if joined {
                state.in_transaction = true;
                state.size += 1;
            }
            if job.holds && succeeded {
                state.held += 1;
            }
            state.ran = job.ticket;
            job.waiter.unpark();
            continue;
        }
        if state.stop {
            return;
        }
        state = writer.work.wait(state).unwrap_or_else(PoisonError::into_inner);
    }
}

/// The writer's connection, opened if needed, inside the group's transaction (`BEGIN
/// IMMEDIATE` when `begin`, so check-then-insert holds under concurrency).
fn ready_connection(db: &Db, conn: &mut Option<Connection>, begin: bool) -> Result<(), Error> {
    if conn.is_none() {
        *conn = Some(db.connect()?);
    }
    let c = conn.as_ref().expect("connected above");
    if begin {
        c.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    } else if c.is_autocommit() {
        // SQLite rolled the batch back by itself (a full disk, an I/O error): its commit
        // will fail and tell every writer in it; this one must not run outside it.
        return Err(Error::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("the batch was rolled back".into()),
        )));
    }
    Ok(())
}

thread_local! {
    // Keyed by path so that one process can serve several databases (tests, `init`).
    static CONNECTIONS: RefCell<Vec<(PathBuf, Connection)>> = const { RefCell::new(Vec::new()) };
    /// The answer scope open on this thread (`Db::answer_scope`): which writer it is for,
    /// and whether a write of it now holds that writer's batch open.
    static ANSWER_SCOPE: std::cell::Cell<Option<(usize, bool)>> = const { std::cell::Cell::new(None) };
    /// On a writer thread, which writer's (0: none): a write from inside one of its writes
    /// would wait for itself.
    static ON_WRITER_THREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A request whose answer must be committed in the same transaction as its writes (an
/// idempotency key: a crash between the commit and the answer must leave the answer to
/// replay, never a write without one). While it is open on a thread, the first write of
/// that thread that succeeds keeps the group's batch from committing; `commit_with` then
/// writes the answer in the same batch and lets it commit. Reads see committed data only,
/// so a handler answers from what its write returned (every handler does), not from a read
/// after it. Dropped without `commit_with` (a panic), the hold is released and the writes commit
/// alone.
#[must_use]
pub struct AnswerScope<'a> {
    db: &'a Db,
    /// Not `Send`: its hold is kept in this thread's `ANSWER_SCOPE`.
    _this_thread: std::marker::PhantomData<*const ()>,
}

impl Db {
    /// Opens (creating if needed, owner-only) the database and brings its schema up to date.
    pub fn open(config: &DatabaseConfig) -> Result<Db, Error> {
        disable_memory_statistics();
        let path = config.path.as_path();
        guard_permissions(path, config.allow_shared_permissions)?;
        let db = Db {
            path: path.to_owned(),
            synchronous: config.synchronous.clone(),
            busy_timeout_ms: config.busy_timeout_ms,
            external_checkpoints: config.checkpoints == "external",
            // SQLite's default page size is 4 KiB.
            max_pages: config.max_size_mb * 256,
            writer: Arc::new(GroupWriter::new()),
            _writer_thread: None,
        };
        let conn = db.connect()?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(Error::validation(format!(
                "the database {} has schema version {found}, written by a newer Rollcall; this build knows up to version {SCHEMA_VERSION}. Upgrade Rollcall or use another database.",
                path.display()
            )));
        }
        // A database that has tables (version ≥ 1) gets the migrations past its version
        // first, so that schema.sql's indexes find the columns they name.
        let migrations: String =
            MIGRATIONS.iter().filter(|(version, _)| found >= 1 && *version > found).map(|(_, sql)| *sql).collect();
        // Writing the version when it is already current would dirty the header page and
        // make every start commit (and checkpoint whatever a bulk load left in the WAL).
        let set_version =
            if found == SCHEMA_VERSION { String::new() } else { format!("PRAGMA user_version = {SCHEMA_VERSION};") };
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {migrations} {SCHEMA}; {set_version} COMMIT;"))
            .map_err(|e| Error::internal(format!("applying schema.sql to {}: {e}", path.display())))?;
        if (1..5).contains(&found) {
            super::users::fill_username_keys(&conn)?;
        }
        Ok(db.with_writer_thread())
    }

    /// Starts the thread that runs every write (`GroupWriter`).
    fn with_writer_thread(self) -> Db {
        let handle = self.clone();
        let thread = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || run_writer(handle))
            .expect("the writer thread starts");
        let stopper = WriterThread { writer: self.writer.clone(), handle: Mutex::new(Some(thread)) };
        Db { _writer_thread: Some(Arc::new(stopper)), ..self }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> Result<Connection, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| Error::internal(format!("opening database {}: {e}", self.path.display())))?;
        // Litestream takes the write lock for a moment at each of its checkpoints; a writer
        // meeting it waits this long instead of failing (Litestream asks for 5 s).
        conn.busy_timeout(std::time::Duration::from_millis(self.busy_timeout_ms))?;
        // WAL: readers never block the writer, and it is the log Litestream ships. The
        // locking mode stays NORMAL: EXCLUSIVE would shut Litestream (and `rollcall backup`)
        // out of the file.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::internal(format!("database {} refused WAL mode ({mode})", self.path.display())));
        }
        if self.external_checkpoints {
            // Litestream copies WAL pages out before it checkpoints them into the database
            // file. Our own checkpoints (SQLite's automatic one after 1,000 pages, and the
            // one when the last connection closes) can race it under a steady write load
            // and make it miss a WAL segment; it then starts a new generation with a full
            // snapshot (litestream.io/tips, "Disable autocheckpoints"). So none are run.
            conn.query_row("PRAGMA wal_autocheckpoint = 0", [], |_| Ok(()))?;
            conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        }
        // secure_delete: whatever a write removes or replaces (a retired learner's name, an
        // outbox row, an old profile value) is overwritten with zeros in its page, so it is
        // gone from the file's bytes, not only from query results (README "Privacy
        // requests"). Rollcall deletes little; the cost is zeroing the freed space.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA synchronous = {}; PRAGMA temp_store = MEMORY;",
            self.synchronous
        ))?;
        if self.max_pages > 0 {
            conn.query_row(&format!("PRAGMA max_page_count = {}", self.max_pages), [], |_| Ok(()))?;
        }
        // The query planner's stability guarantee: a cached statement keeps its plan whatever
        // is bound to it. Without it, SQLite 3.54 marks statements for re-preparing on the
        // next bind when a plan *might* depend on a value: every `LIMIT ?n`, and every
        // `column = ?n` whose old value was 0 or 1 (a flag, or the first row's id). The
        // profile of enroll-v2 showed `course_modes WHERE course_id = ?1 ORDER BY id` (the
        // bench's course has id 1) compiled anew on every request (BENCHMARKS.md). Our
        // plans never depend on values (no ANALYZE statistics, no LIKE prefixes).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(conn)
    }

    /// Runs `f` on this thread's connection. The connection is taken out while in use, so
    /// a nested call opens a second one instead of failing, and a panic inside `f` drops it
    /// (rolling back anything open) rather than leaving it half-used.
    fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let taken = CONNECTIONS.with(|c| {
            let mut list = c.borrow_mut();
            list.iter().position(|(p, _)| p == &self.path).map(|i| list.swap_remove(i).1)
        });
        let conn = match taken {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = f(&conn);
        if conn.is_autocommit() {
            CONNECTIONS.with(|c| c.borrow_mut().push((self.path.clone(), conn)));
        }
        result
    }

    /// Reads outside a transaction (each statement sees a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.with_connection(f)
    }

    /// Several reads that must agree with each other (a list and its count).
    pub fn snapshot<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        self.with_connection(|conn| {
            let tx = conn.unchecked_transaction()?;
            let result = f(&tx);
            drop(tx);
            result
        })
    }

    /// One write, all or nothing and durable when this returns Ok: run on the writer
    /// thread in its own savepoint inside the group's transaction (`BEGIN IMMEDIATE`, so
    /// check-then-insert holds under concurrency), committed with the writes queued beside it.
    pub fn write<T: Send>(&self, f: impl FnOnce(&Connection) -> Result<T, Error> + Send) -> Result<T, Error> {
        // A write inside a write would wait for itself forever; fail loudly instead.
        let id = self.writer_id();
        assert!(
            ON_WRITER_THREAD.with(|w| w.get()) != id,
            "nested write transaction: pass the open connection down instead"
        );
        let (first_of_scope, joins_held) = match ANSWER_SCOPE.with(|s| s.get()) {
            Some((scope, false)) if scope == id => (true, false),
            Some((scope, true)) if scope == id => (false, true),
            _ => (false, false),
        };
        // Filled by the writer thread: the batch, whether the write joined it, and what `f`
        // returned (or its panic, resumed here).
        let mut slot: Option<(BatchRef, bool, std::thread::Result<Result<T, Error>>)> = None;
        let run = |conn: Result<&Connection, Error>, batch: BatchRef| -> bool {
            let (joined, outcome) = match conn {
                Ok(conn) => (true, std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| in_savepoint(conn, f)))),
                Err(e) => (false, Ok(Err(e))),
            };
            let succeeded = matches!(outcome, Ok(Ok(_)));
            slot = Some((batch, joined, outcome));
            succeeded
        };
        let run: Box<dyn FnOnce(Result<&Connection, Error>, BatchRef) -> bool + Send + '_> = Box::new(run);
        // SAFETY: the closure borrows this frame (`f`'s captures and `slot`). This thread
        // waits below until the writer thread has run it (`ran` reaches its ticket, under
        // the mutex, which orders the writes to `slot` before our read), and the writer
        // thread runs every queued job before it stops (it stops only when the last `Db`
        // handle is dropped, and `self` is one): the borrow ends before this frame does.
        let run: JobFn = unsafe { std::mem::transmute(run) };
        let writer = &self.writer;
        let mut state = writer.state();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.0.push_back(Job { ticket, waiter: std::thread::current(), run, holds: first_of_scope });
        writer.work.notify_one();
        while state.ran < ticket {
            drop(state);
            // Unparked by the writer thread once this write has run (or spuriously).
            std::thread::park();
            state = writer.state();
        }
        let (batch, joined, outcome) = slot.take().expect("the writer thread ran the write");
        let succeeded = matches!(outcome, Ok(Ok(_)));
        if first_of_scope && succeeded {
            // It holds the batch open (the writer counted it); the scope's answer lets go.
            ANSWER_SCOPE.with(|s| s.set(Some((id, true))));
        }
        if (first_of_scope && succeeded) || joins_held || !joined {
            // A held batch cannot commit before this request's answer; a write that never
            // joined a transaction has nothing to wait for.
            drop(state);
            return outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        let failure = wait_for_commit(writer, state, &batch);
        let outcome = outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match failure {
            Some(why) if outcome.is_ok() => Err(batch_failed(why)),
            _ => outcome,
        }
    }

    /// Opens an answer scope on this thread (see `AnswerScope`).
    pub fn answer_scope(&self) -> AnswerScope<'_> {
        ANSWER_SCOPE.with(|s| s.set(Some((self.writer_id(), false))));
        AnswerScope { db: self, _this_thread: std::marker::PhantomData }
    }

    fn writer_id(&self) -> usize {
        Arc::as_ptr(&self.writer) as usize
    }

    /// Copies every committed page into the database file and empties the WAL
    /// (`wal_checkpoint(TRUNCATE)`), so that no old frame keeps what a retirement removed.
    /// Returns false, doing nothing, under `database.checkpoints = "external"`: Litestream
    /// owns checkpoints there, and the WAL (and the replica) keep the old frames until it
    /// checkpoints. Also false when readers or a writer kept the checkpoint from finishing.
    pub fn checkpoint_truncate(&self) -> Result<bool, Error> {
        if self.external_checkpoints {
            return Ok(false);
        }
        self.read(|conn| {
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            Ok(busy == 0)
        })
    }

    pub fn is_reachable(&self) -> bool {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)).is_ok()
    }
}

impl AnswerScope<'_> {
    /// Whether a write of this scope succeeded (and so holds the batch open).
    pub fn wrote(&self) -> bool {
        ANSWER_SCOPE.with(|s| s.get()) == Some((self.db.writer_id(), true))
    }

    /// Hands the answer's write `f` to the batch that holds this scope's writes, and waits
    /// for its commit: whoever commits the batch runs `f` just before COMMIT, so an answer
    /// costs no turn of its own at the writer. Should `f` fail, the whole batch is rolled
    /// back and every writer in it told (no write is kept without its answer). Without a
    /// successful write nothing is held: `f` does not run (a request refused before any
    /// work leaves no answer behind) and this is Ok(false).
    pub fn commit_with(self, f: AnswerWrite) -> Result<bool, Error> {
        if !self.wrote() {
            return Ok(false);
        }
        ANSWER_SCOPE.with(|s| s.set(None));
        let writer = &self.db.writer;
        let mut state = writer.state();
        // This scope holds the batch open, so the open batch is the one with its writes.
        let batch = BatchRef { number: state.current, outcome: state.outcome.clone() };
        state.answers.0.push(f);
        state.held = state.held.checked_sub(1).expect("a held batch has a hold to let go");
        writer.work.notify_one();
        match wait_for_commit(writer, state, &batch) {
            Some(why) => Err(batch_failed(why)),
            None => Ok(true),
        }
    }
}

impl Drop for AnswerScope<'_> {
    fn drop(&mut self) {
        if self.wrote() {
            self.db.release_hold();
        }
        ANSWER_SCOPE.with(|s| s.set(None));
    }
}

impl Db {
    /// Lets a held batch commit without an answer (a scope that ended without one).
    fn release_hold(&self) {
        ANSWER_SCOPE.with(|s| s.set(None));
        let mut state = self.writer.state();
        state.held = state.held.checked_sub(1).expect("a held batch has a hold to let go");
        drop(state);
        self.writer.work.notify_one();
    }
}

/// Waits until `batch` is committed (or failed); its failure, if it failed.
fn wait_for_commit(
    writer: &GroupWriter,
    mut state: std::sync::MutexGuard<'_, Batch>,
    batch: &BatchRef,
) -> Option<String> {
    while state.finished < batch.number {
        state = writer.done.wait(state).unwrap_or_else(PoisonError::into_inner);
    }
    batch.outcome.get().cloned()
}

/// Runs `f` in a savepoint of the open transaction: its writes are undone when it fails
/// or panics, and the transaction goes on.
fn in_savepoint<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
    // Cached: parsing these on every write cost a tenth of the write path (perf).
    conn.prepare_cached("SAVEPOINT write")?.execute([])?;
    // Undone on failure and on panic (the guard's drop), so the batch can go on.
    struct Undo<'a>(&'a Connection, bool);
    impl Drop for Undo<'_> {
        fn drop(&mut self) {
            if !self.1 {
                let _ = self.0.prepare_cached("ROLLBACK TO write").and_then(|mut s| s.execute([]));
                let _ = self.0.prepare_cached("RELEASE write").and_then(|mut s| s.execute([]));
            }
        }
    }
    let mut undo = Undo(conn, false);
    let value = f(conn)?;
    conn.prepare_cached("RELEASE write")?.execute([])?;
    undo.1 = true;
    Ok(value)
}

/// What each writer of a batch whose commit failed is told.
fn batch_failed(why: String) -> Error {
    log::error!("group commit failed: {why}");
    Error::from(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), Some(why)))
}

/// Commits the group's transaction, writing the answers handed to it first; on any failure
/// the whole batch is rolled back.
fn commit(conn: &Connection, answers: Vec<AnswerWrite>) -> Result<(), String> {
    // A panicking answer fails its batch like an error would: the writer thread must live
    // on, or every writer after it would wait forever.
    let write = |answer: AnswerWrite| match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| answer(conn))) {
        Ok(done) => done.map_err(|e| e.developer_message),
        Err(_) => Err("writing an idempotent request's answer panicked".to_owned()),
    };
    let result = answers.into_iter().try_for_each(write).and_then(|()| {
        conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])).map(|_| ()).map_err(|e| e.to_string())
    });
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// The database holds the JWT signing key and every password hash: a new file is created
/// 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database's mode),
/// and an existing one that others may read is refused unless the config allows it.
#[cfg(unix)]
fn guard_permissions(path: &Path, allow_shared: bool) -> Result<(), Error> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::internal(format!("creating database {}: {e}", path.display())))?;
        return Ok(());
    }
    if allow_shared {
        return Ok(());
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::validation(format!(
                "{} is readable or writable by other users (mode {mode:o}); it holds the JWT signing key and password hashes. Run `chmod 600 {}` (and its -wal/-shm files), or set database.allow_shared_permissions = true.",
                file.display(),
                file.display()
            )));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn guard_permissions(_path: &Path, _allow_shared: bool) -> Result<(), Error> {
    Ok(())
}

/// Runs `f` inside a savepoint of the open transaction: when `f` fails its writes are
/// undone and the transaction goes on. The outer `Result` is the savepoint's own.
pub fn savepoint<T>(conn: &Connection, f: impl FnOnce() -> Result<T, Error>) -> Result<Result<T, Error>, Error> {
    conn.execute_batch("SAVEPOINT step")?;
    let result = f();
    match &result {
        Ok(_) => conn.execute_batch("RELEASE step")?,
        // SQLite rolled the whole transaction back by itself (a full disk, an I/O error):
        // the savepoint went with it, and the fault that undid it is the outcome.
        Err(e) if conn.is_autocommit() => return Err(e.clone()),
        Err(_) => conn.execute_batch("ROLLBACK TO step; RELEASE step")?,
    }
    Ok(result)
}

/// SQLite's memory statistics take one process-wide mutex around every allocation, which
/// serialises all worker threads; we never read the statistics. Must run before SQLite
/// initialises, so the first `Db::open` does it (a later call is a harmless no-op).
fn disable_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int; sqlite3_config is only refused
        // (SQLITE_MISUSE) once SQLite is initialised, which changes nothing.
        let rc = unsafe { rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
        if rc != rusqlite::ffi::SQLITE_OK {
            log::debug!("SQLite memory statistics stay on (sqlite3_config returned {rc})");
        }
    });
}

/// True when `e` is a UNIQUE constraint failure: the caller turns it into a 409.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseConfig;

    /// Opens a database with `checkpoints`, commits one write, closes every connection
    /// (they live on the thread), and says what was left in the -wal file and what
    /// `wal_autocheckpoint` each connection had.
    fn write_and_close(name: &str, checkpoints: &str) -> (Option<u64>, i64) {
        let dir = std::env::temp_dir().join(format!("rollcall-db-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let config = DatabaseConfig { path: path.clone(), checkpoints: checkpoints.into(), ..Default::default() };
        let autocheckpoint = std::thread::spawn(move || {
            let db = Db::open(&config).unwrap();
            db.write(|c| Ok(c.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')", [])?)).unwrap();
            db.read(|c| Ok(c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?)).unwrap()
        })
        .join()
        .unwrap();
        let wal = std::fs::metadata(format!("{}-wal", path.display())).ok().map(|m| m.len());
        let _ = std::fs::remove_dir_all(&dir);
        (wal, autocheckpoint)
    }

    #[test]
    fn by_default_sqlite_checkpoints_and_the_last_close_removes_the_wal() {
        assert_eq!(write_and_close("own", "rollcall"), (None, 1000));
    }

    #[test]
    fn external_checkpoints_leave_every_committed_page_in_the_wal_for_litestream() {
        let (wal, autocheckpoint) = write_and_close("external", "external");
        assert_eq!(autocheckpoint, 0);
        assert!(wal.is_some_and(|len| len > 0), "the WAL was checkpointed away: {wal:?}");
    }

    /// An answer handed to the batch commits with its request's write; an answer that
    /// cannot be written takes the batch's writes down with it, and every writer hears so.
    #[test]
    fn an_answer_commits_with_its_write_or_the_batch_rolls_back() {
        let dir = std::env::temp_dir().join(format!("rollcall-db-answers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = DatabaseConfig { path: dir.join("t.db"), ..Default::default() };
        std::thread::spawn(move || {
            let db = Db::open(&config).unwrap();
            let insert =
                |k: &str| db.write(|c| Ok(c.execute("INSERT INTO settings (key, value) VALUES (?1, 'v')", [k])?));
            let count = || {
                db.read(|c| {
                    Ok(c.query_row("SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'", [], |r| r.get::<_, i64>(0))?)
                })
            };
            let answer = db.answer_scope();
            insert("k1").unwrap();
            let answered: AnswerWrite = Box::new(|c| {
                Ok(c.execute("INSERT INTO settings (key, value) VALUES ('k1-answer', 'v')", []).map(|_| ())?)
            });
            assert!(answer.commit_with(answered).unwrap());
            assert_eq!(count().unwrap(), 2);
            let answer = db.answer_scope();
            insert("k2").unwrap();
            let failing: AnswerWrite = Box::new(|_| Err(Error::internal("the answer could not be written")));
            let refused = answer.commit_with(failing).unwrap_err();
            assert!(refused.status() >= 500, "a fault of the database: {}", refused.developer_message);
            assert_eq!(count().unwrap(), 2, "k2 went with its answer");
            // Nothing is left held: the next write commits alone.
            insert("k3").unwrap();
            assert_eq!(count().unwrap(), 3);
        })
        .join()
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod plan_stability {
    use super::*;
    use crate::config::DatabaseConfig;
    use rusqlite::StatementStatus;

    /// SQLite re-prepares a statement whose plan might depend on a bound value (`LIMIT ?n`;
    /// `column = ?n` after a 0 or 1) unless the planner's stability guarantee is on: a
    /// cached statement must stay compiled across binds.
    #[test]
    fn cached_statements_are_not_compiled_again_when_rebound() {
        let dir = std::env::temp_dir().join(format!("rollcall-qpsg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(&DatabaseConfig { path: dir.join("t.db"), ..Default::default() }).unwrap();
        for sql in [
            "SELECT slug FROM course_modes WHERE course_id = ?1 ORDER BY id",
            "SELECT id FROM enrollments WHERE course_id = ?1 AND is_active = ?2 ORDER BY course_seq LIMIT ?3",
        ] {
            let reprepared = db
                .read(|c| {
                    for _ in 0..5 {
                        let mut stmt = c.prepare_cached(sql)?;
                        let params: Vec<i64> = (0..stmt.parameter_count()).map(|_| 1).collect();
                        let _ = stmt.query_map(rusqlite::params_from_iter(params), |_| Ok(()))?.count();
                    }
                    Ok(c.prepare_cached(sql)?.get_status(StatementStatus::RePrepare))
                })
                .unwrap();
            assert_eq!(reprepared, 0, "{sql}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
