//! `/api/enrollment/v2/…` and `/api/instructor/v2/…`: roster lists, sync and background
//! enrollment, tasks (poll, cancel, crash and resume), and email delivery.

use crate::helpers::{TempDir, TestApp};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

const KEY: &str = "course-v1:Rollcall+V2+2026";

fn base() -> String {
    format!("/api/enrollment/v2/courses/{KEY}")
}

/// Inserts `n` active users named `{prefix}{i}` straight into the database (fast).
fn insert_users(app: &TestApp, prefix: &str, n: usize) {
    let mut conn = app.sqlite();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx.prepare("INSERT INTO users (username, email, date_joined) VALUES (?1, ?2, 0)").unwrap();
        for i in 0..n {
            stmt.execute([format!("{prefix}{i}"), format!("{prefix}{i}@example.org")]).unwrap();
        }
    }
    tx.commit().unwrap();
}

fn email_app(dir_name: &str) -> (TestApp, std::path::PathBuf) {
    let dir = TempDir::new();
    let outbox = dir.0.join(dir_name);
    let outbox_str = outbox.to_str().unwrap().to_owned();
    let app = TestApp::spawn_in(
        dir,
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_EMAIL_BACKEND", "dir"),
            ("ROLLCALL_EMAIL_DIR", &outbox_str),
        ],
        &[],
    );
    (app, outbox)
}

fn wait_for<T>(what: &str, seconds: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn eml_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read_to_string(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn one_identifier_is_enrolled_synchronously_with_before_and_after_and_an_email() {
    let (app, outbox) = email_app("mail");
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({"title": "Cell Biology"}));
    app.create_user(&admin, "ann", true);
    let reply = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["ann"], "email_students": true, "reason": "added to section B"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let result = &reply.json()["results"][0];
    assert_eq!(reply.json()["action"], "enroll");
    assert_eq!(result["identifier"], "ann");
    assert_eq!(result["before"], json!({"enrolled": false, "allowed": false, "mode": null, "auto_enroll": false}));
    assert_eq!(result["after"]["enrolled"], true);
    assert_eq!(result["after"]["mode"], "audit");
    let files = wait_for("the enrollment email", 10, || Some(eml_files(&outbox)).filter(|f| !f.is_empty()));
    assert!(files[0].0.ends_with("enrolled_enroll.eml"), "{files:?}");
    let eml = &files[0].1;
    assert!(
        eml.contains("To: ann@example.org") && eml.contains("Cell Biology") && eml.contains("added to section B"),
        "{eml}"
    );
    assert!(eml.contains("text/plain") && eml.contains("text/html"));
    // The file is written before the delivery is recorded: wait for the record.
    let messages = wait_for("the outbox to record the delivery", 10, || {
        let list = app.get("/api/admin/v1/outbox?status=sent", Some(&admin)).json();
        (list["count"] == 1).then_some(list)
    });
    assert_eq!(messages["results"][0]["message_type"], "enrolled_enroll");
}

#[test]
fn unknown_emails_are_pre_enrolled_and_invalid_identifiers_get_a_row_error() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    let invited = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["new@example.org"], "auto_enroll": true}),
    );
    assert_eq!(
        invited.json()["results"][0]["after"],
        json!({"enrolled": false, "allowed": true, "mode": null, "auto_enroll": true})
    );
    let invalid = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["not an email"]}),
    );
    assert_eq!(invalid.status, 200);
    assert_eq!(invalid.json()["results"][0]["error_code"], "INVALID_IDENTIFIER");
    let one = app.get(&format!("{}/enrollments/new@example.org", base()), Some(&admin));
    assert_eq!(one.status, 200);
    assert_eq!(
        (one.json()["enrollment_allowed"].as_bool(), one.json()["auto_enroll"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(app.get(&format!("{}/enrollments/nobody@example.org", base()), Some(&admin)).status, 404);
    for bad in [
        json!({}),
        json!({"identifiers": []}),
        json!({"identifiers": "ann"}),
        json!({"identifiers": [""]}),
        json!({"identifiers": ["a"], "auto_enroll": "yes"}),
    ] {
        let reply = app.send_json("POST", &format!("{}/enrollments", base()), Some(&admin), &bad);
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.json()["error_code"], "INVALID_PARAMETER");
    }
}

#[test]
fn the_roster_pages_filters_and_computes_optional_fields_only_on_request() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    insert_users(&app, "p", 30);
    let ids: Vec<String> = (0..30).map(|i| format!("p{i}")).collect();
    for id in &ids {
        app.send_json("POST", &format!("{}/enrollments", base()), Some(&admin), &json!({"identifiers": [id]}));
    }
    app.request("DELETE", &format!("{}/enrollments/p0", base()), &[("Authorization", &admin)], None);
    app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["later@example.org"]}),
    );
    let page = app.get(&format!("{}/enrollments?page=2&page_size=10", base()), Some(&admin));
    let body = page.json();
    assert_eq!(
        (body["count"].as_i64(), body["num_pages"].as_i64(), body["current_page"].as_i64(), body["start"].as_i64()),
        (Some(30), Some(3), Some(2), Some(10))
    );
    assert_eq!(body["results"][0]["username"], "p10");
    assert!(body["results"][0].get("profile_image").is_none() && body["results"][0].get("beta_tester").is_none());
    assert!(page.header("Link").unwrap().contains("rel=\"next\""));
    let first = &body["results"][0];
    for key in [
        "username",
        "email",
        "first_name",
        "last_name",
        "mode",
        "is_active",
        "created",
        "enrollment_allowed",
        "auto_enroll",
    ] {
        assert!(first.get(key).is_some(), "{key}");
    }
    assert!(first["created"].as_str().unwrap().ends_with('Z'));
    let with_fields =
        app.get(&format!("{}/enrollments?requested_fields=beta_tester,profile_image", base()), Some(&admin)).json();
    assert!(with_fields["results"][0]["profile_image"]["has_image"].is_boolean());
    let active = app.get(&format!("{}/enrollments?status=active&page_size=10", base()), Some(&admin)).json();
    assert_eq!(active["count"], 29);
    assert!(active["next"].as_str().unwrap().contains("status=active"), "links keep the filter: {}", active["next"]);
    assert_eq!(app.get(&format!("{}/enrollments?status=inactive", base()), Some(&admin)).json()["count"], 1);
    assert_eq!(
        app.get(&format!("{}/enrollments?status=pre_enrolled", base()), Some(&admin)).json()["results"][0]["email"],
        "later@example.org"
    );
    assert_eq!(
        app.get(&format!("{}/enrollments?page_size=1000", base()), Some(&admin)).json()["results"]
            .as_array()
            .unwrap()
            .len(),
        30
    );
    let bad = app.get(&format!("{}/enrollments?page_size=ten", base()), Some(&admin));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error_code"], "INVALID_PARAMETER");
    assert!(bad.json()["field_errors"]["page_size"].is_object());
    assert_eq!(app.get(&format!("{}/enrollments?status=odd", base()), Some(&admin)).status, 400);
    assert_eq!(app.get(&format!("{}/enrollments?requested_fields=secret", base()), Some(&admin)).status, 400);
}

#[test]
fn filtered_roster_pages_are_exact_across_blocks_and_survive_the_migration() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    insert_users(&app, "deep", 3000);
    {
        // Straight into the table, as `rollcall import` or a migration would: the triggers
        // keep the block counts.
        let mut conn = app.sqlite();
        let tx = conn.transaction().unwrap();
        let course: i64 = tx.query_row("SELECT id FROM courses WHERE course_key = ?1", [KEY], |r| r.get(0)).unwrap();
        tx.execute(
            "INSERT INTO enrollments (user_id, course_id, mode, is_active, course_seq, created, updated) \
             SELECT id, ?1, 'audit', 1, ROW_NUMBER() OVER (ORDER BY id), 0, 0 FROM users WHERE username LIKE 'deep%'",
            [course],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    // Unenroll every seventh learner through the API (the update trigger).
    let leaving: Vec<String> = (0..3000).step_by(7).map(|i| format!("deep{i}")).collect();
    for user in &leaving[..60] {
        let reply =
            app.request("DELETE", &format!("{}/enrollments/{user}", base()), &[("Authorization", &admin)], None);
        assert!(reply.status < 300, "{}", reply.text);
    }
    let expected = |app: &TestApp, active: bool, offset: usize| -> Vec<String> {
        let conn = app.sqlite();
        let mut stmt = conn
            .prepare(
                "SELECT u.username FROM enrollments e JOIN users u ON u.id = e.user_id WHERE e.is_active = ?1 \
                 ORDER BY e.course_seq LIMIT 100 OFFSET ?2",
            )
            .unwrap();
        stmt.query_map(rusqlite::params![active, offset as i64], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let check = |app: &TestApp, admin: &str| {
        for (status, active, total) in [("active", true, 2940usize), ("inactive", false, 60)] {
            let pages = total.div_ceil(100);
            for page in [1, 2, 11, 12, pages, pages + 1] {
                let reply =
                    app.get(&format!("{}/enrollments?status={status}&page_size=100&page={page}", base()), Some(admin));
                if page > pages {
                    assert_eq!(reply.status, 404, "{status} page {page}");
                    continue;
                }
                let body = reply.json();
                assert_eq!(body["count"], total, "{status} page {page}: {body}");
                let got: Vec<String> = body["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["username"].as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(got, expected(app, active, (page - 1) * 100), "{status} page {page}");
            }
        }
    };
    check(&app, &admin);
    // A database from before the block counts: the migration builds them from the rows.
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir = app.stop();
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute_batch(
            "DROP TRIGGER roster_blocks_insert; DROP TRIGGER roster_blocks_update; DROP TABLE roster_blocks; \
             ALTER TABLE task_items DROP COLUMN options; \
             DROP TRIGGER enrollment_seq_insert; ALTER TABLE courses DROP COLUMN enrollment_seq; \
             DROP INDEX users_by_username_key; ALTER TABLE users DROP COLUMN username_key; \
             DROP INDEX enrollments_by_access_end; DROP TABLE waitlist; ALTER TABLE enrollments DROP COLUMN status; \
             ALTER TABLE enrollments DROP COLUMN access_start; ALTER TABLE enrollments DROP COLUMN access_end; \
             ALTER TABLE enrollments DROP COLUMN expiry_notified; ALTER TABLE courses DROP COLUMN access_days; \
             ALTER TABLE courses DROP COLUMN expiry_action; ALTER TABLE courses DROP COLUMN expiry_notice_days; \
             ALTER TABLE courses DROP COLUMN waitlist; ALTER TABLE courses DROP COLUMN waitlist_limit; \
             ALTER TABLE courses DROP COLUMN suspended_holds_seat; PRAGMA user_version = 3; \
             PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, ', ''progress''))', '))') WHERE name = 'tasks'; \
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    let again = TestApp::spawn_in(dir, &[], &[]);
    let unkeyed: i64 =
        again.sqlite().query_row("SELECT COUNT(*) FROM users WHERE username_key IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(unkeyed, 0, "schema 5 gives every existing account its look-alike key");
    let widened: String =
        again.sqlite().query_row("SELECT sql FROM sqlite_schema WHERE name = 'tasks'", [], |r| r.get(0)).unwrap();
    assert!(widened.contains("'unenroll', 'progress'"), "the tasks CHECK admits progress tasks: {widened}");
    let counter: i64 = again
        .sqlite()
        .query_row("SELECT enrollment_seq FROM courses WHERE course_key = ?1", [KEY], |r| r.get(0))
        .unwrap();
    assert_eq!(counter, 3000, "the position counter starts from the rows already there");
    let token = again.token_for(&client_id, &client_secret, "jwt").json();
    check(&again, &format!("JWT {}", token["access_token"].as_str().unwrap()));
}

#[test]
fn course_staff_manage_only_their_courses_and_learners_are_refused() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.create_course(&admin, "course-v1:Rollcall+OTHER+2026", json!({}));
    let teacher = app.user_auth(&admin, "teacher", false);
    app.send_json(
        "POST",
        &format!("/api/admin/v1/courses/{KEY}/staff"),
        Some(&admin),
        &json!({"username": "teacher", "role": "instructor"}),
    );
    assert_eq!(app.get(&format!("{}/enrollments", base()), Some(&teacher)).status, 200);
    let other = app.get("/api/enrollment/v2/courses/course-v1:Rollcall+OTHER+2026/enrollments", Some(&teacher));
    assert_eq!(other.status, 403);
    assert_eq!(other.json()["error_code"], "PERMISSION_DENIED");
    let learner = app.user_auth(&admin, "learner", false);
    let refused =
        app.send_json("POST", &format!("{}/enrollments", base()), Some(&learner), &json!({"identifiers": ["learner"]}));
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["status_code"], 403);
    assert_eq!(app.get(&format!("{}/enrollments", base()), None).json()["error_code"], "AUTHENTICATION_REQUIRED");
    assert_eq!(app.get("/api/enrollment/v2/courses/not-a-key/enrollments", Some(&admin)).status, 400);
    assert_eq!(
        app.get("/api/enrollment/v2/courses/course-v1:No+Such+Run/enrollments", Some(&admin)).json()["error_code"],
        "RESOURCE_NOT_FOUND"
    );
}

#[test]
fn several_identifiers_start_a_task_that_is_polled_to_success() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    insert_users(&app, "bulk", 2500);
    let mut identifiers: Vec<String> = (0..2500).map(|i| format!("bulk{i}")).collect();
    identifiers.extend((0..500).map(|i| format!("invitee{i}@example.org")));
    identifiers.push("not valid".into());
    let reply = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": identifiers, "auto_enroll": true}),
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    let accepted = reply.json();
    assert_eq!(accepted["count"], 3001);
    assert_eq!(accepted["action"], "enroll");
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    assert_eq!(status_url, format!("{}{}/tasks/{}", app.base, base(), accepted["task_id"].as_str().unwrap()));
    let done = wait_for("the task", 120, || {
        let task = app.get(&status_url, Some(&admin)).json();
        (task["status"] == "succeeded").then_some(task)
    });
    assert_eq!(done["progress"], json!({"total": 3001, "done": 3001, "succeeded": 3000, "failed": 1}));
    assert!(done["started"].is_string() && done["finished"].is_string());
    assert_eq!(done["results"][0]["after"]["enrolled"], true);
    let last_page = app.get(&format!("{status_url}?page=31&page_size=100"), Some(&admin)).json();
    assert_eq!(last_page["results"][0]["error_code"], "INVALID_IDENTIFIER");
    assert_eq!(app.get(&format!("{}/enrollments?status=active", base()), Some(&admin)).json()["count"], 2500);
    assert_eq!(app.get(&format!("{}/enrollments?status=pre_enrolled", base()), Some(&admin)).json()["count"], 500);
    assert_eq!(app.get(&format!("{}/tasks/no-such-task", base()), Some(&admin)).status, 404);
    // A finished task cannot be cancelled.
    assert_eq!(app.request("DELETE", &status_url, &[("Authorization", &admin)], None).status, 409);
}

#[test]
fn a_cancelled_task_stops_and_keeps_what_it_did() {
    // One worker, and a first task far too large to finish before the calls below: the
    // second task surely waits as pending, and the first is surely still running.
    let env = [
        ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
        ("ROLLCALL_JOBS_WORKERS", "1"),
        ("ROLLCALL_SERVER_MAX_BODY_BYTES", "8388608"),
    ];
    let app = TestApp::spawn_with(&env, &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    let start = |prefix: &str, n: usize| {
        let identifiers: Vec<String> = (0..n).map(|i| format!("{prefix}{i}@x.io")).collect();
        let reply = app.send_json(
            "POST",
            &format!("{}/enrollments", base()),
            Some(&admin),
            &json!({"identifiers": identifiers}),
        );
        assert_eq!(reply.status, 202, "{}", reply.text);
        reply.json()["status_url"].as_str().unwrap().to_owned()
    };
    let (first, second) = (start("a", 300_000), start("b", 1000));
    let cancelled = app.request("DELETE", &second, &[("Authorization", &admin)], None);
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json()["status"], "cancelled");
    let running = app.request("DELETE", &first, &[("Authorization", &admin)], None);
    assert_eq!(running.status, 200, "{}", running.text);
    std::thread::sleep(Duration::from_millis(1000));
    let first = app.get(&first, Some(&admin)).json();
    let second = app.get(&second, Some(&admin)).json();
    assert_eq!((first["status"].as_str(), second["status"].as_str()), (Some("cancelled"), Some("cancelled")));
    assert_eq!(second["progress"]["done"], 0);
    let done = first["progress"]["done"].as_i64().unwrap();
    assert!(done < 300_000, "{first}");
    // What was done stays done, and nothing more happens.
    assert_eq!(
        app.get(&format!("{}/enrollments?status=pre_enrolled", base()), Some(&admin)).json()["count"].as_i64().unwrap(),
        done
    );
}

#[test]
fn delete_unenrolls_and_emails_with_the_reason() {
    let (app, outbox) = email_app("mail");
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.create_user(&admin, "bob", true);
    app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["bob", "pending@example.org"]}),
    );
    wait_for("the task", 30, || {
        (app.get(&format!("{}/enrollments/bob", base()), Some(&admin)).json()["is_active"] == true).then_some(())
    });
    let reply = app.request(
        "DELETE",
        &format!("{}/enrollments/bob?email_student=true&reason=left%20school", base()),
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let result = &reply.json()["results"][0];
    assert_eq!(
        (result["before"]["enrolled"].as_bool(), result["after"]["enrolled"].as_bool()),
        (Some(true), Some(false))
    );
    let reply = app.request(
        "DELETE",
        &format!("{}/enrollments/pending@example.org?email_student=true", base()),
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(reply.json()["results"][0]["after"]["allowed"], false);
    let files = wait_for("two emails", 10, || Some(eml_files(&outbox)).filter(|f| f.len() >= 2));
    assert!(files[0].0.ends_with("enrolled_unenroll.eml") && files[0].1.contains("left school"), "{files:?}");
    assert!(files[1].0.ends_with("allowed_unenroll.eml"), "{files:?}");
    assert_eq!(
        app.request(
            "DELETE",
            &format!("{}/enrollments/bob?email_student=maybe", base()),
            &[("Authorization", &admin)],
            None
        )
        .status,
        400
    );
}

#[test]
fn the_instructor_dashboard_routes_modify_and_list_synchronously() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.create_user(&admin, "ann", true);
    let path = format!("/api/instructor/v2/courses/{KEY}/enrollments");
    let reply = app.send_json("POST", &format!("{path}/modify"), Some(&admin),
        &json!({"identifier": ["ann", "someone@example.org", "not-an-email"], "action": "enroll", "auto_enroll": false, "email_students": false, "reason": ""}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["action"], "enroll");
    assert_eq!(
        body["results"][0]["before"],
        json!({"user": true, "enrollment": false, "allowed": false, "auto_enroll": false})
    );
    assert_eq!(
        body["results"][0]["after"],
        json!({"user": true, "enrollment": true, "allowed": false, "auto_enroll": false})
    );
    assert_eq!(
        body["results"][1]["after"],
        json!({"user": false, "enrollment": false, "allowed": true, "auto_enroll": false})
    );
    assert_eq!(body["results"][2], json!({"identifier": "not-an-email", "invalid_identifier": true}));
    let list = app.get(&path, Some(&admin)).json();
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["username"], "ann");
    let bad = app.send_json(
        "POST",
        &format!("{path}/modify"),
        Some(&admin),
        &json!({"identifier": ["ann"], "action": "explode"}),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.json()["action"].is_array());
}

#[test]
fn a_failed_email_can_be_retried_from_the_admin_api() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["x@example.org"], "email_students": true}),
    );
    let sent = wait_for("delivery by the log backend", 10, || {
        let list = app.get("/api/admin/v1/outbox", Some(&admin)).json();
        (list["results"][0]["status"] == "sent").then_some(list)
    });
    let id = sent["results"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.request("POST", &format!("/api/admin/v1/outbox/{id}/retry"), &[("Authorization", &admin)], None).status,
        409
    );
    app.sqlite().execute("UPDATE outbox SET status = 'failed', last_error = 'mailbox full'", []).unwrap();
    let retried = app.request("POST", &format!("/api/admin/v1/outbox/{id}/retry"), &[("Authorization", &admin)], None);
    assert_eq!(retried.status, 200, "{}", retried.text);
    wait_for("redelivery", 10, || {
        (app.get("/api/admin/v1/outbox", Some(&admin)).json()["results"][0]["status"] == "sent").then_some(())
    });
    assert_eq!(app.request("POST", "/api/admin/v1/outbox/999/retry", &[("Authorization", &admin)], None).status, 404);
    assert_eq!(app.get("/api/admin/v1/outbox?status=weird", Some(&admin)).status, 400);
}

/// A throwaway SMTP server: accepts one session after another and keeps each message.
fn fake_smtp() -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let _ = writer.write_all(b"220 fake ESMTP\r\n");
            let mut data = String::new();
            let mut in_data = false;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        let _ = tx.send(std::mem::take(&mut data));
                        let _ = writer.write_all(b"250 OK queued\r\n");
                    } else {
                        data.push_str(&line);
                    }
                } else {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-fake\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = writer.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = writer.write_all(reply);
                }
                line.clear();
            }
        }
    });
    (port, rx)
}

#[test]
fn the_smtp_backend_delivers_to_a_real_smtp_listener() {
    let (port, received) = fake_smtp();
    let port = port.to_string();
    let app = TestApp::spawn_with(
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_EMAIL_BACKEND", "smtp"),
            ("ROLLCALL_EMAIL_SMTP_HOST", "127.0.0.1"),
            ("ROLLCALL_EMAIL_SMTP_PORT", &port),
            ("ROLLCALL_EMAIL_SMTP_SECURITY", "none"),
            ("ROLLCALL_EMAIL_FROM", "school@example.org"),
        ],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({"title": "Chemistry"}));
    app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["kid@example.org"], "email_students": true}),
    );
    let message = received.recv_timeout(Duration::from_secs(20)).expect("an SMTP delivery");
    assert!(
        message.contains("To: kid@example.org")
            && message.contains("From: school@example.org")
            && message.contains("Chemistry"),
        "{message}"
    );
    wait_for("the outbox to record it", 10, || {
        (app.get("/api/admin/v1/outbox", Some(&admin)).json()["results"][0]["status"] == "sent").then_some(())
    });
}

/// SIGKILL in the middle of a 100,000-identifier task, then start again: the task finishes
/// and every learner is processed exactly once in effect.
#[test]
fn a_task_killed_mid_run_resumes_and_processes_every_learner_exactly_once() {
    let env = [
        ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
        ("ROLLCALL_SERVER_MAX_BODY_BYTES", "16777216"),
        ("ROLLCALL_DATABASE_SYNCHRONOUS", "normal"),
    ];
    let app = TestApp::spawn_with(&env, &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    const N: usize = 100_000;
    insert_users(&app, "k", N);
    let identifiers: Vec<String> = (0..N).map(|i| format!("k{i}")).collect();
    let reply = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": identifiers, "email_students": true}),
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    // Its path: the server comes back on another port.
    let url = reply.json()["status_url"].as_str().unwrap().trim_start_matches(app.base.as_str()).to_owned();
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let progress = wait_for("some progress", 120, || {
        let done = app.get(&url, Some(&admin)).json()["progress"]["done"].as_i64().unwrap();
        (done >= 5000).then_some(done)
    });
    assert!(progress < N as i64, "the task finished before it could be interrupted");
    let mut app = app;
    app.child.kill().unwrap(); // SIGKILL
    app.child.wait().unwrap();
    let dir = app.stop();
    let app = TestApp::spawn_in(dir, &env, &[]);
    let token = app.token_for(&client_id, &client_secret, "jwt").json();
    let admin = format!("JWT {}", token["access_token"].as_str().unwrap());
    let done = wait_for("the resumed task", 300, || {
        let task = app.get(&url, Some(&admin)).json();
        (task["status"] == "succeeded").then_some(task)
    });
    assert_eq!(done["progress"], json!({"total": N, "done": N, "succeeded": N, "failed": 0}));
    let conn = app.sqlite();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM enrollments WHERE is_active = 1"), N as i64);
    assert_eq!(count("SELECT COUNT(*) FROM enrollment_history"), N as i64, "one history row per learner");
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE message_type = 'enrolled_enroll'"),
        N as i64,
        "one email per learner"
    );
    assert_eq!(count("SELECT COUNT(DISTINCT recipient) FROM outbox"), N as i64);
}

#[test]
fn an_undeliverable_email_keeps_its_attempts_and_last_error_and_waits_to_retry() {
    // Nothing listens on this port: every delivery attempt fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let app = TestApp::spawn_with(
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_EMAIL_BACKEND", "smtp"),
            ("ROLLCALL_EMAIL_SMTP_HOST", "127.0.0.1"),
            ("ROLLCALL_EMAIL_SMTP_PORT", &port),
            ("ROLLCALL_EMAIL_SMTP_SECURITY", "none"),
        ],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["kid@example.org"], "email_students": true}),
    );
    let message = wait_for("a failed attempt", 20, || {
        let list = app.get("/api/admin/v1/outbox", Some(&admin)).json();
        (list["results"][0]["attempts"] == 1).then(|| list["results"][0].clone())
    });
    assert_eq!(message["status"], "pending");
    assert!(message["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{message}");
    let next: String = message["next_attempt_at"].as_str().unwrap().to_owned();
    assert!(next.as_str() > message["created"].as_str().unwrap(), "the retry waits: {message}");
}

/// SIGTERM while 400 emails go out over SMTP, then start again on the same database:
/// every learner gets the email exactly once (each message is recorded as it is sent,
/// and those not yet sent are released at shutdown).
#[test]
fn sigterm_during_smtp_delivery_sends_no_email_twice() {
    let (port, received) = fake_smtp();
    let port = port.to_string();
    let env = [
        ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
        ("ROLLCALL_EMAIL_BACKEND", "smtp"),
        ("ROLLCALL_EMAIL_SMTP_HOST", "127.0.0.1"),
        ("ROLLCALL_EMAIL_SMTP_PORT", &port),
        ("ROLLCALL_EMAIL_SMTP_SECURITY", "none"),
        ("ROLLCALL_EMAIL_FROM", "school@example.org"),
    ];
    let mut app = TestApp::spawn_with(&env, &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({"title": "Chemistry"}));
    const N: usize = 400;
    let identifiers: Vec<String> = (0..N).map(|i| format!("kid{i}@example.org")).collect();
    let reply = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": identifiers, "email_students": true}),
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    let mut recipients: Vec<String> = Vec::new();
    let take = |recipients: &mut Vec<String>, wait: Duration| {
        while let Ok(message) = received.recv_timeout(wait) {
            let to = message.lines().find_map(|l| l.strip_prefix("To: ")).unwrap_or("").trim().to_owned();
            recipients.push(to);
        }
    };
    // Stop in the middle of the deliveries.
    while recipients.len() < 20 {
        recipients.push(
            received
                .recv_timeout(Duration::from_secs(20))
                .expect("deliveries start")
                .lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or("")
                .trim()
                .to_owned(),
        );
    }
    let pid = app.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = app.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    take(&mut recipients, Duration::from_millis(300));
    assert!(recipients.len() < N, "stopped mid-delivery ({} sent)", recipients.len());
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir = app.stop();
    let app = TestApp::spawn_in(dir, &env, &[]);
    let token = app.token_for(&client_id, &client_secret, "jwt").json();
    let admin = format!("JWT {}", token["access_token"].as_str().unwrap());
    wait_for("every email to be sent", 60, || {
        let pending = app.get("/api/admin/v1/outbox?status=pending", Some(&admin)).json();
        (pending["count"] == 0).then_some(())
    });
    take(&mut recipients, Duration::from_millis(500));
    let mut sorted = recipients.clone();
    sorted.sort();
    let before = sorted.len();
    sorted.dedup();
    assert_eq!(before, sorted.len(), "some learners got the email twice");
    assert_eq!(sorted.len(), N, "every learner got it");
}

#[test]
fn the_instructor_list_searches_names_and_emails_and_pages_by_ten() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    insert_users(&app, "learner", 12);
    let identifiers: Vec<String> = (0..12).map(|i| format!("learner{i}")).collect();
    let modify = app.send_json(
        "POST",
        &format!("/api/instructor/v2/courses/{KEY}/enrollments/modify"),
        Some(&admin),
        &json!({"identifier": identifiers, "action": "enroll"}),
    );
    assert_eq!(modify.status, 200, "{}", modify.text);
    app.sqlite().execute("UPDATE users SET first_name = 'Zelda' WHERE username = 'learner7'", []).unwrap();
    let list = app.get(&format!("/api/instructor/v2/courses/{KEY}/enrollments"), Some(&admin)).json();
    assert_eq!(
        (list["count"].clone(), list["results"].as_array().unwrap().len()),
        (json!(12), 10),
        "the view's page size"
    );
    assert_eq!(list["results"][0]["is_beta_tester"], false);
    let found = app.get(&format!("/api/instructor/v2/courses/{KEY}/enrollments?search=zel"), Some(&admin)).json();
    assert_eq!(found["count"], 1);
    assert_eq!(found["results"][0]["username"], "learner7");
    let by_email =
        app.get(&format!("/api/instructor/v2/courses/{KEY}/enrollments?search=learner11%40"), Some(&admin)).json();
    assert_eq!(by_email["results"][0]["username"], "learner11");
    let none = app.get(&format!("/api/instructor/v2/courses/{KEY}/enrollments?search=100%25"), Some(&admin)).json();
    assert_eq!(none["count"], 0, "% is literal");
}

#[test]
fn emails_carry_a_message_id_and_a_date_and_link_to_the_lms() {
    let dir = TempDir::new();
    let outbox = dir.0.join("mail");
    let outbox_str = outbox.to_str().unwrap().to_owned();
    let app = TestApp::spawn_in(
        dir,
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_EMAIL_BACKEND", "dir"),
            ("ROLLCALL_EMAIL_DIR", &outbox_str),
            ("ROLLCALL_EMAIL_LMS_BASE_URL", "https://learn.school.example"),
        ],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({"title": "Chemistry"}));
    app.create_user(&admin, "kid", true);
    let reply = app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["kid", "newcomer@example.org"], "email_students": true, "auto_enroll": true}),
    );
    assert!(reply.status == 200 || reply.status == 202, "{}", reply.text);
    let files = wait_for("two emails", 20, || {
        let files = eml_files(&outbox);
        (files.len() >= 2).then_some(files)
    });
    for (name, eml) in &files {
        let unfolded = eml.replace("=\r\n", "").replace("=3D", "=");
        assert!(unfolded.contains("Message-ID: <"), "{name}: {eml}");
        assert!(unfolded.contains("\r\nDate: "), "{name}");
        assert!(!unfolded.contains(&format!("{}/courses/", app.base)), "{name}: no link to Rollcall's missing pages");
        if name.contains("enrolled_enroll") {
            assert!(unfolded.contains("https://learn.school.example/courses/course-v1:"), "{name}: {unfolded}");
            assert!(unfolded.contains("<a href=\"https://learn.school.example/courses/"), "{name}: clickable");
        }
        if name.contains("allowed_enroll") {
            assert!(unfolded.contains("https://learn.school.example/register"), "{name}: {unfolded}");
        }
    }
}

#[test]
fn email_templates_from_a_directory_replace_the_built_in_parts_and_bad_ones_stop_start_up() {
    let dir = TempDir::new();
    let templates = dir.0.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("enrolled_enroll.subject.txt"), "{{course_name}}: you are in").unwrap();
    std::fs::write(
        templates.join("enrolled_enroll.txt"),
        "Hello {{full_name}}, welcome to {{course_name}} at {{school_name}}.",
    )
    .unwrap();
    std::fs::write(templates.join("bad.html"), "x").unwrap();
    let refused = crate::helpers::binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.db())
        .env("ROLLCALL_EMAIL_TEMPLATES_DIR", &templates)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("bad.html"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    std::fs::remove_file(templates.join("bad.html")).unwrap();
    let outbox = dir.0.join("mail");
    let (templates_str, outbox_str) = (templates.to_str().unwrap().to_owned(), outbox.to_str().unwrap().to_owned());
    let app = TestApp::spawn_in(
        dir,
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_EMAIL_BACKEND", "dir"),
            ("ROLLCALL_EMAIL_DIR", &outbox_str),
            ("ROLLCALL_EMAIL_TEMPLATES_DIR", &templates_str),
        ],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({"title": "Chemistry"}));
    app.create_user(&admin, "kid", true);
    app.send_json(
        "POST",
        &format!("{}/enrollments", base()),
        Some(&admin),
        &json!({"identifiers": ["kid"], "email_students": true}),
    );
    let (_, eml) = wait_for("the email", 20, || eml_files(&outbox).into_iter().next());
    let unfolded = eml.replace("=\r\n", "");
    assert!(unfolded.contains("Subject: Chemistry: you are in"), "{unfolded}");
    assert!(unfolded.contains("Hello kid, welcome to Chemistry at Rollcall School."), "{unfolded}");
}

/// Group commit acknowledges a write only after the commit that carries it: SIGKILL under
/// 16 concurrent writers loses nothing that was answered 200, and each has its history.
#[test]
fn sigkill_under_sixteen_writers_keeps_every_acknowledged_enrollment_with_its_history() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    insert_users(&app, "w", 16 * 2000);
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = std::sync::Arc::new(app);
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let (app, admin, acknowledged, stop) = (app.clone(), admin.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                for n in 0..2000 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let user = format!("w{}", w * 2000 + n);
                    let url = app.url(&format!("{}/enrollments", base()));
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(5)))
                        .build()
                        .into();
                    let reply = agent
                        .post(&url)
                        .header("Authorization", &admin)
                        .header("Content-Type", "application/json")
                        .send(json!({"identifiers": [user]}).to_string());
                    match reply {
                        Ok(r) if r.status() == 200 => acknowledged.lock().unwrap().push(user),
                        _ => break,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = app.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 50, "the writers got going ({} acknowledged)", acknowledged.len());
    let conn = app.sqlite();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let mut missing = Vec::new();
    for user in &acknowledged {
        let (enrolled, history): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM enrollments e JOIN users u ON u.id = e.user_id WHERE u.username = ?1 AND e.is_active = 1), \
                 (SELECT COUNT(*) FROM enrollment_history h JOIN users u ON u.id = h.user_id WHERE u.username = ?1)",
                [user],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if enrolled != 1 || history < 1 {
            missing.push(user.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged enrollments lost: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn a_refused_write_answers_503_for_one_learner_an_unenrollment_and_a_task_and_writes_nothing() {
    use crate::helpers::assert_refused;
    let app = TestApp::spawn_refusable(&[]);
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    let path = format!("/api/enrollment/v2/courses/{KEY}/enrollments");
    let bob = app.send_json("POST", &path, Some(&admin), &json!({"identifiers": ["bob@example.org"]}));
    assert_eq!(bob.status, 200, "{}", bob.text);
    let refused = app.refuse_writes();
    let one = app.send_json("POST", &path, Some(&admin), &json!({"identifiers": ["ann@example.org"]}));
    assert_refused(&one, "error_code");
    assert_eq!(one.json()["error_code"], "SERVICE_UNAVAILABLE");
    let gone = app.request("DELETE", &format!("{path}/bob@example.org"), &[("Authorization", &admin)], None);
    assert_refused(&gone, "error_code");
    let several =
        app.send_json("POST", &path, Some(&admin), &json!({"identifiers": ["c@example.org", "d@example.org"]}));
    assert_refused(&several, "error_code");
    // The instructor dashboard's route, in DRF's format.
    let modify = app.send_json(
        "POST",
        &format!("/api/instructor/v2/courses/{KEY}/enrollments/modify"),
        Some(&admin),
        &json!({"identifier": ["ann@example.org"], "action": "enroll"}),
    );
    assert_refused(&modify, "detail");
    // Reads go on.
    assert_eq!(app.get(&format!("{path}/bob@example.org"), Some(&admin)).status, 200);
    drop(refused);
    assert_eq!(app.get(&format!("{path}/ann@example.org"), Some(&admin)).status, 404, "nothing was written");
    assert_eq!(app.get(&format!("{path}/bob@example.org"), Some(&admin)).status, 200, "bob is still pre-enrolled");
}

/// A disk that fills up under a running task: the database is filled to its cap
/// (`database.max_size_mb`) while the server is stopped, with a task of 1,000 learners
/// waiting; the worker's batches are refused (SQLITE_FULL) and retried, and no item is
/// failed for it. Once space is freed the task finishes.
#[test]
fn a_task_s_batch_refused_by_a_full_database_is_retried_and_no_item_is_failed_for_it() {
    let env = [("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_DATABASE_MAX_SIZE_MB", "2")];
    let app = TestApp::spawn_with(&env, &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    let path = format!("/api/enrollment/v2/courses/{KEY}/enrollments");
    let first = app.send_json("POST", &path, Some(&admin), &json!({"identifiers": ["a@example.org", "b@example.org"]}));
    assert_eq!(first.status, 202, "{}", first.text);
    let first_url = first.json()["status_url"].as_str().unwrap().to_owned();
    crate::helpers::wait_until(30, || {
        (app.get(&first_url, Some(&admin)).json()["status"] == "succeeded").then_some(())
    });
    let dir = app.stop();
    {
        // A second task like the first, waiting; then the database filled to its cap.
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch(
            "BEGIN;
             INSERT INTO tasks (public_id, course_id, action, options, actor, surface, total, created)
               SELECT 'refused-by-a-full-disk', course_id, action, options, actor, surface, 1000, created FROM tasks;
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
               INSERT INTO task_items (task_id, position, identifier)
               SELECT (SELECT id FROM tasks WHERE public_id = 'refused-by-a-full-disk'), i, 'learner' || i || '@example.org' FROM n;
             COMMIT;
             CREATE TABLE ballast (b BLOB);",
        )
        .unwrap();
        // 2 MiB in SQLite's 4 KiB pages.
        conn.query_row("PRAGMA max_page_count = 512", [], |_| Ok(())).unwrap();
        for size in [3000, 200, 20] {
            while conn.execute("INSERT INTO ballast VALUES (zeroblob(?1))", [size]).is_ok() {}
        }
    }
    // Tokens of the first run are not valid in the second; the server-to-server key is.
    let app = TestApp::spawn_in(dir, &[env[0], env[1], ("ROLLCALL_AUTH_API_KEY", "refused-key")], &[]);
    let status_url = format!("/api/enrollment/v2/courses/{KEY}/tasks/refused-by-a-full-disk?page_size=1");
    let read = || app.request("GET", &status_url, &[("X-Edx-Api-Key", "refused-key")], None).json();
    std::thread::sleep(Duration::from_millis(1500));
    let during = read();
    assert_eq!(during["progress"]["failed"], 0, "{during}");
    assert!(matches!(during["status"].as_str(), Some("running" | "pending")), "{during}");
    let log = std::fs::read_to_string(app.dir.0.join("server.log")).unwrap();
    assert!(log.contains("the database refused a batch"), "the worker met the full disk: {log}");
    // Space is freed (the disk is cleaned up): the same task goes on.
    app.sqlite().execute_batch("DROP TABLE ballast").unwrap();
    let task = crate::helpers::wait_until(120, || {
        let task = read();
        (task["status"] != "running" && task["status"] != "pending").then_some(task)
    });
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["progress"]["succeeded"], 1000, "{task}");
    assert_eq!(task["progress"]["failed"], 0, "{task}");
}

#[test]
fn a_bad_body_is_answered_after_the_courses_404_and_403_on_every_staff_roster_write() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    let learner = app.user_auth(&admin, "learner", false);
    let missing = "course-v1:No+Such+Run";
    // (method, path under a course, a body each route refuses)
    let writes = [
        ("POST", "/api/enrollment/v2/courses/{}/enrollments", json!({"identifiers": []})),
        ("PATCH", "/api/enrollment/v2/courses/{}/enrollments/learner", json!({"status": 7})),
        ("POST", "/api/instructor/v2/courses/{}/enrollments/modify", json!({"action": "promote"})),
        ("POST", "/api/admin/v1/courses/{}/waitlist", json!({"colour": "blue"})),
        ("PATCH", "/api/admin/v1/courses/{}/waitlist/learner", json!({"position": "first"})),
        ("PUT", "/api/admin/v1/courses/{}/enrollments/learner/progress", json!({"grade": 2})),
    ];
    for (method, path, body) in &writes {
        let unknown = app.send_json(method, &path.replace("{}", missing), Some(&admin), body);
        assert_eq!(unknown.status, 404, "{method} {path}: an unknown course first");
        let refused = app.send_json(method, &path.replace("{}", KEY), Some(&learner), body);
        assert_eq!(refused.status, 403, "{method} {path}: then a caller who may not manage it");
        let invalid = app.send_json(method, &path.replace("{}", KEY), Some(&admin), body);
        assert_eq!(invalid.status, 400, "{method} {path}: then the body");
    }
    let roster = app.get(&format!("{}/enrollments", base()), Some(&admin)).json();
    assert_eq!(roster["count"], 0, "no refused call wrote anything");
}
