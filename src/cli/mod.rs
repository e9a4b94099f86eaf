//! The `rollcall` command line: the command table, the flag parser and one file per
//! command. `run` returns the process's exit code; only `main` exits. Argument errors
//! print one line and give 2; refusals (an initialised database) and faults give 1.

mod backup;
mod check;
mod create_client;
mod create_scim_token;
mod create_user;
mod export_user;
mod import;
mod init;
mod serve;

use crate::config::Config;
use crate::store::Db;
use std::collections::HashMap;
use std::path::PathBuf;

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

/// One command's name, help text and flags; each command's file declares its own.
pub struct Command {
    name: &'static str,
    help: &'static str,
    /// Flags taking a value.
    valued: &'static [&'static str],
    /// Flags that are switches.
    switches: &'static [&'static str],
    required: &'static [&'static str],
    run: fn(&Args) -> Outcome,
}

/// The flags given, by name; a switch maps to an empty string.
pub type Args = HashMap<&'static str, String>;

const COMMANDS: [&Command; 9] = [
    &serve::COMMAND,
    &init::COMMAND,
    &create_user::COMMAND,
    &create_client::COMMAND,
    &create_scim_token::COMMAND,
    &import::COMMAND,
    &backup::COMMAND,
    &check::COMMAND,
    &export_user::COMMAND,
];

/// Why a command stopped before doing its job.
#[derive(Debug)]
pub enum Stop {
    /// `--help`: the usage was printed.
    Help,
    /// A bad argument or setting (exit 2).
    Usage(String),
    /// A refusal or a fault (exit 1).
    Failed(String),
}

pub type Outcome = Result<(), Stop>;

fn usage_error(message: impl Into<String>) -> Stop {
    Stop::Usage(message.into())
}

fn failed(message: impl Into<String>) -> Stop {
    Stop::Failed(message.into())
}

impl From<crate::core::Error> for Stop {
    fn from(e: crate::core::Error) -> Stop {
        Stop::Failed(e.developer_message)
    }
}

/// Runs the command `argv` names (without the program name) and gives the exit code.
pub fn run(argv: &[String]) -> i32 {
    let (name, rest) = match argv.first().map(String::as_str) {
        None => ("serve", argv),
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            return 0;
        }
        Some("--version" | "-V") => {
            println!("rollcall {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Some(first) if first.starts_with("--") => ("serve", argv),
        Some(first) => (first, &argv[1..]),
    };
    let outcome = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| usage_error(format!("unknown command '{name}'")))
        .and_then(|command| {
            let args = parse(command, rest)?;
            crate::telemetry::init_logging();
            (command.run)(&args)
        });
    match outcome {
        Ok(()) | Err(Stop::Help) => 0,
        Err(Stop::Usage(message)) => {
            eprintln!("error: {message} (see `rollcall --help`)");
            2
        }
        Err(Stop::Failed(message)) => {
            eprintln!("error: {message}");
            1
        }
    }
}

fn parse(command: &Command, args: &[String]) -> Result<Args, Stop> {
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
            return Err(Stop::Help);
        }
        if let Some(name) = command.valued.iter().find(|f| **f == flag) {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i).cloned().ok_or_else(|| usage_error(format!("{flag} needs a value")))?
                }
            };
            found.insert(*name, value);
        } else if let Some(name) = command.switches.iter().find(|f| **f == flag) {
            if inline.is_some() {
                return Err(usage_error(format!("{flag} takes no value")));
            }
            found.insert(*name, String::new());
        } else {
            return Err(usage_error(format!("unknown argument '{arg}' for `rollcall {}`", command.name)));
        }
        i += 1;
    }
    for flag in command.required {
        if !found.contains_key(flag) {
            return Err(usage_error(format!("`rollcall {}` needs {flag}", command.name)));
        }
    }
    Ok(found)
}

fn load_config(args: &Args) -> Result<Config, Stop> {
    let mut config = Config::load(args.get("--config").map(PathBuf::from).as_deref()).map_err(usage_error)?;
    if let Some(db) = args.get("--db") {
        config.database.path = PathBuf::from(db);
    }
    if let Some(listen) = args.get("--listen") {
        config.server.listen = listen.clone();
    }
    Ok(config)
}

fn open_db(config: &Config) -> Result<Db, Stop> {
    Ok(Db::open(&config.database)?)
}

/// Reads a file a flag names; an unreadable one is an argument error.
fn read_flag_file(path: &str) -> Result<String, Stop> {
    std::fs::read_to_string(path).map_err(|e| usage_error(format!("cannot read {path}: {e}")))
}
