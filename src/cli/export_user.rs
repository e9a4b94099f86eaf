//! `rollcall export-user`: everything held about one account, as one JSON document on stdout.

use super::{failed, load_config, open_db, Args, Command, Outcome};
use crate::core::{emails::Templates, privacy};
use crate::domain::Timestamp;

pub const COMMAND: Command = Command {
    name: "export-user",
    help: "rollcall export-user --db PATH --username U [--config FILE]\n\nWrites everything Rollcall holds about the account U to stdout as one JSON document (the same as GET /api/user/v1/accounts/U/export; README \"Privacy requests\").",
    valued: &["--config", "--db", "--username"],
    switches: &[],
    required: &["--db", "--username"],
    run,
};

fn run(args: &Args) -> Outcome {
    let config = load_config(args)?;
    let db = open_db(&config)?;
    let user = db.read(|conn| privacy::account(conn, &args["--username"]))?;
    let templates = match config.email.templates_dir.as_str() {
        "" => Default::default(),
        dir => Templates::load(std::path::Path::new(dir)).map_err(|e| failed(e.to_string()))?,
    };
    let subjects = privacy::subjects(
        config.server.school_name.clone(),
        config.server.public_base_url.clone(),
        config.email.lms_base_url.clone(),
        templates,
    );
    let mut export = privacy::Export::new(db, user, subjects, Timestamp::now());
    std::io::copy(&mut export, &mut std::io::stdout().lock())
        .map_err(|e| failed(format!("writing the export: {e}")))?;
    Ok(())
}
