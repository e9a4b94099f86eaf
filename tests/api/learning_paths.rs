//! `/api/learning_paths/v1/…` and `/api/admin/v1/learning-paths`.

use crate::helpers::TestApp;
use serde_json::{json, Value};

const PATH: &str = "path-v1:Rollcall+WEB+2026+T1";
const OPEN_PATH: &str = "path-v1:Rollcall+OPEN+2026+T1";
const STEP: &str = "course-v1:Rollcall+LP1+2026";
const OTHER: &str = "course-v1:Rollcall+LP2+2026";

struct Setup {
    app: TestApp,
    admin: String,
    learner: String,
}

fn setup() -> Setup {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    // The step course is invitation-only and closed: being in the path is the invitation.
    app.create_course(&admin, STEP, json!({"invitation_only": true, "enrollment_end": "2020-01-01T00:00:00Z"}));
    app.create_course(&admin, OTHER, json!({}));
    for (key, invite_only) in [(PATH, true), (OPEN_PATH, false)] {
        let body = json!({"key": key, "display_name": "Web track", "level": "beginner", "invite_only": invite_only,
            "steps": [{"course_key": STEP, "weight": 0.5}]});
        let reply = app.send_json("POST", "/api/admin/v1/learning-paths", Some(&admin), &body);
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let learner = app.user_auth(&admin, "learner", false);
    Setup { app, admin, learner }
}

fn enrollments(key: &str) -> String {
    format!("/api/learning_paths/v1/{key}/enrollments/")
}

#[test]
fn paths_are_created_by_admins_with_validated_steps() {
    let s = setup();
    let list = s.app.get("/api/admin/v1/learning-paths", Some(&s.admin)).json();
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    for bad in [
        json!({"key": "path-v1:A+B+C", "display_name": "x"}),
        json!({"key": "path-v1:A+B+C+D", "display_name": "x", "steps": [{"course_key": "course-v1:No+Such+Run"}]}),
        json!({"key": "path-v1:A+B+C+D", "display_name": "x", "steps": [{"course_key": STEP, "weight": 3}]}),
        json!({"key": "path-v1:A+B+C+D", "display_name": "x", "level": "expert"}),
        json!({"key": "path-v1:A+B+C+D"}),
    ] {
        assert_eq!(s.app.send_json("POST", "/api/admin/v1/learning-paths", Some(&s.admin), &bad).status, 400, "{bad}");
    }
    let dup = s.app.send_json(
        "POST",
        "/api/admin/v1/learning-paths",
        Some(&s.admin),
        &json!({"key": PATH, "display_name": "again"}),
    );
    assert_eq!(dup.status, 409);
    assert_eq!(s.app.get("/api/admin/v1/learning-paths", Some(&s.learner)).status, 403);
}

#[test]
fn learners_see_open_paths_and_their_own_and_invite_only_paths_are_hidden() {
    let s = setup();
    let keys = |auth: &str| -> Vec<String> {
        s.app.get("/api/learning_paths/v1/learning-paths/", Some(auth)).json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&s.learner), [OPEN_PATH]);
    assert_eq!(keys(&s.admin).len(), 2);
    let hidden = s.app.get(&format!("/api/learning_paths/v1/learning-paths/{PATH}/"), Some(&s.learner));
    assert_eq!(hidden.status, 404);
    assert_eq!(hidden.json()["detail"], "No LearningPath matches the given query.");
    let detail = s.app.get(&format!("/api/learning_paths/v1/learning-paths/{OPEN_PATH}/"), Some(&s.learner)).json();
    assert_eq!(detail["steps"][0]["course_key"], STEP);
    assert_eq!(detail["steps"][0]["weight"], 0.5);
    assert_eq!(detail["level"], "beginner");
    assert!(detail["enrollment_date"].is_null());
    assert_eq!(
        s.app.get("/api/learning_paths/v1/learning-paths/garbage/", Some(&s.learner)).json()["detail"],
        "Invalid learning path key format."
    );
    assert_eq!(s.app.get("/api/learning_paths/v1/learning-paths/", None).status, 401);
}

#[test]
fn the_learning_path_list_is_paged_as_drf_page_number_pagination_ten_a_page() {
    let s = setup();
    for i in 0..11 {
        let body = json!({"key": format!("path-v1:Rollcall+P{i}+2026+T1"), "display_name": format!("Path {i}"), "invite_only": false});
        assert_eq!(s.app.send_json("POST", "/api/admin/v1/learning-paths", Some(&s.admin), &body).status, 201);
    }
    let list = |query: &str| s.app.get(&format!("/api/learning_paths/v1/learning-paths/{query}"), Some(&s.learner));
    let first = list("").json();
    let mut fields: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(fields, ["count", "next", "previous", "results"], "{first}");
    assert_eq!(first["count"], 12, "the open path and eleven more; the invite-only one is hidden");
    assert_eq!(first["results"].as_array().unwrap().len(), 10, "the platform's PAGE_SIZE");
    assert!(first["previous"].is_null());
    let next = first["next"].as_str().unwrap();
    assert!(next.contains("page=2"), "{next}");
    let path = &next[next.find("/api/").unwrap()..];
    let second = s.app.get(path, Some(&s.learner)).json();
    assert_eq!(second["results"].as_array().unwrap().len(), 2);
    assert!(second["next"].is_null() && second["previous"].is_string());
    let small = list("?page=3&page_size=5").json();
    assert_eq!(small["results"].as_array().unwrap().len(), 2);
    let past = list("?page=3");
    assert_eq!(past.status, 404);
    assert_eq!(past.json()["detail"], "Invalid page.");
    assert_eq!(list("?page=0").status, 400);
}

#[test]
fn enrollment_answers_201_then_409_and_reactivates_with_200() {
    let s = setup();
    // A learner cannot self-enroll in an invitation-only path: it is a 404 to them.
    assert_eq!(s.app.send_json("POST", &enrollments(PATH), Some(&s.learner), &json!({})).status, 404);
    let created = s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.learner), &json!({}));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json()["is_active"], true);
    let again = s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.learner), &json!({}));
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["detail"], "Enrollment exists.");
    // Learners may not unenroll themselves (the plugin's default); staff may.
    assert_eq!(s.app.send_json("DELETE", &enrollments(OPEN_PATH), Some(&s.learner), &json!({})).status, 403);
    assert_eq!(
        s.app.send_json("DELETE", &enrollments(OPEN_PATH), Some(&s.admin), &json!({"username": "learner"})).status,
        204
    );
    assert_eq!(
        s.app.send_json("DELETE", &enrollments(OPEN_PATH), Some(&s.admin), &json!({"username": "learner"})).status,
        404
    );
    let back = s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.learner), &json!({"username": "learner"}));
    assert_eq!(back.status, 200);
    // Only staff may name someone else.
    assert_eq!(
        s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.learner), &json!({"username": "admin"})).status,
        403
    );
    assert_eq!(
        s.app.send_json("POST", &enrollments(PATH), Some(&s.admin), &json!({"username": "learner"})).status,
        201
    );
    assert_eq!(s.app.send_json("POST", &enrollments(PATH), Some(&s.admin), &json!({"username": "ghost"})).status, 404);
    let mine = s.app.get("/api/learning_paths/v1/enrollments/", Some(&s.learner)).json();
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let listed: Vec<Value> = s.app.get(&enrollments(PATH), Some(&s.admin)).json().as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    // Now enrolled, the invitation-only path is visible to the learner.
    assert!(s.app.get(&format!("/api/learning_paths/v1/learning-paths/{PATH}/"), Some(&s.learner)).json()
        ["enrollment_date"]
        .is_string());
}

#[test]
fn a_path_learner_enrolls_in_a_step_course_through_the_enrollment_core() {
    let s = setup();
    let step = |course: &str| format!("/api/learning_paths/v1/{OPEN_PATH}/enrollments/{course}/");
    assert_eq!(s.app.send_json("POST", &step(STEP), Some(&s.learner), &json!({})).status, 404, "not in the path yet");
    s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.learner), &json!({}));
    let other = s.app.send_json("POST", &step(OTHER), Some(&s.learner), &json!({}));
    assert_eq!(other.status, 400);
    assert_eq!(other.json()["detail"], "The course is not part of this learning path.");
    let enrolled = s.app.send_json("POST", &step(STEP), Some(&s.learner), &json!({}));
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    assert_eq!(enrolled.json()["detail"], "User successfully enrolled in the course.");
    let e = s.app.get(&format!("/api/enrollment/v1/enrollment/learner,{STEP}"), Some(&s.learner)).json();
    assert_eq!(e["is_active"], true);
    let source: String =
        s.app.sqlite().query_row("SELECT source FROM enrollment_history ORDER BY id DESC", [], |r| r.get(0)).unwrap();
    assert_eq!(source, "learning_path");
}

#[test]
fn bulk_enroll_enrolls_users_invites_unknown_emails_and_registration_claims_them() {
    let s = setup();
    s.app.create_user(&s.admin, "bob", true);
    let body = json!({"learning_paths": format!("{PATH},path-v1:bad"), "emails": "bob@example.org,new@example.org,not-an-email"});
    let reply = s.app.send_json("POST", "/api/learning_paths/v1/enrollments/bulk-enroll/", Some(&s.admin), &body);
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json(), json!({"enrollments_created": 1, "enrollment_allowed_created": 1}));
    let again = s.app.send_json("POST", "/api/learning_paths/v1/enrollments/bulk-enroll/", Some(&s.admin), &body);
    assert_eq!(again.json(), json!({"enrollments_created": 0, "enrollment_allowed_created": 0}));
    s.app.create_user(&s.admin, "new", true);
    let listed = s.app.get(&enrollments(PATH), Some(&s.admin)).json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(
        s.app.send_json("POST", "/api/learning_paths/v1/enrollments/bulk-enroll/", Some(&s.learner), &body).status,
        403
    );
    assert_eq!(
        s.app
            .send_json(
                "POST",
                "/api/learning_paths/v1/enrollments/bulk-enroll/",
                Some(&s.admin),
                &json!({"emails": "x@y.org"})
            )
            .status,
        400
    );
    let removed = s.app.send_json(
        "DELETE",
        "/api/learning_paths/v1/enrollments/bulk-enroll/",
        Some(&s.admin),
        &json!({"learning_paths": PATH, "emails": "bob@example.org"}),
    );
    assert_eq!(removed.status, 204);
    assert_eq!(s.app.get(&enrollments(PATH), Some(&s.admin)).json().as_array().unwrap().len(), 1);
}

#[test]
fn the_enrollments_list_includes_inactive_path_enrollments_with_is_active() {
    let s = setup();
    assert_eq!(s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.learner), &json!({})).status, 201);
    assert_eq!(
        s.app.send_json("POST", &enrollments(PATH), Some(&s.admin), &json!({"username": "learner"})).status,
        201
    );
    let left = s.app.send_json("DELETE", &enrollments(OPEN_PATH), Some(&s.admin), &json!({"username": "learner"}));
    assert_eq!(left.status, 204);
    let mine = s.app.get("/api/learning_paths/v1/enrollments/", Some(&s.learner)).json();
    let states: Vec<bool> = mine.as_array().unwrap().iter().map(|e| e["is_active"].as_bool().unwrap()).collect();
    assert_eq!(states, [false, true], "{mine}");
    // The per-path list keeps showing active enrollments only.
    assert_eq!(s.app.get(&enrollments(OPEN_PATH), Some(&s.admin)).json(), json!([]));
}

#[test]
fn a_staff_filter_on_an_unknown_username_is_an_empty_list() {
    let s = setup();
    let reply = s.app.get(&format!("{}?username=ghost", enrollments(OPEN_PATH)), Some(&s.admin));
    assert_eq!((reply.status, reply.json()), (200, json!([])));
    // A learner naming someone else is still refused.
    assert_eq!(s.app.get(&format!("{}?username=ghost", enrollments(OPEN_PATH)), Some(&s.learner)).status, 403);
}

#[test]
fn bodies_may_be_forms_and_a_non_string_username_is_a_field_error() {
    let s = setup();
    let form = s.app.send_form("POST", &enrollments(OPEN_PATH), Some(&s.admin), &[("username", "learner")]);
    assert_eq!(form.status, 201, "{}", form.text);
    let bulk = s.app.send_multipart(
        "/api/learning_paths/v1/enrollments/bulk-enroll/",
        Some(&s.admin),
        &[("learning_paths", PATH), ("emails", "learner@example.org,new@example.org")],
    );
    assert_eq!(bulk.status, 201, "{}", bulk.text);
    assert_eq!(bulk.json()["enrollment_allowed_created"], 1);
    for bad in [json!(["learner"]), json!({"u": 1}), json!(true)] {
        let reply = s.app.send_json("POST", &enrollments(OPEN_PATH), Some(&s.admin), &json!({"username": bad}));
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
        assert_eq!(reply.json()["username"], json!(["Not a valid string."]));
    }
}

fn uuid_of(s: &Setup, key: &str) -> String {
    let listed = s.app.get("/api/admin/v1/learning-paths", Some(&s.admin)).json();
    let path = listed["results"].as_array().unwrap().iter().find(|p| p["key"] == key).unwrap().clone();
    let uuid = path["uuid"].as_str().unwrap().to_owned();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4", "a version-4 uuid: {uuid}");
    uuid
}

#[test]
fn the_adr_route_enrolls_by_uuid_for_self_staff_and_refuses_unknown_and_uninvited() {
    let s = setup();
    let open = uuid_of(&s, OPEN_PATH);
    let invite_only = uuid_of(&s, PATH);
    let route = |uuid: &str| format!("/api/v1/learning-path/{uuid}/enroll/");
    // The uuid is stable and shown to learners too.
    let detail = s.app.get(&format!("/api/learning_paths/v1/learning-paths/{OPEN_PATH}/"), Some(&s.learner)).json();
    assert_eq!(detail["uuid"], open.as_str());
    assert_eq!(uuid_of(&s, OPEN_PATH), open);
    let mine = s.app.send_json("POST", &route(&open), Some(&s.learner), &json!({"username": "learner"}));
    assert_eq!(mine.status, 201, "{}", mine.text);
    assert_eq!(mine.json()["is_active"], true);
    assert_eq!(s.app.send_json("POST", &route(&open), Some(&s.learner), &json!({})).status, 409);
    // The same enrollment the plugin-style route sees.
    let listed = s.app.get(&enrollments(OPEN_PATH), Some(&s.admin)).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Invitation-only: a learner without an invitation is refused; staff may enroll anyone.
    let refused = s.app.send_json("POST", &route(&invite_only), Some(&s.learner), &json!({}));
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(
        s.app.send_json("POST", &route(&invite_only), Some(&s.learner), &json!({"username": "admin"})).status,
        403,
        "a learner names only themself"
    );
    s.app.create_user(&s.admin, "invited", true);
    let bulk = s.app.send_json(
        "POST",
        "/api/learning_paths/v1/enrollments/bulk-enroll/",
        Some(&s.admin),
        &json!({"learning_paths": PATH, "emails": "later@example.org"}),
    );
    assert_eq!(bulk.status, 201);
    let staff = s.app.send_json("POST", &route(&invite_only), Some(&s.admin), &json!({"username": "invited"}));
    assert_eq!(staff.status, 201, "{}", staff.text);
    assert_eq!(
        s.app.send_json("POST", &route("00000000-0000-4000-8000-000000000000"), Some(&s.admin), &json!({})).status,
        404
    );
    assert_eq!(s.app.send_json("POST", &route("not-a-uuid"), Some(&s.admin), &json!({})).status, 404);
    assert_eq!(s.app.send_json("POST", &route(&open), None, &json!({})).status, 401);
}

#[test]
fn an_invited_learner_may_enroll_themself_in_an_invitation_only_path_by_uuid() {
    let s = setup();
    let invite_only = uuid_of(&s, PATH);
    let bulk = s.app.send_json(
        "POST",
        "/api/learning_paths/v1/enrollments/bulk-enroll/",
        Some(&s.admin),
        &json!({"learning_paths": PATH, "emails": "guest@example.org"}),
    );
    assert_eq!(bulk.json()["enrollment_allowed_created"], 1, "{}", bulk.text);
    let guest = s.app.user_auth(&s.admin, "guest", false);
    let reply =
        s.app.send_json("POST", &format!("/api/v1/learning-path/{invite_only}/enroll/"), Some(&guest), &json!({}));
    assert!(reply.status == 201 || reply.status == 409, "{}", reply.text);
}

#[test]
fn path_progress_and_grade_aggregate_the_steps_as_the_plugin_does_and_paths_are_programs() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let courses = ["course-v1:Rollcall+AGG1+2026", "course-v1:Rollcall+AGG2+2026", "course-v1:Rollcall+AGG3+2027"];
    for c in courses {
        app.create_course(&admin, c, json!({}));
    }
    let key = "path-v1:Rollcall+AGG+2026+T1";
    let body = json!({"key": key, "display_name": "Aggregate", "subtitle": "Three courses", "required_completion": 0.8, "required_grade": 0.7,
        "steps": [{"course_key": courses[0], "weight": 0.25}, {"course_key": courses[1], "weight": 0.5}, {"course_key": courses[2], "weight": 0.25}]});
    let created = app.send_json("POST", "/api/admin/v1/learning-paths", Some(&admin), &body);
    assert_eq!(created.status, 201, "{}", created.text);
    let learner = app.user_auth(&admin, "learner", false);
    let enrolled = app.send_json(
        "POST",
        &format!("/api/learning_paths/v1/{key}/enrollments/"),
        Some(&admin),
        &json!({"username": "learner"}),
    );
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    for c in courses {
        app.send_json(
            "POST",
            "/api/enrollment/v1/enrollment",
            Some(&admin),
            &json!({"user": "learner", "course_details": {"course_id": c}}),
        );
    }
    let progress =
        |auth: &str, query: &str| app.get(&format!("/api/learning_paths/v1/{key}/progress/{query}"), Some(auth));
    let grade = |auth: &str| app.get(&format!("/api/learning_paths/v1/{key}/grade/"), Some(auth)).json();
    // None done.
    assert_eq!(
        progress(&learner, "").json(),
        json!({"learning_path_key": key, "progress": 0.0, "required_completion": 0.8})
    );
    assert_eq!(grade(&learner), json!({"learning_path_key": key, "grade": 0.0, "required_grade": 0.7}));
    let push = |course: &str, completion: f64, grade: f64| {
        let reply = app.send_json(
            "PUT",
            &format!("/api/admin/v1/courses/{course}/enrollments/learner/progress"),
            Some(&admin),
            &json!({"completion": completion, "grade": grade, "passed": grade >= 0.7}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    };
    // Some: the progress is the plain mean; the grade is weighted (0.25, 0.5, 0.25).
    push(courses[0], 1.0, 0.9);
    push(courses[1], 0.5, 0.6);
    let p = progress(&learner, "").json()["progress"].as_f64().unwrap();
    assert!((p - 0.5).abs() < 1e-9, "(1.0 + 0.5 + 0) / 3 = 0.5, got {p}");
    let g = grade(&learner)["grade"].as_f64().unwrap();
    assert!((g - 0.525).abs() < 1e-9, "(0.9·0.25 + 0.6·0.5 + 0·0.25) / 1 = 0.525, got {g}");
    // All.
    push(courses[1], 1.0, 0.8);
    push(courses[2], 1.0, 1.0);
    assert!((progress(&learner, "").json()["progress"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let g = grade(&learner)["grade"].as_f64().unwrap();
    assert!((g - 0.875).abs() < 1e-9, "0.225 + 0.4 + 0.25 = 0.875, got {g}");
    // Staff may ask for a learner; a learner may not ask for another.
    assert!((progress(&admin, "?username=learner").json()["progress"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let other = app.user_auth(&admin, "other", false);
    assert_eq!(progress(&other, "").status, 404, "an invite-only path is not shown to others");
    app.send_json(
        "POST",
        &format!("/api/learning_paths/v1/{key}/enrollments/"),
        Some(&admin),
        &json!({"username": "other"}),
    );
    assert_eq!(progress(&other, "?username=learner").status, 403);
    assert_eq!(app.get("/api/learning_paths/v1/path-v1:No+Such+Path+X/progress/", Some(&learner)).status, 404);
    // Programs: course-discovery's shape, grouped by course number.
    let programs = app.get("/api/learning_paths/v1/programs/", Some(&learner)).json();
    assert_eq!(programs["count"], 1);
    let program = &programs["results"][0];
    assert_eq!(
        (program["marketing_slug"].as_str(), program["status"].as_str(), program["title"].as_str()),
        (Some(key), Some("active"), Some("Aggregate"))
    );
    assert_eq!(
        program["course_codes"][0],
        json!({"key": "AGG1", "run_modes": [{"course_key": courses[0], "run_key": "2026"}]})
    );
    assert_eq!(program["course_codes"].as_array().unwrap().len(), 3);
    let uuid = program["uuid"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/learning_paths/v1/programs/{uuid}/"), Some(&learner)).json()["name"],
        "Aggregate"
    );
    assert_eq!(
        app.get("/api/learning_paths/v1/programs/00000000-0000-4000-8000-000000000000/", Some(&learner)).status,
        404
    );
}

#[test]
fn a_refused_write_answers_503_in_drf_s_format() {
    let app = TestApp::spawn_refusable(&[]);
    let admin = app.admin_auth();
    app.create_course(&admin, OTHER, json!({}));
    let body =
        json!({"key": OPEN_PATH, "display_name": "Open", "invite_only": false, "steps": [{"course_key": OTHER}]});
    assert_eq!(app.send_json("POST", "/api/admin/v1/learning-paths", Some(&admin), &body).status, 201);
    let learner = app.user_auth(&admin, "learner", false);
    let refused = app.refuse_writes();
    let reply = app.send_json("POST", &enrollments(OPEN_PATH), Some(&learner), &json!({}));
    crate::helpers::assert_refused(&reply, "detail");
    let bulk = app.send_json(
        "POST",
        "/api/learning_paths/v1/enrollments/bulk-enroll/",
        Some(&admin),
        &json!({"learning_paths": OPEN_PATH, "emails": "new@example.org"}),
    );
    crate::helpers::assert_refused(&bulk, "detail");
    drop(refused);
    let mine = app.get("/api/learning_paths/v1/enrollments/", Some(&learner)).json();
    assert_eq!(mine, json!([]), "nothing was written");
}
