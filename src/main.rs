//! The `rollcall` command: `serve` (the default), `init`, `create-user`, `create-client`,
//! `create-scim-token`, `import`, `backup`, `check`.
//! Argument errors print one line and exit 2; refusals (an initialised database) exit 1.

use rollcall::auth::passwords::Hasher;
use rollcall::config::Config;
use rollcall::core::accounts::{self, Actor, NewUser};
use rollcall::domain::{Email, Timestamp, Username};
use rollcall::store::{users::Profile, Db};
use rollcall::{auth, bootstrap, Server};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::exit;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const USAGE: &str = "Rollcall: every enrollment API a school needs, in one binary.

Usage:
  rollcall [serve] [--config FILE] [--listen ADDR] [--db PATH] [--demo] [--fixtures FILE.json] [--ephemeral]
  rollcall init [--config FILE] [--db PATH] [--json]
  rollcall create-user --db PATH --username U --email E [--password P] [--staff] [--superuser] [--config FILE]
  rollcall create-client --db PATH --name N --user U [--public] [--json] [--config FILE]
  rollcall create-scim-token --db PATH --name N [--json] [--config FILE]
  rollcall import --db PATH [--users FILE.jsonl] [--enrollments FILE.jsonl] [--progress FILE.jsonl] [--config FILE]
  rollcall backup --db PATH --to FILE
  rollcall check --db PATH
  rollcall export-user --db PATH --username U [--config FILE]
  rollcall <command> --help

Settings come from --config (see config.example.toml) and ROLLCALL_<SECTION>_<KEY> variables.";

struct Command {
    name: &'static str,
    help: &'static str,
    /// Flags taking a value.
    valued: &'static [&'static str],
    /// Flags that are switches.
    switches: &'static [&'static str],
    required: &'static [&'static str],
}

const COMMANDS: [Command; 9] = [
    Command {
        name: "serve",
        help: "rollcall serve [--config FILE] [--listen ADDR] [--db PATH] [--demo] [--fixtures FILE.json] [--ephemeral]\n\nStarts the server (the default command). On an empty database it first creates a superuser and an OAuth client and prints their credentials once. --demo seeds a small demo catalog. --fixtures loads users, clients (with the ids and secrets given), courses, enrollments and pre-enrollments from a JSON file, in one transaction; loading it again changes nothing. --ephemeral keeps the database in a temporary directory removed at exit. --listen 127.0.0.1:0 picks a free port.",
        valued: &["--config", "--listen", "--db", "--fixtures"],
        switches: &["--demo", "--ephemeral"],
        required: &[],
    },
    Command {
        name: "init",
        help: "rollcall init [--config FILE] [--db PATH] [--json]\n\nCreates the schema, a superuser and an OAuth client acting as it, and prints username, password, client_id and client_secret (one JSON object with --json). Refuses (exit 1) on an initialised database.",
        valued: &["--config", "--db"],
        switches: &["--json"],
        required: &[],
    },
    Command {
        name: "create-user",
        help: "rollcall create-user --db PATH --username U --email E [--password P] [--staff] [--superuser] [--config FILE]\n\nCreates an active user. Without --password a random one is generated and printed once.",
        valued: &["--config", "--db", "--username", "--email", "--password"],
        switches: &["--staff", "--superuser"],
        required: &["--db", "--username", "--email"],
    },
    Command {
        name: "create-client",
        help: "rollcall create-client --db PATH --name N --user U [--public] [--json] [--config FILE]\n\nCreates an OAuth client acting as user U and prints client_id and client_secret (shown only this once). --public: a client that cannot keep a secret (a mobile app, an SPA): it has none, and may use only the password and refresh_token grants.",
        valued: &["--config", "--db", "--name", "--user"],
        switches: &["--json", "--public"],
        required: &["--db", "--name", "--user"],
    },
    Command {
        name: "create-scim-token",
        help: "rollcall create-scim-token --db PATH --name N [--json] [--config FILE]\n\nCreates a token for an identity provider's SCIM client (Entra ID's Secret Token, Okta's API token) and prints it (shown only this once; stored hashed). It works only at /scim/v2, where it creates, changes and deactivates every account except superusers. Revoke it with DELETE /api/admin/v1/scim-tokens/{id}.",
        valued: &["--config", "--db", "--name"],
        switches: &["--json"],
        required: &["--db", "--name"],
    },
    Command {
        name: "import",
        help: "rollcall import --db PATH [--users FILE.jsonl] [--enrollments FILE.jsonl] [--progress FILE.jsonl] [--config FILE]\n\nImports users from Open edX (one JSON object per line: username, email, password as a Django pbkdf2_sha256 hash, name, is_active, is_staff, date_joined; existing usernames are skipped), then enrollments (username, course_id, mode, is_active) into existing courses, then progress (username, course_id, completion, grade, passed, completed_at, certificate_url; completion and grade between 0 and 1) of those enrollments. Each file is one transaction: a bad line imports nothing from that file and is named.",
        valued: &["--config", "--db", "--users", "--enrollments", "--progress"],
        switches: &[],
        required: &["--db"],
    },
    Command {
        name: "backup",
        help: "rollcall backup --db PATH --to FILE\n\nWrites a consistent copy of the database to the new file FILE (readable by its owner only), safely while the server runs: SQLite's online backup API. A plain `cp` of a live database can lose the commits still in its -wal file.",
        valued: &["--db", "--to"],
        switches: &[],
        required: &["--db", "--to"],
    },
    Command {
        name: "check",
        help: "rollcall check --db PATH\n\nRuns SQLite's integrity and foreign-key checks, checks that no retired account keeps personal data, and prints the schema version and each table's row count. Exit 1 on any problem.",
        valued: &["--db"],
        switches: &[],
        required: &["--db"],
    },
    Command {
        name: "export-user",
        help: "rollcall export-user --db PATH --username U [--config FILE]\n\nWrites everything Rollcall holds about the account U to stdout as one JSON document (the same as GET /api/user/v1/accounts/U/export; README \"Privacy requests\").",
        valued: &["--config", "--db", "--username"],
        switches: &[],
        required: &["--db", "--username"],
    },
];

fn usage_error(message: &str) -> ! {
    eprintln!("error: {message} (see `rollcall --help`)");
    exit(2)
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1)
}

fn parse(command: &Command, args: &[String]) -> HashMap<&'static str, String> {
    let mut found = HashMap::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg, None),
        };
        if flag == "--help" || flag == "-h" {
            println!("{}", command.help);
            exit(0);
        }
        if let Some(name) = command.valued.iter().find(|f| **f == flag) {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i).cloned().unwrap_or_else(|| usage_error(&format!("{flag} needs a value")))
                }
            };
            found.insert(*name, value);
        } else if let Some(name) = command.switches.iter().find(|f| **f == flag) {
            if inline.is_some() {
                usage_error(&format!("{flag} takes no value"));
            }
            found.insert(*name, String::new());
        } else {
            usage_error(&format!("unknown argument '{arg}' for `rollcall {}`", command.name));
        }
        i += 1;
    }
    for flag in command.required {
        if !found.contains_key(flag) {
            usage_error(&format!("`rollcall {}` needs {flag}", command.name));
        }
    }
    found
}

fn load_config(args: &HashMap<&str, String>) -> Config {
    let mut config =
        Config::load(args.get("--config").map(PathBuf::from).as_deref()).unwrap_or_else(|e| usage_error(&e));
    if let Some(db) = args.get("--db") {
        config.database.path = PathBuf::from(db);
    }
    if let Some(listen) = args.get("--listen") {
        config.server.listen = listen.clone();
    }
    config
}

fn open_db(config: &Config) -> Db {
    Db::open(&config.database).unwrap_or_else(|e| fail(&e.developer_message))
}

/// `server.log_format = "json"`, known once the config is read.
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (name, rest) = match argv.first().map(String::as_str) {
        None => ("serve", &argv[..]),
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            return;
        }
        Some("--version" | "-V") => {
            println!("rollcall {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Some(first) if first.starts_with("--") => ("serve", &argv[..]),
        Some(first) => (first, &argv[1..]),
    };
    let command =
        COMMANDS.iter().find(|c| c.name == name).unwrap_or_else(|| usage_error(&format!("unknown command '{name}'")));
    let args = parse(command, rest);
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            use std::io::Write;
            let time = Timestamp::now().to_iso();
            if !JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
                return writeln!(buf, "{time} {:<5} {}: {}", record.level(), record.target(), record.args());
            }
            // JSON lines: access lines are already objects (fields, not text).
            let message = record.args().to_string();
            let mut line = match serde_json::from_str::<serde_json::Value>(&message) {
                Ok(serde_json::Value::Object(fields)) if record.target() == "access" => {
                    serde_json::Value::Object(fields)
                }
                _ => serde_json::json!({"message": message}),
            };
            line["time"] = time.into();
            line["level"] = record.level().as_str().into();
            line["target"] = record.target().into();
            writeln!(buf, "{line}")
        })
        .init();
    match name {
        "serve" => serve(&args),
        "init" => init(&args),
        "create-user" => create_user(&args),
        "create-client" => create_client(&args),
        "create-scim-token" => create_scim_token(&args),
        "import" => import(&args),
        "backup" => backup(&args),
        "check" => check(&args),
        "export-user" => export_user(&args),
        _ => unreachable!("commands are listed in COMMANDS"),
    }
}

fn credentials_text(c: &bootstrap::Credentials) -> String {
    format!(
        "username: {}\npassword: {}\nclient_id: {}\nclient_secret: {}",
        c.username, c.password, c.client_id, c.client_secret
    )
}

fn print_credentials(c: &bootstrap::Credentials, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({"username": c.username, "password": c.password, "client_id": c.client_id, "client_secret": c.client_secret})
        );
    } else {
        println!("{}", credentials_text(c));
    }
}

fn append_to_credentials_file(db: &std::path::Path, text: &str) -> PathBuf {
    let path = PathBuf::from(format!("{}.first-start-credentials", db.display()));
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    write_credentials_file(db, &format!("{existing}{text}"))
}

/// Where the first start's secrets go when stdout is not a terminal (a service manager's
/// journal must never hold them): a new file beside the database, readable by its owner.
fn write_credentials_file(db: &std::path::Path, text: &str) -> PathBuf {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = PathBuf::from(format!("{}.first-start-credentials", db.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
    file.write_all(text.as_bytes()).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
    path
}

/// Removes a database file this start created, when the start fails: a typo'd setting
/// must not leave an empty database behind.
fn forget_new_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn serve(args: &HashMap<&str, String>) {
    let mut config = load_config(args);
    JSON_LOGS.store(config.server.log_format == "json", std::sync::atomic::Ordering::Relaxed);
    // --ephemeral: a database nobody keeps, for test suites and demos.
    let ephemeral = args.contains_key("--ephemeral").then(|| {
        let dir = std::env::temp_dir().join(format!(
            "rollcall-ephemeral-{}-{}",
            std::process::id(),
            auth::secrets::random_token(6)
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", dir.display())));
        config.database.path = dir.join("rollcall.db");
        dir
    });
    let fixtures = args
        .get("--fixtures")
        .map(|path| std::fs::read_to_string(path).unwrap_or_else(|e| usage_error(&format!("cannot read {path}: {e}"))));
    let db_path = config.database.path.clone();
    let existed = db_path.exists();
    let server = Server::build(config).unwrap_or_else(|e| {
        if !existed {
            forget_new_database(&db_path);
        }
        fail(&e)
    });
    let app = server.app();
    let addr = server.addr();
    if let Some(text) = &fixtures {
        match bootstrap::load_fixtures(&app.db, &app.auth.passwords, text) {
            Ok(n) => println!("Loaded {n} fixture entries."),
            Err(e) => {
                if let Some(dir) = &ephemeral {
                    let _ = std::fs::remove_dir_all(dir);
                }
                fail(&e.developer_message)
            }
        }
    }
    let first_start = !bootstrap::is_initialised(&app.db).unwrap_or_else(|e| fail(&e.developer_message));
    if first_start {
        let creds = bootstrap::initialise(&app.db, &app.auth.passwords).unwrap_or_else(|e| fail(&e.developer_message));
        let text = format!(
            "{}\nGet a token:\n  curl -s -X POST {}/oauth2/access_token -d grant_type=client_credentials -d client_id={} -d client_secret={} -d token_type=jwt\n",
            credentials_text(&creds),
            app.base_url,
            creds.client_id,
            creds.client_secret
        );
        // An ephemeral database's secrets die with it: they are printed for the harness.
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) || ephemeral.is_some() {
            println!("First start: created a superuser and an OAuth client. These secrets are shown only once (stored hashed):");
            print!("{text}");
        } else {
            let path = write_credentials_file(app.db.path(), &text);
            println!(
                "First start: created a superuser and an OAuth client; their secrets are in {} (readable only by its owner; delete it once you have them)",
                path.display()
            );
        }
    }
    if args.contains_key("--demo") {
        match bootstrap::seed_demo(&app.db, &app.auth.passwords) {
            Ok(Some(seed)) => {
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
                    let path = append_to_credentials_file(app.db.path(), &text);
                    println!("The demo learners' passwords and the codes are in {}.", path.display());
                }
            }
            Ok(None) => println!("The demo was already seeded on this database; nothing was added."),
            Err(e) => fail(&e.developer_message),
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .unwrap_or_else(|e| fail(&format!("cannot handle signals: {e}")));
    }
    // SIGHUP (a closed terminal, a `systemctl reload`) is ignored: the log goes to
    // stderr, so there is nothing to reopen.
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::new(AtomicBool::new(false)))
        .unwrap_or_else(|e| fail(&format!("cannot handle signals: {e}")));
    println!("listening on http://{addr}");
    log::info!("listening on http://{addr} (database {})", app.db.path().display());
    if let Err(e) = server.run_until(stop) {
        fail(&e);
    }
    if let Some(dir) = ephemeral {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn init(args: &HashMap<&str, String>) {
    let config = load_config(args);
    let db = open_db(&config);
    let hasher = Hasher::new(&config.auth);
    match bootstrap::initialise(&db, &hasher) {
        Ok(creds) => print_credentials(&creds, args.contains_key("--json")),
        Err(e) => fail(&e.developer_message),
    }
}

fn create_user(args: &HashMap<&str, String>) {
    let config = load_config(args);
    let username = Username::parse(&args["--username"]).unwrap_or_else(|e| usage_error(&e.0));
    let email = Email::parse(&args["--email"]).unwrap_or_else(|e| usage_error(&e.0));
    let (password, generated) = match args.get("--password") {
        Some(p) if p.chars().count() >= 8 => (p.clone(), false),
        Some(_) => usage_error("--password must be at least 8 characters"),
        None => (auth::secrets::random_token(18), true),
    };
    let db = open_db(&config);
    let hasher = Hasher::new(&config.auth);
    let new = NewUser {
        username,
        email,
        password_hash: Some(hasher.hash(&password)),
        name: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        profile: Profile::default(),
        is_active: true,
        is_staff: args.contains_key("--staff"),
        is_superuser: args.contains_key("--superuser"),
    };
    let user = db
        .write(|c| accounts::create_user(c, &Actor::SYSTEM, new, Timestamp::now()))
        .unwrap_or_else(|e| fail(&e.developer_message));
    println!("created user {} <{}>", user.username, user.email);
    if generated {
        println!("password: {password}");
    }
}

fn create_client(args: &HashMap<&str, String>) {
    let config = load_config(args);
    let db = open_db(&config);
    let client = db
        .write(|c| {
            auth::clients::create(
                c,
                &args["--name"],
                &args["--user"],
                args.contains_key("--public"),
                Timestamp::now().unix(),
            )
        })
        .unwrap_or_else(|e| fail(&e.developer_message));
    if args.contains_key("--json") {
        println!(
            "{}",
            serde_json::json!({"client_id": client.record.client_id, "client_secret": client.client_secret, "name": client.record.name, "user": client.record.username})
        );
    } else {
        match &client.client_secret {
            Some(secret) => println!("client_id: {}\nclient_secret: {secret}", client.record.client_id),
            None => println!("client_id: {}\npublic client: no secret", client.record.client_id),
        }
    }
}

fn create_scim_token(args: &HashMap<&str, String>) {
    let config = load_config(args);
    let db = open_db(&config);
    let new = db
        .write(|c| auth::scim_tokens::create(c, &args["--name"], Timestamp::now().unix()))
        .unwrap_or_else(|e| fail(&e.developer_message));
    if args.contains_key("--json") {
        println!("{}", serde_json::json!({"id": new.record.id, "name": new.record.name, "token": new.token}));
    } else {
        println!("id: {}\nname: {}\ntoken: {}", new.record.id, new.record.name, new.token);
    }
}

fn import(args: &HashMap<&str, String>) {
    let config = load_config(args);
    // A typo must not import into a new, empty database.
    if !config.database.path.exists() {
        fail(&format!(
            "there is no database at {}; `rollcall import` fills an existing one (start `rollcall serve` or `rollcall init` once to create it)",
            config.database.path.display()
        ));
    }
    let db = open_db(&config);
    let read = |flag: &str| {
        args.get(flag).map(|path| {
            std::fs::read_to_string(path).unwrap_or_else(|e| usage_error(&format!("cannot read {path}: {e}")))
        })
    };
    let (users, enrollments, progress) = (read("--users"), read("--enrollments"), read("--progress"));
    if users.is_none() && enrollments.is_none() && progress.is_none() {
        usage_error("`rollcall import` needs --users, --enrollments and/or --progress");
    }
    let now = Timestamp::now();
    if let Some(lines) = users {
        let imported =
            db.write(|c| rollcall::core::import::users(c, &lines, now)).unwrap_or_else(|e| fail(&e.developer_message));
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
        let count = db
            .write(|c| rollcall::core::import::enrollments(c, &lines, now))
            .unwrap_or_else(|e| fail(&e.developer_message));
        println!("imported {count} enrollments");
    }
    if let Some(lines) = progress {
        let count = db
            .write(|c| rollcall::core::import::progress(c, &lines, now))
            .unwrap_or_else(|e| fail(&e.developer_message));
        println!("imported progress for {count} enrollments");
    }
}

fn backup(args: &HashMap<&str, String>) {
    let (from, to) = (PathBuf::from(&args["--db"]), PathBuf::from(&args["--to"]));
    match rollcall::store::maintenance::backup(&from, &to) {
        Ok(pages) => println!("backed up {} to {} ({pages} pages)", from.display(), to.display()),
        Err(e) => fail(&e.developer_message),
    }
}

fn check(args: &HashMap<&str, String>) {
    let path = PathBuf::from(&args["--db"]);
    let report = rollcall::store::maintenance::check(&path).unwrap_or_else(|e| fail(&e.developer_message));
    println!("schema version: {} (this build: {})", report.schema_version, rollcall::store::db::SCHEMA_VERSION);
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
        fail("the database has problems (above)");
    }
}

fn export_user(args: &HashMap<&str, String>) {
    use rollcall::core::privacy;
    let config = load_config(args);
    let db = open_db(&config);
    let user =
        db.read(|conn| privacy::account(conn, &args["--username"])).unwrap_or_else(|e| fail(&e.developer_message));
    let templates = match config.email.templates_dir.as_str() {
        "" => Default::default(),
        dir => {
            rollcall::core::emails::Templates::load(std::path::Path::new(dir)).unwrap_or_else(|e| fail(&e.to_string()))
        }
    };
    let subjects = privacy::subjects(
        config.server.school_name.clone(),
        config.server.public_base_url.clone(),
        config.email.lms_base_url.clone(),
        templates,
    );
    let mut export = privacy::Export::new(db, user, subjects, Timestamp::now());
    if let Err(e) = std::io::copy(&mut export, &mut std::io::stdout().lock()) {
        fail(&format!("writing the export: {e}"));
    }
}
