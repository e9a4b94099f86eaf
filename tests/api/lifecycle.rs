//! The enrollment lifecycle over HTTP: access dates at their edges, the expiry job with a
//! one-second tick (set as a user would, through ROLLCALL_JOBS_EXPIRY_TICK_SECONDS) and
//! real `access_end`s a few seconds ahead, the notice sent once, and the waitlist filled
//! first come first served under concurrency and across a SIGKILL.

use crate::helpers::{encode, wait_until, TestApp};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn iso(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn spawn_ticking() -> TestApp {
    TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_JOBS_EXPIRY_TICK_SECONDS", "1")], &[])
}

fn v2(key: &str) -> String {
    format!("/api/enrollment/v2/courses/{}/enrollments", encode(key))
}

/// Enrolls one learner through v2 and answers its result row.
fn enroll(app: &TestApp, admin: &str, key: &str, identifier: &str, extra: Value) -> Value {
    let mut body = json!({"identifiers": [identifier]});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let reply = app.send_json("POST", &v2(key), Some(admin), &body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["results"][0].clone()
}

fn detail(app: &TestApp, admin: &str, key: &str, who: &str) -> Value {
    let path = format!("{}/{}?requested_fields=status,access_start,access_end", v2(key), encode(who));
    let reply = app.get(&path, Some(admin));
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.sqlite().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn access_dates_are_refused_and_accepted_at_their_edges() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Life+Edge+1";
    app.create_course(&admin, key, json!({}));
    for name in ["ann", "bob", "cy"] {
        app.create_user(&admin, name, true);
    }
    let start = now() + 3600;
    // An end equal to the start is refused; one second later is accepted.
    let same = enroll(&app, &admin, key, "ann", json!({"access_start": iso(start), "access_end": iso(start)}));
    assert!(same["error"].as_str().unwrap().contains("access_end"), "{same}");
    assert_eq!(detail_status(&app, &admin, key, "ann"), 404);
    let next = enroll(&app, &admin, key, "ann", json!({"access_start": iso(start), "access_end": iso(start + 1)}));
    assert_eq!(next["after"]["enrolled"], true, "{next}");
    // Enrolled, but access starts in an hour: no access now on any surface.
    let row = detail(&app, &admin, key, "ann");
    assert_eq!((row["is_active"].clone(), row["status"].clone()), (json!(false), json!("active")));
    assert_eq!(row["access_start"], iso(start));
    let v1 = app.get(&format!("/api/enrollment/v1/enrollment/ann,{key}"), Some(&admin)).json();
    assert_eq!(v1["is_active"], false, "{v1}");
    // A new enrollment whose end has already passed is refused; a PATCH may end access now.
    let past = enroll(&app, &admin, key, "bob", json!({"access_end": iso(now() - 1)}));
    assert!(past["error"].as_str().unwrap().contains("future"), "{past}");
    let bob = enroll(&app, &admin, key, "bob", json!({"access_end": iso(now() + 3600)}));
    assert_eq!(bob["after"]["enrolled"], true);
    assert_eq!(detail(&app, &admin, key, "bob")["is_active"], true);
    let patch = |who: &str, body: Value| {
        app.send_json("PATCH", &format!("/api/admin/v1/courses/{}/enrollments/{who}", encode(key)), Some(&admin), &body)
    };
    let s = now() + 100;
    let refused = patch("bob", json!({"access_start": iso(s), "access_end": iso(s)}));
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(refused.text.contains("access_end"));
    let accepted = patch("bob", json!({"access_start": iso(s), "access_end": iso(s + 1)}));
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.json()["is_active"], false, "access starts in 100 s");
    let cleared = patch("bob", json!({"access_start": null, "access_end": null}));
    assert_eq!(cleared.json()["is_active"], true, "{}", cleared.text);
    assert_eq!(patch("bob", json!({"status": "paused"})).status, 400);
    assert_eq!(patch("cy", json!({"status": "suspended"})).status, 404, "cy has no enrollment");
    // Suspension through the v2 PATCH: the row stays, access goes, every surface agrees.
    let v2_patch = app.send_json("PATCH", &format!("{}/bob", v2(key)), Some(&admin), &json!({"status": "suspended"}));
    assert_eq!(v2_patch.status, 200, "{}", v2_patch.text);
    assert_eq!(v2_patch.json()["status"], "suspended");
    assert_eq!(detail(&app, &admin, key, "bob")["is_active"], false);
    let list = app.get(&format!("/api/enrollment/v1/enrollments?course_id={}", encode(key)), Some(&admin)).json();
    let bob_row = list["results"].as_array().unwrap().iter().find(|r| r["user"] == "bob").cloned().unwrap();
    assert_eq!(bob_row["is_active"], false);
}

fn detail_status(app: &TestApp, admin: &str, key: &str, who: &str) -> u16 {
    app.get(&format!("{}/{}", v2(key), encode(who)), Some(admin)).status
}

#[test]
fn each_expiry_action_is_applied_by_the_job_and_seen_on_every_surface() {
    let app = spawn_ticking();
    let admin = app.admin_auth();
    let learner = app.user_auth(&admin, "ann", false);
    let end = now() + 4;
    let mut keys = Vec::new();
    for action in ["keep", "suspend", "unenroll"] {
        let key = format!("course-v1:Life+{action}+1");
        app.create_course(&admin, &key, json!({"expiry_action": action, "expiry_notice_days": 1}));
        let row = enroll(&app, &admin, &key, "ann", json!({"access_end": iso(end)}));
        assert_eq!(row["after"]["enrolled"], true, "{row}");
        assert_eq!(detail(&app, &admin, &key, "ann")["is_active"], true);
        keys.push((action, key));
    }
    // The notice (one day ahead) goes out on the first tick, once per enrollment.
    let notices = || count(&app, "SELECT COUNT(*) FROM outbox WHERE message_type = 'enrollment_expiring'");
    wait_until(10, || (notices() == 3).then_some(()));
    for (action, key) in &keys {
        let expected = match *action {
            "keep" => "expired",
            "suspend" => "suspended",
            _ => "inactive",
        };
        let row = wait_until(20, || {
            let row = detail(&app, &admin, key, "ann");
            (row["status"] == expected).then_some(row)
        });
        assert_eq!(row["is_active"], false, "{action}: {row}");
        // LMS v1, as the learner and as staff, says the same.
        let own = app.get(&format!("/api/enrollment/v1/enrollment/{key}"), Some(&learner)).json();
        assert_eq!(own["is_active"], false, "{action}: {own}");
        let mine = app.get("/api/enrollment/v1/enrollment", Some(&learner)).json();
        let listed =
            mine.as_array().unwrap().iter().find(|e| e["course_details"]["course_id"] == key.as_str()).cloned();
        assert!(listed.is_none_or(|e| e["is_active"] == false), "{action}: {mine}");
        // The change is an ordinary one: history by `system`, the expiry as its source.
        let history = app.get(&format!("/api/admin/v1/courses/{}/history", encode(key)), Some(&admin)).json();
        let first = &history["results"][0];
        assert_eq!((first["actor"].as_str(), first["source"].as_str()), (Some("system"), Some("expiry")), "{history}");
        assert_eq!(first["after"]["status"], expected);
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(notices(), 3, "a notice is sent once per enrollment");
    // Staff restore access: a new end in the future, status active again.
    let (_, keep) = &keys[0];
    let restored = app.send_json(
        "PATCH",
        &format!("/api/admin/v1/courses/{}/enrollments/ann", encode(keep)),
        Some(&admin),
        &json!({"status": "active", "access_end": iso(now() + 3600)}),
    );
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.json()["is_active"], true);
}

/// Creates `names` as active users.
fn users(app: &TestApp, admin: &str, names: impl Iterator<Item = String>) -> Vec<String> {
    names.inspect(|name| drop(app.create_user(admin, name, true))).collect()
}

fn waitlist(app: &TestApp, admin: &str, key: &str) -> Vec<String> {
    let reply = app.get(&format!("/api/admin/v1/courses/{}/waitlist", encode(key)), Some(admin));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    let rows = body["results"].as_array().unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["position"], i as i64 + 1, "positions are dense: {body}");
    }
    rows.iter().map(|r| r["username"].as_str().unwrap().to_owned()).collect()
}

fn active_count(app: &TestApp, admin: &str, key: &str) -> i64 {
    app.get(&format!("{}?status=active&page_size=100", v2(key)), Some(admin)).json()["count"].as_i64().unwrap()
}

#[test]
fn a_waitlist_of_50_behind_10_seats_fills_them_first_come_first_served_under_40_concurrent_requests() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Life+Wait+1";
    app.create_course(&admin, key, json!({"max_enrollments": 10, "waitlist": true}));
    let seated = users(&app, &admin, (1..=10).map(|i| format!("s{i:02}")));
    let waiting = users(&app, &admin, (1..=50).map(|i| format!("w{i:02}")));
    let late = users(&app, &admin, (1..=30).map(|i| format!("x{i:02}")));
    for name in &seated {
        assert_eq!(enroll(&app, &admin, key, name, json!({}))["after"]["enrolled"], true);
    }
    for (i, name) in waiting.iter().enumerate() {
        let row = enroll(&app, &admin, key, name, json!({}));
        assert_eq!(row["after"]["waitlisted"], true, "{row}");
        assert_eq!(row["after"]["waitlist_position"], i as i64 + 1);
    }
    // LMS v1 keeps Open edX's refusal unless the caller opts in.
    let v1 = |user: &str, waitlist: bool| {
        app.send_json(
            "POST",
            "/api/enrollment/v1/enrollment",
            Some(&admin),
            &json!({"user": user, "course_details": {"course_id": key}, "waitlist": waitlist}),
        )
    };
    assert_eq!(v1("x30", false).status, 400);
    assert_eq!(waitlist(&app, &admin, key).len(), 50);
    // 10 unenrolls of seated learners and 30 new enroll requests, all at once.
    std::thread::scope(|scope| {
        for name in &seated {
            let (app, admin) = (&app, &admin);
            scope.spawn(move || {
                let reply = app.request("DELETE", &format!("{}/{name}", v2(key)), &[("Authorization", admin)], None);
                assert_eq!(reply.status, 200, "{}", reply.text);
            });
        }
        for name in &late {
            let (app, admin) = (&app, &admin);
            scope.spawn(move || {
                let row = enroll(app, admin, key, name, json!({}));
                assert_eq!(row["after"]["waitlisted"], true, "a newcomer never jumps the queue: {row}");
            });
        }
    });
    assert_eq!(active_count(&app, &admin, key), 10);
    let list = waitlist(&app, &admin, key);
    assert_eq!(list.len(), 70);
    assert_eq!(list[..40], waiting[10..], "the first ten waited longest and were promoted; the rest kept their order");
    for promoted in &waiting[..10] {
        let row = detail(&app, &admin, key, promoted);
        assert_eq!((row["is_active"].clone(), row["waitlist_position"].clone()), (json!(true), Value::Null));
    }
    let emails = count(&app, "SELECT COUNT(*) FROM outbox WHERE message_type = 'waitlist_promoted'");
    let distinct = count(&app, "SELECT COUNT(DISTINCT recipient) FROM outbox WHERE message_type = 'waitlist_promoted'");
    assert_eq!((emails, distinct), (10, 10), "each promotion emailed once");
    // The learner sees their place and may leave; staff reorder and remove.
    let w11 = app.user_auth(&admin, "w_self", false);
    let joined = app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment",
        Some(&w11),
        &json!({"course_details": {"course_id": key}, "waitlist": true}),
    );
    assert_eq!(joined.status, 202, "{}", joined.text);
    assert_eq!(joined.json()["waitlist_position"], 71);
    let place = app.get(&format!("/api/enrollment/v1/waitlist/{key}"), Some(&w11));
    assert_eq!(place.json()["waitlist_position"], 71, "{}", place.text);
    let moved = app.send_json(
        "PATCH",
        &format!("/api/admin/v1/courses/{}/waitlist/w_self", encode(key)),
        Some(&admin),
        &json!({"position": 1}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(waitlist(&app, &admin, key)[..2], ["w_self".to_owned(), "w11".to_owned()]);
    assert_eq!(detail(&app, &admin, key, "w_self")["waitlist_position"], 1);
    let left = app.request("DELETE", &format!("/api/enrollment/v1/waitlist/{key}"), &[("Authorization", &w11)], None);
    assert_eq!(left.status, 204, "{}", left.text);
    let removed = app.request(
        "DELETE",
        &format!("/api/admin/v1/courses/{}/waitlist/w11", encode(key)),
        &[("Authorization", &admin)],
        None,
    );
    assert_eq!(removed.status, 204);
    assert_eq!(waitlist(&app, &admin, key)[0], "w12");
    // Raising the capacity promotes at once; a waitlist at its limit refuses like a full course.
    let raised = app.send_json(
        "PATCH",
        &format!("/api/admin/v1/courses/{}", encode(key)),
        Some(&admin),
        &json!({"max_enrollments": 12, "waitlist_limit": 67}),
    );
    assert_eq!(raised.status, 200, "{}", raised.text);
    assert_eq!(active_count(&app, &admin, key), 12);
    assert_eq!(waitlist(&app, &admin, key)[0], "w14");
    let newcomer = users(&app, &admin, std::iter::once("y01".to_owned()));
    let refused = enroll(&app, &admin, key, &newcomer[0], json!({}));
    assert_eq!(refused["error_code"], "COURSE_FULL", "{refused}");
}

/// SIGKILL while the expiry job frees seats and promotes waiting learners, then start
/// again: every expiry and every promotion happens exactly once.
#[test]
fn a_sigkill_during_a_promotion_batch_loses_and_duplicates_nothing() {
    let mut app = spawn_ticking();
    let admin = app.admin_auth();
    let key = "course-v1:Life+Kill+1";
    let n = 60;
    app.create_course(&admin, key, json!({"max_enrollments": n, "waitlist": true, "expiry_action": "unenroll"}));
    let seated = users(&app, &admin, (1..=n).map(|i| format!("s{i:03}")));
    let waiting = users(&app, &admin, (1..=n).map(|i| format!("w{i:03}")));
    let end = now() + 3 + (2 * n) / 20;
    let identifiers: Vec<&str> = seated.iter().map(String::as_str).collect();
    let task =
        app.send_json("POST", &v2(key), Some(&admin), &json!({"identifiers": identifiers, "access_end": iso(end)}));
    assert_eq!(task.status, 202, "{}", task.text);
    wait_until(30, || (active_count(&app, &admin, key) == n).then_some(()));
    for name in &waiting {
        assert_eq!(enroll(&app, &admin, key, name, json!({}))["after"]["waitlisted"], true);
    }
    assert!(now() < end, "setting up took longer than the access window");
    let promoted = "SELECT COUNT(*) FROM enrollment_history WHERE source = 'waitlist' AND actor = 'system'";
    wait_until(30, || (count(&app, promoted) > 0).then_some(()));
    let changed_before_kill = count(&app, "SELECT COUNT(*) FROM enrollment_history WHERE actor = 'system'");
    app.child.kill().unwrap(); // SIGKILL
    let _ = app.child.wait();
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir = app.stop();
    let app = TestApp::spawn_in(
        dir,
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_JOBS_EXPIRY_TICK_SECONDS", "1")],
        &[],
    );
    let token = app.token_for(&client_id, &client_secret, "jwt").json();
    let admin = format!("JWT {}", token["access_token"].as_str().unwrap());
    wait_until(60, || waitlist(&app, &admin, key).is_empty().then_some(()));
    assert_eq!(active_count(&app, &admin, key), n);
    for name in &waiting {
        assert_eq!(detail(&app, &admin, key, name)["is_active"], true, "{name}");
    }
    for name in &seated {
        assert_eq!(detail(&app, &admin, key, name)["status"], "inactive", "{name}");
    }
    let emails = count(&app, "SELECT COUNT(*) FROM outbox WHERE message_type = 'waitlist_promoted'");
    let distinct = count(&app, "SELECT COUNT(DISTINCT recipient) FROM outbox WHERE message_type = 'waitlist_promoted'");
    assert_eq!((emails, distinct), (n, n));
    assert_eq!(count(&app, promoted), n);
    let expired = "SELECT COUNT(*) FROM enrollment_history WHERE source = 'expiry'";
    assert_eq!(count(&app, expired), n);
    eprintln!("{changed_before_kill} of {} changes were made before the SIGKILL", 2 * n);
}
