//! OAuth client registration: a random client id and a 256-bit secret, of which only the
//! SHA-256 is stored. (A slow KDF adds nothing for a secret with that much entropy, and
//! keeps the token endpoint fast.)

use super::secrets;
use crate::error::Error;
use crate::store::{self, clients::ClientRecord, Conn};

pub struct NewClient {
    pub record: ClientRecord,
    /// Shown once, at creation; None for a public client, which has none.
    pub client_secret: Option<String>,
}

/// `public`: a client that cannot keep a secret (Open edX's mobile apps and SPAs are DOT
/// applications of type public): it may use the password and refresh grants without one.
/// A client acting as `username`, made by an admin: only a superuser may make one that
/// acts as staff or a superuser (the admin API and the console both ask here).
pub fn create_as_admin(
    conn: &Conn,
    actor_is_superuser: bool,
    name: &str,
    username: &str,
    public: bool,
    now: i64,
) -> Result<NewClient, Error> {
    let target = crate::store::users::by_username(conn, username)?
        .ok_or_else(|| Error::field("user", format!("The user {username} does not exist.")))?;
    if (target.is_superuser || target.is_staff) && !actor_is_superuser {
        return Err(Error::forbidden("Only a superuser may create clients acting as staff or superusers."));
    }
    create(conn, name, username, public, now)
}

pub fn create(conn: &Conn, name: &str, username: &str, public: bool, now: i64) -> Result<NewClient, Error> {
    let name = crate::domain::Title::parse(name).map_err(|e| Error::field("name", e.0))?;
    if name.as_str().trim().is_empty() {
        return Err(Error::field("name", "A client needs a name of 1 to 255 characters."));
    }
    let name = name.as_str();
    let user = store::users::by_username(conn, username)?
        .ok_or_else(|| Error::field("user", format!("The user {username} does not exist.")))?;
    let client_id = secrets::random_token(18);
    let client_secret = (!public).then(|| secrets::random_token(32));
    // A public client's stored hash matches no presented secret.
    let secret_hash = client_secret.as_deref().map(secrets::sha256_hex).unwrap_or_default();
    store::clients::insert(conn, &client_id, &secret_hash, name.trim(), user.id, public, now)?;
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
