//! `rollcall create-scim-token`: a token for an identity provider's SCIM client, printed once.

use super::{load_config, open_db, Args, Command, Outcome};
use crate::domain::Timestamp;

pub const COMMAND: Command = Command {
    name: "create-scim-token",
    help: "rollcall create-scim-token --db PATH --name N [--json] [--config FILE]\n\nCreates a token for an identity provider's SCIM client (Entra ID's Secret Token, Okta's API token) and prints it (shown only this once; stored hashed). It works only at /scim/v2, where it creates, changes and deactivates every account except superusers. Revoke it with DELETE /api/admin/v1/scim-tokens/{id}.",
    valued: &["--config", "--db", "--name"],
    switches: &["--json"],
    required: &["--db", "--name"],
    run,
};

fn run(args: &Args) -> Outcome {
    let config = load_config(args)?;
    let db = open_db(&config)?;
    let new = db.write(|c| crate::core::scim_tokens::create(c, &args["--name"], Timestamp::now().unix()))?;
    if args.contains_key("--json") {
        println!("{}", serde_json::json!({"id": new.record.id, "name": new.record.name, "token": new.token}));
    } else {
        println!("id: {}\nname: {}\ntoken: {}", new.record.id, new.record.name, new.token);
    }
    Ok(())
}
