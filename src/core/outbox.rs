//! The outbox as the admin and the delivery worker see it: list, retry, claim, record.

use crate::core::{Env, Error};
use crate::domain::Timestamp;
use crate::store::outbox::MessageRecord;
use crate::store::{self, Conn, Db};

/// How long a claimed message is hidden from other workers while it is being sent; a
/// crash mid-send makes it due again after this (delivery is at least once).
const LEASE_SECONDS: i64 = 300;

pub fn any_due(conn: &Conn, now: Timestamp, webhooks: bool) -> Result<bool, Error> {
    store::outbox::any_due(conn, now.unix(), webhooks)
}

/// Takes up to `limit` due messages of one kind (webhooks, or emails and jobs).
pub fn claim_due(conn: &Conn, now: Timestamp, limit: i64, webhooks: bool) -> Result<Vec<MessageRecord>, Error> {
    let due = store::outbox::due(conn, now.unix(), limit, webhooks)?;
    for message in &due {
        store::outbox::mark_attempt_lease(conn, message.id, now.unix() + LEASE_SECONDS)?;
    }
    Ok(due)
}

/// Hands a claimed message back unsent (shutdown): due again at once, not after the lease.
pub fn release(conn: &Conn, id: i64, now: Timestamp) -> Result<(), Error> {
    store::outbox::mark_attempt_lease(conn, id, now.unix())
}

/// Keys of a payload that are credentials (a set-password or email-change link): once the
/// message is delivered they are removed from the stored copy, which the admin API lists.
const CREDENTIAL_KEYS: [&str; 1] = ["link"];

/// The payload without its credentials, or None when it holds none.
fn redacted(payload: &str) -> Option<String> {
    let serde_json::Value::Object(mut payload) = serde_json::from_str(payload).ok()? else { return None };
    if !CREDENTIAL_KEYS.iter().any(|k| payload.contains_key(*k)) {
        return None;
    }
    for key in CREDENTIAL_KEYS {
        if payload.contains_key(key) {
            payload.insert(key.to_owned(), serde_json::Value::String("[redacted]".into()));
        }
    }
    Some(serde_json::Value::Object(payload).to_string())
}

pub fn delivered(conn: &Conn, message: &MessageRecord, now: Timestamp) -> Result<(), Error> {
    store::outbox::mark_sent(conn, message.id, now.unix())?;
    if let Some(payload) = redacted(&message.payload) {
        store::outbox::set_payload(conn, message.id, &payload)?;
    }
    Ok(())
}

pub fn attempt_failed(conn: &Conn, id: i64, error: &str, next_attempt_at: i64, give_up: bool) -> Result<(), Error> {
    store::outbox::mark_attempt_failed(conn, id, error, next_attempt_at, give_up)
}

pub fn list(
    conn: &Conn,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<(i64, Vec<MessageRecord>), Error> {
    if let Some(s) = status {
        if !matches!(s, "pending" | "sent" | "failed") {
            return Err(Error::field("status", "status must be pending, sent or failed."));
        }
    }
    // Whoever reads the outbox (global staff) never sees a credential, sent or not: an
    // unsent set-password link would otherwise let them set another account's password.
    let mut messages = store::outbox::list(conn, status, before_id, limit)?;
    for message in &mut messages {
        if let Some(payload) = redacted(&message.payload) {
            message.payload = payload;
        }
    }
    Ok((store::outbox::count(conn, status)?, messages))
}

/// A message as staff see it in the outbox (its payload already redacted by `list`).
#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub created: Timestamp,
    pub channel: String,
    pub message_type: String,
    pub recipient: String,
    /// JSON, without credentials (`redacted`).
    pub payload: String,
    /// `pending`, `sent` or `failed`, and the delivery so far.
    pub status: String,
    pub sent_at: Option<Timestamp>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When a pending message is next tried.
    pub next_attempt_at: Timestamp,
}

impl From<MessageRecord> for Message {
    fn from(m: MessageRecord) -> Message {
        Message {
            next_attempt_at: Timestamp::from_unix(m.next_attempt_at),
            created: Timestamp::from_unix(m.created),
            sent_at: m.sent_at.map(Timestamp::from_unix),
            id: m.id,
            channel: m.channel,
            message_type: m.message_type,
            recipient: m.recipient,
            payload: m.payload,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
        }
    }
}

/// One page of the outbox for staff, newest first, with the count for the filter.
pub fn list_messages(
    db: &Db,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<(i64, Vec<Message>), Error> {
    let (count, messages) = db.snapshot(|conn| list(conn, status, before_id, limit))?;
    Ok((count, messages.into_iter().map(Message::from).collect()))
}

/// Makes a message due now (a failed one gets a fresh round of attempts).
pub fn retry(conn: &Conn, id: i64, now: Timestamp) -> Result<MessageRecord, Error> {
    let message =
        store::outbox::by_id(conn, id)?.ok_or_else(|| Error::not_found(format!("No outbox message {id}.")))?;
    if message.status == "sent" {
        return Err(Error::conflict(format!("Message {id} was already sent.")));
    }
    store::outbox::requeue(conn, id, now.unix())?;
    store::outbox::by_id(conn, id)?.ok_or_else(|| Error::internal("message vanished"))
}

/// Staff make a message due now (the admin's retry).
pub fn retry_message(env: &Env, id: i64, now: Timestamp) -> Result<Message, Error> {
    env.write_for_workers(|conn| retry(conn, id, now)).map(Message::from)
}
