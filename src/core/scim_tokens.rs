//! SCIM bearer tokens: what an identity provider (Entra ID's "Secret Token", Okta's API
//! token) presents at `/scim/v2`. Like OAuth client secrets (`clients.rs`): 256 random
//! bits, of which only the SHA-256 is stored, and shown once. A SCIM token opens nothing
//! but `/scim/v2`, and nothing else opens `/scim/v2`.

use super::{Error, ErrorKind};
use crate::auth::secrets;
use crate::store::{self, scim::ScimTokenRecord, Conn, Db};

/// Recognisable in logs and by secret scanners; the rest is random.
const PREFIX: &str = "rcscim_";

pub struct NewToken {
    pub record: ScimTokenRecord,
    /// Shown once, at creation.
    pub token: String,
}

/// A SCIM token creates and deactivates accounts, so only superusers manage them (admin
/// API and console alike); global staff who are not superusers are refused.
pub fn require_superuser(is_superuser: bool) -> Result<(), Error> {
    if is_superuser {
        Ok(())
    } else {
        Err(Error::forbidden("Only superusers may manage SCIM tokens."))
    }
}

pub fn create(conn: &Conn, name: &str, now: i64) -> Result<NewToken, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(Error::field("name", "A SCIM token needs a name of 1 to 255 characters."));
    }
    let token = format!("{PREFIX}{}", secrets::random_token(32));
    let id = store::scim::insert_token(conn, name, &secrets::sha256_hex(&token), now)?;
    Ok(NewToken { record: ScimTokenRecord { id, name: name.to_owned(), created: now }, token })
}

pub fn list(conn: &Conn) -> Result<Vec<ScimTokenRecord>, Error> {
    store::scim::tokens(conn)
}

/// Revokes the token whose id a path names (admin API and console); 404 when there is no
/// such token.
pub fn delete(conn: &Conn, id: &str) -> Result<(), Error> {
    let deleted = match id.parse::<i64>() {
        Ok(n) => store::scim::delete_token(conn, n)?,
        Err(_) => false,
    };
    if deleted {
        Ok(())
    } else {
        Err(Error::not_found(format!("No SCIM token {id}.")))
    }
}

/// The token an `Authorization: Bearer …` header presents; anything else (no header, a
/// JWT, an OAuth token, a revoked SCIM token) is 401. The lookup is by hash, so no
/// comparison of the secret itself can leak its bytes through timing.
pub fn authenticate(db: &Db, authorization: Option<&str>) -> Result<super::scim::Token, Error> {
    let unauthorized = |why: &str| {
        log::debug!("SCIM request refused: {why}");
        Error::new(ErrorKind::NotAuthenticated, "A SCIM token is required: Authorization: Bearer <token>.")
    };
    let header = authorization.ok_or_else(|| unauthorized("no Authorization header"))?.trim();
    let (scheme, token) = header.split_once(' ').ok_or_else(|| unauthorized("no scheme"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !token.starts_with(PREFIX) {
        return Err(unauthorized("not a SCIM bearer token"));
    }
    let hash = secrets::sha256_hex(token);
    let record = db.read(|conn| store::scim::token_by_hash(conn, &hash))?;
    record.map(super::scim::Token::from).ok_or_else(|| unauthorized("unknown or revoked token"))
}
