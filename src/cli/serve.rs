//! `rollcall serve` (the default command): builds the server, runs the first start's
//! bootstrap, fixtures and demo, and serves until SIGINT or SIGTERM.

use super::{failed, load_config, read_flag_file, Args, Command, Outcome, Stop};
use crate::{auth, bootstrap, Server};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub const COMMAND: Command = Command {
    name: "serve",
    help: "rollcall serve [--config FILE] [--listen ADDR] [--db PATH] [--demo] [--fixtures FILE.json] [--ephemeral]\n\nStarts the server (the default command). On an empty database it first creates a superuser and an OAuth client and prints their credentials once. --demo seeds a small demo catalog. --fixtures loads users, clients (with the ids and secrets given), courses, enrollments and pre-enrollments from a JSON file, in one transaction; loading it again changes nothing. --ephemeral keeps the database in a temporary directory removed at exit. --listen 127.0.0.1:0 picks a free port.",
    valued: &["--config", "--listen", "--db", "--fixtures"],
    switches: &["--demo", "--ephemeral"],
    required: &[],
    run,
};

/// Removes a database file this start created, when the start fails: a typo'd setting
/// must not leave an empty database behind.
fn forget_new_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The temporary directory of `--ephemeral`, removed when the command ends (served,
/// or stopped by a failure).
struct Ephemeral(std::path::PathBuf);

impl Drop for Ephemeral {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &Args) -> Outcome {
    let mut config = load_config(args)?;
    crate::telemetry::use_json_lines(config.server.log_format == "json");
    // --ephemeral: a database nobody keeps, for test suites and demos.
    let ephemeral = match args.contains_key("--ephemeral") {
        false => None,
        true => {
            let dir = std::env::temp_dir().join(format!(
                "rollcall-ephemeral-{}-{}",
                std::process::id(),
                auth::secrets::random_token(6)
            ));
            std::fs::create_dir_all(&dir).map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
            config.database.path = dir.join("rollcall.db");
            Some(Ephemeral(dir))
        }
    };
    let fixtures = args.get("--fixtures").map(|path| read_flag_file(path)).transpose()?;
    let db_path = config.database.path.clone();
    let existed = db_path.exists();
    let server = Server::build(config).map_err(|e| {
        if !existed {
            forget_new_database(&db_path);
        }
        failed(e)
    })?;
    let app = &server.app().env;
    let addr = server.addr();
    if let Some(text) = &fixtures {
        let n = bootstrap::load_fixtures(&app.db, &app.auth.passwords, text)?;
        println!("Loaded {n} fixture entries.");
    }
    if !bootstrap::is_initialised(&app.db)? {
        let creds = bootstrap::initialise(&app.db, &app.auth.passwords)?;
        let text = format!(
            "{}\nGet a token:\n  curl -s -X POST {}/oauth2/access_token -d grant_type=client_credentials -d client_id={} -d client_secret={} -d token_type=jwt\n",
            creds.text(),
            app.base_url,
            creds.client_id,
            creds.client_secret
        );
        // An ephemeral database's secrets die with it: they are printed for the harness.
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) || ephemeral.is_some() {
            println!("First start: created a superuser and an OAuth client. These secrets are shown only once (stored hashed):");
            print!("{text}");
        } else {
            let path = bootstrap::write_credentials_file(app.db.path(), &text).map_err(failed)?;
            println!(
                "First start: created a superuser and an OAuth client; their secrets are in {} (readable only by its owner; delete it once you have them)",
                path.display()
            );
        }
    }
    if args.contains_key("--demo") {
        seed_demo(app)?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let cannot = |e: std::io::Error| failed(format!("cannot handle signals: {e}"));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).map_err(cannot)?;
    }
    // SIGHUP (a closed terminal, a `systemctl reload`) is ignored: the log goes to
    // stderr, so there is nothing to reopen.
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::new(AtomicBool::new(false))).map_err(cannot)?;
    println!("listening on http://{addr}");
    log::info!("listening on http://{addr} (database {})", app.db.path().display());
    server.run_until(stop).map_err(failed)?;
    drop(ephemeral);
    Ok(())
}

fn seed_demo(app: &crate::core::Env) -> Result<(), Stop> {
    let Some(seed) = bootstrap::seed_demo(&app.db, &app.auth.passwords)? else {
        println!("The demo was already seeded on this database; nothing was added.");
        return Ok(());
    };
    let mut text = String::from("Demo learners (username: password):\n");
    for (name, password) in &seed.learners {
        text.push_str(&format!("  {name}: {password}\n"));
    }
    text.push_str(&format!("Enrollment codes for WEB-301: {}\n", seed.codes.join(", ")));
    println!(
        "Seeded the demo: 4 courses, learners ann, bob and cat with enrollments, a pre-enrollment for dana@demo.rollcall.invalid, the Web track learning path and 3 enrollment codes."
    );
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        print!("{text}");
    } else {
        let path = bootstrap::append_to_credentials_file(app.db.path(), &text).map_err(failed)?;
        println!("The demo learners' passwords and the codes are in {}.", path.display());
    }
    Ok(())
}
