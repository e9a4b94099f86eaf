//! A worker answers one request of one connection: it builds rouille's `Request`, runs the
//! handler (which reads the body on demand), writes the answer, and then either queues the
//! connection's next request (already received: pipelining, answered strictly in order),
//! hands the connection back to the poller, or closes it.

use super::body::{BodyEnd, RequestBody};
use super::conn::Conn;
use super::head::{self, Head, Refusal};
use super::poller::Parking;
use super::response::{self, Framing};
use super::{Job, Shared};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

/// How long a body the handler left unread may take to arrive before the connection is
/// closed instead (the answer is already out).
const DRAIN: Duration = Duration::from_secs(1);

pub fn run(shared: &Shared) {
    loop {
        let job = {
            let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(job) = queue.pop_front() {
                    break job;
                }
                queue = shared.ready.wait(queue).unwrap_or_else(PoisonError::into_inner);
            }
        };
        match job.head {
            Ok(head) => answer(shared, job.conn, head),
            Err(refusal) => refuse(shared, job.conn, refusal),
        }
    }
}

/// Answers a head we will not serve, then closes the connection.
fn refuse(shared: &Shared, mut conn: Conn, refusal: Refusal) {
    let detail = serde_json::json!({ "detail": refusal.detail }).to_string();
    let response = rouille::Response::from_data("application/json", detail).with_status_code(refusal.status);
    let framing = Framing { head_request: false, http10: false, close: true };
    let deadline = Instant::now() + shared.limits.send_timeout;
    if response::write(&mut conn, response, &framing, deadline).is_ok() {
        shared.linger(conn, true);
    } else {
        shared.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

fn answer(shared: &Shared, conn: Conn, head: Head) {
    let limits = &shared.limits;
    let stopping = shared.stopping.load(Ordering::SeqCst);
    let Head { method, target, http10, headers, framing, keep_alive, expect_continue } = head;
    let framing_of_answer = |close| Framing { head_request: method == "HEAD", http10, close };
    let request = rouille::Request::fake_http_from(conn.peer, method.clone(), target, headers, Vec::new());
    // Chunk-size lines count too; a body of one-byte chunks is refused long before memory is.
    let raw_cap = limits.max_body_bytes.saturating_mul(8).saturating_add(64 * 1024);
    let mut body = RequestBody::new(conn, framing, expect_continue, raw_cap);
    let response = catch_unwind(AssertUnwindSafe(|| (shared.handler)(&request, &body))).unwrap_or_else(|_| {
        rouille::Response::from_data("application/json", r#"{"detail": "Internal server error."}"#)
            .with_status_code(500)
    });
    let end = body.end();
    // A body not read is drained after the answer, unless the client still waits for
    // `100 Continue` (it may never send it) or it is declared larger than any we read.
    let undrainable = end == BodyEnd::Unread
        && (body.continue_pending() || body.left().is_some_and(|left| left > limits.max_body_bytes));
    let close = !keep_alive || stopping || end == BodyEnd::Broken || undrainable;
    let deadline = Instant::now() + limits.send_timeout;
    let written = response::write(body.conn_mut(), response, &framing_of_answer(close), deadline);
    let reusable = match written {
        Ok(reusable) => reusable,
        Err(e) => {
            log::debug!("answer to {} not delivered: {e}", request.remote_addr());
            shared.busy.fetch_sub(1, Ordering::SeqCst);
            return;
        }
    };
    if !reusable || (end == BodyEnd::Unread && !body.drain(Instant::now() + DRAIN)) {
        shared.linger(body.into_conn(), true);
        return;
    }
    let mut conn = body.into_conn();
    conn.served += 1;
    conn.idle_since = Instant::now();
    next_request(shared, conn);
}

/// After an answer: the connection's next request, if its head is already here, goes back
/// to the queue (behind other connections' requests); otherwise the poller waits for it.
fn next_request(shared: &Shared, mut conn: Conn) {
    match head::parse(conn.pending()) {
        Ok(Some((head, length))) => {
            conn.consume(length);
            shared.requeue(Job { conn, head: Ok(head) });
        }
        Ok(None) => {
            if !conn.pending().is_empty() {
                conn.head_started = Some(Instant::now());
            }
            shared.park(conn, Parking::Waiting, true);
        }
        Err(refusal) => shared.requeue(Job { conn, head: Err(refusal) }),
    }
}
