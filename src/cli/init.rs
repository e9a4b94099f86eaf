//! `rollcall init`: the schema, a superuser and an OAuth client, their secrets printed once.

use super::{load_config, open_db, Args, Command, Outcome};
use crate::auth::passwords::Hasher;
use crate::bootstrap;

pub const COMMAND: Command = Command {
    name: "init",
    help: "rollcall init [--config FILE] [--db PATH] [--json]\n\nCreates the schema, a superuser and an OAuth client acting as it, and prints username, password, client_id and client_secret (one JSON object with --json). Refuses (exit 1) on an initialised database.",
    valued: &["--config", "--db"],
    switches: &["--json"],
    required: &[],
    run,
};

fn run(args: &Args) -> Outcome {
    let config = load_config(args)?;
    let db = open_db(&config)?;
    let hasher = Hasher::new(&config.auth);
    let c = bootstrap::initialise(&db, &hasher)?;
    if args.contains_key("--json") {
        println!(
            "{}",
            serde_json::json!({"username": c.username, "password": c.password, "client_id": c.client_id, "client_secret": c.client_secret})
        );
    } else {
        println!("{}", c.text());
    }
    Ok(())
}
