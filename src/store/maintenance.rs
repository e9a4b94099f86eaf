//! `rollcall backup` and `rollcall check`: a consistent copy of a live database through
//! SQLite's online backup API (a plain `cp` of a WAL database can miss committed pages
//! still in the -wal file), and SQLite's own integrity and foreign-key checks.

use crate::error::Error;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

fn open_read_only(path: &Path) -> Result<Connection, Error> {
    if !path.exists() {
        return Err(Error::validation(format!("{} does not exist.", path.display())));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::validation(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

/// Copies `from` to the new file `to` (owner-only) in one step, so the copy is one
/// snapshot even while the server writes. Returns the pages copied.
pub fn backup(from: &Path, to: &Path) -> Result<i32, Error> {
    let source = open_read_only(from)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(to)
            .map_err(|e| Error::validation(format!("cannot create {}: {e}", to.display())))?;
    }
    let mut target =
        Connection::open(to).map_err(|e| Error::validation(format!("cannot open {}: {e}", to.display())))?;
    let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
    // -1: every page in one step, inside one read transaction of the source.
    backup.step(-1)?;
    let pages = backup.progress().pagecount;
    drop(backup);
    target.execute_batch("PRAGMA journal_mode = WAL;")?;
    Ok(pages)
}

pub struct CheckReport {
    pub schema_version: i64,
    /// "ok", or SQLite's list of problems.
    pub integrity: Vec<String>,
    /// (table, rowid, parent) for each row whose foreign key points nowhere.
    pub foreign_keys: Vec<String>,
    pub row_counts: Vec<(String, i64)>,
    /// Retired accounts that still hold personal data somewhere (README "Privacy requests").
    pub privacy: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.integrity == ["ok"]
            && self.foreign_keys.is_empty()
            && self.privacy.is_empty()
            && self.schema_version == super::db::SCHEMA_VERSION
    }
}

pub fn check(path: &Path) -> Result<CheckReport, Error> {
    let conn = open_read_only(path)?;
    let schema_version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let integrity = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let foreign_keys = conn
        .prepare("PRAGMA foreign_key_check")?
        .query_map([], |r| {
            Ok(format!(
                "{} row {} references a missing {} row",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?.map_or("?".to_owned(), |id| id.to_string()),
                r.get::<_, String>(2)?
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut row_counts = Vec::with_capacity(tables.len());
    for table in tables {
        let count =
            conn.query_row(&format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\"")), [], |r| r.get(0))?;
        row_counts.push((table, count));
    }
    let privacy = super::privacy::retired_with_personal_data(&conn)?;
    Ok(CheckReport { schema_version, integrity, foreign_keys, row_counts, privacy })
}

/// (status, count) of background tasks.
pub fn task_counts(conn: &Connection) -> Result<Vec<(String, i64)>, Error> {
    Ok(conn
        .prepare_cached("SELECT status, COUNT(*) FROM tasks GROUP BY status")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?)
}

/// (channel, status, count) of outbox messages.
pub fn outbox_counts(conn: &Connection) -> Result<Vec<(String, String, i64)>, Error> {
    Ok(conn
        .prepare_cached("SELECT channel, status, COUNT(*) FROM outbox GROUP BY channel, status")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The sizes in bytes of the database file and of its -wal file.
pub fn file_sizes(conn: &Connection) -> Result<(i64, u64), Error> {
    let size =
        conn.query_row("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", [], |r| r.get(0))?;
    // With `database.checkpoints = "external"` only Litestream shrinks the WAL: a WAL that
    // keeps growing says Litestream has stopped.
    let wal = conn.path().and_then(|p| std::fs::metadata(format!("{p}-wal")).ok()).map_or(0, |m| m.len());
    Ok((size, wal))
}
