//! OAuth client registration: a random client id and a 256-bit secret, of which only the
//! SHA-256 is stored. (A slow KDF adds nothing for a secret with that much entropy, and
//! keeps the token endpoint fast.)

use super::secrets;
use crate::core::Error;
use crate::store::{self, clients::ClientRecord, Conn};

pub struct NewClient {
    pub record: ClientRecord,
    /// Shown once, at creation.
    pub client_secret: String,
}

pub fn create(conn: &Conn, name: &str, username: &str, now: i64) -> Result<NewClient, Error> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err(Error::field("name", "A client needs a name of 1 to 255 characters."));
    }
    let user = store::users::by_username(conn, username)?
        .ok_or_else(|| Error::field("user", format!("The user {username} does not exist.")))?;
    let client_id = secrets::random_token(18);
    let client_secret = secrets::random_token(32);
    store::clients::insert(conn, &client_id, &secrets::sha256_hex(&client_secret), name.trim(), user.id, now)?;
    let record = store::clients::by_client_id(conn, &client_id)?
        .ok_or_else(|| Error::internal("client vanished after insert"))?;
    Ok(NewClient { record, client_secret })
}

/// Deletes a client (its tokens go with it). A client acting as a superuser is a
/// superuser's integration: only a superuser may remove it. False when there is none.
pub fn delete(conn: &Conn, client_id: &str, actor_is_superuser: bool) -> Result<bool, Error> {
    let Some(client) = store::clients::by_client_id(conn, client_id)? else { return Ok(false) };
    let acts_as_superuser = store::users::by_username(conn, &client.username)?.is_some_and(|u| u.is_superuser);
    if acts_as_superuser && !actor_is_superuser {
        return Err(Error::forbidden("Only a superuser may remove a client acting as a superuser."));
    }
    store::clients::delete(conn, client_id)
}

pub fn list(conn: &Conn) -> Result<Vec<ClientRecord>, Error> {
    store::clients::list(conn)
}
