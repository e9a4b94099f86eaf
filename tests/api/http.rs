//! What every route shares: health, request ids, 404/405/413/415/400 bodies, the access log
//! and shutdown on SIGTERM.

use crate::helpers::{binary, TempDir, TestApp};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn health_answers_with_the_database_reachable() {
    let app = TestApp::spawn();
    let reply = app.get("/health", None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["database"], "ok");
}

#[test]
fn every_response_carries_a_request_id_and_a_given_one_is_echoed() {
    let app = TestApp::spawn();
    for path in ["/health", "/nope", "/api/admin/v1/courses"] {
        assert!(app.get(path, None).header("X-Request-Id").is_some_and(|v| !v.is_empty()), "{path}");
    }
    let echoed = app.request("GET", "/health", &[("X-Request-Id", "trace-123")], None);
    assert_eq!(echoed.header("X-Request-Id"), Some("trace-123"));
}

#[test]
fn unknown_routes_are_json_404s_and_wrong_methods_are_405s_with_allow() {
    let app = TestApp::spawn();
    let missing = app.get("/api/admin/v1/nothing-here", None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error_code"], "ROUTE_NOT_FOUND");
    assert_eq!(app.get("/definitely/not", None).json()["detail"].as_str().map(|s| s.contains("No route")), Some(true));
    let wrong = app.request("PUT", "/api/admin/v1/courses", &[], Some(("application/json", "{}")));
    assert_eq!(wrong.status, 405);
    let allow = wrong.header("Allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    wrong.json();
}

#[test]
fn bodies_are_limited_typed_and_parsed() {
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_SERVER_MAX_BODY_BYTES", "2048")],
        &[],
    );
    let admin = app.admin_auth();
    let auth = [("Authorization", admin.as_str())];
    let big = format!("{{\"course_key\": \"course-v1:A+B+C\", \"title\": \"{}\"}}", "x".repeat(5000));
    let too_large = app.request("POST", "/api/admin/v1/courses", &auth, Some(("application/json", &big)));
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["error_code"], "PAYLOAD_TOO_LARGE");
    let wrong_type = app.request("POST", "/api/admin/v1/courses", &auth, Some(("text/plain", "{}")));
    assert_eq!(wrong_type.status, 415);
    let malformed =
        app.request("POST", "/api/admin/v1/courses", &auth, Some(("application/json", "{\"course_key\": ")));
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json()["error_code"], "MALFORMED_REQUEST");
    assert_eq!(app.get("/health", None).status, 200, "the server keeps serving");
}

#[test]
fn each_request_writes_one_access_log_line() {
    let dir = TempDir::new();
    let log = dir.0.join("stderr.log");
    let mut child = binary()
        .env("RUST_LOG", "info")
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.db())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let base = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0);
        if let Some(addr) = line.trim().strip_prefix("listening on ") {
            break addr.to_owned();
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    agent.get(format!("{base}/health?probe=1")).call().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("/health?probe=1")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("GET") && lines[0].contains("200"), "{}", lines[0]);
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let app = TestApp::spawn();
    assert_eq!(app.get("/health", None).status, 200);
    let pid = app.child.id().to_string();
    let mut app = app;
    let started = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = loop {
        if let Some(status) = app.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

/// A refused request's unread body (here chunked) must not be parsed as the next request
/// on the same keep-alive connection.
#[test]
fn an_unread_request_body_does_not_corrupt_the_next_request_on_the_connection() {
    use std::io::{Read, Write};
    let app = TestApp::spawn();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let refused = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let next = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    stream.write_all(refused.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stream.write_all(next.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let statuses: Vec<&str> =
        answer.match_indices("HTTP/1.1 ").map(|(i, _)| answer[i..].lines().next().unwrap()).collect();
    assert_eq!(statuses, ["HTTP/1.1 415 Unsupported Media Type", "HTTP/1.1 200 OK"], "{answer}");
}
