//! Webhooks: subscribers receive every enrollment change as a signed JSON event. Events
//! are written to the outbox with the change (same transaction) and delivered after commit.

use crate::auth::secrets;
use crate::core::accounts::Actor;
use crate::core::Error;
use crate::domain::Timestamp;
use crate::store::webhooks::EndpointRecord;
use crate::store::{self, Conn, Db};
use serde_json::Value;
use std::net::{IpAddr, ToSocketAddrs};

/// Whether a webhook may be delivered to `ip`: public unicast only. Loopback, private,
/// shared (CGNAT), link-local, unspecified, multicast, broadcast and documentation ranges
/// are how a webhook becomes a probe of the school's own network (SSRF).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || (v6.segments()[0] & 0xffc0) == 0xfec0)
            }
        },
    }
}

/// `webhooks.allowed_hosts` lists hosts (names or addresses) a school trusts on its own
/// network, and the tests' loopback receivers.
pub fn host_allowed(host: &str, allowed_hosts: &[String]) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// Refuses a URL whose host is, or resolves to, a non-public address. A name that does
/// not resolve now is accepted: delivery checks the addresses again after resolving them
/// (`jobs::outbox`), so DNS cannot switch a vetted name to a private address later.
fn check_destination(host: &str, port: u16, allowed_hosts: &[String]) -> Result<(), Error> {
    if host_allowed(host, allowed_hosts) {
        return Ok(());
    }
    let refused = || {
        Error::field(
            "url",
            "url must reach a public address: loopback, private and link-local ones are refused unless listed in webhooks.allowed_hosts.",
        )
    };
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return Err(refused());
    }
    if let Ok(addresses) = (host, port).to_socket_addrs() {
        if addresses.into_iter().any(|a| !is_public(a.ip())) {
            return Err(refused());
        }
    }
    Ok(())
}

/// Superusers only: a webhook sends every enrollment change to an address of the caller's choosing.
pub fn check_may_manage(actor: &Actor) -> Result<(), Error> {
    if !actor.is_superuser {
        return Err(Error::forbidden("Only a superuser may manage webhooks."));
    }
    Ok(())
}

pub fn create(conn: &Conn, url: &str, allowed_hosts: &[String], now: Timestamp) -> Result<EndpointRecord, Error> {
    // http(s)://host[:port][/path]: a host name or IPv4 address (no userinfo, no IPv6
    // literal), so that every URL stored is one the delivery client can reach.
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
    let valid = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && (port.is_empty() && !authority.ends_with(':') || port.parse::<u16>().is_ok_and(|p| p > 0))
        && url.chars().count() <= crate::domain::URL_MAX_CHARS
        && !url.contains(|c: char| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(Error::field("url", "url must be an http:// or https:// URL."));
    }
    let default_port = if url.starts_with("https://") { 443 } else { 80 };
    check_destination(host, port.parse().unwrap_or(default_port), allowed_hosts)?;
    // Standard Webhooks' secret format: "whsec_" + base64 of the key.
    let key = secrets::random_bytes(24);
    let secret = format!("whsec_{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key));
    let id = store::webhooks::insert(conn, url, &secret, now.unix())?;
    store::webhooks::by_id(conn, id)?.ok_or_else(|| Error::internal("endpoint vanished"))
}

/// An endpoint as the admin surfaces list it: without its signing secret, which is shown
/// once, when it is created (`Subscribed`).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub active: bool,
    pub created: Timestamp,
}

impl From<EndpointRecord> for Endpoint {
    fn from(e: EndpointRecord) -> Endpoint {
        Endpoint { id: e.id, url: e.url, active: e.active, created: Timestamp::from_unix(e.created) }
    }
}

/// A new endpoint and its signing secret.
pub struct Subscribed {
    pub endpoint: Endpoint,
    pub secret: String,
}

/// A superuser subscribes a URL to enrollment events; the signing secret is in the answer.
pub fn subscribe(
    db: &Db,
    actor: &Actor,
    url: &str,
    allowed_hosts: &[String],
    now: Timestamp,
) -> Result<Subscribed, Error> {
    check_may_manage(actor)?;
    let record = db.write(|conn| create(conn, url, allowed_hosts, now))?;
    Ok(Subscribed { secret: record.secret.clone(), endpoint: record.into() })
}

pub fn list(conn: &Conn) -> Result<Vec<EndpointRecord>, Error> {
    store::webhooks::all(conn)
}

/// Every endpoint, for a superuser.
pub fn endpoints(db: &Db, actor: &Actor) -> Result<Vec<Endpoint>, Error> {
    check_may_manage(actor)?;
    Ok(db.read(list)?.into_iter().map(Endpoint::from).collect())
}

/// Removes an endpoint and the deliveries still queued for it: an event meant for it never
/// goes anywhere else (ids are never reused either: AUTOINCREMENT).
pub fn delete(conn: &Conn, id: i64) -> Result<(), Error> {
    if !store::webhooks::delete(conn, id)? {
        return Err(Error::not_found(format!("No webhook endpoint {id}.")));
    }
    store::outbox::drop_pending(conn, "webhook", &id.to_string())?;
    Ok(())
}

/// A superuser unsubscribes an endpoint; its queued deliveries go with it.
pub fn unsubscribe(db: &Db, actor: &Actor, id: i64) -> Result<(), Error> {
    check_may_manage(actor)?;
    db.write(|conn| delete(conn, id))
}

/// Consecutive failures after which an endpoint is paused (its circuit opens).
const BREAKER_THRESHOLD: i64 = 3;

/// Records a delivery's outcome for the endpoint's circuit breaker: after
/// `BREAKER_THRESHOLD` failures in a row its deliveries wait (1 min, doubling to 1 h) so
/// that one dead receiver costs the others nothing; one success closes it.
pub fn record_delivery(conn: &Conn, id: i64, succeeded: bool, now: Timestamp) -> Result<(), Error> {
    if succeeded {
        return store::webhooks::set_failures(conn, id, 0, 0);
    }
    let failures = store::webhooks::by_id(conn, id)?.map_or(0, |e| e.consecutive_failures) + 1;
    let paused_until = if failures >= BREAKER_THRESHOLD {
        now.unix() + (60i64 << (failures - BREAKER_THRESHOLD).min(6)).min(3600)
    } else {
        0
    };
    store::webhooks::set_failures(conn, id, failures, paused_until)
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
