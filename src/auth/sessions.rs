//! Browser sessions: a random cookie value (stored only as its SHA-256) and a CSRF token
//! that unsafe requests must echo in the `X-CSRFToken` header.

use super::secrets;
use crate::error::Error;
use crate::store::{self, Db};

pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
}

pub fn create(db: &Db, user_id: i64, lifetime: i64, now: i64) -> Result<NewSession, Error> {
    let cookie_value = secrets::random_token(32);
    let csrf_token = secrets::random_token(24);
    db.write(|conn| {
        store::sessions::insert(conn, &secrets::sha256_hex(&cookie_value), user_id, &csrf_token, now + lifetime, now)?;
        store::users::set_last_login(conn, user_id, now)
    })?;
    Ok(NewSession { cookie_value, csrf_token })
}

pub fn end(db: &Db, cookie_value: &str) -> Result<(), Error> {
    db.write(|conn| store::sessions::delete(conn, &secrets::sha256_hex(cookie_value)))
}
