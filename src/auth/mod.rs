//! The primitives of knowing who is calling: password hashes, JWTs, OAuth clients, session
//! rows, signed links, secrets and the API key. The core's use cases (`core::sessions`,
//! `core::tokens`) check a request's credentials and sign people in with them.

pub mod clients;
pub mod jwt;
pub mod links;
pub mod passwords;
pub mod secrets;
pub mod sessions;

use crate::config::Config;
use crate::error::Error;
use crate::store::{self, Db};

/// What authentication needs, built once at start-up and shared by all threads.
pub struct Auth {
    pub jwt: jwt::JwtKeys,
    /// Signs set-password links (the same generated secret as JWTs, with a purpose prefix).
    pub link_secret: Vec<u8>,
    pub token_lifetime: i64,
    /// Empty when `X-Edx-Api-Key` access is off.
    api_key: String,
    pub passwords: passwords::Hasher,
}

impl Auth {
    /// Reads or generates the JWT secret (kept in `settings` so tokens survive restarts).
    pub fn new(config: &Config, db: &Db, public_base_url: &str) -> Result<Auth, Error> {
        let secret = if config.auth.jwt_secret.is_empty() {
            db.write(|conn| match store::settings::get(conn, "jwt_secret")? {
                Some(secret) => Ok(secret),
                None => {
                    let secret = secrets::random_token(32);
                    store::settings::set(conn, "jwt_secret", &secret)?;
                    Ok(secret)
                }
            })?
        } else {
            config.auth.jwt_secret.clone()
        };
        let issuer = if config.auth.jwt_issuer.is_empty() {
            format!("{public_base_url}/oauth2")
        } else {
            config.auth.jwt_issuer.clone()
        };
        Ok(Auth {
            link_secret: format!("links:{secret}").into_bytes(),
            jwt: jwt::JwtKeys::new(secret.into_bytes(), issuer, config.auth.jwt_audience.clone()),
            token_lifetime: config.auth.token_lifetime_seconds,
            api_key: config.auth.api_key.clone(),
            passwords: passwords::Hasher::new(&config.auth),
        })
    }

    /// Constant-time check of an `X-Edx-Api-Key` header.
    pub fn api_key_matches(&self, presented: &str) -> bool {
        !self.api_key.is_empty() && secrets::constant_time_eq(presented.as_bytes(), self.api_key.as_bytes())
    }
}
