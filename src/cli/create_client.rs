//! `rollcall create-client`: an OAuth client acting as a user, its secret printed once.

use super::{load_config, open_db, Args, Command, Outcome};
use crate::auth;
use crate::domain::Timestamp;

pub const COMMAND: Command = Command {
    name: "create-client",
    help: "rollcall create-client --db PATH --name N --user U [--public] [--json] [--config FILE]\n\nCreates an OAuth client acting as user U and prints client_id and client_secret (shown only this once). --public: a client that cannot keep a secret (a mobile app, an SPA): it has none, and may use only the password and refresh_token grants.",
    valued: &["--config", "--db", "--name", "--user"],
    switches: &["--json", "--public"],
    required: &["--db", "--name", "--user"],
    run,
};

fn run(args: &Args) -> Outcome {
    let config = load_config(args)?;
    let db = open_db(&config)?;
    let client = db.write(|c| {
        auth::clients::create(
            c,
            &args["--name"],
            &args["--user"],
            args.contains_key("--public"),
            Timestamp::now().unix(),
        )
    })?;
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
    Ok(())
}
