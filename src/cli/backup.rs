//! `rollcall backup`: a consistent copy of a live database (SQLite's online backup API).

use super::{Args, Command, Outcome};
use std::path::PathBuf;

pub const COMMAND: Command = Command {
    name: "backup",
    help: "rollcall backup --db PATH --to FILE\n\nWrites a consistent copy of the database to the new file FILE (readable by its owner only), safely while the server runs: SQLite's online backup API. A plain `cp` of a live database can lose the commits still in its -wal file.",
    valued: &["--db", "--to"],
    switches: &[],
    required: &["--db", "--to"],
    run,
};

fn run(args: &Args) -> Outcome {
    let (from, to) = (PathBuf::from(&args["--db"]), PathBuf::from(&args["--to"]));
    let pages = crate::store::maintenance::backup(&from, &to)?;
    println!("backed up {} to {} ({pages} pages)", from.display(), to.display());
    Ok(())
}
