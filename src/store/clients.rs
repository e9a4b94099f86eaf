//! OAuth clients and the opaque access tokens issued to them (stored as SHA-256 only).

use crate::error::Error;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub id: i64,
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub user_id: i64,
    pub username: String,
    pub created: i64,
    pub public: bool,
}

const CLIENT_SELECT: &str =
    "SELECT c.id, c.client_id, c.secret_hash, c.name, c.user_id, u.username, c.created, c.public \
    FROM oauth_clients c JOIN users u ON u.id = c.user_id";

fn client_from_row(r: &Row) -> rusqlite::Result<ClientRecord> {
    Ok(ClientRecord {
        id: r.get(0)?,
        client_id: r.get(1)?,
        secret_hash: r.get(2)?,
        name: r.get(3)?,
        user_id: r.get(4)?,
        username: r.get(5)?,
        created: r.get(6)?,
        public: r.get(7)?,
    })
}

pub fn insert(
    conn: &Connection,
    client_id: &str,
    secret_hash: &str,
    name: &str,
    user_id: i64,
    public: bool,
    now: i64,
) -> Result<i64, Error> {
    conn.prepare_cached(
        "INSERT INTO oauth_clients (client_id, secret_hash, name, user_id, created, public) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![client_id, secret_hash, name, user_id, now, public])?;
    Ok(conn.last_insert_rowid())
}

pub fn by_client_id(conn: &Connection, client_id: &str) -> Result<Option<ClientRecord>, Error> {
    let sql = format!("{CLIENT_SELECT} WHERE c.client_id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([client_id], client_from_row).optional()?)
}

pub fn exists(conn: &Connection, client_id: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM oauth_clients WHERE client_id = ?1)")?
        .query_row([client_id], |r| r.get(0))?)
}

pub fn list(conn: &Connection) -> Result<Vec<ClientRecord>, Error> {
    let sql = format!("{CLIENT_SELECT} ORDER BY c.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], client_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes the client; its opaque tokens go with it (ON DELETE CASCADE), and its JWTs stop
/// verifying because the client is looked up on every request.
pub fn delete(conn: &Connection, client_id: &str) -> Result<bool, Error> {
    Ok(conn.prepare_cached("DELETE FROM oauth_clients WHERE client_id = ?1")?.execute([client_id])? > 0)
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub user_id: i64,
    pub client_id: String,
    pub scope: String,
    pub expires_at: i64,
}

pub fn insert_token(
    conn: &Connection,
    token_hash: &str,
    client_row_id: i64,
    user_id: i64,
    scope: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO access_tokens (token_hash, client_id, user_id, scope, expires_at, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![token_hash, client_row_id, user_id, scope, expires_at, now])?;
    Ok(())
}

/// A live (unrevoked) token by its hash; expiry is the caller's check.
pub fn token_by_hash(conn: &Connection, token_hash: &str) -> Result<Option<TokenRecord>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT t.user_id, c.client_id, t.scope, t.expires_at FROM access_tokens t \
             JOIN oauth_clients c ON c.id = t.client_id WHERE t.token_hash = ?1 AND t.revoked = 0",
        )?
        .query_row([token_hash], |r| {
            Ok(TokenRecord { user_id: r.get(0)?, client_id: r.get(1)?, scope: r.get(2)?, expires_at: r.get(3)? })
        })
        .optional()?)
}

/// Revokes a token only if it belongs to `client_row_id` (RFC 7009 §2.1): an access
/// token with its refresh token, or a refresh token with its access token.
pub fn revoke_token(conn: &Connection, token_hash: &str, client_row_id: i64) -> Result<bool, Error> {
    let access = conn
        .prepare_cached("UPDATE access_tokens SET revoked = 1 WHERE token_hash = ?1 AND client_id = ?2")?
        .execute(params![token_hash, client_row_id])?;
    let paired: Option<String> = conn
        .prepare_cached("SELECT access_token_hash FROM refresh_tokens WHERE token_hash = ?1 AND client_id = ?2")?
        .query_row(params![token_hash, client_row_id], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(access_hash) = paired {
        conn.prepare_cached("UPDATE access_tokens SET revoked = 1 WHERE token_hash = ?1")?.execute([access_hash])?;
    }
    let refresh = conn
        .prepare_cached(
            "DELETE FROM refresh_tokens WHERE client_id = ?2 AND (token_hash = ?1 OR access_token_hash = ?1)",
        )?
        .execute(params![token_hash, client_row_id])?;
    Ok(access + refresh > 0)
}

pub struct RefreshRecord {
    pub id: i64,
    pub client_row_id: i64,
    pub user_id: i64,
    pub scope: String,
    pub token_type: String,
    pub access_token_hash: Option<String>,
}

#[allow(clippy::too_many_arguments)] // one column each: a struct would only rename them
pub fn insert_refresh(
    conn: &Connection,
    token_hash: &str,
    client_row_id: i64,
    user_id: i64,
    scope: &str,
    token_type: &str,
    access_token_hash: Option<&str>,
    now: i64,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (token_hash, client_id, user_id, scope, token_type, access_token_hash, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![token_hash, client_row_id, user_id, scope, token_type, access_token_hash, now])?;
    Ok(())
}

pub fn refresh_by_hash(conn: &Connection, token_hash: &str) -> Result<Option<RefreshRecord>, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT id, client_id, user_id, scope, token_type, access_token_hash FROM refresh_tokens WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok(RefreshRecord {
                id: r.get(0)?,
                client_row_id: r.get(1)?,
                user_id: r.get(2)?,
                scope: r.get(3)?,
                token_type: r.get(4)?,
                access_token_hash: r.get(5)?,
            })
        })
        .optional()?)
}

/// Spends a refresh token (rotation: each is exchanged once) and revokes its access token.
pub fn spend_refresh(conn: &Connection, record: &RefreshRecord) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM refresh_tokens WHERE id = ?1")?.execute([record.id])?;
    if let Some(access_hash) = &record.access_token_hash {
        conn.prepare_cached("UPDATE access_tokens SET revoked = 1 WHERE token_hash = ?1")?.execute([access_hash])?;
    }
    Ok(())
}

pub fn delete_expired_tokens(conn: &Connection, now: i64) -> Result<usize, Error> {
    Ok(conn.prepare_cached("DELETE FROM access_tokens WHERE expires_at < ?1")?.execute([now])?)
}

/// Deletes every opaque access token and refresh token issued for the user.
pub fn delete_tokens_for_user(conn: &Connection, user_id: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM access_tokens WHERE user_id = ?1")?.execute([user_id])?;
    conn.prepare_cached("DELETE FROM refresh_tokens WHERE user_id = ?1")?.execute([user_id])?;
    Ok(())
}
