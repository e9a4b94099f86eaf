//! `rollcall create-user`: an active account, its password generated when none is given.

use super::{load_config, open_db, usage_error, Args, Command, Outcome};
use crate::auth::{self, passwords::Hasher};
use crate::core::accounts::{self, Actor, NewUser};
use crate::domain::{Email, Profile, Timestamp, Username};

pub const COMMAND: Command = Command {
    name: "create-user",
    help: "rollcall create-user --db PATH --username U --email E [--password P] [--staff] [--superuser] [--config FILE]\n\nCreates an active user. Without --password a random one is generated and printed once.",
    valued: &["--config", "--db", "--username", "--email", "--password"],
    switches: &["--staff", "--superuser"],
    required: &["--db", "--username", "--email"],
    run,
};

fn run(args: &Args) -> Outcome {
    let config = load_config(args)?;
    let username = Username::parse(&args["--username"]).map_err(|e| usage_error(e.0))?;
    let email = Email::parse(&args["--email"]).map_err(|e| usage_error(e.0))?;
    let (password, generated) = match args.get("--password") {
        Some(p) if p.chars().count() >= 8 => (p.clone(), false),
        Some(_) => return Err(usage_error("--password must be at least 8 characters")),
        None => (auth::secrets::random_token(18), true),
    };
    let db = open_db(&config)?;
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
    let user = db.write(|c| accounts::create_user(c, &Actor::SYSTEM, new, Timestamp::now()))?;
    println!("created user {} <{}>", user.username, user.email);
    if generated {
        println!("password: {password}");
    }
    Ok(())
}
