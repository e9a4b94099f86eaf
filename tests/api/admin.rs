//! `/api/admin/v1/…`: courses, modes, staff, users, OAuth clients, and who may use them.

use crate::helpers::TestApp;
use serde_json::json;

const KEY: &str = "course-v1:Rollcall+WEB-301+2026";

fn full_course() -> serde_json::Value {
    json!({"course_key": KEY, "code": "WEB-301", "title": "Advanced Web", "level": "advanced", "duration_hours": 40,
        "price": "299.00", "currency": "USD", "start": "2027-01-10T09:00:00Z", "end": "2027-04-10T09:00:00Z",
        "enrollment_start": "2026-12-01T00:00:00Z", "enrollment_end": "2027-01-20T00:00:00Z", "invitation_only": false,
        "max_enrollments": null, "published": true,
        "modes": [{"slug": "audit", "name": "Audit", "min_price": "0.00", "currency": "USD"},
                  {"slug": "verified", "name": "Verified", "min_price": "299.00", "currency": "USD"}]})
}

#[test]
fn a_course_is_created_read_listed_patched_and_unpublished() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let created = app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &full_course());
    assert_eq!(created.status, 201, "{}", created.text);
    let body = created.json();
    for key in [
        "course_key",
        "code",
        "title",
        "level",
        "duration_hours",
        "price",
        "currency",
        "start",
        "end",
        "enrollment_start",
        "enrollment_end",
        "invitation_only",
        "max_enrollments",
        "published",
    ] {
        assert_eq!(body[key], full_course()[key], "{key}");
    }
    assert_eq!(body["modes"][1]["min_price"], "299.00");

    let path = format!("/api/admin/v1/courses/{KEY}");
    assert_eq!(app.get(&path, Some(&admin)).json()["title"], "Advanced Web");
    let patched = app.send_json(
        "PATCH",
        &path,
        Some(&admin),
        &json!({"title": "Advanced Web Systems", "max_enrollments": 25, "price": "199.5"}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["title"], "Advanced Web Systems");
    assert_eq!(patched.json()["max_enrollments"], 25);
    assert_eq!(patched.json()["price"], "199.50");
    assert_eq!(patched.json()["code"], "WEB-301", "fields not sent are kept");

    // Public read while published; a 404 once unpublished, but the admin still sees it.
    let public = app.get(&format!("/api/courses/v1/courses/{KEY}"), None);
    assert_eq!(public.status, 200);
    assert_eq!(public.json()["name"], "Advanced Web Systems");
    assert_eq!(app.get("/api/courses/v1/courses/", None).json()["pagination"]["count"], 1);
    assert_eq!(app.request("DELETE", &path, &[("Authorization", &admin)], None).status, 204);
    assert_eq!(app.get(&format!("/api/courses/v1/courses/{KEY}"), None).status, 404);
    assert_eq!(app.get(&path, Some(&admin)).json()["published"], false);
}

#[test]
fn only_course_key_and_title_are_required() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let reply =
        app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": KEY, "title": "Minimal"}));
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["price"], "0.00");
    assert_eq!(reply.json()["invitation_only"], false);
    assert_eq!(reply.json()["published"], true);
    let missing =
        app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": "course-v1:A+B+C"}));
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error_code"], "INVALID_PARAMETER");
    assert!(missing.json()["field_errors"]["title"].is_object());
    let duplicate =
        app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": KEY, "title": "Again"}));
    assert_eq!(duplicate.status, 409);
}

#[test]
fn bad_course_input_gets_v2_errors_naming_the_fields() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let cases = [
        json!({"course_key": "not-a-key", "title": "x"}),
        json!({"course_key": "course-v1:Org+Co urse+Run", "title": "x"}),
        json!({"course_key": KEY, "title": "x", "price": 12.5}),
        json!({"course_key": KEY, "title": "x", "price": "-3"}),
        json!({"course_key": KEY, "title": "x", "start": "tomorrow"}),
        json!({"course_key": KEY, "title": "x", "start": "2027-02-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}),
        json!({"course_key": KEY, "title": "x", "max_enrollments": -1}),
        json!({"course_key": KEY, "title": "x", "invitation_only": "yes"}),
        json!({"course_key": KEY, "title": "x", "modes": [{"slug": "a b"}]}),
        json!({"course_key": KEY, "title": "x", "modes": [{"slug": "audit"}, {"slug": "audit"}]}),
        json!({"course_key": KEY, "title": "x", "surprise": true}),
        json!(["not", "an", "object"]),
    ];
    for case in cases {
        let reply = app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &case);
        assert_eq!(reply.status, 400, "{case}: {}", reply.text);
        let body = reply.json();
        assert_eq!(body["status_code"], 400);
        assert!(body["developer_message"].is_string() && body["user_message"].is_string());
    }
    // Nothing was written by any of them.
    assert_eq!(app.get("/api/admin/v1/courses", Some(&admin)).json()["count"], 0);
    assert_eq!(app.get("/api/admin/v1/courses/course-v1:No+Such+Course", Some(&admin)).status, 404);
    assert_eq!(app.get("/api/admin/v1/courses/garbage", Some(&admin)).status, 400);
}

#[test]
fn course_list_pages_with_link_headers_and_clamps_page_size() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    for i in 0..5 {
        let body = json!({"course_key": format!("course-v1:Org+C{i}+Run"), "title": format!("Course {i}")});
        assert_eq!(app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &body).status, 201);
    }
    let first = app.get("/api/admin/v1/courses?page_size=2", Some(&admin));
    let body = first.json();
    assert_eq!(
        (body["count"].as_i64(), body["num_pages"].as_i64(), body["current_page"].as_i64()),
        (Some(5), Some(3), Some(1))
    );
    assert_eq!(body["results"].as_array().unwrap().len(), 2);
    assert!(first.header("Link").unwrap().contains("rel=\"next\""));
    let last = app.get("/api/admin/v1/courses?page_size=2&page=3", Some(&admin)).json();
    assert_eq!(last["results"].as_array().unwrap().len(), 1);
    assert!(last["next"].is_null());
    assert_eq!(
        app.get("/api/admin/v1/courses?page_size=1000", Some(&admin)).json()["results"].as_array().unwrap().len(),
        5
    );
    assert_eq!(app.get("/api/admin/v1/courses?page=0", Some(&admin)).status, 400);
    assert_eq!(app.get("/api/admin/v1/courses?page=9", Some(&admin)).status, 404);
}

#[test]
fn modes_can_be_added_replaced_and_removed() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": KEY, "title": "T"}));
    let modes = format!("/api/admin/v1/courses/{KEY}/modes");
    let added = app.send_json(
        "POST",
        &modes,
        Some(&admin),
        &json!({"slug": "verified", "name": "Verified", "min_price": "49.00"}),
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let replaced = app.send_json("POST", &modes, Some(&admin), &json!({"slug": "verified", "min_price": "59.00"}));
    assert_eq!(replaced.json()["modes"][0]["min_price"], "59.00");
    assert_eq!(app.get(&modes, Some(&admin)).json()["modes"].as_array().unwrap().len(), 1);
    assert_eq!(app.request("DELETE", &format!("{modes}/verified"), &[("Authorization", &admin)], None).status, 204);
    assert_eq!(app.request("DELETE", &format!("{modes}/verified"), &[("Authorization", &admin)], None).status, 404);
    assert_eq!(app.send_json("POST", &modes, Some(&admin), &json!({"name": "no slug"})).status, 400);
}

#[test]
fn course_staff_roles_are_granted_listed_and_revoked() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": KEY, "title": "T"}));
    app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "prof", "email": "prof@example.org"}),
    );
    let staff = format!("/api/admin/v1/courses/{KEY}/staff");
    let granted = app.send_json("POST", &staff, Some(&admin), &json!({"username": "prof", "role": "instructor"}));
    assert_eq!(granted.status, 201, "{}", granted.text);
    assert_eq!(granted.json()["staff"][0]["role"], "instructor");
    assert_eq!(app.send_json("POST", &staff, Some(&admin), &json!({"username": "prof", "role": "dean"})).status, 400);
    assert_eq!(app.send_json("POST", &staff, Some(&admin), &json!({"username": "ghost", "role": "staff"})).status, 404);
    assert_eq!(app.get(&staff, Some(&admin)).json()["staff"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.send_json("DELETE", &staff, Some(&admin), &json!({"username": "prof", "role": "instructor"})).status,
        204
    );
    assert_eq!(app.get(&staff, Some(&admin)).json()["staff"].as_array().unwrap().len(), 0);
    assert_eq!(app.send_json("DELETE", &staff, Some(&admin), &json!({"username": "prof"})).status, 404);
}

#[test]
fn a_course_with_enrollments_is_never_purged() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &json!({"course_key": KEY, "title": "T"}));
    app.send_json(
        "POST",
        "/api/admin/v1/courses",
        Some(&admin),
        &json!({"course_key": "course-v1:Org+Empty+Run", "title": "E"}),
    );
    // The enrollment API arrives with the enrollment core; until then, write the row directly.
    app.sqlite()
        .execute("INSERT INTO enrollments (user_id, course_id, mode, created, updated) SELECT 1, id, 'audit', 0, 0 FROM courses WHERE course_key = ?1", [KEY])
        .unwrap();
    let purge =
        app.request("DELETE", &format!("/api/admin/v1/courses/{KEY}?purge=true"), &[("Authorization", &admin)], None);
    assert_eq!(purge.status, 409, "{}", purge.text);
    assert_eq!(app.get(&format!("/api/admin/v1/courses/{KEY}"), Some(&admin)).status, 200);
    let empty = app.request(
        "DELETE",
        "/api/admin/v1/courses/course-v1:Org+Empty+Run?purge=true",
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(empty.status, 204);
    assert_eq!(app.get("/api/admin/v1/courses/course-v1:Org+Empty+Run", Some(&admin)).status, 404);
}

#[test]
fn users_are_created_listed_updated_and_deactivated() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let created = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "ann", "email": "Ann@Example.org", "name": "Ann Lee", "password": "password123"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let body = created.json();
    assert_eq!(body["email"], "Ann@example.org");
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    assert_eq!((body["is_active"].as_bool(), body["is_staff"].as_bool()), (Some(true), Some(false)));
    assert!(body["date_joined"].as_str().unwrap().ends_with('Z'));

    let dup = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "ann2", "email": "ann@example.org"}),
    );
    assert_eq!(dup.status, 409);
    assert!(dup.json()["field_errors"]["email"].is_object());
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/users", Some(&admin), &json!({"username": "x", "email": "bad"})).status,
        400
    );
    assert_eq!(
        app.send_json(
            "POST",
            "/api/admin/v1/users",
            Some(&admin),
            &json!({"username": "shorty", "email": "s@example.org", "password": "short"})
        )
        .status,
        400
    );

    let patched = app.send_json(
        "PATCH",
        "/api/admin/v1/users/ann",
        Some(&admin),
        &json!({"name": "Ann B. Lee", "password": "newpassword1"}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json()["name"], "Ann B. Lee");
    assert_eq!(app.post_form("/login", &[("username", "ann"), ("password", "newpassword1")]).status, 200);
    assert_eq!(app.get("/api/admin/v1/users?page_size=10", Some(&admin)).json()["count"], 2);
    let gone = app.request("DELETE", "/api/admin/v1/users/ann", &[("Authorization", &admin)], None);
    assert_eq!(gone.json()["is_active"], false);
    assert_eq!(app.get("/api/admin/v1/users/ann", Some(&admin)).json()["is_active"], false);
    assert_eq!(app.post_form("/login", &[("username", "ann"), ("password", "newpassword1")]).status, 400);
    assert_eq!(app.get("/api/admin/v1/users/nobody", Some(&admin)).status, 404);
}

#[test]
fn oauth_client_secrets_are_shown_once() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let created = app.send_json(
        "POST",
        "/api/admin/v1/oauth-clients",
        Some(&admin),
        &json!({"name": "WooCommerce", "user": "admin"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.json()["client_secret"].as_str().unwrap().len() >= 32);
    let list = app.get("/api/admin/v1/oauth-clients", Some(&admin));
    assert!(list.json()["results"].as_array().unwrap().iter().all(|c| c.get("client_secret").is_none()));
    assert!(!list.text.contains(created.json()["client_secret"].as_str().unwrap()));
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/oauth-clients", Some(&admin), &json!({"name": "x", "user": "ghost"}))
            .status,
        400
    );
    assert_eq!(
        app.request("DELETE", "/api/admin/v1/oauth-clients/nope", &[("Authorization", &admin)], None).status,
        404
    );
}

#[test]
fn learners_are_refused_and_staff_cannot_create_superusers() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let learner = app.user_auth(&admin, "learner", false);
    let refused = app.get("/api/admin/v1/courses", Some(&learner));
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["error_code"], "PERMISSION_DENIED");
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/courses", Some(&learner), &json!({"course_key": KEY, "title": "x"}))
            .status,
        403
    );

    let staff = app.user_auth(&admin, "staffer", true);
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/courses", Some(&staff), &json!({"course_key": KEY, "title": "x"})).status,
        201
    );
    let escalate = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&staff),
        &json!({"username": "boss", "email": "b@example.org", "is_superuser": true}),
    );
    assert_eq!(escalate.status, 403);
    assert_eq!(
        app.send_json("PATCH", "/api/admin/v1/users/admin", Some(&staff), &json!({"name": "hacked"})).status,
        403
    );
    assert_eq!(
        app.send_json("PATCH", "/api/admin/v1/users/learner", Some(&staff), &json!({"is_staff": true})).status,
        403
    );
    assert_eq!(
        app.send_json("POST", "/api/admin/v1/oauth-clients", Some(&staff), &json!({"name": "x", "user": "admin"}))
            .status,
        403
    );
}

/// One received request: lower-cased headers and the body.
type Delivery = (Vec<(String, String)>, String);

/// A throwaway HTTP receiver: answers each request with `status` and hands back what came.
fn webhook_receiver(status: u16) -> (String, std::sync::mpsc::Receiver<Delivery>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                }
            }
            let length =
                headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = stream;
            let _ = stream
                .write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
            let _ = tx.send((headers, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (url, rx)
}

#[test]
fn webhook_subscribers_get_signed_enrollment_events() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.create_user(&admin, "ann", true);
    let (url, received) = webhook_receiver(200);
    let created = app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": url}));
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert!(app.get("/api/admin/v1/webhooks", Some(&admin)).json()["results"][0].get("secret").is_none(), "shown once");
    assert_eq!(app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": "ftp://x"})).status, 400);

    app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment",
        Some(&admin),
        &json!({"user": "ann", "course_details": {"course_id": KEY}}),
    );
    let (headers, body) = received.recv_timeout(std::time::Duration::from_secs(20)).expect("a webhook delivery");
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    let key = base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{body}", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(header("webhook-signature"), expected);
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "enrollment.changed");
    assert_eq!(event["data"]["username"], "ann");
    assert_eq!(
        (event["data"]["before"]["enrollment"].as_bool(), event["data"]["after"]["enrollment"].as_bool()),
        (Some(false), Some(true))
    );

    // A failing endpoint keeps the event queued with the error, for a later retry.
    let (bad_url, _bad) = webhook_receiver(500);
    let id = app.get("/api/admin/v1/webhooks", Some(&admin)).json()["results"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.request("DELETE", &format!("/api/admin/v1/webhooks/{id}"), &[("Authorization", &admin)], None).status,
        204
    );
    app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": bad_url}));
    app.create_user(&admin, "bob", true);
    app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment",
        Some(&admin),
        &json!({"user": "bob", "course_details": {"course_id": KEY}}),
    );
    let failed = crate::helpers::wait_until(20, || {
        let list = app.get("/api/admin/v1/outbox", Some(&admin)).json();
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["channel"] == "webhook" && m["attempts"] == 1 && m["status"] == "pending")
            .cloned()
    });
    assert!(failed["last_error"].as_str().unwrap().contains("500"), "{failed}");
}

#[test]
fn the_roster_csv_round_trips_uploads_become_tasks_and_bad_files_are_refused_by_line() {
    use crate::helpers::wait_until;
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Rollcall+CSV+2026";
    app.create_course(&admin, key, json!({"modes": [{"slug": "audit"}, {"slug": "honor"}]}));
    for name in ["ann", "bob"] {
        app.create_user(&admin, name, true);
    }
    let csv_path = format!("/api/admin/v1/courses/{key}/enrollments.csv");
    let upload = |path: &str, auth: &str, body: &str| {
        app.request("POST", path, &[("Authorization", auth)], Some(("text/csv", body)))
    };
    // A header with email/username columns in any order, quoting, a mode per row, and
    // an email without an account (pre-enrolled).
    let file = "Email,Username,Mode\r\n,ann,honor\r\nbob@example.org,,\r\n\"new.person@example.org\",,\r\n";
    let bad = upload(&format!("{csv_path}?auto_enroll=true"), &admin, file);
    assert_eq!(bad.status, 202, "{}", bad.text);
    let status_url = bad.json()["status_url"].as_str().unwrap().to_owned();
    let task = wait_until(30, || {
        let task = app.get(&status_url, Some(&admin)).json();
        (task["status"] == "succeeded").then_some(task)
    });
    assert_eq!(task["progress"]["total"], 3);
    assert_eq!(task["progress"]["succeeded"], 3, "{task}");
    let download = app.get(&csv_path, Some(&admin));
    assert_eq!(download.status, 200);
    assert!(download.header("Content-Type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(download.text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["username", "email", "name", "mode", "status", "enrolled_at", "updated_at"]
    );
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!((rows[0][0].as_str(), rows[0][3].as_str(), rows[0][4].as_str()), ("ann", "honor", "active"));
    assert_eq!((rows[1][0].as_str(), rows[1][4].as_str()), ("bob", "active"));
    assert_eq!(
        (rows[2][0].as_str(), rows[2][1].as_str(), rows[2][4].as_str()),
        ("", "new.person@example.org", "pre_enrolled")
    );
    // Unenroll through the same upload.
    let reply = upload(&format!("{csv_path}?action=unenroll&reason=left"), &admin, "username\nbob\n");
    assert_eq!(reply.status, 202, "{}", reply.text);
    let status_url = reply.json()["status_url"].as_str().unwrap().to_owned();
    wait_until(30, || (app.get(&status_url, Some(&admin)).json()["status"] == "succeeded").then_some(()));
    let text = app.get(&csv_path, Some(&admin)).text;
    assert!(text.lines().any(|l| l.starts_with("bob,") && l.contains(",inactive,")), "{text}");
    // The history, newest first, filtered and paged by seek.
    let history = app.get(&format!("/api/admin/v1/courses/{key}/history?username=bob"), Some(&admin)).json();
    let entries = history["results"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{history}");
    assert_eq!(
        (entries[0]["reason"].as_str(), entries[0]["after"]["enrollment"].as_bool()),
        (Some("left"), Some(false))
    );
    assert_eq!(entries[1]["actor"], "admin");
    let first = app.get(&format!("/api/admin/v1/courses/{key}/history?page_size=1"), Some(&admin)).json();
    let next = first["next"].as_str().unwrap();
    let second = app.get(&next[next.find("/api/").unwrap()..], Some(&admin)).json();
    assert!(second["results"][0]["id"].as_i64() < first["results"][0]["id"].as_i64());
    assert_eq!(app.get(&format!("/api/admin/v1/courses/{key}/history?since=yesterday"), Some(&admin)).status, 400);
    let since =
        |t: &str| app.get(&format!("/api/admin/v1/courses/{key}/history?username=bob&since={t}"), Some(&admin)).json();
    assert_eq!(since("2000-01-01")["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(since("2999-01-01T00:00:00Z")["results"].as_array().map(Vec::len), Some(0));
    // Bad files: a 400 naming the problem and its line; nothing is written.
    let before = app.get(&csv_path, Some(&admin)).text;
    for (body, expected) in [
        ("name,phone\nAnn,1\n", "line 1"),
        ("email\nann@example.org\n\"unclosed,x\nmore@example.org,extra\n", "line"),
        ("email,mode\nann@example.org,audit\ncarl@example.org\n", "line 3"),
        ("email\n", "no learners"),
        ("username,email\nann,\n,\n", "line 3"),
    ] {
        let reply = upload(&csv_path, &admin, body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert!(reply.json()["developer_message"].as_str().unwrap().contains(expected), "{body}: {}", reply.text);
    }
    let not_utf8 = app.request("POST", &csv_path, &[("Authorization", &admin)], None);
    assert_eq!(not_utf8.status, 415);
    assert_eq!(upload(&format!("{csv_path}?action=drop"), &admin, "email\na@b.org\n").status, 400);
    assert_eq!(app.get(&csv_path, Some(&admin)).text, before);
    // Course staff of this course may; a learner and other courses' staff may not.
    let teacher = app.user_auth(&admin, "teacher", false);
    app.send_json(
        "POST",
        &format!("/api/admin/v1/courses/{key}/staff"),
        Some(&admin),
        &json!({"username": "teacher", "role": "staff"}),
    );
    assert_eq!(app.get(&csv_path, Some(&teacher)).status, 200);
    let learner = app.user_auth(&admin, "learner", false);
    assert_eq!(app.get(&csv_path, Some(&learner)).status, 403);
    assert_eq!(upload(&csv_path, &learner, "username\nann\n").status, 403);
    assert_eq!(app.get(&format!("/api/admin/v1/courses/{key}/history"), Some(&learner)).status, 403);
    assert_eq!(app.get(&csv_path, None).status, 401);
}

#[test]
fn a_large_roster_csv_streams_every_row_once() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Rollcall+BIG+2026";
    app.create_course(&admin, key, json!({}));
    {
        let mut conn = app.sqlite();
        let tx = conn.transaction().unwrap();
        let course: i64 = tx.query_row("SELECT id FROM courses WHERE course_key = ?1", [key], |r| r.get(0)).unwrap();
        tx.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999) \
             INSERT INTO users (username, email, date_joined) SELECT 'big' || i, 'big' || i || '@example.org', 0 FROM n;",
        )
        .unwrap();
        tx.execute(
            "INSERT INTO enrollments (user_id, course_id, mode, is_active, course_seq, created, updated) \
             SELECT id, ?1, 'audit', 1, ROW_NUMBER() OVER (ORDER BY id), 0, 0 FROM users WHERE username LIKE 'big%'",
            [course],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let text = app.get(&format!("/api/admin/v1/courses/{key}/enrollments.csv"), Some(&admin)).text;
    let names: std::collections::HashSet<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(text.lines().count(), 5001);
    assert_eq!(names.len(), 5000);
}

#[test]
fn progress_is_pushed_one_learner_or_a_csv_at_a_time_with_history_webhooks_and_the_roster_field() {
    use crate::helpers::wait_until;
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Rollcall+GRADES+2026";
    app.create_course(&admin, key, json!({}));
    for name in ["ann", "bob", "cat"] {
        app.create_user(&admin, name, true);
        let reply = app.send_json(
            "POST",
            &format!("/api/enrollment/v2/courses/{key}/enrollments"),
            Some(&admin),
            &json!({"identifiers": [name]}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let hook =
        app.send_json("POST", "/api/admin/v1/webhooks", Some(&admin), &json!({"url": "http://127.0.0.1:9/hook"}));
    assert!(hook.status < 300, "{}", hook.text);
    let path = format!("/api/admin/v1/courses/{key}/enrollments/ann/progress");
    assert_eq!(app.get(&path, Some(&admin)).status, 404, "nothing recorded yet");
    let body = json!({"completion": 1.0, "grade": 0.92, "passed": true, "completed_at": "2026-11-30T10:00:00Z",
        "certificate_url": "https://certs.example.org/ann"});
    let put = app.send_json("PUT", &path, Some(&admin), &body);
    assert_eq!(put.status, 200, "{}", put.text);
    let got = app.get(&path, Some(&admin)).json();
    assert_eq!(
        (got["completion"].as_f64(), got["grade"].as_f64(), got["passed"].as_bool()),
        (Some(1.0), Some(0.92), Some(true))
    );
    assert_eq!(got["completed_at"], "2026-11-30T10:00:00Z");
    // A second push replaces the record; both stay in the history, and each is an event.
    assert_eq!(app.send_json("PUT", &path, Some(&admin), &json!({"completion": 0.5})).json()["passed"], false);
    let conn = app.sqlite();
    let history: i64 = conn.query_row("SELECT COUNT(*) FROM progress_history", [], |r| r.get(0)).unwrap();
    assert_eq!(history, 2);
    let events: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'webhook' AND message_type = 'enrollment.progressed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 2);
    // Bad reports are 400s naming the field, and write nothing.
    for bad in [
        json!({}),
        json!({"completion": 1.5}),
        json!({"completion": "all"}),
        json!({"completion": 1, "passed": "yes"}),
        json!({"completion": 1, "certificate_url": "ftp://x"}),
        json!({"completion": 1, "completed_at": "soon"}),
        json!({"completion": 1, "extra": 1}),
    ] {
        let reply = app.send_json("PUT", &path, Some(&admin), &bad);
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
    }
    let not_enrolled = app.create_user(&admin, "dan", true);
    assert!(not_enrolled.is_object());
    assert_eq!(
        app.send_json(
            "PUT",
            &format!("/api/admin/v1/courses/{key}/enrollments/dan/progress"),
            Some(&admin),
            &json!({"completion": 1})
        )
        .status,
        404
    );
    let history: i64 = app.sqlite().query_row("SELECT COUNT(*) FROM progress_history", [], |r| r.get(0)).unwrap();
    assert_eq!(history, 2);
    // A CSV of many learners: one task; a bad row refuses the whole file, naming its line.
    let csv_path = format!("/api/admin/v1/courses/{key}/progress.csv");
    let upload = |body: &str| app.request("POST", &csv_path, &[("Authorization", &admin)], Some(("text/csv", body)));
    let refused = upload("username,completion,grade,passed,completed_at\nbob,0.5,0.6,false,\ncat,2,0.9,true,\n");
    assert_eq!(refused.status, 400);
    assert!(refused.text.contains("line 3"), "{}", refused.text);
    assert_eq!(upload("user,score\nbob,1\n").status, 400);
    let accepted = upload("username,completion,grade,passed,completed_at\nbob,0.5,0.6,false,\ncat,1,0.9,true,2026-12-01\nnobody,1,1,true,\n");
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    let status_url = accepted.json()["status_url"].as_str().unwrap().to_owned();
    let task = wait_until(30, || {
        let task = app.get(&status_url, Some(&admin)).json();
        (task["status"] == "succeeded").then_some(task)
    });
    assert_eq!(task["progress"], json!({"total": 3, "done": 3, "succeeded": 2, "failed": 1}));
    assert_eq!(
        app.get(&format!("/api/admin/v1/courses/{key}/enrollments/cat/progress"), Some(&admin)).json()["grade"],
        0.9
    );
    // The v2 roster shows it when asked.
    let roster = app
        .get(&format!("/api/enrollment/v2/courses/{key}/enrollments?requested_fields=completion"), Some(&admin))
        .json();
    let by_name =
        |name: &str| roster["results"].as_array().unwrap().iter().find(|r| r["username"] == name).unwrap().clone();
    assert_eq!(by_name("cat")["completion"]["passed"], true);
    assert_eq!(by_name("bob")["completion"]["completion"], 0.5);
    assert!(app.get(&format!("/api/enrollment/v2/courses/{key}/enrollments"), Some(&admin)).json()["results"][0]
        .get("completion")
        .is_none());
    // Course staff may push; a learner may not.
    let learner = app.user_auth(&admin, "learner", false);
    assert_eq!(app.send_json("PUT", &path, Some(&learner), &json!({"completion": 1})).status, 403);
}

/// Sends `body` and expects the v2 field error for `field`.
fn refused(app: &TestApp, method: &str, path: &str, admin: &str, body: serde_json::Value, field: &str) {
    let reply = app.send_json(method, path, Some(admin), &body);
    assert_eq!(reply.status, 400, "{method} {path} {body}: {}", reply.text);
    let errors = &reply.json()["field_errors"];
    assert!(errors[field]["developer_message"].is_string(), "{method} {path}: no {field} error in {}", reply.text);
}

#[test]
fn stored_text_has_a_maximum_length_refuses_control_characters_and_course_codes_follow_one_pattern() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let huge = "x".repeat(100_000);
    let course = |field: &str, value: &str| json!({"course_key": KEY, "title": "T", field: value});
    for (field, value) in [
        ("code", huge.as_str()),
        ("title", huge.as_str()),
        ("level", huge.as_str()),
        ("code", "WEB\u{0}301"),
        ("title", "Web\u{0}"),
        ("level", "\u{1b}[31mred"),
        ("title", "bell\u{7}"),
        ("code", "WEB 301"),
        ("code", "-WEB"),
        ("code", "WEB/301"),
        ("code", ""),
    ] {
        refused(&app, "POST", "/api/admin/v1/courses", &admin, course(field, value), field);
    }
    let mode = json!({"course_key": KEY, "title": "T", "modes": [{"slug": "audit", "name": "Au\u{0}dit"}]});
    refused(&app, "POST", "/api/admin/v1/courses", &admin, mode, "modes");
    assert_eq!(app.get("/api/admin/v1/courses", Some(&admin)).json()["count"], 0, "nothing was stored");

    // Tab and line breaks are text; each limit is inclusive.
    let fine = json!({"course_key": KEY, "title": format!("Line\tone\r\nline two{}", "t".repeat(237)),
        "code": format!("A{}", "b".repeat(49)), "level": "l".repeat(100)});
    let made = app.send_json("POST", "/api/admin/v1/courses", Some(&admin), &fine);
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.json()["title"], fine["title"]);
    let course_path = format!("/api/admin/v1/courses/{KEY}");
    refused(&app, "PATCH", &course_path, &admin, json!({"title": "t".repeat(256)}), "title");
    refused(&app, "PATCH", &course_path, &admin, json!({"code": "A".repeat(51)}), "code");

    let user = |field: &str, value: &str| json!({"username": "ann", "email": "ann@example.org", field: value});
    for (field, value) in [("name", "n".repeat(256)), ("first_name", "f".repeat(256)), ("last_name", "Nul\u{0}".into())]
    {
        refused(&app, "POST", "/api/admin/v1/users", &admin, user(field, &value), field);
    }
    app.create_user(&admin, "ann", true);
    refused(&app, "PATCH", "/api/admin/v1/users/ann", &admin, json!({"name": "Ann\u{1b}"}), "name");
    let client = json!({"name": "Sync\u{0}", "user": "ann"});
    refused(&app, "POST", "/api/admin/v1/oauth-clients", &admin, client, "name");

    let step = json!([{"course_key": KEY}]);
    let path = |field: &str, value: &str| json!({"key": "path-v1:Rollcall+HYG+2026+T1", "display_name": "Path", "steps": step, field: value});
    for (field, value) in [
        ("display_name", "Pa\u{0}th".to_owned()),
        ("subtitle", "s".repeat(256)),
        ("description", "d".repeat(10_001)),
        ("duration", "d".repeat(101)),
        ("time_commitment", "\u{7f}".into()),
    ] {
        refused(&app, "POST", "/api/admin/v1/learning-paths", &admin, path(field, &value), field);
    }
    assert_eq!(app.get("/api/admin/v1/learning-paths", Some(&admin)).json()["results"], json!([]));
    let long_description = app.send_json(
        "POST",
        "/api/admin/v1/learning-paths",
        Some(&admin),
        &path("description", &format!("{}\n", "d".repeat(9_999))),
    );
    assert_eq!(long_description.status, 201, "{}", long_description.text);

    // The OpenAPI document states every limit and the course code's pattern.
    let doc = app.get("/api-docs/openapi.json", None).json();
    let schema = |name: &str, field: &str| doc["components"]["schemas"][name]["properties"][field].clone();
    assert_eq!(schema("AdminCourseInput", "code")["pattern"], "^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$");
    for (name, field, max) in [
        ("AdminCourseInput", "code", 50),
        ("AdminCourseInput", "title", 255),
        ("AdminCourseInput", "level", 100),
        ("AdminCoursePatch", "title", 255),
        ("CourseMode", "name", 255),
        ("AdminUserInput", "name", 255),
        ("AdminUserInput", "first_name", 255),
        ("AdminUserPatch", "last_name", 255),
        ("OAuthClientInput", "name", 255),
        ("AdminLearningPathInput", "display_name", 255),
        ("AdminLearningPathInput", "description", 10_000),
        ("AdminLearningPathInput", "time_commitment", 100),
    ] {
        let s = schema(name, field);
        assert_eq!(s["maxLength"], max, "{name}.{field}: {s}");
        let control_rule = s.to_string().contains("u0000-");
        assert!(field == "code" || control_rule, "{name}.{field} states the control-character rule: {s}");
    }
}
