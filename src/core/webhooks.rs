//! Webhooks: subscribers receive every enrollment change as a signed JSON event. Events
//! are written to the outbox with the change (same transaction) and delivered after commit.

use crate::auth::secrets;
use crate::core::Error;
use crate::domain::Timestamp;
use crate::store::webhooks::EndpointRecord;
use crate::store::{self, Conn};
use serde_json::Value;

pub fn create(conn: &Conn, url: &str, now: Timestamp) -> Result<EndpointRecord, Error> {
    // http(s)://host[:port][/path]: a host name or IPv4 address (no userinfo, no IPv6
    // literal), so that every URL stored is one the delivery client can reach.
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
    let valid = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && (port.is_empty() && !authority.ends_with(':') || port.parse::<u16>().is_ok_and(|p| p > 0))
        && url.len() <= 2000
        && !url.contains(char::is_whitespace);
    if !valid {
        return Err(Error::field("url", "url must be an http:// or https:// URL."));
    }
    // Standard Webhooks' secret format: "whsec_" + base64 of the key.
    let key = secrets::random_bytes(24);
    let secret = format!("whsec_{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key));
    let id = store::webhooks::insert(conn, url, &secret, now.unix())?;
    store::webhooks::by_id(conn, id)?.ok_or_else(|| Error::internal("endpoint vanished"))
}

pub fn list(conn: &Conn) -> Result<Vec<EndpointRecord>, Error> {
    store::webhooks::all(conn)
}

pub fn delete(conn: &Conn, id: i64) -> Result<(), Error> {
    if !store::webhooks::delete(conn, id)? {
        return Err(Error::not_found(format!("No webhook endpoint {id}.")));
    }
    Ok(())
}

pub fn endpoint(conn: &Conn, id: i64) -> Result<Option<EndpointRecord>, Error> {
    store::webhooks::by_id(conn, id)
}

/// Queues `event` for every active endpoint, in the caller's transaction.
pub fn emit(conn: &Conn, event_type: &str, data: Value, now: Timestamp) -> Result<(), Error> {
    let endpoints = store::webhooks::active_ids(conn)?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let payload = serde_json::json!({"type": event_type, "timestamp": now.to_iso(), "data": data}).to_string();
    for id in endpoints {
        store::outbox::enqueue(conn, "webhook", event_type, &id.to_string(), &payload, now.unix())?;
    }
    Ok(())
}
