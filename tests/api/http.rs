//! What every route shares: health, request ids, 404/405/413/415/400 bodies, the access log
//! and shutdown on SIGTERM; `transport` holds the connection-level tests.

mod transport;

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
    agent.get(format!("{base}/health?email=ann%40example.org&x=2")).call().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("/health?probe=1")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("GET") && lines[0].contains("200"), "{}", lines[0]);
    assert!(lines[0].starts_with("20") && lines[0].as_bytes()[10] == b'T', "a timestamp first: {}", lines[0]);
    // An email in a query string is personal data: not in the log at info level.
    assert!(!text.contains("ann%40example.org") && text.contains("/health?email=[redacted]&x=2"), "{text}");
}

#[test]
fn sighup_is_ignored() {
    let mut app = TestApp::spawn();
    let pid = app.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(app.child.try_wait().unwrap().is_none(), "still running after SIGHUP");
    assert_eq!(app.get("/health", None).status, 200);
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

/// Replaces `path` (dotted for nested objects) in a copy of `body` with `value`.
fn with_field(body: &serde_json::Value, path: &str, value: &serde_json::Value) -> serde_json::Value {
    let mut copy = body.clone();
    let mut at = &mut copy;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        at = &mut at[*part];
    }
    at[parts[parts.len() - 1]] = value.clone();
    copy
}

#[test]
fn in_every_dialect_null_is_absent_and_lists_or_objects_are_never_text() {
    use serde_json::json;
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let course = "course-v1:Rollcall+SWEEP+2026";
    app.create_course(&admin, course, json!({"code": "SWEEP-1", "price": "10.00"}));
    app.create_user(&admin, "ann", true);
    let path = "path-v1:Rollcall+SWEEP+2026+T1";
    let created = app.send_json(
        "POST",
        "/api/admin/v1/learning-paths",
        Some(&admin),
        &json!({"key": path, "display_name": "Sweep", "steps": [{"course_key": course}]}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let card = json!({"number": "4242424242424242", "expiry_month": 12, "expiry_year": 2036, "cvv": "123"});
    // (method, path, a valid body, its string fields)
    let routes: Vec<(&str, String, serde_json::Value, Vec<&str>)> = vec![
        (
            "POST",
            "/oauth2/access_token".into(),
            json!({"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": app.client_secret, "token_type": "jwt"}),
            vec!["grant_type", "client_id", "client_secret", "token_type", "scope", "username", "password"],
        ),
        (
            "POST",
            "/login".into(),
            json!({"username": "admin", "password": app.password}),
            vec!["username", "password", "email"],
        ),
        (
            "POST",
            "/api/enrollment/v1/enrollment".into(),
            json!({"user": "ann", "mode": "audit", "course_details": {"course_id": course}}),
            vec!["user", "mode", "email", "course_details.course_id"],
        ),
        (
            "POST",
            "/api/enrollment/v1/enrollment_allowed/".into(),
            json!({"email": "pre@example.org", "course_id": course}),
            vec!["email", "course_id"],
        ),
        ("POST", "/api/enrollment/v1/unenroll/".into(), json!({"username": "nobody-here"}), vec!["username"]),
        (
            "POST",
            format!("/api/enrollment/v2/courses/{course}/enrollments"),
            json!({"identifiers": ["ann"], "reason": "r", "mode": "audit"}),
            vec!["reason", "mode"],
        ),
        (
            "POST",
            format!("/api/instructor/v2/courses/{course}/enrollments/modify"),
            json!({"identifier": ["ann"], "action": "enroll", "reason": "r"}),
            vec!["action", "reason"],
        ),
        ("POST", format!("/api/learning_paths/v1/{path}/enrollments/"), json!({"username": "ann"}), vec!["username"]),
        (
            "POST",
            "/api/learning_paths/v1/enrollments/bulk-enroll/".into(),
            json!({"learning_paths": path, "emails": "lp@example.org", "reason": "r"}),
            vec!["learning_paths", "emails", "reason", "org", "role"],
        ),
        (
            "POST",
            "/appsembler_api/v0/accounts/create".into(),
            json!({"username": "sweeper", "password": "a-pass", "email": "sweeper@example.org", "name": "Sweeper"}),
            vec!["username", "password", "email", "name"],
        ),
        (
            "POST",
            "/appsembler_api/v0/accounts/user_without_password".into(),
            json!({"email": "nopass@example.org", "name": "No Pass"}),
            vec!["email", "name", "city", "goals", "country", "gender"],
        ),
        (
            "POST",
            "/appsembler_api/v0/accounts/connect".into(),
            json!({"username": "ann", "name": "Ann"}),
            vec!["username", "password", "email", "name"],
        ),
        (
            "POST",
            "/appsembler_api/v0/accounts/update_user".into(),
            json!({"user_lookup": "ann", "bio": "b"}),
            vec!["user_lookup", "email", "bio", "name", "city", "country", "mailing_address", "custom_thing"],
        ),
        (
            "POST",
            "/appsembler_api/v0/enrollment-codes/generate".into(),
            json!({"course_id": course, "total_registration_codes": "1"}),
            vec!["course_id", "total_registration_codes"],
        ),
        (
            "POST",
            "/appsembler_api/v0/enrollment-codes/enroll-user".into(),
            json!({"email": "ann@example.org", "enrollment_code": "NOPE"}),
            vec!["email", "enrollment_code"],
        ),
        (
            "POST",
            "/appsembler_api/v0/enrollment-codes/status".into(),
            json!({"enrollment_code": "NOPE", "action": "cancel"}),
            vec!["enrollment_code", "action"],
        ),
        (
            "POST",
            "/appsembler_api/v0/bulk-enrollment/bulk-enroll".into(),
            json!({"identifiers": "ann", "courses": course, "action": "enroll"}),
            vec!["identifiers", "courses", "action"],
        ),
        (
            "POST",
            "/api/v1/enrollments".into(),
            json!({"student": {"email": "buyer@example.org", "first_name": "Buy", "last_name": "Er"}, "course": {"code": "SWEEP-1"},
                "payment": {"amount": 10, "currency": "USD", "method": "credit_card", "card": card}}),
            vec![
                "student.email",
                "student.first_name",
                "student.phone",
                "course.code",
                "payment.currency",
                "payment.coupon_code",
                "payment.card.cvv",
            ],
        ),
        (
            "POST",
            "/api/admin/v1/users".into(),
            json!({"username": "adm1", "email": "adm1@example.org"}),
            vec!["username", "email", "password", "name"],
        ),
    ];
    for (method, route, body, fields) in &routes {
        for field in fields {
            for value in [json!(null), json!(["x"]), json!({"k": "v"}), json!(7), json!(true)] {
                let sent = with_field(body, field, &value);
                let reply = app.send_json(method, route, Some(&admin), &sent);
                assert!(reply.status < 500, "{route} {field}={value}: {} {}", reply.status, reply.text);
                if value.is_array() || value.is_object() {
                    assert!(
                        (400..500).contains(&reply.status),
                        "{route} {field}={value} is not text: {} {}",
                        reply.status,
                        reply.text
                    );
                }
            }
        }
    }
    // The merge-patch account update, with its own content type.
    for field in ["name", "bio", "city", "goals", "language", "mailing_address"] {
        for value in [json!(["x"]), json!({"k": "v"})] {
            let reply = app.request(
                "PATCH",
                "/api/user/v1/accounts/admin",
                &[("Authorization", &admin)],
                Some(("application/merge-patch+json", &json!({field: value}).to_string())),
            );
            assert_eq!(reply.status, 400, "{field}={value}: {}", reply.text);
        }
    }
    // Nothing anywhere holds the text "null" that a JSON null could have become.
    let conn = app.sqlite();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for table in tables {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for column in columns {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" IN ('null', '\"null\"')"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 0, "{table}.{column} holds the text null");
        }
    }
}

#[test]
fn the_openapi_document_lists_each_route_s_accepted_content_types() {
    let app = TestApp::spawn();
    let doc = app.get("/api-docs/openapi.json", None).json();
    let types = |path: &str| -> Vec<String> {
        let content = &doc["paths"][path]["post"]["requestBody"]["content"];
        content.as_object().unwrap().keys().cloned().collect()
    };
    let drf = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];
    for path in ["/oauth2/access_token", "/appsembler_api/v0/accounts/create", "/api/enrollment/v1/enrollment"] {
        let mut listed = types(path);
        listed.sort();
        assert_eq!(listed, drf, "{path}");
    }
    assert_eq!(types("/api/v1/enrollments"), ["application/json"]);
}

#[test]
fn the_database_files_are_readable_by_their_owner_only_and_shared_ones_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_user(&admin, "ann", true);
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", app.dir.db().display());
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    let dir = app.stop();
    std::fs::set_permissions(dir.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = binary().args(["serve", "--listen", "127.0.0.1:0", "--db"]).arg(dir.db()).output().unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("rollcall.db") && message.contains("allow_shared_permissions"), "{message}");
    let allowed = TestApp::spawn_in(dir, &[("ROLLCALL_DATABASE_ALLOW_SHARED_PERMISSIONS", "true")], &[]);
    assert_eq!(allowed.get("/health", None).status, 200);
}

#[test]
fn a_full_database_answers_503_with_retry_after_in_the_route_s_dialect_and_reads_go_on() {
    use serde_json::json;
    let app =
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_DATABASE_MAX_SIZE_MB", "1")], &[]);
    let admin = app.admin_auth();
    let name = "n".repeat(250);
    let mut full = None;
    for i in 0..5000 {
        let body = json!({"username": format!("filler{i}"), "email": format!("filler{i}@example.org"), "name": name,
            "first_name": name, "last_name": name});
        let reply = app.send_json("POST", "/api/admin/v1/users", Some(&admin), &body);
        if reply.status != 201 {
            full = Some(reply);
            break;
        }
    }
    let full = full.expect("the 1 MiB cap is reached");
    assert_eq!(full.status, 503, "{}", full.text);
    assert!(full.header("Retry-After").is_some());
    assert_eq!(full.json()["error_code"], "SERVICE_UNAVAILABLE", "the v2 dialect: {}", full.text);
    let lms = app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        Some(&admin),
        &json!({"email": "late@example.org", "course_id": "course-v1:A+B+C"}),
    );
    // A small write may still fit in a free page; it is never a 500.
    assert!(lms.status == 503 || lms.status == 201, "{}", lms.text);
    assert_eq!(app.get("/api/admin/v1/users?page_size=1", Some(&admin)).status, 200, "reads go on");
    assert_eq!(app.get("/health", None).status, 200);
}

/// Every table's rows, for "nothing was written" checks.
fn dump(conn: &rusqlite::Connection) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut rows = Vec::new();
    for table in tables {
        // Some tables have no rowid: the rows are sorted below instead.
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<String> = (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            rows.push(format!("{table}: {}", values.join(", ")));
        }
    }
    rows.sort();
    rows
}

#[test]
fn malformed_bodies_on_every_operation_get_a_4xx_and_write_nothing() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, "course-v1:Rollcall+MAL+2026", serde_json::json!({"code": "MAL-1"}));
    let doc = app.get("/api-docs/openapi.json", None).json();
    let before = dump(&app.sqlite());
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(content) = op["requestBody"]["content"].as_object() else { continue };
            let path = path
                .replace("{course_key}", "course-v1:Rollcall+MAL+2026")
                .replace("{course_id}", "course-v1:Rollcall+MAL+2026")
                .replace("{username}", "admin");
            let path = regex_free_params(&path);
            for media in content.keys() {
                for body in ["{", "[1,", "\"unterminated", "{\"a\": }", "\u{0}"] {
                    let reply = app.request(
                        &method.to_ascii_uppercase(),
                        &path,
                        &[("Authorization", &admin)],
                        Some((media.as_str(), body)),
                    );
                    tried += 1;
                    assert!(
                        (400..500).contains(&reply.status),
                        "{method} {path} ({media}) {body:?}: {} {}",
                        reply.status,
                        reply.text
                    );
                }
            }
        }
    }
    assert!(tried > 100, "{tried}");
    assert_eq!(dump(&app.sqlite()), before, "a malformed request wrote something");
}

/// Any `{param}` left in a documented path becomes a plausible value.
fn regex_free_params(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        out.push_str(if rest[start..end].contains("key") { "path-v1:Rollcall+X+2026+T1" } else { "1" });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn metrics_parse_as_prometheus_text_and_count_a_request_and_ready_says_writable() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    assert_eq!(app.get("/metrics", None).status, 401);
    let learner = app.user_auth(&admin, "ann", false);
    assert_eq!(app.get("/metrics", Some(&learner)).status, 403);
    app.create_course(&admin, "course-v1:M+E+T", serde_json::json!({}));
    assert_eq!(app.get("/api/admin/v1/courses/course-v1:M+E+T", Some(&admin)).status, 200);
    let reply = app.get("/metrics", Some(&admin));
    assert_eq!(reply.status, 200);
    assert!(reply.header("Content-Type").unwrap().starts_with("text/plain; version=0.0.4"));
    // Every line is a comment or `name{labels} value` with a number.
    for line in reply.text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        assert!(name.starts_with("rollcall_") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
    }
    assert!(
        reply.text.contains("rollcall_http_requests_total{surface=\"admin\",method=\"GET\",status=\"200\"} 1"),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("rollcall_http_request_duration_seconds_bucket{surface=\"admin\",le=\"+Inf\"}"));
    assert!(reply.text.contains("rollcall_db_size_bytes "));
    assert!(reply.text.contains("rollcall_db_wal_size_bytes "));
    assert!(reply.text.contains("rollcall_enrollments_total{action=\"enroll\"}"));
    let ready = app.get("/ready", None);
    assert_eq!((ready.status, ready.json()["database"].as_str()), (200, Some("writable")));
    let public = TestApp::spawn_with(&[("ROLLCALL_SERVER_METRICS_PUBLIC", "true")], &[]);
    assert_eq!(public.get("/metrics", None).status, 200);
}

#[test]
fn json_log_lines_parse_and_carry_the_request_s_fields() {
    let dir = TempDir::new();
    let log = dir.0.join("server.log");
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_SERVER_LOG_FORMAT", "json")], &[]);
    let admin = app.admin_auth();
    app.get("/api/admin/v1/courses?probe=caller", Some(&admin));
    app.get("/health?probe=json", None);
    std::thread::sleep(Duration::from_millis(200));
    let text = std::fs::read_to_string(&log).unwrap();
    let mut access = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["time"].is_string() && value["level"].is_string(), "{line}");
        if value["path"] == "/health?probe=json" {
            access = Some(value);
        }
    }
    let access = access.expect("an access line");
    assert_eq!((access["method"].as_str(), access["status"].as_i64()), (Some("GET"), Some(200)));
    assert!(access["duration_ms"].is_number() && access["request_id"].is_string() && access["client"].is_string());
    assert!(text.contains("\"caller\":\"user:1\""), "the authenticated caller is named: {text}");
}

#[test]
fn listed_origins_get_cors_with_credentials_and_preflights_others_get_none() {
    use serde_json::json;
    let app = TestApp::spawn_with(
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_SERVER_CORS_ALLOWED_ORIGINS", "https://apps.school.example"),
        ],
        &[],
    );
    let admin = app.admin_auth();
    let path = "/api/admin/v1/courses";
    let preflight = app.request(
        "OPTIONS",
        path,
        &[
            ("Origin", "https://apps.school.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization, content-type"),
        ],
        None,
    );
    assert_eq!(preflight.status, 204, "{}", preflight.text);
    assert_eq!(preflight.header("Access-Control-Allow-Origin"), Some("https://apps.school.example"));
    assert_eq!(preflight.header("Access-Control-Allow-Credentials"), Some("true"));
    let methods = preflight.header("Access-Control-Allow-Methods").unwrap();
    assert!(methods.contains("POST") && methods.contains("GET"), "{methods}");
    let allowed_headers = preflight.header("Access-Control-Allow-Headers").unwrap().to_ascii_lowercase();
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));
    // The real request: readable, with the headers a script needs exposed.
    let created = app.request(
        "POST",
        path,
        &[("Origin", "https://apps.school.example"), ("Authorization", &admin)],
        Some(("application/json", &json!({"course_key": "course-v1:A+CORS+1", "title": "CORS"}).to_string())),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("Access-Control-Allow-Origin"), Some("https://apps.school.example"));
    assert_eq!(created.header("Vary"), Some("Origin"));
    let exposed = created.header("Access-Control-Expose-Headers").unwrap();
    for header in ["Location", "Link", "X-Request-Id", "Retry-After"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    // An error answer is readable too (the page shows it).
    let refused = app.request("GET", "/api/admin/v1/courses", &[("Origin", "https://apps.school.example")], None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("Access-Control-Allow-Origin"), Some("https://apps.school.example"));
    // Another origin: no CORS header at all, and no preflight.
    for method in ["OPTIONS", "GET"] {
        let other = app.request(
            method,
            path,
            &[("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST"), ("Authorization", &admin)],
            None,
        );
        assert!(other.headers.iter().all(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-")), "{method}");
        assert_ne!(other.status, 204);
    }
    // Same-origin only by default.
    let plain = TestApp::spawn();
    let none = plain.request("GET", "/health", &[("Origin", "https://apps.school.example")], None);
    assert!(none.header("Access-Control-Allow-Origin").is_none());
    let bad = binary()
        .env("ROLLCALL_SERVER_CORS_ALLOWED_ORIGINS", "https://ok.example/path")
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(plain.dir.0.join("other.db"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn links_keep_the_public_base_url_s_prefix_behind_a_proxy_at_a_sub_path() {
    use serde_json::json;
    let prefix = "https://school.example/rollcall";
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_SERVER_PUBLIC_BASE_URL", prefix)],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, "course-v1:A+PROXY+1", json!({}));
    let started = app.send_json(
        "POST",
        "/api/enrollment/v2/courses/course-v1:A+PROXY+1/enrollments",
        Some(&admin),
        &json!({"identifiers": ["a@example.org", "b@example.org"]}),
    );
    assert_eq!(started.status, 202, "{}", started.text);
    let status_url = started.json()["status_url"].as_str().unwrap().to_owned();
    assert!(status_url.starts_with(&format!("{prefix}/api/enrollment/v2/courses/")), "{status_url}");
    assert_eq!(started.header("Location"), Some(status_url.as_str()));
    let front = app.request("GET", "/", &[("Accept", "application/json")], None).json();
    for link in ["reference", "openapi", "console", "health"] {
        assert!(front[link].as_str().unwrap().starts_with(&format!("{prefix}/")), "{link}: {front}");
    }
    assert!(front["surfaces"][0]["reference"].as_str().unwrap().starts_with(prefix));
}

#[test]
fn the_document_the_reference_the_catalog_and_a_course_answer_304_to_their_etag() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, "course-v1:A+TAG+1", serde_json::json!({}));
    for path in [
        "/api-docs/openapi.json",
        "/api-docs/",
        "/api/courses/v1/courses/",
        "/api/courses/v1/courses/course-v1:A+TAG+1",
    ] {
        let first = app.get(path, None);
        assert_eq!(first.status, 200, "{path}");
        let tag = first.header("ETag").unwrap_or_else(|| panic!("{path} has an ETag")).to_owned();
        assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
        let again = app.request("GET", path, &[("If-None-Match", &tag)], None);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.text.is_empty());
        assert_eq!(again.header("ETag"), Some(tag.as_str()));
        let stale = app.request("GET", path, &[("If-None-Match", "\"0\"")], None);
        assert_eq!(stale.status, 200, "{path}");
    }
    // A change to the course is a new tag.
    let before = app.get("/api/courses/v1/courses/course-v1:A+TAG+1", None).header("ETag").unwrap().to_owned();
    let patched = app.send_json(
        "PATCH",
        "/api/admin/v1/courses/course-v1:A+TAG+1",
        Some(&admin),
        &serde_json::json!({"title": "Renamed"}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    let after = app.request("GET", "/api/courses/v1/courses/course-v1:A+TAG+1", &[("If-None-Match", &before)], None);
    assert_eq!(after.status, 200);
}
