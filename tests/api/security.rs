//! Security, second pass: each test reproduces an attack on today's server and checks it is
//! refused, over HTTP against the real binary. Account takeover first, then tokens, names,
//! webhooks, secrets and small exposures.

use crate::helpers::{encode, wait_until, TempDir, TestApp};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

const COURSE: &str = "course-v1:Sec+INV-1+2026";

fn appsembler(app: &TestApp, path: &str, auth: &str, body: Value) -> crate::helpers::Reply {
    app.send_json("POST", &format!("/appsembler_api/v0/{path}"), Some(auth), &body)
}

/// A server whose emails are written as .eml files into `<dir>/mail`.
fn with_mail(extra: &[(&str, &str)]) -> TestApp {
    let dir = TempDir::new();
    let mail = dir.0.join("mail").to_str().unwrap().to_owned();
    let mut env = vec![
        ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
        ("ROLLCALL_EMAIL_BACKEND", "dir"),
        ("ROLLCALL_EMAIL_DIR", mail.as_str()),
    ];
    env.extend_from_slice(extra);
    TestApp::spawn_in(dir, &env, &[])
}

/// The email of `message_type` to `recipient`, unfolded from quoted-printable.
fn email(app: &TestApp, message_type: &str, recipient: &str) -> String {
    let mail = app.dir.0.join("mail");
    wait_until(10, || {
        std::fs::read_dir(&mail)
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(message_type))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .map(|eml| eml.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
            .find(|eml| eml.contains(&format!("To: {recipient}")))
    })
}

fn link_token(email: &str) -> String {
    let start = email.find("token=").expect("a link in the email") + "token=".len();
    email[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect()
}

fn login(app: &TestApp, username: &str, password: &str) -> u16 {
    app.post_form("/login", &[("username", username), ("password", password)]).status
}

#[test]
fn staff_cannot_take_over_the_superuser_through_any_account_route() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let staff = app.user_auth(&admin, "staffer", true);
    app.user_auth(&admin, "learner", false);

    let connect = appsembler(
        &app,
        "accounts/connect",
        &staff,
        json!({"username": "admin", "password": "taken-over-1", "email": "evil@example.org"}),
    );
    assert_eq!(connect.status, 403, "{}", connect.text);
    for body in [
        json!({"user_lookup": "admin", "email": "evil@example.org"}),
        json!({"user_lookup": "admin", "name": "Owned"}),
        json!({"user_lookup": "admin@rollcall.invalid", "bio": "x"}),
    ] {
        assert_eq!(appsembler(&app, "accounts/update_user", &staff, body.clone()).status, 403, "{body}");
    }
    assert_eq!(
        app.send_json("PATCH", "/api/admin/v1/users/admin", Some(&staff), &json!({"email": "evil@example.org"})).status,
        403
    );
    assert_eq!(login(&app, "admin", "taken-over-1"), 400, "the superuser's password is unchanged");
    assert_eq!(login(&app, "admin", &app.password), 200);
    let account = app.get("/api/admin/v1/users/admin", Some(&admin)).json();
    assert_eq!(
        (account["email"].as_str(), account["name"].as_str()),
        (Some("admin@rollcall.invalid"), Some("Rollcall Administrator"))
    );

    // Staff still change learners (and other staff), as the original lets them.
    let changed =
        appsembler(&app, "accounts/connect", &staff, json!({"username": "learner", "email": "learner2@example.org"}));
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(app.get("/api/admin/v1/users/learner", Some(&admin)).json()["email"], "learner2@example.org");
    // A learner changes nobody else.
    let learner = app.user_auth(&admin, "other", false);
    assert_eq!(appsembler(&app, "accounts/connect", &learner, json!({"username": "learner", "name": "x"})).status, 403);
}

#[test]
fn a_learner_changes_their_email_only_by_confirming_it_and_their_password_only_with_the_current_one() {
    let app = with_mail(&[]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Invitation only", "invitation_only": true}));
    // Someone else is invited; the attacker takes their address to claim the invitation.
    let invited = app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        Some(&admin),
        &json!({"email": "invitee@example.org", "course_id": COURSE, "auto_enroll": true}),
    );
    assert_eq!(invited.status, 201, "{}", invited.text);
    let mallory = app.user_auth(&admin, "mallory", false);

    let connect = |body: Value| appsembler(&app, "accounts/connect", &mallory, body);
    let asked = connect(json!({"username": "mallory", "email": "invitee@example.org"}));
    assert_eq!(asked.status, 200, "{}", asked.text);
    let account = app.get("/api/user/v1/accounts/mallory", Some(&mallory)).json();
    assert_eq!(account["email"], "mallory@example.org", "nothing changes before confirmation");
    let enrollment = app.get(&format!("/api/enrollment/v1/enrollment/mallory,{}", encode(COURSE)), Some(&admin));
    assert!(enrollment.json_or_null().is_null() || enrollment.json()["is_active"] == false, "{}", enrollment.text);

    // The same through the LMS account API.
    let patched = app.request(
        "PATCH",
        "/api/user/v1/accounts/mallory",
        &[("Authorization", &mallory)],
        Some(("application/merge-patch+json", r#"{"email": "elsewhere@example.org"}"#)),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["email"], "mallory@example.org");

    // The link goes to the new address; following it applies the change (once).
    let mail = email(&app, "email_change", "invitee@example.org");
    let token = link_token(&mail);
    let page = app.get(&format!("/account/confirm-email?token={token}"), None);
    assert_eq!(page.status, 200);
    assert!(page.text.contains("method=\"post\""), "a GET confirms nothing: {}", page.text);
    assert_eq!(app.get("/api/user/v1/accounts/mallory", Some(&mallory)).json()["email"], "mallory@example.org");
    let confirmed = app.post_form("/account/confirm-email", &[("token", &token)]);
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(app.get("/api/admin/v1/users/mallory", Some(&admin)).json()["email"], "invitee@example.org");
    assert_eq!(app.post_form("/account/confirm-email", &[("token", &token)]).status, 400, "single use");
    assert_eq!(app.post_form("/account/confirm-email", &[("token", "1.99999999999.eA.eA")]).status, 400);

    // Passwords: the current one is required of a learner; staff keep the original's way.
    let without = connect(json!({"username": "mallory", "password": "new-password-1"}));
    assert_eq!(without.status, 400, "{}", without.text);
    let wrong = connect(json!({"username": "mallory", "password": "new-password-1", "old_password": "guess"}));
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    assert_eq!(login(&app, "mallory", "new-password-1"), 400);
    let right = connect(json!({"username": "mallory", "password": "new-password-1", "old_password": "password123"}));
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(login(&app, "mallory", "new-password-1"), 200);
    let by_staff =
        appsembler(&app, "accounts/connect", &admin, json!({"username": "mallory", "password": "reset-by-staff"}));
    assert_eq!(by_staff.status, 200, "{}", by_staff.text);
    assert_eq!(login(&app, "mallory", "reset-by-staff"), 200);
}

#[test]
fn a_learner_removed_from_an_invitation_only_path_cannot_enroll_again() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Step", "invitation_only": true}));
    let path = app.send_json(
        "POST",
        "/api/admin/v1/learning-paths",
        Some(&admin),
        &json!({"key": "path-v1:Sec+P+2026+T1", "display_name": "Private", "invite_only": true,
                "steps": [{"course_key": COURSE}]}),
    );
    assert_eq!(path.status, 201, "{}", path.text);
    let uuid = path.json()["uuid"].as_str().unwrap().to_owned();
    let learner = app.user_auth(&admin, "lena", false);
    let enrolled = app.send_json(
        "POST",
        "/api/learning_paths/v1/path-v1:Sec+P+2026+T1/enrollments/",
        Some(&admin),
        &json!({"username": "lena"}),
    );
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    let removed = app.request(
        "DELETE",
        "/api/learning_paths/v1/path-v1:Sec+P+2026+T1/enrollments/",
        &[("Authorization", &admin)],
        Some(("application/json", r#"{"username": "lena"}"#)),
    );
    assert_eq!(removed.status, 204, "{}", removed.text);
    let again = app.send_json("POST", &format!("/api/v1/learning-path/{uuid}/enroll/"), Some(&learner), &json!({}));
    assert_eq!(again.status, 403, "an inactive enrollment is no invitation: {}", again.text);
    let step = app.send_json(
        "POST",
        &format!("/api/learning_paths/v1/path-v1:Sec+P+2026+T1/enrollments/{COURSE}/"),
        Some(&learner),
        &json!({}),
    );
    assert!(matches!(step.status, 403 | 404), "{}", step.text);
    let course = app.get(&format!("/api/enrollment/v1/enrollment/lena,{}", encode(COURSE)), Some(&admin));
    assert!(course.json_or_null().is_null(), "{}", course.text);
}

#[test]
fn a_token_without_the_write_scope_may_only_read() {
    let app = TestApp::spawn();
    for token_type in ["jwt", "bearer"] {
        let reply = app.post_form(
            "/oauth2/access_token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("token_type", token_type),
                ("scope", "read"),
            ],
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json()["scope"], "read");
        let scheme = if token_type == "jwt" { "JWT" } else { "Bearer" };
        let auth = format!("{scheme} {}", reply.json()["access_token"].as_str().unwrap());
        assert_eq!(app.get("/api/admin/v1/courses", Some(&auth)).status, 200, "{token_type}: reading is allowed");
        let key = format!("course-v1:Sec+{token_type}+2026");
        let create =
            app.send_json("POST", "/api/admin/v1/courses", Some(&auth), &json!({"course_key": key, "title": "x"}));
        assert_eq!(create.status, 403, "{token_type}: {}", create.text);
        assert_eq!(create.json()["error_code"], "insufficient_scope");
        let challenge = create.header("WWW-Authenticate").unwrap_or("");
        assert!(challenge.contains("insufficient_scope") && challenge.contains("scope=\"write\""), "{challenge}");
        let v1 = app.send_json(
            "POST",
            "/api/enrollment/v1/enrollment",
            Some(&auth),
            &json!({"user": "admin", "course_details": {"course_id": key}}),
        );
        assert_eq!(v1.status, 403, "{token_type}: {}", v1.text);
    }
    // Without a scope, the default grants write as before.
    let admin = app.admin_auth();
    let create =
        app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": COURSE, "title": "x"}));
    assert_eq!(create.status, 201, "{}", create.text);
}

#[test]
fn an_identifier_with_an_at_sign_is_an_email_and_new_usernames_have_none() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Open"}));
    let refused = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "cat@example.org", "email": "x@example.org"}),
    );
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(
        appsembler(
            &app,
            "accounts/create",
            &admin,
            json!({"username": "cat@example.org", "password": "long-password", "email": "y@example.org", "name": "Y"})
        )
        .status,
        400
    );
    // An account imported from Open edX keeps a username with @ (made here in the database,
    // as `rollcall import` would): it must not shadow the owner of that email.
    app.user_auth(&admin, "cat", false);
    app.user_auth(&admin, "impostor", false);
    app.sqlite().execute("UPDATE users SET username = 'cat@example.org' WHERE username = 'impostor'", []).unwrap();
    assert_eq!(login(&app, "cat@example.org", "password123"), 200);
    let session = app.post_form("/login", &[("username", "cat@example.org"), ("password", "password123")]);
    assert_eq!(session.json()["username"], "cat", "the email's owner signs in: {}", session.text);
    let enrolled = app.send_json(
        "POST",
        &format!("/api/enrollment/v2/courses/{COURSE}/enrollments"),
        Some(&admin),
        &json!({"identifiers": ["cat@example.org"]}),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.text);
    let roster = app.get(&format!("/api/enrollment/v2/courses/{COURSE}/enrollments"), Some(&admin)).json();
    let users: Vec<&str> =
        roster["results"].as_array().unwrap().iter().filter_map(|r| r["username"].as_str()).collect();
    assert_eq!(users, ["cat"], "{roster}");
    // The imported account is still found by its own name where only a username is meant.
    assert_eq!(app.get("/api/admin/v1/users/cat@example.org", Some(&admin)).status, 200);
}

#[test]
fn look_alike_usernames_and_emails_differing_in_case_are_refused() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_user(&admin, "cat", true);
    for name in ["Cat", "CAT", "\u{ff43}at", "\u{0441}at"] {
        let reply = app.send_json(
            "POST",
            "/api/admin/v1/users",
            Some(&admin),
            &json!({"username": name, "email": format!("{}@example.org", name.len())}),
        );
        assert_eq!(reply.status, 409, "{name}: {}", reply.text);
        assert!(reply.json()["field_errors"]["username"].is_object(), "{}", reply.text);
    }
    let created = appsembler(
        &app,
        "accounts/create",
        &admin,
        json!({"username": "\u{0441}at", "password": "long-password", "email": "c2@example.org", "name": "C"}),
    );
    assert_eq!(created.status, 409, "{}", created.text);
    let email = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "dog", "email": "CAT@EXAMPLE.ORG"}),
    );
    assert_eq!(email.status, 409, "{}", email.text);
    assert_eq!(
        app.send_json(
            "POST",
            "/api/admin/v1/users",
            Some(&admin),
            &json!({"username": "cab", "email": "cab@example.org"})
        )
        .status,
        201
    );
}

/// A loopback receiver that counts connections and answers each with `status`.
fn receiver(status: u16, location: Option<&'static str>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(50) {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut stream = stream;
            stream.set_read_timeout(Some(Duration::from_millis(300))).ok();
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let extra = location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
            let _ = write!(stream, "HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, hits)
}

fn webhook_rows(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    let conn = app.sqlite();
    let mut stmt =
        conn.prepare("SELECT recipient, status, last_error FROM outbox WHERE channel = 'webhook' ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

fn enroll(app: &TestApp, admin: &str, who: &str) {
    let reply = app.send_json(
        "POST",
        &format!("/api/enrollment/v2/courses/{COURSE}/enrollments"),
        Some(admin),
        &json!({"identifiers": [who]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[test]
fn deleting_a_webhook_drops_its_queued_events_and_ids_are_never_reused() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Hooks"}));
    let (url, _) = receiver(500, None);
    let first = app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": url}));
    assert_eq!(first.status, 201, "{}", first.text);
    let first_id = first.json()["id"].as_i64().unwrap();
    app.create_user(&admin, "ann", true);
    enroll(&app, &admin, "ann");
    // The receiver fails: the event waits for a retry.
    wait_until(10, || webhook_rows(&app).iter().any(|(_, _, e)| e.is_some()).then_some(()));
    assert_eq!(
        app.request("DELETE", &format!("/api/admin/v1/webhooks/{first_id}"), &[("Authorization", &admin)], None).status,
        204
    );
    assert!(
        webhook_rows(&app).iter().all(|(r, s, _)| !(r == &first_id.to_string() && s == "pending")),
        "{:?}",
        webhook_rows(&app)
    );
    let (url2, _) = receiver(204, None);
    let second = app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": url2}));
    assert!(second.json()["id"].as_i64().unwrap() > first_id, "{}", second.text);
}

#[test]
fn webhooks_reach_only_public_addresses_follow_no_redirects_and_record_generic_errors() {
    let dir = TempDir::new();
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Hooks"}));
    let staff = app.user_auth(&admin, "staffer", true);
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/webhooks", Some(&staff), &json!({"url": "https://hooks.example.org/x"}))
            .status,
        403,
        "only superusers manage webhooks"
    );
    assert_eq!(app.get("/api/admin/v1/webhooks", Some(&staff)).status, 403);
    // A redirect is a failure, and the receiver is asked once.
    let (redirecting, hits) = receiver(302, Some("http://127.0.0.1:1/elsewhere"));
    let hook = app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": redirecting}));
    assert_eq!(hook.status, 201, "{}", hook.text);
    assert_eq!(hook.header("Cache-Control"), Some("no-store"));
    app.create_user(&admin, "ann", true);
    enroll(&app, &admin, "ann");
    let rows = wait_until(10, || Some(webhook_rows(&app)).filter(|r| r.iter().any(|(_, _, e)| e.is_some())));
    assert_eq!(rows[0].2.as_deref(), Some("HTTP 302"), "{rows:?}");
    assert_eq!(rows[0].1, "pending");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);

    // Without webhooks.allowed_hosts, loopback and private addresses are refused, at
    // registration and at delivery (the endpoint registered above is now refused too).
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir = app.stop();
    let mut app = TestApp::spawn_in(
        dir,
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_WEBHOOKS_ALLOWED_HOSTS", "")],
        &[],
    );
    (app.client_id, app.client_secret) = (client_id, client_secret);
    let admin = app.admin_auth();
    for url in [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://2130706433/",
        "http://10.0.0.5/",
        "http://192.168.1.1:22/",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://api.localhost/",
    ] {
        let reply = app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": url}));
        assert_eq!(reply.status, 400, "{url}: {}", reply.text);
    }
    let (listening, hits) = receiver(204, None);
    app.sqlite()
        .execute("UPDATE webhook_endpoints SET url = ?1, consecutive_failures = 0, paused_until = 0", [&listening])
        .unwrap();
    app.sqlite().execute("DELETE FROM outbox WHERE channel = 'webhook'", []).unwrap();
    app.create_user(&admin, "bob", true);
    enroll(&app, &admin, "bob");
    let rows = wait_until(10, || Some(webhook_rows(&app)).filter(|r| r.iter().any(|(_, _, e)| e.is_some())));
    assert_eq!(rows[0].2.as_deref(), Some("connection failed"), "generic, after resolution: {rows:?}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing reached the loopback receiver");
}

#[test]
fn a_slow_webhook_receiver_delays_no_email_and_its_circuit_opens() {
    // A receiver that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/slow", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten().take(20) {
            held.push(stream);
        }
    });
    let app = with_mail(&[("ROLLCALL_WEBHOOKS_TIMEOUT_SECONDS", "2")]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Hooks"}));
    assert_eq!(app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": url})).status, 201);
    for n in 0..6 {
        app.create_user(&admin, &format!("learner{n}"), true);
    }
    let started = Instant::now();
    let reply = app.send_json(
        "POST",
        &format!("/api/enrollment/v2/courses/{COURSE}/enrollments"),
        Some(&admin),
        &json!({"identifiers": ["learner0", "learner1", "learner2", "learner3", "learner4", "learner5"], "email_students": true}),
    );
    assert_eq!(reply.status, 202, "{}", reply.text);
    let mail = app.dir.0.join("mail");
    wait_until(10, || {
        let count = std::fs::read_dir(&mail)
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("enrolled_enroll"))
            .count();
        (count == 6).then_some(())
    });
    assert!(started.elapsed() < Duration::from_secs(5), "emails waited {:?} behind the webhooks", started.elapsed());
    // Three timeouts in a row pause the endpoint.
    let paused: i64 = wait_until(20, || {
        let until: i64 = app.sqlite().query_row("SELECT paused_until FROM webhook_endpoints", [], |r| r.get(0)).ok()?;
        (until > 0).then_some(until)
    });
    assert!(paused > 0);
    let errors: Vec<Option<String>> = webhook_rows(&app).into_iter().map(|r| r.2).collect();
    assert!(errors.iter().flatten().all(|e| e == "timed out" || e == "connection failed"), "{errors:?}");
}

#[test]
fn credential_links_leave_the_outbox_and_the_log_once_sent() {
    let app = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("RUST_LOG", "info")], &[]);
    let admin = app.admin_auth();
    let created = appsembler(
        &app,
        "accounts/user_without_password",
        &admin,
        json!({"email": "new.learner@example.org", "name": "New Learner"}),
    );
    assert_eq!(created.status, 200, "{}", created.text);
    let message = wait_until(10, || {
        let list = app.get("/api/admin/v1/outbox?status=sent", Some(&admin)).json();
        list["results"].as_array()?.iter().find(|m| m["message_type"] == "set_password").cloned()
    });
    let shown = message.to_string();
    assert!(!shown.contains("set-password?token="), "{shown}");
    let log = std::fs::read_to_string(app.dir.0.join("server.log")).unwrap();
    assert!(log.contains("set_password"), "the delivery is logged");
    assert!(!log.contains("set-password?token="), "but not its link");
}

#[test]
fn sign_in_from_another_site_is_refused() {
    let app = TestApp::spawn();
    let form = format!("username=admin&password={}", encode(&app.password));
    let post = |path: &str, headers: &[(&str, &str)]| {
        app.request("POST", path, headers, Some(("application/x-www-form-urlencoded", &form)))
    };
    for path in ["/login", "/admin/login"] {
        let evil = post(path, &[("Origin", "https://evil.example")]);
        assert_eq!(evil.status, 403, "{path}: {}", evil.text);
        assert!(evil.headers_named("Set-Cookie").is_empty(), "{path}: no session");
        assert_eq!(post(path, &[("Sec-Fetch-Site", "cross-site")]).status, 403, "{path}");
        assert_eq!(post(path, &[("Origin", "null")]).status, 403, "{path}");
        let own = app.base.clone();
        let same = post(path, &[("Origin", &own), ("Sec-Fetch-Site", "same-origin")]);
        assert!(matches!(same.status, 200 | 303), "{path}: {} {}", same.status, same.text);
        assert!(!same.headers_named("Set-Cookie").is_empty(), "{path}");
    }
}

#[test]
fn every_roster_csv_cell_that_could_run_as_a_formula_is_neutralised() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "CSV"}));
    for (username, email) in [("-danger", "=cmd@example.org"), ("+sum", "plus@example.org")] {
        let reply = app.send_json(
            "POST",
            "/api/admin/v1/users",
            Some(&admin),
            &json!({"username": username, "email": email, "name": "@SUM(A1)"}),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        enroll(&app, &admin, username);
    }
    let csv = app.get(&format!("/api/admin/v1/courses/{COURSE}/enrollments.csv"), Some(&admin)).text;
    for cell in ["'-danger", "'=cmd@example.org", "'+sum", "'@SUM(A1)"] {
        assert!(csv.contains(cell), "{cell} in {csv}");
    }
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {line}");
        }
    }
}

#[test]
fn secrets_are_not_cached_and_the_server_names_neither_its_library_nor_its_build() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let client =
        app.send_json("POST", "/api/admin/v1/oauth-clients", Some(&admin), &json!({"name": "x", "user": "admin"}));
    assert_eq!(client.status, 201, "{}", client.text);
    assert_eq!(client.header("Cache-Control"), Some("no-store"));
    let front = app.request("GET", "/", &[("Accept", "application/json")], None);
    for reply in [&front, &client] {
        let servers = reply.headers_named("Server");
        assert!(servers.iter().all(|s| !s.to_ascii_lowercase().contains("tiny") && !s.contains('/')), "{servers:?}");
    }
    assert!(front.json().get("version").is_none());
    let page = app.request("GET", "/", &[("Accept", "text/html")], None);
    assert!(!page.text.contains(env!("CARGO_PKG_VERSION")), "the page hides the build from anonymous visitors");
}
