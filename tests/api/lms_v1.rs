//! `/api/enrollment/v1/…`: Open edX's LMS v1 enrollment API, status by status, plus the
//! capacity race, auto-enrollment and the WooCommerce client's request sequence.

use crate::helpers::{encode, TestApp};
use serde_json::{json, Value};

const OPEN: &str = "course-v1:Rollcall+OPEN+2026";
const CLOSED: &str = "course-v1:Rollcall+CLOSED+2026";
const INVITE: &str = "course-v1:Rollcall+INVITE+2026";
const SMALL: &str = "course-v1:Rollcall+SMALL+2026";

struct Setup {
    app: TestApp,
    admin: String,
    learner: String,
}

fn setup() -> Setup {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, OPEN, json!({"modes": [{"slug": "audit"}, {"slug": "verified", "min_price": "49.00"}]}));
    app.create_course(
        &admin,
        CLOSED,
        json!({"enrollment_start": "2020-01-01T00:00:00Z", "enrollment_end": "2020-02-01T00:00:00Z"}),
    );
    app.create_course(&admin, INVITE, json!({"invitation_only": true}));
    app.create_course(&admin, SMALL, json!({"max_enrollments": 1}));
    let learner = app.user_auth(&admin, "learner", false);
    Setup { app, admin, learner }
}

fn enroll_body(user: Option<&str>, course: &str) -> Value {
    let mut body = json!({"course_details": {"course_id": course}});
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    body
}

const ENROLL: &str = "/api/enrollment/v1/enrollment";

#[test]
fn a_learner_enrolls_themself_and_gets_open_edx_enrollment_shape() {
    let s = setup();
    let reply = s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let e = reply.json();
    assert_eq!(
        (e["user"].as_str(), e["mode"].as_str(), e["is_active"].as_bool()),
        (Some("learner"), Some("audit"), Some(true))
    );
    assert!(e["created"].as_str().unwrap().ends_with('Z'));
    let details = &e["course_details"];
    assert_eq!(details["course_id"], OPEN);
    for key in [
        "course_name",
        "enrollment_start",
        "enrollment_end",
        "course_start",
        "course_end",
        "invite_only",
        "pacing_type",
    ] {
        assert!(details.get(key).is_some(), "{key}");
    }
    let verified = details["course_modes"].as_array().unwrap().iter().find(|m| m["slug"] == "verified").unwrap();
    assert_eq!(verified["min_price"], 49);
    assert_eq!(verified["currency"], "usd");
    // The same request again: 200 with the existing enrollment, nothing duplicated.
    let again = s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["created"], e["created"]);
    let count: i64 = s.app.sqlite().query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1);
    let list = s.app.get(ENROLL, Some(&s.learner)).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn enrollment_post_errors_follow_the_open_edx_table() {
    let s = setup();
    let (app, admin, learner) = (&s.app, s.admin.as_str(), s.learner.as_str());
    let post = |auth: &str, body: Value| app.send_json("POST", ENROLL, Some(auth), &body);
    let message =
        |reply: crate::helpers::Reply| (reply.status, reply.json()["message"].as_str().unwrap_or_default().to_owned());

    assert_eq!(
        message(post(learner, json!({"mode": "audit"}))),
        (400, "Course ID must be specified to create a new enrollment.".into())
    );
    assert_eq!(
        message(post(learner, enroll_body(None, "nonsense"))),
        (400, "No course 'nonsense' found for enrollment".into())
    );
    assert_eq!(
        message(post(learner, enroll_body(None, "course-v1:No+Such+Course"))),
        (400, "No course 'course-v1:No+Such+Course' found for enrollment".into())
    );
    let other = post(learner, enroll_body(Some("admin"), OPEN));
    assert_eq!((other.status, other.text.as_str()), (404, ""));
    let by_email = post(learner, json!({"email": "x@example.org", "course_details": {"course_id": OPEN}}));
    assert_eq!(by_email.status, 404);
    assert_eq!(
        message(post(admin, json!({"email": "ghost@example.org", "course_details": {"course_id": OPEN}}))),
        (406, "The user with the email address ghost@example.org does not exist.".into())
    );
    assert_eq!(message(post(admin, enroll_body(Some("ghost"), OPEN))), (406, "The user ghost does not exist.".into()));
    let mut verified = enroll_body(None, OPEN);
    verified["mode"] = json!("verified");
    assert_eq!(
        message(post(learner, verified)),
        (403, "User does not have permission to create enrollment with mode [verified].".into())
    );
    let mut bad_active = enroll_body(None, OPEN);
    bad_active["is_active"] = json!("yes");
    assert_eq!(message(post(learner, bad_active)), (400, "'yes' is an invalid enrollment activation status.".into()));
    let mut bad_force = enroll_body(None, OPEN);
    bad_force["force_enrollment"] = json!("sure");
    assert_eq!(message(post(learner, bad_force)), (400, "'sure' is an invalid force enrollment status.".into()));
    let mut bad_attr = enroll_body(None, OPEN);
    bad_attr["enrollment_attributes"] = json!([{"name": "x", "value": "y"}]);
    let reply = post(learner, bad_attr);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["message"], "'namespace' not in enrollment attribute");
    assert_eq!(reply.json()["localizedMessage"], "'namespace' not in enrollment attribute");
    let mut no_mode = enroll_body(Some("learner"), OPEN);
    no_mode["mode"] = json!("professional");
    let reply = post(admin, no_mode);
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["message"],
        format!("The [professional] course mode is expired or otherwise unavailable for course run [{OPEN}].")
    );
    assert_eq!(reply.json()["course_details"]["course_id"], OPEN);

    let generic = |course: &str| {
        format!("An error occurred while creating the new course enrollment for user 'learner' in course '{course}'")
    };
    let closed = post(learner, enroll_body(None, CLOSED));
    assert_eq!((closed.status, closed.json()["message"].as_str().unwrap().to_owned()), (400, generic(CLOSED)));
    assert_eq!(closed.json()["error_code"], "ENROLLMENT_CLOSED");
    let invite = post(learner, enroll_body(None, INVITE));
    assert_eq!(invite.status, 400);
    assert_eq!(invite.json()["error_code"], "INVITATION_ONLY");
    assert_eq!(post(admin, enroll_body(Some("admin"), SMALL)).status, 200, "course staff-free capacity of 1");
    let full = post(learner, enroll_body(None, SMALL));
    assert_eq!((full.status, full.json()["message"].as_str().unwrap().to_owned()), (400, generic(SMALL)));
    assert_eq!(full.json()["error_code"], "COURSE_FULL");
    let no_auth = app.send_json("POST", ENROLL, None, &enroll_body(None, OPEN));
    assert_eq!(no_auth.status, 401);
    assert_eq!(no_auth.json()["detail"], "Authentication credentials were not provided.");
    // Nothing above wrote an enrollment for the learner.
    let rows: i64 = app
        .sqlite()
        .query_row(
            "SELECT COUNT(*) FROM enrollments e JOIN users u ON u.id = e.user_id WHERE u.username = 'learner'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn staff_enroll_others_into_invitation_only_courses_only_by_force_and_force_opens_closed_windows() {
    let s = setup();
    // Open edX's LMS API documentation: "We can't enroll someone in a course that is in
    // invite-only mode" — unless global staff force it.
    assert_eq!(s.app.send_json("POST", ENROLL, Some(&s.admin), &enroll_body(Some("learner"), INVITE)).status, 400);
    let mut forced_invite = enroll_body(Some("learner"), INVITE);
    forced_invite["force_enrollment"] = json!(true);
    assert_eq!(s.app.send_json("POST", ENROLL, Some(&s.admin), &forced_invite).status, 200);
    let closed = s.app.send_json("POST", ENROLL, Some(&s.admin), &enroll_body(Some("learner"), CLOSED));
    assert_eq!(closed.status, 400);
    let mut forced = enroll_body(Some("learner"), CLOSED);
    forced["force_enrollment"] = json!(true);
    let reply = s.app.send_json("POST", ENROLL, Some(&s.admin), &forced);
    assert_eq!(reply.status, 200, "{}", reply.text);
    // Staff may pick a paid mode and change it later.
    let mut verified = enroll_body(Some("learner"), OPEN);
    verified["mode"] = json!("verified");
    assert_eq!(s.app.send_json("POST", ENROLL, Some(&s.admin), &verified).json()["mode"], "verified");
}

#[test]
fn force_enrollment_is_ignored_for_the_api_key() {
    let app =
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_AUTH_API_KEY", "server-key")], &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, CLOSED, json!({"enrollment_end": "2020-02-01T00:00:00Z"}));
    app.create_course(&admin, OPEN, json!({}));
    app.create_user(&admin, "bob", true);
    let mut body = enroll_body(Some("bob"), CLOSED);
    body["force_enrollment"] = json!(true);
    let key = [("X-Edx-Api-Key", "server-key")];
    let reply = app.request("POST", ENROLL, &key, Some(("application/json", &body.to_string())));
    assert_eq!(reply.status, 400, "{}", reply.text);
    let open =
        app.request("POST", ENROLL, &key, Some(("application/json", &enroll_body(Some("bob"), OPEN).to_string())));
    assert_eq!(open.status, 200, "{}", open.text);
}

#[test]
fn staff_unenroll_with_is_active_false_and_a_mode_mismatch_is_refused() {
    let s = setup();
    s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    let mut wrong_mode = enroll_body(Some("learner"), OPEN);
    wrong_mode["is_active"] = json!(false);
    wrong_mode["mode"] = json!("verified");
    let reply = s.app.send_json("POST", ENROLL, Some(&s.admin), &wrong_mode);
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json()["message"],
        "Enrollment mode mismatch: active mode=audit, requested mode=verified. Won't deactivate."
    );
    let mut unenroll = enroll_body(Some("learner"), OPEN);
    unenroll["is_active"] = json!(false);
    let reply = s.app.send_json("POST", ENROLL, Some(&s.admin), &unenroll);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["is_active"], false);
    assert_eq!(s.app.get(ENROLL, Some(&s.learner)).json().as_array().unwrap().len(), 0);
    // Enrolling again reactivates the same row.
    assert_eq!(s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN)).json()["is_active"], true);
    let rows: i64 = s.app.sqlite().query_row("SELECT COUNT(*) FROM enrollments", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn one_enrollment_is_read_by_its_owner_or_staff_and_null_when_absent() {
    let s = setup();
    s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    let own = s.app.get(&format!("{ENROLL}/learner,{OPEN}"), Some(&s.learner));
    assert_eq!(own.status, 200);
    assert_eq!(own.json()["course_details"]["course_id"], OPEN);
    assert_eq!(s.app.get(&format!("{ENROLL}/{OPEN}"), Some(&s.learner)).json()["user"], "learner");
    let none = s.app.get(&format!("{ENROLL}/learner,{INVITE}"), Some(&s.learner));
    assert_eq!((none.status, none.text.trim()), (200, "null"));
    let hidden = s.app.get(&format!("{ENROLL}/admin,{OPEN}"), Some(&s.learner));
    assert_eq!((hidden.status, hidden.text.as_str()), (404, ""));
    assert_eq!(s.app.get(&format!("{ENROLL}/learner,{OPEN}"), Some(&s.admin)).status, 200);
    let list = s.app.get(&format!("{ENROLL}?user=learner"), Some(&s.admin)).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn the_staff_list_filters_and_pages_by_cursor_stably_while_rows_arrive() {
    let s = setup();
    for i in 0..5 {
        s.app.create_user(&s.admin, &format!("u{i}"), true);
        assert_eq!(
            s.app.send_json("POST", ENROLL, Some(&s.admin), &enroll_body(Some(&format!("u{i}")), OPEN)).status,
            200
        );
    }
    // Forced: v1 judges the learner's access to an invitation-only course (seed fidelity).
    let mut into_invite = enroll_body(Some("u0"), INVITE);
    into_invite["force_enrollment"] = json!(true);
    assert_eq!(s.app.send_json("POST", ENROLL, Some(&s.admin), &into_invite).status, 200);
    let path = |q: &str| format!("/api/enrollment/v1/enrollments?{q}");
    let first = s.app.get(&path(&format!("course_id={}&page_size=2", encode(OPEN))), Some(&s.admin)).json();
    let names: Vec<&str> = first["results"].as_array().unwrap().iter().map(|r| r["user"].as_str().unwrap()).collect();
    assert_eq!(names, ["u4", "u3"], "newest first");
    assert!(first["previous"].is_null());
    // A new enrollment arriving does not shift the next page.
    s.app.create_user(&s.admin, "late", true);
    s.app.send_json("POST", ENROLL, Some(&s.admin), &enroll_body(Some("late"), OPEN));
    let next_url = first["next"].as_str().unwrap();
    let next_path = &next_url[next_url.find("/api/").unwrap()..];
    let second = s.app.get(next_path, Some(&s.admin)).json();
    let names: Vec<&str> = second["results"].as_array().unwrap().iter().map(|r| r["user"].as_str().unwrap()).collect();
    assert_eq!(names, ["u2", "u1"]);
    let prev_url = second["previous"].as_str().unwrap();
    let back = s.app.get(&prev_url[prev_url.find("/api/").unwrap()..], Some(&s.admin)).json();
    let names: Vec<&str> = back["results"].as_array().unwrap().iter().map(|r| r["user"].as_str().unwrap()).collect();
    assert_eq!(names, ["u4", "u3"]);
    let r = &second["results"][0];
    for key in ["created", "mode", "is_active", "user", "course_id"] {
        assert!(r.get(key).is_some(), "{key}");
    }
    assert_eq!(s.app.get(&path("username=u0"), Some(&s.admin)).json()["results"].as_array().unwrap().len(), 2);
    assert_eq!(s.app.get(&path("course_ids=INVITE"), Some(&s.admin)).json()["results"].as_array().unwrap().len(), 1);
    assert_eq!(s.app.get(&path("email=u1@example.org"), Some(&s.admin)).json()["results"].as_array().unwrap().len(), 1);
    let bad = s.app.get(&path("course_id=garbage"), Some(&s.admin));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field_errors"]["course_id"]["developer_message"], "'garbage' is not a valid course id.");
    let many: Vec<String> = (0..101).map(|i| format!("user{i}")).collect();
    let too_many = s.app.get(&path(&format!("username={}", many.join(","))), Some(&s.admin));
    assert_eq!(too_many.status, 400);
    assert!(too_many.text.contains("A maximum of 100 is allowed"));
    let learner = s.app.get(&path(""), Some(&s.learner));
    assert_eq!(learner.status, 403);
    assert_eq!(learner.json()["developer_message"], "You do not have permission to perform this action.");
}

#[test]
fn course_details_are_public() {
    let s = setup();
    let reply = s.app.get(&format!("/api/enrollment/v1/course/{OPEN}"), None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["course_id"], OPEN);
    assert_eq!(reply.json()["course_modes"].as_array().unwrap().len(), 2);
    let plain = s.app.get(&format!("/api/enrollment/v1/course/{CLOSED}"), None).json();
    assert_eq!(plain["course_modes"][0]["slug"], "audit", "a course without modes offers audit");
    let missing = s.app.get("/api/enrollment/v1/course/course-v1:No+Such+Course", None);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["message"], "No course found for course ID 'course-v1:No+Such+Course'");
}

#[test]
fn enrollment_allowed_is_created_listed_and_deleted_with_open_edx_messages() {
    let s = setup();
    let path = "/api/enrollment/v1/enrollment_allowed/";
    let body = json!({"email": "new@example.org", "course_id": OPEN, "auto_enroll": true});
    let created = s.app.send_json("POST", path, Some(&s.admin), &body);
    assert_eq!(created.status, 201, "{}", created.text);
    let c = created.json();
    assert_eq!(
        (c["email"].as_str(), c["course_id"].as_str(), c["auto_enroll"].as_bool()),
        (Some("new@example.org"), Some(OPEN), Some(true))
    );
    assert!(c["user"].is_null());
    let dup = s.app.send_json("POST", path, Some(&s.admin), &body);
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.json()["message"],
        format!("An enrollment allowed with email new@example.org and course {OPEN} already exists.")
    );
    let list = s.app.get(&format!("{path}?email=new%40example.org"), Some(&s.admin)).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let missing = s.app.send_json("POST", path, Some(&s.admin), &json!({"email": "x@example.org"}));
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["message"], "Please provide a value for 'email' and 'course_id' in the request data.");
    assert_eq!(s.app.send_json("POST", path, Some(&s.learner), &body).status, 403);
    assert_eq!(
        s.app.send_json("DELETE", path, Some(&s.admin), &json!({"email": "new@example.org", "course_id": OPEN})).status,
        204
    );
    let gone = s.app.send_json("DELETE", path, Some(&s.admin), &json!({"email": "new@example.org", "course_id": OPEN}));
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.json()["message"],
        format!("An enrollment allowed with email new@example.org and course {OPEN} doesn't exists.")
    );
}

#[test]
fn a_pre_enrollment_lets_its_learner_into_an_invitation_only_course() {
    let s = setup();
    s.app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        Some(&s.admin),
        &json!({"email": "learner@example.org", "course_id": INVITE}),
    );
    let reply = s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, INVITE));
    assert_eq!(reply.status, 200, "{}", reply.text);
    let claimed: Option<i64> =
        s.app.sqlite().query_row("SELECT user_id FROM enrollment_allowed", [], |r| r.get(0)).unwrap();
    assert!(claimed.is_some(), "the pre-enrollment is claimed by the learner");
}

#[test]
fn an_inactive_user_pre_enrolled_with_auto_enroll_is_enrolled_on_activation() {
    let s = setup();
    s.app.create_user(&s.admin, "newbie", false);
    let body = json!({"email": "newbie@example.org", "course_id": OPEN, "auto_enroll": true});
    assert_eq!(s.app.send_json("POST", "/api/enrollment/v1/enrollment_allowed/", Some(&s.admin), &body).status, 201);
    assert_eq!(s.app.get(&format!("{ENROLL}/newbie,{OPEN}"), Some(&s.admin)).text.trim(), "null");
    let activated = s.app.send_json("PATCH", "/api/admin/v1/users/newbie", Some(&s.admin), &json!({"is_active": true}));
    assert_eq!(activated.status, 200, "{}", activated.text);
    let enrollment = s.app.get(&format!("{ENROLL}/newbie,{OPEN}"), Some(&s.admin)).json();
    assert_eq!(enrollment["is_active"], true);
    let source: String = s.app.sqlite()
        .query_row("SELECT h.source FROM enrollment_history h JOIN users u ON u.id = h.user_id WHERE u.username = 'newbie' ORDER BY h.id DESC", [], |r| r.get(0))
        .unwrap();
    assert_eq!(source, "auto_enroll");
}

#[test]
fn every_change_leaves_a_history_row_with_actor_surface_and_states() {
    let s = setup();
    s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN)); // no change, no row
    let mut unenroll = enroll_body(Some("learner"), OPEN);
    unenroll["is_active"] = json!(false);
    s.app.send_json("POST", ENROLL, Some(&s.admin), &unenroll);
    let conn = s.app.sqlite();
    let mut stmt =
        conn.prepare("SELECT actor, surface, source, before, after FROM enrollment_history ORDER BY id").unwrap();
    let rows: Vec<(String, String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str(), rows[0].2.as_str()), ("learner", "lms_v1", "api"));
    let before: Value = serde_json::from_str(&rows[0].3).unwrap();
    let after: Value = serde_json::from_str(&rows[0].4).unwrap();
    assert_eq!((before["enrollment"].as_bool(), after["enrollment"].as_bool()), (Some(false), Some(true)));
    assert_eq!(after["mode"], "audit");
    assert_eq!(rows[1].0, "admin");
    let after: Value = serde_json::from_str(&rows[1].4).unwrap();
    assert_eq!(after["enrollment"], false);
}

#[test]
fn fifty_simultaneous_enrollments_into_a_course_of_ten_give_exactly_ten() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, SMALL, json!({"max_enrollments": 10}));
    for i in 0..50 {
        app.create_user(&admin, &format!("racer{i}"), true);
    }
    let app = std::sync::Arc::new(app);
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let app = app.clone();
            let admin = admin.clone();
            std::thread::spawn(move || {
                app.send_json("POST", ENROLL, Some(&admin), &enroll_body(Some(&format!("racer{i}")), SMALL)).status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 40, "{statuses:?}");
    let active: i64 =
        app.sqlite().query_row("SELECT COUNT(*) FROM enrollments WHERE is_active = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(active, 10);
}

#[test]
fn roles_lists_the_callers_course_roles() {
    let s = setup();
    s.app.send_json(
        "POST",
        &format!("/api/admin/v1/courses/{OPEN}/staff"),
        Some(&s.admin),
        &json!({"username": "learner", "role": "staff"}),
    );
    let roles = s.app.get(&format!("/api/enrollment/v1/roles/?course_id={}", encode(OPEN)), Some(&s.learner)).json();
    assert_eq!(roles["roles"], json!([{"org": "Rollcall", "course_id": OPEN, "role": "staff"}]));
    assert_eq!(roles["is_staff"], false);
    assert_eq!(s.app.get("/api/enrollment/v1/roles/", Some(&s.admin)).json()["is_staff"], true);
}

/// The request sequence of the Open edX WooCommerce plugin ("Open edX Commerce"), as it
/// sends it: form-encoded JWT token request, then JSON with `Authorization: JWT`.
#[test]
fn the_woocommerce_client_sequence_works_unchanged() {
    let s = setup();
    let app = &s.app;
    let shop = app
        .send_json(
            "POST",
            "/api/admin/v1/oauth-clients",
            Some(&s.admin),
            &json!({"name": "WooCommerce", "user": "admin"}),
        )
        .json();
    let token = app.post_form(
        "/oauth2/access_token",
        &[
            ("client_id", shop["client_id"].as_str().unwrap()),
            ("client_secret", shop["client_secret"].as_str().unwrap()),
            ("grant_type", "client_credentials"),
            ("token_type", "jwt"),
        ],
    );
    assert_eq!(token.status, 200);
    let token = token.json();
    assert!(token["expires_in"].as_i64().unwrap() > 300);
    let auth = format!("JWT {}", token["access_token"].as_str().unwrap());
    let headers = [("Authorization", auth.as_str())];
    let send = |method: &str, path: &str, body: Value| {
        app.request(method, path, &headers, Some(("application/json", &body.to_string())))
    };

    // The buyer has an account: look it up by billing email, then enroll by username.
    let lookup = app.request("GET", "/api/user/v1/accounts?email=learner%40example.org", &headers, None);
    assert_eq!(lookup.status, 200, "{}", lookup.text);
    let username = lookup.json()[0]["username"].as_str().unwrap().to_owned();
    let attributes =
        json!([{"namespace": "openedx-commerce", "name": "message", "value": "Enrollment request response."}]);
    let enroll = send(
        "POST",
        ENROLL,
        json!({"user": username, "mode": "verified", "course_details": {"course_id": OPEN}, "enrollment_attributes": attributes}),
    );
    assert_eq!(enroll.status, 200, "{}", enroll.text);
    assert_eq!(enroll.json()["mode"], "verified");
    // The object is CourseEnrollmentSerializer's; the attributes are kept, not echoed.
    assert!(enroll.json().get("enrollment_attributes").is_none(), "{}", enroll.text);
    let kept: i64 = app
        .sqlite()
        .query_row("SELECT COUNT(*) FROM enrollment_attributes WHERE namespace = 'openedx-commerce'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1);
    let forced = send(
        "POST",
        ENROLL,
        json!({"user": username, "mode": "audit", "course_details": {"course_id": CLOSED}, "enrollment_attributes": attributes, "force_enrollment": true}),
    );
    assert_eq!(forced.status, 200, "{}", forced.text);
    // Refund: the same POST with is_active false.
    let refund = send(
        "POST",
        ENROLL,
        json!({"user": username, "mode": "verified", "course_details": {"course_id": OPEN}, "enrollment_attributes": attributes, "is_active": false}),
    );
    assert_eq!(refund.status, 200, "{}", refund.text);
    assert_eq!(refund.json()["is_active"], false);
    // Sync: the plugin encodes + as %2B.
    let sync = app.request(
        "GET",
        &format!("/api/enrollment/v1/enrollments?username={username}&course_id={}", OPEN.replace('+', "%2B")),
        &headers,
        None,
    );
    assert_eq!(sync.status, 200, "{}", sync.text);
    assert_eq!(sync.json()["results"][0]["is_active"], false);

    // The buyer has no account yet: the lookup is a 404, so the plugin pre-enrolls the email.
    let unknown = app.request("GET", "/api/user/v1/accounts?email=buyer%40example.org", &headers, None);
    assert_eq!(unknown.status, 404);
    let allowed = send(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        json!({"email": "buyer@example.org", "course_id": OPEN, "auto_enroll": true, "force_enrollment": true}),
    );
    assert_eq!(allowed.status, 201, "{}", allowed.text);
    let listed = app.request("GET", "/api/enrollment/v1/enrollment_allowed/?email=buyer@example.org", &headers, None);
    assert_eq!(listed.json()[0]["course_id"], OPEN);
    // Later the buyer registers, and is enrolled automatically.
    app.create_user(&s.admin, "buyer", true);
    let enrollment = app.get(&format!("{ENROLL}/buyer,{OPEN}"), Some(&auth)).json();
    assert_eq!(enrollment["is_active"], true, "{enrollment}");
    // A refund before registration removes the pre-enrollment with DELETE.
    send(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        json!({"email": "other@example.org", "course_id": OPEN, "auto_enroll": true}),
    );
    let removed = send(
        "DELETE",
        "/api/enrollment/v1/enrollment_allowed/",
        json!({"email": "other@example.org", "course_id": OPEN}),
    );
    assert_eq!(removed.status, 204);
}

#[test]
fn learners_are_throttled_as_open_edx_does_and_the_api_key_is_not() {
    let app =
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_LMS_V1_PER_MINUTE", "2"), ("ROLLCALL_AUTH_API_KEY", "k")], &[]);
    let admin = app.admin_auth();
    let learner = app.user_auth(&admin, "learner", false);
    let first = app.get(ENROLL, Some(&learner));
    assert_eq!((first.header("X-RateLimit-Limit"), first.header("X-RateLimit-Remaining")), (Some("2"), Some("1")));
    assert_eq!(app.get(ENROLL, Some(&learner)).status, 200);
    let limited = app.get(ENROLL, Some(&learner));
    assert_eq!(limited.header("X-RateLimit-Remaining"), Some("0"));
    assert_eq!(limited.status, 429);
    assert!(limited.json()["detail"].as_str().unwrap().starts_with("Request was throttled."));
    assert!(limited.header("Retry-After").is_some());
    for _ in 0..5 {
        assert_eq!(app.request("GET", &format!("{ENROLL}?user=learner"), &[("X-Edx-Api-Key", "k")], None).status, 200);
    }
}

#[test]
fn an_unpublished_course_takes_no_self_enrollment_but_staff_may_enroll() {
    let s = setup();
    assert_eq!(
        s.app.request("DELETE", &format!("/api/admin/v1/courses/{OPEN}"), &[("Authorization", &s.admin)], None).status,
        204
    );
    let reply = s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error_code"], "COURSE_UNPUBLISHED");
    assert_eq!(s.app.send_json("POST", ENROLL, Some(&s.admin), &enroll_body(Some("learner"), OPEN)).status, 200);
}

#[test]
fn account_retirement_unenrolls_from_every_course() {
    let s = setup();
    s.app.send_json("POST", ENROLL, Some(&s.learner), &enroll_body(None, OPEN));
    s.app.send_json("POST", ENROLL, Some(&s.admin), &enroll_body(Some("learner"), INVITE));
    let path = "/api/enrollment/v1/unenroll/";
    assert_eq!(s.app.send_json("POST", path, Some(&s.learner), &json!({"username": "learner"})).status, 403);
    let retired = s.app.send_json("POST", path, Some(&s.admin), &json!({"username": "learner"}));
    assert_eq!(retired.status, 200, "{}", retired.text);
    assert_eq!(retired.json(), json!(["Rollcall"]));
    assert_eq!(s.app.get(ENROLL, Some(&s.learner)).json(), json!([]));
    assert_eq!(
        s.app.send_json("POST", path, Some(&s.admin), &json!({"username": "learner"})).status,
        204,
        "nothing left"
    );
    assert_eq!(s.app.send_json("POST", path, Some(&s.admin), &json!({})).json(), json!("Username not specified."));
    assert_eq!(s.app.send_json("POST", path, Some(&s.admin), &json!({"username": "ghost"})).status, 404);
}

#[test]
fn a_non_string_user_is_a_400_and_never_enrolls_the_caller() {
    let app = crate::helpers::TestApp::spawn();
    let admin = app.admin_auth();
    let course = "course-v1:Rollcall+NSU+2026";
    app.create_course(&admin, course, serde_json::json!({}));
    for user in
        [serde_json::json!(12345), serde_json::json!(true), serde_json::json!(["ann"]), serde_json::json!({"u": 1})]
    {
        let body = serde_json::json!({"user": user, "course_details": {"course_id": course}});
        let reply = app.send_json("POST", "/api/enrollment/v1/enrollment", Some(&admin), &body);
        assert_eq!(reply.status, 400, "{user}: {}", reply.text);
        assert!(reply.json()["message"].is_string(), "{}", reply.text);
    }
    let mine = app.get(&format!("/api/enrollment/v1/enrollment/admin,{course}"), Some(&admin));
    assert!(mine.text.is_empty() || mine.json().is_null() || mine.json()["is_active"] != true, "{}", mine.text);
}

#[test]
fn v1_judges_the_learner_s_access_to_an_invitation_only_course_unless_forced() {
    let app = crate::helpers::TestApp::spawn();
    let admin = app.admin_auth();
    let course = "course-v1:Rollcall+INVITE+2026";
    app.create_course(&admin, course, json!({"invitation_only": true, "max_enrollments": 2}));
    for name in ["ann", "bob", "cat", "dan"] {
        app.create_user(&admin, name, true);
    }
    let enroll = |user: &str, force: bool| {
        let mut body = json!({"user": user, "course_details": {"course_id": course}});
        if force {
            body["force_enrollment"] = json!(true);
        }
        app.send_json("POST", "/api/enrollment/v1/enrollment", Some(&admin), &body)
    };
    let refused = enroll("ann", false);
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(
        refused.json()["message"],
        format!("An error occurred while creating the new course enrollment for user 'ann' in course '{course}'")
    );
    assert_eq!(refused.json()["error_code"], "INVITATION_ONLY");
    let invited = app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        Some(&admin),
        &json!({"email": "bob@example.org", "course_id": course}),
    );
    assert_eq!(invited.status, 201, "{}", invited.text);
    assert_eq!(enroll("bob", false).status, 200, "a pre-enrollment lets them in");
    assert_eq!(enroll("cat", true).status, 200, "global staff may force");
    let full = enroll("dan", true);
    assert_eq!(
        (full.status, full.json()["error_code"].as_str()),
        (400, Some("COURSE_FULL")),
        "forcing never bypasses capacity"
    );
    // Instructor routes keep ignoring invitation-only (not capacity), as Open edX's
    // instructor enrollment does.
    let other = "course-v1:Rollcall+INVITE2+2026";
    app.create_course(&admin, other, json!({"invitation_only": true}));
    let v2 = app.send_json(
        "POST",
        &format!("/api/enrollment/v2/courses/{other}/enrollments"),
        Some(&admin),
        &json!({"identifiers": ["ann"]}),
    );
    assert_eq!(v2.status, 200, "{}", v2.text);
    assert_eq!(v2.json()["results"][0]["after"]["enrolled"], true, "{}", v2.text);
}

mod open_edx_rules {
    use super::*;

    fn course(app: &TestApp, admin: &str) -> &'static str {
        let key = "course-v1:Rollcall+RULES+2026";
        app.create_course(admin, key, json!({}));
        key
    }

    #[test]
    fn a_learner_s_is_active_false_does_not_deactivate_their_own_enrollment() {
        let app = TestApp::spawn();
        let admin = app.admin_auth();
        let key = course(&app, &admin);
        let ann = app.user_auth(&admin, "ann", false);
        let body = |active: bool| json!({"course_details": {"course_id": key}, "is_active": active});
        assert_eq!(app.send_json("POST", "/api/enrollment/v1/enrollment", Some(&ann), &body(true)).status, 200);
        let reply = app.send_json("POST", "/api/enrollment/v1/enrollment", Some(&ann), &body(false));
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json()["is_active"], true, "only staff or the API key change is_active");
    }

    #[test]
    fn staff_deactivating_a_never_enrolled_user_creates_an_inactive_enrollment() {
        let app = TestApp::spawn();
        let admin = app.admin_auth();
        let key = course(&app, &admin);
        app.create_user(&admin, "refunded", true);
        let reply = app.send_json(
            "POST",
            "/api/enrollment/v1/enrollment",
            Some(&admin),
            &json!({"user": "refunded", "course_details": {"course_id": key}, "is_active": false}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!((reply.json()["is_active"].clone(), reply.json()["mode"].clone()), (json!(false), json!("audit")));
        let fetched = app.get(&format!("/api/enrollment/v1/enrollment/refunded,{key}"), Some(&admin)).json();
        assert_eq!(fetched["is_active"], false);
    }

    #[test]
    fn an_unknown_user_s_enrollment_list_is_empty() {
        let app = TestApp::spawn();
        let admin = app.admin_auth();
        let reply = app.get("/api/enrollment/v1/enrollment?user=ghost", Some(&admin));
        assert_eq!((reply.status, reply.json()), (200, json!([])));
    }

    #[test]
    fn the_enrollment_object_has_exactly_the_serializer_s_fields() {
        let app = TestApp::spawn();
        let admin = app.admin_auth();
        let key = course(&app, &admin);
        app.create_user(&admin, "ann", true);
        let reply = app.send_json(
            "POST",
            "/api/enrollment/v1/enrollment",
            Some(&admin),
            &json!({"user": "ann", "course_details": {"course_id": key}}),
        );
        let mut keys: Vec<String> = reply.json().as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["course_details", "created", "is_active", "mode", "user"]);
    }

    #[test]
    fn enrollment_allowed_accepts_form_bodies_as_drf_parses_them() {
        let app = TestApp::spawn();
        let admin = app.admin_auth();
        let key = course(&app, &admin);
        let reply = app.send_form(
            "POST",
            "/api/enrollment/v1/enrollment_allowed/",
            Some(&admin),
            &[("email", "cohort@example.org"), ("course_id", key), ("auto_enroll", "true")],
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.json()["auto_enroll"], true);
    }
}

#[test]
fn a_cohort_pre_enrolled_before_its_course_exists_is_pre_enrolled_when_it_is_created() {
    let app = crate::helpers::TestApp::spawn();
    let admin = app.admin_auth();
    let later = "course-v1:Rollcall+LATER+2027";
    let body = json!({"email": "early@example.org", "course_id": later, "auto_enroll": true});
    let reply = app.send_json("POST", "/api/enrollment/v1/enrollment_allowed/", Some(&admin), &body);
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["course_id"], later);
    assert_eq!(app.send_json("POST", "/api/enrollment/v1/enrollment_allowed/", Some(&admin), &body).status, 409);
    let listed = app.get("/api/enrollment/v1/enrollment_allowed/?email=early%40example.org", Some(&admin)).json();
    assert_eq!(listed[0]["course_id"], later, "{listed}");
    // A second one, withdrawn before the course exists.
    let other = json!({"email": "gone@example.org", "course_id": later});
    assert_eq!(app.send_json("POST", "/api/enrollment/v1/enrollment_allowed/", Some(&admin), &other).status, 201);
    assert_eq!(app.send_json("DELETE", "/api/enrollment/v1/enrollment_allowed/", Some(&admin), &other).status, 204);
    app.create_course(&admin, later, json!({}));
    let roster =
        app.get(&format!("/api/enrollment/v2/courses/{later}/enrollments?status=pre_enrolled"), Some(&admin)).json();
    let emails: Vec<&str> =
        roster["results"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["early@example.org"], "{roster}");
    // Registering now enrolls them, as any auto-enroll pre-enrollment does.
    app.create_user(&admin, "early", true);
    let enrollment = app.get(&format!("/api/enrollment/v1/enrollment/early,{later}"), Some(&admin)).json();
    assert_eq!(enrollment["is_active"], true, "{enrollment}");
}

#[test]
fn a_refused_write_answers_503_with_retry_after_in_open_edx_s_format() {
    let app = TestApp::spawn_refusable(&[]);
    let admin = app.admin_auth();
    app.create_course(&admin, OPEN, json!({}));
    app.create_user(&admin, "ann", true);
    let refused = app.refuse_writes();
    let body = json!({"user": "ann", "course_details": {"course_id": OPEN}});
    let reply = app.send_json("POST", ENROLL, Some(&admin), &body);
    crate::helpers::assert_refused(&reply, "message");
    let allowed = app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment_allowed/",
        Some(&admin),
        &json!({"email": "late@example.org", "course_id": OPEN}),
    );
    crate::helpers::assert_refused(&allowed, "message");
    drop(refused);
    let read = app.get(&format!("{ENROLL}/ann,{OPEN}"), Some(&admin));
    assert!(read.text.is_empty() || read.json_or_null().is_null(), "nothing was written: {}", read.text);
}
