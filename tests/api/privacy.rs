//! Privacy requests over HTTP: a person's export holds each kind of record and nothing about
//! anyone else; retirement removes them from every byte of the database and its WAL while
//! the school's counts, grades and revenue stay; tokens and sessions die; a bulk retirement
//! survives SIGKILL.

use crate::helpers::{wait_until, TestApp};
use serde_json::{json, Value};

const PAID: &str = "course-v1:Rollcall+WEB-301+2026";
const FREE: &str = "course-v1:Rollcall+FREE-1+2026";
const PATH: &str = "path-v1:Rollcall+PRIV+2026+T1";
const EMAIL: &str = "zoraida.quintanillax@example.com";
const NAME: &str = "Zoraida Quintanillax";
const PASSWORD: &str = "a-long-password-9";

struct School {
    app: TestApp,
    admin: String,
    /// The learner whose data is asked for (a checkout student).
    learner: String,
}

fn school() -> School {
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_WEBHOOKS_ALLOWED_HOSTS", "127.0.0.1")],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, PAID, json!({"code": "WEB-301", "price": "299.00"}));
    app.create_course(&admin, FREE, json!({"code": "FREE-1", "price": "0.00"}));
    let hook =
        app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": "http://127.0.0.1:9/hook"}));
    assert_eq!(hook.status, 201, "{}", hook.text);
    let order = json!({
        "student": {"email": EMAIL, "first_name": "Zoraida", "last_name": "Quintanillax", "phone": "+1-555-987-6543",
            "date_of_birth": "1990-02-03", "address": {"street": "9 Elm Row", "city": "Tulsa", "state": "OK", "country": "US", "postal_code": "74103"}},
        "course": {"code": "WEB-301", "custom_fields": [{"key": "referrer", "value": "Zoraida's cousin"}]},
        "payment": {"amount": 299.00, "currency": "USD", "method": "credit_card",
            "card": {"number": "4242424242424242", "holder_name": NAME, "expiry_month": 12, "expiry_year": 2031, "cvv": "123"},
            "billing_address": {"same_as_student": true}},
        "enrollment": {"start_immediately": true, "send_welcome_email": true, "notes": "Paid by zoraida.quintanillax@example.com"},
        "metadata": {"source": "web", "ip_address": "192.168.1.1"}
    });
    let reply = app.send_json("POST", "/api/v1/enrollments", Some(&admin), &order);
    assert_eq!(reply.status, 201, "{}", reply.text);
    let learner = reply.json()["data"]["student"]["username"].as_str().unwrap().to_owned();
    let set = app.send_json(
        "PATCH",
        &format!("/api/admin/v1/users/{learner}"),
        Some(&admin),
        &json!({"password": PASSWORD, "name": NAME}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    // Another learner in the same courses, whose data must never show in the export.
    app.create_user(&admin, "other_learner", true);
    let ok = |method: &str, path: &str, body: Value| {
        let reply = app.send_json(method, path, Some(&admin), &body);
        assert!(reply.status < 300, "{method} {path}: {} {}", reply.status, reply.text);
        reply.json_or_null()
    };
    for who in [learner.as_str(), "other_learner"] {
        ok(
            "POST",
            &format!("/api/enrollment/v2/courses/{FREE}/enrollments"),
            json!({"identifiers": [who], "reason": format!("asked by {who} in person"), "email_students": true}),
        );
    }
    ok(
        "PUT",
        &format!("/api/admin/v1/courses/{PAID}/enrollments/{learner}/progress"),
        json!({"completion": 1.0, "grade": 0.87, "passed": true, "certificate_url": format!("https://certs.example.org/{learner}")}),
    );
    ok(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        json!({"email": EMAIL, "course_id": "course-v1:Rollcall+LATER+2027"}),
    );
    ok(
        "POST",
        "/api/admin/v1/learning-paths",
        json!({"key": PATH, "display_name": "Privacy track", "invite_only": false, "steps": [{"course_key": FREE, "weight": 1.0}]}),
    );
    ok("POST", &format!("/api/learning_paths/v1/{PATH}/enrollments/"), json!({"username": learner}));
    let codes = ok(
        "POST",
        "/appsembler_api/v0/enrollment-codes/generate",
        json!({"course_id": PAID, "total_registration_codes": "1"}),
    );
    let code = codes["codes"][0].as_str().unwrap().to_owned();
    ok("POST", "/appsembler_api/v0/enrollment-codes/enroll-user", json!({"email": EMAIL, "enrollment_code": code}));
    School { app, admin, learner }
}

fn learner_token(app: &TestApp, username: &str) -> Reply {
    app.post_form(
        "/oauth2/access_token",
        &[
            ("grant_type", "password"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("username", username),
            ("password", PASSWORD),
            ("token_type", "jwt"),
        ],
    )
}

use crate::helpers::Reply;

#[test]
fn the_export_holds_each_kind_of_record_and_nothing_about_other_learners() {
    let School { app, admin, learner } = school();
    let token = learner_token(&app, &learner);
    assert_eq!(token.status, 200, "{}", token.text);
    let own = format!("JWT {}", token.json()["access_token"].as_str().unwrap());
    let reply = app.get(&format!("/api/user/v1/accounts/{learner}/export"), Some(&own));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.header("Content-Disposition").unwrap().starts_with("attachment"));
    let export = reply.json();
    assert_eq!(export["format"], "rollcall-user-export/1");
    assert_eq!(export["account"]["email"], EMAIL);
    assert_eq!(export["account"]["has_password"], 1);
    assert!(export["account"].get("password_hash").is_none());
    for section in [
        "enrollments",
        "enrollment_history",
        "progress_history",
        "pre_enrollments",
        "learning_path_enrollments",
        "code_redemptions",
        "checkout_orders",
        "emails",
        "webhook_events",
    ] {
        assert!(export[section].as_array().is_some_and(|a| !a.is_empty()), "no {section}: {}", export[section]);
    }
    assert!(export["enrollments"].as_array().unwrap().iter().any(|e| e["grade"] == 0.87));
    assert_eq!(export["checkout_orders"][0]["card_last_four"], "4242");
    assert!(export["emails"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["subject"].is_string() && e.get("payload").is_none()));
    let text = reply.text.to_lowercase();
    assert!(!text.contains("other_learner"), "another learner in the export: {}", reply.text);
    assert!(!text.contains("4242424242424242"));
    // Another learner may not ask for it; staff may.
    let other = app.user_auth(&admin, "nosy", false);
    assert_eq!(app.get(&format!("/api/user/v1/accounts/{learner}/export"), Some(&other)).status, 403);
    assert_eq!(app.get(&format!("/api/user/v1/accounts/{learner}/export"), Some(&admin)).status, 200);
    // The command line writes the same document.
    let cli = crate::helpers::binary()
        .args(["export-user", "--username", &learner, "--db"])
        .arg(app.dir.db())
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let from_cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(from_cli["enrollments"], export["enrollments"]);
    assert_eq!(from_cli["checkout_orders"], export["checkout_orders"]);
}

/// Every text value of every table, as one lower-case string per table.
fn text_columns(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut text = String::new();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let rusqlite::types::ValueRef::Text(t) = row.get_ref(i).unwrap() {
                    text.push_str(&String::from_utf8_lossy(t).to_lowercase());
                    text.push('\n');
                }
            }
        }
        out.push((table, text));
    }
    out
}

fn totals(conn: &rusqlite::Connection) -> (i64, i64, f64, i64, i64) {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM enrollments), (SELECT COUNT(*) FROM enrollments WHERE is_active = 1), \
         (SELECT SUM(grade) FROM enrollment_progress), (SELECT SUM(amount_minor - discount_minor) FROM checkout_orders), \
         (SELECT COUNT(*) FROM enrollment_history)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
    .unwrap()
}

#[test]
fn retirement_leaves_no_byte_of_the_person_and_keeps_the_schools_numbers() {
    let School { app, admin, learner } = school();
    let token = learner_token(&app, &learner).json()["access_token"].as_str().unwrap().to_owned();
    let own = format!("JWT {token}");
    let login = app.post_form("/login", &[("username", &learner), ("password", PASSWORD)]);
    assert!(login.status < 400, "{}", login.text);
    let cookie =
        login.headers_named("Set-Cookie").iter().map(|c| c.split(';').next().unwrap()).collect::<Vec<_>>().join("; ");
    assert_eq!(app.request("GET", "/api/user/v1/me", &[("Cookie", &cookie)], None).status, 200);
    let before = totals(&app.sqlite());

    let learner_as_retirer =
        app.send_json("POST", "/api/user/v1/accounts/retire/", Some(&own), &json!({"username": "other_learner"}));
    assert_eq!(learner_as_retirer.status, 403, "a learner may not retire others");
    let reply = app.send_json("POST", "/api/user/v1/accounts/retire/", Some(&admin), &json!({"username": learner}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let retired = reply.json()["username"].as_str().unwrap().to_owned();
    assert!(retired.starts_with("retired__user_") && retired.len() == 54, "{retired}");

    assert_eq!(totals(&app.sqlite()), before, "counts, grades and revenue stay");
    assert_eq!(app.get("/api/user/v1/me", Some(&own)).status, 401, "the learner's token is dead");
    let me = app.request("GET", "/api/user/v1/me", &[("Cookie", &cookie)], None);
    assert_eq!(me.status, 401, "the session is dead: {}", me.text);
    assert_eq!(learner_token(&app, &learner).status, 400);
    assert_eq!(app.get(&format!("/api/user/v1/accounts/{learner}"), Some(&admin)).status, 404);

    let needles = [learner.to_lowercase(), EMAIL.to_owned(), NAME.to_lowercase(), "quintanillax".to_owned()];
    for (table, text) in text_columns(&app.sqlite()) {
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{table} still holds {needle}");
        }
    }
    let path = app.dir.db();
    for file in [path.clone(), std::path::PathBuf::from(format!("{}-wal", path.display()))] {
        let bytes = std::fs::read(&file).unwrap_or_default().to_ascii_lowercase();
        for needle in &needles {
            let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(!found, "{} still holds {needle}", file.display());
        }
    }
    let check = crate::helpers::binary().args(["check", "--db"]).arg(&path).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    // The address and the name are free for a new person.
    let again = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": learner, "email": EMAIL, "password": PASSWORD}),
    );
    assert_eq!(again.status, 201, "{}", again.text);
    let again = app.send_json("POST", "/api/user/v1/accounts/retire/", Some(&admin), &json!({"username": retired}));
    assert_eq!(again.status, 409, "{}", again.text);
}

#[test]
fn a_learner_deactivates_with_their_password_and_is_retired_by_the_background_job() {
    let School { app, admin, learner } = school();
    let own = format!("JWT {}", learner_token(&app, &learner).json()["access_token"].as_str().unwrap());
    let wrong = app.send_json(
        "POST",
        "/api/user/v1/accounts/deactivate_logout/",
        Some(&own),
        &json!({"password": "wrong-one"}),
    );
    assert_eq!(wrong.status, 403, "{}", wrong.text);
    let reply =
        app.send_json("POST", "/api/user/v1/accounts/deactivate_logout/", Some(&own), &json!({"password": PASSWORD}));
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(app.get("/api/user/v1/me", Some(&own)).status, 401);
    wait_until(60, || (app.get(&format!("/api/user/v1/accounts/{learner}"), Some(&admin)).status == 404).then_some(()));
    let conn = app.sqlite();
    let email: String = conn
        .query_row("SELECT email FROM users WHERE username LIKE 'retired\\_\\_user\\_%' ESCAPE '\\'", [], |r| r.get(0))
        .unwrap();
    assert!(email.ends_with("@retired.invalid"));
}

/// SIGKILL in the middle of a bulk retirement of 1,000 learners, then start again: every
/// learner is retired exactly once and the task says so.
#[test]
fn a_bulk_retirement_killed_mid_run_resumes_and_retires_every_learner() {
    let env = [("ROLLCALL_RATE_LIMITS_ENABLED", "false")];
    let app = TestApp::spawn_with(&env, &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, FREE, json!({"code": "FREE-1", "price": "0.00"}));
    const N: usize = 1000;
    {
        let mut conn = app.sqlite();
        let tx = conn.transaction().unwrap();
        {
            let mut user =
                tx.prepare("INSERT INTO users (username, email, name, date_joined) VALUES (?1, ?2, ?3, 0)").unwrap();
            let mut enroll = tx
                .prepare("INSERT INTO enrollments (user_id, course_id, mode, course_seq, created, updated) VALUES (?1, 1, 'audit', ?1, 0, 0)")
                .unwrap();
            let mut history = tx
                .prepare("INSERT INTO enrollment_history (course_id, user_id, email, actor, surface, source, reason, before, after, created) \
                          VALUES (1, ?1, ?2, 'admin', 'admin', 'manual', ?3, '{}', '{}', 0)")
                .unwrap();
            for i in 0..N {
                user.execute(rusqlite::params![
                    format!("bulk{i}"),
                    format!("bulk{i}@example.org"),
                    format!("Bulk Person {i}")
                ])
                .unwrap();
                let id = tx.last_insert_rowid();
                enroll.execute([id]).unwrap();
                history
                    .execute(rusqlite::params![
                        id,
                        format!("bulk{i}@example.org"),
                        format!("requested by bulk{i}@example.org")
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let usernames: Vec<String> = (0..N).map(|i| format!("bulk{i}")).chain(["nobody-at-all".to_owned()]).collect();
    let reply = app.send_json("POST", "/api/user/v1/accounts/retire/", Some(&admin), &json!({"usernames": usernames}));
    assert_eq!(reply.status, 202, "{}", reply.text);
    let task_url = format!("/api/user/v1/accounts/retire/tasks/{}", reply.json()["task_id"].as_str().unwrap());
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let progress = wait_until(120, || {
        let done = app.get(&task_url, Some(&admin)).json()["done"].as_i64().unwrap();
        (done >= 1).then_some(done)
    });
    assert!(progress < N as i64, "the task finished before it could be interrupted");
    let mut app = app;
    app.child.kill().unwrap(); // SIGKILL
    app.child.wait().unwrap();
    let dir = app.stop();
    let app = TestApp::spawn_in(dir, &env, &[]);
    let token = app.token_for(&client_id, &client_secret, "jwt").json();
    let admin = format!("JWT {}", token["access_token"].as_str().unwrap());
    let task = wait_until(300, || {
        let task = app.get(&task_url, Some(&admin)).json();
        (task["status"] == "succeeded").then_some(task)
    });
    assert_eq!(
        (task["total"].as_i64(), task["succeeded"].as_i64(), task["failed"].as_i64()),
        (Some(N as i64 + 1), Some(N as i64), Some(1))
    );
    let results = task["results"].as_array().unwrap();
    assert!(results[..N]
        .iter()
        .all(|r| r["status"] == "succeeded" && r["username"].as_str().unwrap().starts_with("retired__user_")));
    assert_eq!(results[N]["error_code"], "RESOURCE_NOT_FOUND", "{}", results[N]);
    let conn = app.sqlite();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM users WHERE username LIKE 'retired%' AND email LIKE '%@retired.invalid' AND name = ''"), N as i64);
    assert_eq!(count("SELECT COUNT(*) FROM users WHERE username LIKE 'bulk%' OR email LIKE 'bulk%'"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM enrollments"), N as i64, "enrollments stay");
    assert_eq!(count("SELECT COUNT(*) FROM enrollment_history WHERE reason IS NOT NULL OR email LIKE 'bulk%'"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM retirement_items WHERE username LIKE 'bulk%'"), 0);
}
