//! Delivers the outbox: renders each email and hands it to the configured backend (`log`,
//! `dir` of .eml files, or `smtp`), retrying failures with exponential backoff.

use super::Context;
use crate::config::EmailConfig;
use crate::core::emails::{self, Site};
use crate::core::{outbox, Error};
use crate::domain::Timestamp;
use crate::store::outbox::MessageRecord;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub enum Mailer {
    Log,
    Dir(PathBuf),
    Smtp(Box<SmtpTransport>),
}

impl Mailer {
    pub fn from_config(c: &EmailConfig) -> Result<Mailer, String> {
        Ok(match c.backend.as_str() {
            "dir" => {
                std::fs::create_dir_all(&c.dir).map_err(|e| format!("email.dir {}: {e}", c.dir.display()))?;
                Mailer::Dir(c.dir.clone())
            }
            "smtp" => {
                let builder = match c.smtp_security.as_str() {
                    "tls" => SmtpTransport::relay(&c.smtp_host).map_err(|e| format!("email.smtp_host: {e}"))?,
                    "starttls" => {
                        SmtpTransport::starttls_relay(&c.smtp_host).map_err(|e| format!("email.smtp_host: {e}"))?
                    }
                    _ => SmtpTransport::builder_dangerous(&c.smtp_host),
                };
                let mut builder = builder.port(c.smtp_port).timeout(Some(Duration::from_secs(20)));
                if !c.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(c.smtp_username.clone(), c.smtp_password.clone()));
                }
                Mailer::Smtp(Box::new(builder.build()))
            }
            _ => Mailer::Log,
        })
    }
}

const ATTEMPTS: i64 = 8;

/// Seconds before attempt `attempts + 1`: 30 s, 1 min, 2 min … capped at an hour.
fn backoff(attempts: i64) -> i64 {
    (30i64 << attempts.clamp(0, 7)).min(3600)
}

fn build(cx: &dyn Context, message: &MessageRecord) -> Result<Message, String> {
    let payload: serde_json::Value = serde_json::from_str(&message.payload).map_err(|e| format!("bad payload: {e}"))?;
    let lms = cx.config().email.lms_base_url.trim_end_matches('/');
    let site = Site {
        school_name: &cx.config().server.school_name,
        base_url: cx.base_url(),
        lms_base_url: (!lms.is_empty()).then_some(lms),
    };
    let rendered = emails::render_with(&message.message_type, &payload, &site, cx.templates())
        .ok_or_else(|| format!("unknown message type {}", message.message_type))?;
    let from: Mailbox = cx.config().email.from.parse().map_err(|e| format!("email.from: {e}"))?;
    let to: Mailbox = message.recipient.parse().map_err(|e| format!("recipient {}: {e}", message.recipient))?;
    // A Message-ID (from this host's name) and a Date: providers penalise mail without them.
    Message::builder()
        .message_id(None)
        .date_now()
        .from(from)
        .to(to)
        .subject(rendered.subject)
        .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
        .map_err(|e| e.to_string())
}

fn deliver(cx: &dyn Context, message: &MessageRecord) -> Result<(), String> {
    match message.channel.as_str() {
        "webhook" => deliver_webhook(cx, message),
        "job" => run_job(cx, message),
        _ => deliver_email(cx, message),
    }
}

/// Background jobs written with a change: `process_course_access` (checkout's
/// ProcessCourseAccess) confirms that the purchased enrollment is active, so the learner
/// can open the course; until it is, the job is retried like any delivery.
fn run_job(cx: &dyn Context, message: &MessageRecord) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(&message.payload).map_err(|e| format!("bad payload: {e}"))?;
    match message.message_type.as_str() {
        "process_course_access" => {
            let text = |key: &str| payload.get(key).and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
            let (username, course_key) = (text("username"), text("course_key"));
            let active = cx
                .db()
                .read(|conn| crate::core::checkout::enrollment_active(conn, &username, &course_key))
                .map_err(|e| e.developer_message)?;
            if !active {
                return Err(format!("{username} is not (yet) enrolled in {course_key}"));
            }
            log::info!("course access ready: {username} in {course_key} (order {})", payload["order_id"]);
            Ok(())
        }
        other => Err(format!("unknown job {other}")),
    }
}

/// Resolves a webhook's host and keeps only the addresses it may reach
/// (`core::webhooks::is_public`, or a host in `webhooks.allowed_hosts`): the connection
/// goes to an address checked here, after resolution, so a name that later resolves to a
/// private address (DNS rebinding) reaches nothing.
#[derive(Debug)]
struct PublicOnly {
    allowed_hosts: Vec<String>,
}

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        use ureq::unversioned::resolver::DefaultResolver;
        let resolved = DefaultResolver::default().resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or("");
        if crate::core::webhooks::host_allowed(host, &self.allowed_hosts) {
            return Ok(resolved);
        }
        let mut kept = self.empty();
        for address in resolved.iter().filter(|a| crate::core::webhooks::is_public(a.ip())) {
            kept.push(*address);
        }
        if kept.is_empty() {
            log::warn!("webhook host {host} resolves only to addresses webhooks may not reach");
            return Err(ureq::Error::HostNotFound);
        }
        Ok(kept)
    }
}

/// POSTs an event with Standard Webhooks headers: `webhook-id`, `webhook-timestamp` and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. Only a 2xx is
/// success; redirects are not followed (a 3xx is a failure). The error kept in the outbox
/// is generic ("connection failed", "HTTP 401"): the outbox must not tell staff what
/// answers where on the network.
fn deliver_webhook(cx: &dyn Context, message: &MessageRecord) -> Result<(), String> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        let webhooks = &cx.config().webhooks;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(Duration::from_secs(webhooks.timeout_seconds.clamp(1, 3))))
            .timeout_global(Some(Duration::from_secs(webhooks.timeout_seconds.max(1))))
            .build();
        let resolver = PublicOnly { allowed_hosts: webhooks.allowed_hosts.clone() };
        ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::default(), resolver)
    });
    let endpoint_id: i64 = message.recipient.parse().map_err(|_| "bad endpoint id".to_owned())?;
    let endpoint = cx
        .db()
        .read(|c| crate::core::webhooks::endpoint(c, endpoint_id))
        .map_err(|e| e.developer_message)?
        .ok_or_else(|| "the endpoint was deleted".to_owned())?;
    let key =
        STANDARD.decode(endpoint.secret.trim_start_matches("whsec_")).map_err(|_| "bad endpoint secret".to_owned())?;
    let id = format!("msg_{}", message.id);
    let timestamp = Timestamp::now().unix().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.{}", message.payload).as_bytes());
    let signature = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let result = agent
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", &timestamp)
        .header("webhook-signature", &signature)
        .send(message.payload.as_str())
        .map_err(|e| {
            log::debug!("webhook {} to endpoint {endpoint_id}: {e}", message.id);
            match e {
                ureq::Error::Timeout(_) => "timed out".to_owned(),
                _ => "connection failed".to_owned(),
            }
        })
        .and_then(|response| {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(format!("HTTP {status}"))
            }
        });
    let breaker =
        cx.db().write(|c| crate::core::webhooks::record_delivery(c, endpoint_id, result.is_ok(), Timestamp::now()));
    if let Err(e) = breaker {
        log::error!("recording webhook endpoint {endpoint_id}'s delivery: {e}");
    }
    result
}

fn deliver_email(cx: &dyn Context, message: &MessageRecord) -> Result<(), String> {
    let email = build(cx, message)?;
    match cx.mailer() {
        // The whole message, so that a demo shows what would have been sent.
        // A message carrying a credential (a set-password or email-change link) is logged
        // without its body: a log is read by more people than the mailbox.
        Mailer::Log if carries_credential(message) => {
            log::info!(
                "email {} ({}) to {}: not shown (it carries a sign-in link); use the dir or smtp backend to read it",
                message.id,
                message.message_type,
                message.recipient
            );
            Ok(())
        }
        Mailer::Log => {
            log::info!(
                "email {} ({}) to {}:\n{}",
                message.id,
                message.message_type,
                message.recipient,
                String::from_utf8_lossy(&email.formatted())
            );
            Ok(())
        }
        Mailer::Dir(dir) => {
            let path = dir.join(format!("{:08}-{}.eml", message.id, message.message_type));
            std::fs::write(&path, email.formatted()).map_err(|e| format!("writing {}: {e}", path.display()))
        }
        Mailer::Smtp(transport) => transport.send(&email).map(|_| ()).map_err(|e| e.to_string()),
    }
}

fn carries_credential(message: &MessageRecord) -> bool {
    serde_json::from_str::<serde_json::Value>(&message.payload).is_ok_and(|p| p.get("link").is_some())
}

/// Delivers what is due; returns whether there was anything. Each message is recorded
/// the moment its delivery ends (one commit each: a crash or kill then re-sends at most
/// the one message in flight), and once `stop` is set nothing more is sent: the messages
/// still in hand are released, due again for the next start.
pub fn step(cx: &dyn Context, stop: &AtomicBool, webhooks: bool) -> bool {
    // Idle workers only read; the write lock is taken when there is something to send.
    if !cx.db().read(|conn| outbox::any_due(conn, Timestamp::now(), webhooks)).unwrap_or(false) {
        return false;
    }
    // Small claims: what one worker holds, others cannot send meanwhile.
    let claim = if webhooks { 4 } else { 20 };
    let claimed = match cx.db().write(|conn| outbox::claim_due(conn, Timestamp::now(), claim, webhooks)) {
        Ok(list) => list,
        Err(e) => {
            log::error!("reading the outbox: {e}");
            return false;
        }
    };
    for (i, message) in claimed.iter().enumerate() {
        if stop.load(Ordering::SeqCst) {
            let rest = &claimed[i..];
            let released =
                cx.db().write(|conn| rest.iter().try_for_each(|m| outbox::release(conn, m.id, Timestamp::now())));
            if let Err(e) = released {
                log::error!("releasing {} unsent message(s): {e}", rest.len());
            }
            break;
        }
        let result = deliver(cx, message);
        let now = Timestamp::now();
        let recorded: Result<(), Error> = cx.db().write(|conn| match &result {
            Ok(()) => outbox::delivered(conn, message, now),
            Err(error) => {
                let attempts = message.attempts + 1;
                log::warn!("message {} to {} failed (attempt {attempts}): {error}", message.id, message.recipient);
                outbox::attempt_failed(conn, message.id, error, now.unix() + backoff(attempts), attempts >= ATTEMPTS)
            }
        });
        if let Err(e) = recorded {
            log::error!("recording the delivery of message {}: {e}", message.id);
        }
    }
    !claimed.is_empty()
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!((backoff(1), backoff(2), backoff(3)), (60, 120, 240));
        assert_eq!(backoff(30), 3600);
    }
}
