//! `rollcall check`: integrity, foreign keys, retired accounts' data and row counts.

use super::{failed, Args, Command, Outcome};
use crate::store::{db::SCHEMA_VERSION, maintenance};
use std::path::PathBuf;

pub const COMMAND: Command = Command {
    name: "check",
    help: "rollcall check --db PATH\n\nRuns SQLite's integrity and foreign-key checks, checks that no retired account keeps personal data, and prints the schema version and each table's row count. Exit 1 on any problem.",
    valued: &["--db"],
    switches: &[],
    required: &["--db"],
    run,
};

fn run(args: &Args) -> Outcome {
    let path = PathBuf::from(&args["--db"]);
    let report = maintenance::check(&path)?;
    println!("schema version: {} (this build: {SCHEMA_VERSION})", report.schema_version);
    println!("integrity: {}", report.integrity.join("; "));
    println!(
        "foreign keys: {}",
        if report.foreign_keys.is_empty() { "ok".to_owned() } else { report.foreign_keys.join("; ") }
    );
    println!(
        "retired accounts: {}",
        if report.privacy.is_empty() { "no personal data kept".to_owned() } else { report.privacy.join("; ") }
    );
    for (table, count) in &report.row_counts {
        println!("  {table}: {count}");
    }
    if !report.ok() {
        return Err(failed("the database has problems (above)"));
    }
    Ok(())
}
