//! `rollcall import`: users, enrollments and progress from Open edX, one transaction per file.

use super::{failed, load_config, open_db, read_flag_file, usage_error, Args, Command, Outcome};
use crate::core::import;
use crate::domain::Timestamp;

pub const COMMAND: Command = Command {
    name: "import",
    help: "rollcall import --db PATH [--users FILE.jsonl] [--enrollments FILE.jsonl] [--progress FILE.jsonl] [--config FILE]\n\nImports users from Open edX (one JSON object per line: username, email, password as a Django pbkdf2_sha256 hash, name, is_active, is_staff, date_joined; existing usernames are skipped), then enrollments (username, course_id, mode, is_active) into existing courses, then progress (username, course_id, completion, grade, passed, completed_at, certificate_url; completion and grade between 0 and 1) of those enrollments. Each file is one transaction: a bad line imports nothing from that file and is named.",
    valued: &["--config", "--db", "--users", "--enrollments", "--progress"],
    switches: &[],
    required: &["--db"],
    run,
};

fn run(args: &Args) -> Outcome {
    let config = load_config(args)?;
    // A typo must not import into a new, empty database.
    if !config.database.path.exists() {
        return Err(failed(format!(
            "there is no database at {}; `rollcall import` fills an existing one (start `rollcall serve` or `rollcall init` once to create it)",
            config.database.path.display()
        )));
    }
    let db = open_db(&config)?;
    let read = |flag: &str| args.get(flag).map(|path| read_flag_file(path)).transpose();
    let (users, enrollments, progress) = (read("--users")?, read("--enrollments")?, read("--progress")?);
    if users.is_none() && enrollments.is_none() && progress.is_none() {
        return Err(usage_error("`rollcall import` needs --users, --enrollments and/or --progress"));
    }
    let now = Timestamp::now();
    if let Some(lines) = users {
        let imported = db.write(|c| import::users(c, &lines, now))?;
        println!("imported {} users ({} already there)", imported.created, imported.skipped);
        if !imported.without_password.is_empty() {
            println!(
                "{} imported without a password (they can use a set-password link):",
                imported.without_password.len()
            );
            for line in &imported.without_password {
                println!("  {line}");
            }
        }
    }
    if let Some(lines) = enrollments {
        let count = db.write(|c| import::enrollments(c, &lines, now))?;
        println!("imported {count} enrollments");
    }
    if let Some(lines) = progress {
        let count = db.write(|c| import::progress(c, &lines, now))?;
        println!("imported progress for {count} enrollments");
    }
    Ok(())
}
