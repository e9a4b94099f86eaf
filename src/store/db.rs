//! Opening the database, applying `schema.sql`, and transactions. Each thread keeps its own
//! connection (no global `Mutex<Connection>`: a panic would poison it for everyone).

use crate::config::DatabaseConfig;
use crate::core::Error;
use rusqlite::{Connection, OpenFlags};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

pub type Conn = Connection;

pub const SCHEMA_VERSION: i64 = 3;
const SCHEMA: &str = include_str!("../../schema.sql");

/// What a database of an older version needs besides `schema.sql` (whose CREATE … IF NOT
/// EXISTS leaves existing tables as they are): (version it brings, statements).
const MIGRATIONS: [(i64, &str); 3] = [
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
];

#[derive(Debug, Clone)]
pub struct Db {
    path: PathBuf,
    synchronous: String,
    busy_timeout_ms: u64,
    /// 0: no cap (`PRAGMA max_page_count` otherwise).
    max_pages: u64,
    gate: Arc<WriteGate>,
}

/// Serves this process's write transactions first come, first served. SQLite admits one
/// writer at a time anyway, but a writer that finds the lock taken sleeps and polls, so a
/// busy writer (a bulk task committing batch after batch) could starve a request for
/// seconds. With the gate a request waits at most for the transaction ahead of it.
#[derive(Debug, Default)]
struct WriteGate {
    tickets: Mutex<Tickets>,
    turn: Condvar,
}

#[derive(Debug, Default)]
struct Tickets {
    next: u64,
    serving: u64,
    holder: Option<std::thread::ThreadId>,
}

struct Turn<'a>(&'a WriteGate);

impl WriteGate {
    fn enter(&self) -> Turn<'_> {
        let me = std::thread::current().id();
        let mut tickets = self.tickets.lock().unwrap_or_else(PoisonError::into_inner);
        // A write inside a write would wait for itself forever; fail loudly instead.
        assert!(tickets.holder != Some(me), "nested write transaction: pass the open connection down instead");
        let mine = tickets.next;
        tickets.next += 1;
        while tickets.serving != mine {
            tickets = self.turn.wait(tickets).unwrap_or_else(PoisonError::into_inner);
        }
        tickets.holder = Some(me);
        Turn(self)
    }
}

impl Drop for Turn<'_> {
    // Runs on panic too, so a failed transaction never blocks the ones behind it.
    fn drop(&mut self) {
        let mut tickets = self.0.tickets.lock().unwrap_or_else(PoisonError::into_inner);
        tickets.serving += 1;
        tickets.holder = None;
        self.0.turn.notify_all();
    }
}

thread_local! {
    // Keyed by path so that one process can serve several databases (tests, `init`).
    static CONNECTIONS: RefCell<Vec<(PathBuf, Connection)>> = const { RefCell::new(Vec::new()) };
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
            // SQLite's default page size is 4 KiB.
            max_pages: config.max_size_mb * 256,
            gate: Arc::default(),
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
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {migrations} {SCHEMA}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(|e| Error::internal(format!("applying schema.sql to {}: {e}", path.display())))?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> Result<Connection, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| Error::internal(format!("opening database {}: {e}", self.path.display())))?;
        conn.busy_timeout(std::time::Duration::from_millis(self.busy_timeout_ms))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::internal(format!("database {} refused WAL mode ({mode})", self.path.display())));
        }
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; PRAGMA temp_store = MEMORY;",
            self.synchronous
        ))?;
        if self.max_pages > 0 {
            conn.query_row(&format!("PRAGMA max_page_count = {}", self.max_pages), [], |_| Ok(()))?;
        }
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

    /// One write transaction (`BEGIN IMMEDIATE`, so check-then-insert holds under
    /// concurrency); committed only when `f` succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let _turn = self.gate.enter();
        self.with_connection(|conn| {
            let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
    }

    pub fn is_reachable(&self) -> bool {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)).is_ok()
    }
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
