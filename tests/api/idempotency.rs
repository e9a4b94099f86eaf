//! `Idempotency-Key` on every state-changing route: a retry gets the first answer and
//! writes nothing; a key is its caller's and its route's; keys expire.

use crate::helpers::{Reply, TempDir, TestApp};
use serde_json::{json, Value};
use std::io::Write;
use std::time::{Duration, Instant};

const WEB101: &str = "course-v1:Rollcall+WEB-101+2026";
const PATH: &str = "path-v1:Rollcall+WEB+2026+T1";
const JSON: &str = "application/json";

fn demo(env: &[(&str, &str)]) -> (TestApp, String) {
    let mut all = vec![("ROLLCALL_RATE_LIMITS_ENABLED", "false")];
    all.extend_from_slice(env);
    let app = TestApp::spawn_with(&all, &["--demo"]);
    let admin = app.admin_auth();
    (app, admin)
}

fn send(app: &TestApp, method: &str, path: &str, auth: &str, key: Option<&str>, media: &str, body: &str) -> Reply {
    let mut headers = vec![("Authorization", auth)];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    app.request(method, path, &headers, Some((media, body)))
}

fn next_year() -> u64 {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    1970 + seconds / 31_556_952 + 1
}

/// The checkout spec's order, for `email`.
fn order(email: &str) -> String {
    json!({
        "student": {"email": email, "first_name": "John", "last_name": "Doe", "phone": "+1-555-123-4567", "date_of_birth": "1995-03-15",
            "address": {"street": "123 Main Street", "city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94102"}},
        "course": {"code": "WEB-301"},
        "payment": {"amount": 299.00, "currency": "USD", "method": "credit_card",
            "card": {"number": "4242424242424242", "holder_name": "John Doe", "expiry_month": 12, "expiry_year": next_year(), "cvv": "123"}},
        "enrollment": {"start_immediately": true, "send_welcome_email": true}
    })
    .to_string()
}

/// Rows in every table but the stored answers themselves.
fn counts(app: &TestApp) -> Vec<(String, i64)> {
    let conn = app.sqlite();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'idempotency_keys' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let n = conn.query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0)).unwrap();
            (t, n)
        })
        .collect()
}

/// Waits until a background task named in a 202 has finished, so that its writes are
/// done before rows are counted.
fn settle(app: &TestApp, auth: &str, reply: &Reply) {
    let Some(location) = reply.header("Location").map(str::to_owned) else { return };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = app.get(&location, Some(auth)).json()["status"].as_str().unwrap_or("").to_owned();
        if matches!(status.as_str(), "succeeded" | "failed" | "completed" | "done" | "cancelled") {
            return;
        }
        assert!(Instant::now() < deadline, "task {location} still {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_replay_of_each_kind_of_route_returns_the_first_answer_and_writes_nothing() {
    let (app, admin) = demo(&[]);
    let csv = "text/csv";
    let form = "application/x-www-form-urlencoded";
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let cases: Vec<(&str, String, &str, String)> = vec![
        ("POST", "/api/v1/enrollments".into(), JSON, order("john.doe@example.com")),
        ("POST", v2.clone(), JSON, json!({"identifiers": ["bob"]}).to_string()),
        ("POST", v2, JSON, json!({"identifiers": ["cat", "new.one@example.org"], "email_students": true}).to_string()),
        (
            "POST",
            "/api/enrollment/v1/enrollment".into(),
            JSON,
            json!({"user": "cat", "course_details": {"course_id": "course-v1:Rollcall+WEB-301+2026"}}).to_string(),
        ),
        (
            "POST",
            "/api/enrollment/v1/enrollment_allowed/".into(),
            JSON,
            json!({"email": "eve@example.org", "course_id": WEB101, "auto_enroll": true}).to_string(),
        ),
        (
            "POST",
            "/appsembler_api/v0/accounts/create".into(),
            form,
            "username=staff55&password=a-long-password-1&email=staff55%40example.com&name=stafftest".into(),
        ),
        (
            "POST",
            "/appsembler_api/v0/bulk-enrollment/bulk-enroll".into(),
            JSON,
            json!({"action": "enroll", "courses": WEB101, "identifiers": "ann,zed@example.org", "auto_enroll": true})
                .to_string(),
        ),
        ("POST", format!("/api/learning_paths/v1/{PATH}/enrollments/"), JSON, json!({"username": "cat"}).to_string()),
        (
            "POST",
            "/api/admin/v1/users".into(),
            JSON,
            json!({"username": "dora", "email": "dora@example.org", "password": "a-long-password-1"}).to_string(),
        ),
        (
            "POST",
            "/api/admin/v1/courses".into(),
            JSON,
            json!({"course_key": "course-v1:Rollcall+DOC-101+2027", "title": "Docs"}).to_string(),
        ),
        (
            "PUT",
            format!("/api/admin/v1/courses/{WEB101}/enrollments/ann/progress"),
            JSON,
            json!({"completion": 0.5, "grade": 0.6, "passed": false}).to_string(),
        ),
        (
            "PATCH",
            format!("/api/admin/v1/courses/{WEB101}"),
            "application/merge-patch+json",
            json!({"max_enrollments": 40}).to_string(),
        ),
        (
            "POST",
            format!("/api/admin/v1/courses/{WEB101}/enrollments.csv"),
            csv,
            "email\ncsv.learner@example.org\n".into(),
        ),
    ];
    for (n, (method, path, media, body)) in cases.iter().enumerate() {
        let key = format!("retry-{n}");
        let first = send(&app, method, path, &admin, Some(&key), media, body);
        assert!((200..300).contains(&first.status), "{method} {path}: {} {}", first.status, first.text);
        assert_eq!(first.header("Idempotent-Replayed"), None);
        settle(&app, &admin, &first);
        let before = counts(&app);
        let again = send(&app, method, path, &admin, Some(&key), media, body);
        assert_eq!(again.status, first.status, "{method} {path}: {}", again.text);
        assert_eq!(again.text, first.text, "{method} {path}");
        assert_eq!(again.header("Idempotent-Replayed"), Some("true"), "{method} {path}");
        assert_eq!(again.header("Location"), first.header("Location"), "{method} {path}");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(counts(&app), before, "{method} {path}: the replay wrote");
    }
    // Without a key the same request runs again (here: a second order is refused or made).
    let orders: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM checkout_orders", [], |r| r.get(0)).unwrap();
    assert_eq!(orders, 1);
}

#[test]
fn a_replayed_checkout_sends_no_second_email_and_a_replayed_task_has_the_same_task_id() {
    let (app, admin) = demo(&[]);
    let body = order("mail.once@example.org");
    let first = send(&app, "POST", "/api/v1/enrollments", &admin, Some("\"order-1\""), JSON, &body);
    assert_eq!(first.status, 201, "{}", first.text);
    for _ in 0..3 {
        let again = send(&app, "POST", "/api/v1/enrollments", &admin, Some("\"order-1\""), JSON, &body);
        assert_eq!((again.status, again.json()["data"]["id"].clone()), (201, first.json()["data"]["id"].clone()));
    }
    let welcome: i64 = app
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE message_type = 'checkout_welcome' AND recipient = 'mail.once@example.org'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(welcome, 1);
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let task = json!({"identifiers": ["ann", "bob"]}).to_string();
    let started = send(&app, "POST", &v2, &admin, Some("task-1"), JSON, &task);
    assert_eq!(started.status, 202, "{}", started.text);
    let replayed = send(&app, "POST", &v2, &admin, Some("task-1"), JSON, &task);
    assert_eq!(replayed.status, 202);
    assert_eq!(replayed.json()["task_id"], started.json()["task_id"]);
    let tasks: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0)).unwrap();
    assert_eq!(tasks, 1);
}

#[test]
fn the_same_key_with_another_body_is_a_422_in_the_surfaces_own_format() {
    let (app, admin) = demo(&[]);
    let first = send(&app, "POST", "/api/v1/enrollments", &admin, Some("k1"), JSON, &order("a@example.org"));
    assert_eq!(first.status, 201, "{}", first.text);
    let other = send(&app, "POST", "/api/v1/enrollments", &admin, Some("k1"), JSON, &order("b@example.org"));
    assert_eq!(other.status, 422, "{}", other.text);
    assert_eq!(other.json()["success"], false, "the checkout's own shape: {}", other.text);
    assert!(other.json()["message"].as_str().unwrap().contains("Idempotency-Key"), "{}", other.text);
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let one = send(&app, "POST", &v2, &admin, Some("k2"), JSON, &json!({"identifiers": ["bob"]}).to_string());
    assert_eq!(one.status, 200, "{}", one.text);
    let two = send(&app, "POST", &v2, &admin, Some("k2"), JSON, &json!({"identifiers": ["cat"]}).to_string());
    assert_eq!(two.status, 422, "{}", two.text);
    assert_eq!(two.json()["error_code"], "IDEMPOTENCY_KEY_REUSED", "the v2 shape: {}", two.text);
    assert_eq!(two.json()["status_code"], 422);
    let orders: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM checkout_orders", [], |r| r.get(0)).unwrap();
    assert_eq!(orders, 1);
}

#[test]
fn empty_long_or_malformed_keys_are_400s_and_refused_requests_are_not_stored() {
    let (app, admin) = demo(&[]);
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let body = json!({"identifiers": ["bob"]}).to_string();
    let long = "k".repeat(256);
    for bad in ["\"\"", "\"open", "two words", "a,b", long.as_str()] {
        let reply = send(&app, "POST", &v2, &admin, Some(bad), JSON, &body);
        assert_eq!(reply.status, 400, "{bad:?}: {}", reply.text);
        assert_eq!(reply.json()["error_code"], "INVALID_IDEMPOTENCY_KEY");
    }
    let checkout = send(&app, "POST", "/api/v1/enrollments", &admin, Some(""), JSON, &order("x@example.org"));
    assert_eq!((checkout.status, checkout.json()["success"].clone()), (400, json!(false)), "{}", checkout.text);
    assert_eq!(send(&app, "POST", &v2, &admin, Some(&"k".repeat(255)), JSON, &body).status, 200);
    // A validation failure does no work: the key is not spent, a corrected retry runs.
    let invalid = send(&app, "POST", &v2, &admin, Some("fix-me"), JSON, "{\"identifiers\": []}");
    assert_eq!(invalid.status, 400, "{}", invalid.text);
    let unauthenticated = app.request(
        "POST",
        &v2,
        &[("Idempotency-Key", "fix-me"), ("Authorization", "JWT nope")],
        Some((JSON, body.as_str())),
    );
    assert_eq!(unauthenticated.status, 401);
    let fixed = send(&app, "POST", &v2, &admin, Some("fix-me"), JSON, &body);
    assert_eq!(fixed.status, 200, "{}", fixed.text);
    assert_eq!(fixed.header("Idempotent-Replayed"), None);
    let stored: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM idempotency_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 2, "only the two requests that did work keep an answer");
}

#[test]
fn twenty_concurrent_requests_with_one_key_make_one_order_and_otherwise_409s_or_replays() {
    let (app, admin) = demo(&[]);
    let app = std::sync::Arc::new(app);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(20));
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let (app, admin, barrier) = (app.clone(), admin.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let reply =
                    send(&app, "POST", "/api/v1/enrollments", &admin, Some("same"), JSON, &order("c@example.org"));
                (reply.status, reply.header("Idempotent-Replayed").map(str::to_owned), reply.json_or_null())
            })
        })
        .collect();
    let replies: Vec<(u16, Option<String>, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let firsts: Vec<_> = replies.iter().filter(|(s, r, _)| *s == 201 && r.is_none()).collect();
    assert_eq!(firsts.len(), 1, "{replies:?}");
    let id = &firsts[0].2["data"]["id"];
    for (status, replayed, body) in &replies {
        match status {
            201 => assert_eq!(&body["data"]["id"], id),
            409 => {
                assert!(body["message"].as_str().unwrap().contains("still being processed"), "{body}");
                assert_eq!(replayed, &None);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let conn = app.sqlite();
    let (orders, enrollments): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM checkout_orders), (SELECT COUNT(*) FROM enrollments e JOIN users u ON u.id = e.user_id WHERE u.email = 'c@example.org')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((orders, enrollments), (1, 1));
}

#[test]
fn another_callers_identical_key_is_independent_and_a_session_is_not_its_users_client() {
    let (app, admin) = demo(&[]);
    let staff = app.user_auth(&admin, "shopkeeper", true);
    let first = send(&app, "POST", "/api/v1/enrollments", &admin, Some("shared"), JSON, &order("one@example.org"));
    let second = send(&app, "POST", "/api/v1/enrollments", &staff, Some("shared"), JSON, &order("two@example.org"));
    assert_eq!((first.status, second.status), (201, 201), "{}", second.text);
    assert_eq!(second.header("Idempotent-Replayed"), None);
    assert_ne!(first.json()["data"]["id"], second.json()["data"]["id"]);
    // The same key on another route is another key.
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let third = send(&app, "POST", &v2, &admin, Some("shared"), JSON, &json!({"identifiers": ["bob"]}).to_string());
    assert_eq!(third.status, 200, "{}", third.text);
    // The superuser's browser session is not its OAuth client.
    let login = app.post_form("/login", &[("username", &app.username), ("password", &app.password)]);
    assert_eq!(login.status, 200, "{}", login.text);
    let cookies: Vec<String> =
        login.headers_named("Set-Cookie").iter().map(|c| c.split(';').next().unwrap().to_owned()).collect();
    let csrf = cookies.iter().find_map(|c| c.strip_prefix("csrftoken=")).unwrap_or("").to_owned();
    let cookie = cookies.join("; ");
    let by_session = app.request(
        "POST",
        "/api/v1/enrollments",
        &[("Cookie", &cookie), ("X-CSRFToken", &csrf), ("Idempotency-Key", "shared")],
        Some((JSON, &order("three@example.org"))),
    );
    assert_eq!(by_session.status, 201, "{}", by_session.text);
    assert_eq!(by_session.header("Idempotent-Replayed"), None);
    let orders: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM checkout_orders", [], |r| r.get(0)).unwrap();
    assert_eq!(orders, 3);
}

#[test]
fn a_replayed_creation_never_shows_its_secret_again() {
    let (app, admin) = demo(&[("ROLLCALL_WEBHOOKS_ALLOWED_HOSTS", "127.0.0.1")]);
    let body = json!({"name": "Shop", "user": "ann"}).to_string();
    let first = send(&app, "POST", "/api/admin/v1/oauth-clients", &admin, Some("client-1"), JSON, &body);
    assert_eq!(first.status, 201, "{}", first.text);
    let secret = first.json()["client_secret"].as_str().unwrap().to_owned();
    let again = send(&app, "POST", "/api/admin/v1/oauth-clients", &admin, Some("client-1"), JSON, &body);
    assert_eq!((again.status, again.header("Idempotent-Replayed")), (201, Some("true")));
    let replay = again.json();
    assert_eq!(replay["client_id"], first.json()["client_id"]);
    assert_eq!(replay["client_secret"], Value::Null);
    assert!(replay["detail"].as_str().unwrap().contains("secret"), "{replay}");
    let hook = json!({"url": "http://127.0.0.1:9/hook"}).to_string();
    let created = send(&app, "POST", "/api/admin/v1/webhooks", &admin, Some("hook-1"), JSON, &hook);
    assert_eq!(created.status, 201, "{}", created.text);
    let hook_secret = created.json()["secret"].as_str().unwrap().to_owned();
    let replayed = send(&app, "POST", "/api/admin/v1/webhooks", &admin, Some("hook-1"), JSON, &hook).json();
    assert_eq!((replayed["id"].clone(), replayed["secret"].clone()), (created.json()["id"].clone(), Value::Null));
    let conn = app.sqlite();
    let bodies: Vec<Vec<u8>> = conn
        .prepare("SELECT body FROM idempotency_keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for body in bodies {
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains(&secret) && !text.contains(&hook_secret), "a secret was stored: {text}");
    }
}

#[test]
fn keys_older_than_the_retention_are_forgotten_and_purged() {
    // 0.0005 hours: under two seconds.
    let (app, admin) = demo(&[("ROLLCALL_IDEMPOTENCY_RETENTION_HOURS", "0.0005")]);
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let body = json!({"identifiers": ["bob"]}).to_string();
    assert_eq!(send(&app, "POST", &v2, &admin, Some("short"), JSON, &body).status, 200);
    let replay = send(&app, "POST", &v2, &admin, Some("short"), JSON, &body);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    let stored =
        || -> i64 { app.sqlite().query_row("SELECT COUNT(*) FROM idempotency_keys", [], |r| r.get(0)).unwrap() };
    // The background purge removes it once it is older than the retention.
    let deadline = Instant::now() + Duration::from_secs(20);
    while stored() > 0 {
        assert!(Instant::now() < deadline, "the expired key was not purged");
        std::thread::sleep(Duration::from_millis(200));
    }
    let later = send(&app, "POST", &v2, &admin, Some("short"), JSON, &body);
    assert_eq!((later.status, later.header("Idempotent-Replayed")), (200, None), "{}", later.text);
    // With another body, too: the old key means nothing any more.
    let other = send(&app, "POST", &v2, &admin, Some("short"), JSON, &json!({"identifiers": ["cat"]}).to_string());
    assert_eq!(other.status, 422, "still within the retention of the last use: {}", other.text);
}

/// SIGKILL after the commit, before the client has read the answer: the retry (on the
/// restarted server) gets the committed answer; there is no second order or email.
#[test]
fn a_retry_after_sigkill_between_commit_and_answer_replays_the_committed_answer() {
    let (app, admin) = demo(&[]);
    let body = order("crash@example.org");
    let mut stream = std::net::TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    let request = format!(
        "POST /api/v1/enrollments HTTP/1.1\r\nHost: x\r\nAuthorization: {admin}\r\nIdempotency-Key: crash-1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    // The order is committed (and with it, its answer: the same transaction)...
    let conn = app.sqlite();
    let deadline = Instant::now() + Duration::from_secs(10);
    let order_id: i64 = loop {
        let found = conn.query_row("SELECT id FROM checkout_orders", [], |r| r.get::<_, i64>(0));
        if let Ok(id) = found {
            break id;
        }
        assert!(Instant::now() < deadline, "the order was never committed");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(conn);
    // ...and the server dies before the client reads a byte of the answer.
    let pid = app.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    drop(stream);
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir: TempDir = app.stop();
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    // A new token (the restarted server's address is in its issuer), for the same client.
    let token = app.token_for(&client_id, &client_secret, "jwt").json()["access_token"].as_str().unwrap().to_owned();
    let admin = format!("JWT {token}");
    let retry = send(&app, "POST", "/api/v1/enrollments", &admin, Some("crash-1"), JSON, &body);
    assert_eq!((retry.status, retry.header("Idempotent-Replayed")), (201, Some("true")), "{}", retry.text);
    assert_eq!(retry.json()["data"]["id"], json!(order_id));
    let conn = app.sqlite();
    let (orders, welcome): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM checkout_orders), (SELECT COUNT(*) FROM outbox WHERE message_type = 'checkout_welcome')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((orders, welcome), (1, 1));
}

#[test]
fn the_openapi_document_describes_the_header_and_its_answers_on_each_state_changing_operation() {
    let app = TestApp::spawn();
    let doc = app.get("/api-docs/openapi.json", None).json();
    for (path, method) in
        [("/api/v1/enrollments", "post"), ("/api/admin/v1/courses/{course_key}/enrollments/{username}/progress", "put")]
    {
        let op = &doc["paths"][path][method];
        assert_eq!(op["x-idempotency-key"]["name"], "Idempotency-Key", "{path}");
        assert!(op["description"].as_str().unwrap().contains("Idempotency-Key"), "{path}");
        for status in ["400", "409", "422"] {
            assert!(op["responses"][status].is_object(), "{method} {path}: {status}");
        }
    }
    assert!(doc["paths"]["/api/admin/v1/courses"]["get"].get("x-idempotency-key").is_none());
}

/// Version 8 moved the stored answers to an appended rowid table: a database of version 7
/// keeps its answers across the upgrade (a retry after it is still a replay), and new
/// answers append after them.
#[test]
fn answers_stored_before_the_rowid_table_are_replayed_after_the_upgrade() {
    let (app, admin) = demo(&[]);
    let v2 = format!("/api/enrollment/v2/courses/{WEB101}/enrollments");
    let body = json!({"identifiers": ["bob"]}).to_string();
    let first = send(&app, "POST", &v2, &admin, Some("before-upgrade"), JSON, &body);
    assert_eq!(first.status, 200, "{}", first.text);
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir: TempDir = app.stop();
    // Version 7's table: keyed by (caller, route, key), WITHOUT ROWID, an index by age.
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    conn.execute_batch(
        "CREATE TABLE v7 (caller TEXT NOT NULL, route TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, \
         status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, created INTEGER NOT NULL, \
         PRIMARY KEY (caller, route, key)) WITHOUT ROWID; \
         INSERT INTO v7 SELECT caller, route, key, fingerprint, status, headers, body, created FROM idempotency_keys; \
         DROP TABLE idempotency_keys; ALTER TABLE v7 RENAME TO idempotency_keys; \
         CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created); PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(conn);
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    let token = app.token_for(&client_id, &client_secret, "jwt").json()["access_token"].as_str().unwrap().to_owned();
    let admin = format!("JWT {token}");
    let retry = send(&app, "POST", &v2, &admin, Some("before-upgrade"), JSON, &body);
    assert_eq!((retry.status, retry.header("Idempotent-Replayed")), (200, Some("true")), "{}", retry.text);
    assert_eq!(retry.text, first.text);
    let after =
        send(&app, "POST", &v2, &admin, Some("after-upgrade"), JSON, &json!({"identifiers": ["cat"]}).to_string());
    assert_eq!((after.status, after.header("Idempotent-Replayed")), (200, None), "{}", after.text);
    let conn = app.sqlite();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM idempotency_keys ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!((version, ids), (8, vec![1, 2]));
}
