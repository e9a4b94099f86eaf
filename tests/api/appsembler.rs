//! `/appsembler_api/v0/…`: Appsembler's account, enrollment-code, bulk and analytics API.

use crate::helpers::TestApp;
use serde_json::{json, Value};

const COURSE: &str = "course-v1:Rollcall+APP101+2026";
const CLOSED: &str = "course-v1:Rollcall+SHUT+2026";

fn api(path: &str) -> String {
    format!("/appsembler_api/v0/{path}")
}

fn setup() -> (TestApp, String) {
    let dir = crate::helpers::TempDir::new();
    let mail = dir.0.join("mail");
    let mail = mail.to_str().unwrap().to_owned();
    let app = TestApp::spawn_in(
        dir,
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_EMAIL_BACKEND", "dir"), ("ROLLCALL_EMAIL_DIR", &mail)],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({"title": "Appsembler 101", "code": "APP101", "max_enrollments": 2}));
    app.create_course(&admin, CLOSED, json!({"enrollment_end": "2020-01-01T00:00:00Z", "invitation_only": true}));
    (app, admin)
}

#[test]
fn accounts_are_created_with_the_original_key_names_and_conflicts() {
    let (app, admin) = setup();
    let body =
        json!({"username": "staff55", "password": "edx-pass", "email": "staff55@example.com", "name": "stafftest"});
    let created = app.send_json("POST", &api("accounts/create"), Some(&admin), &body);
    assert_eq!(created.status, 200, "{}", created.text);
    assert!(created.json()["user_id "].is_i64(), "the trailing space is part of the contract: {}", created.text);
    let again = app.send_json("POST", &api("accounts/create"), Some(&admin), &body);
    assert_eq!((again.status, again.json()["user_message"].as_str()), (409, Some("User already exists")));
    let wrong = app.send_json(
        "POST",
        &api("accounts/create"),
        Some(&admin),
        &json!({"username": "x y", "password": "p", "email": "a@b.org", "name": "n"}),
    );
    assert_eq!((wrong.status, wrong.json()["user_message"].as_str()), (400, Some("Wrong parameters on user creation")));
    assert_eq!(
        app.post_form("/login", &[("username", "staff55"), ("password", "edx-pass")]).status,
        200,
        "the account is active"
    );
    let exists = app.get(&api("accounts/get-user/staff55"), Some(&admin));
    assert_eq!(exists.json(), json!({"user_id": "staff55"}));
    let missing = app.get(&api("accounts/get-user/nobody"), Some(&admin));
    assert_eq!((missing.status, missing.text.as_str()), (404, ""));
    let none = app.send_json("POST", &api("accounts/create"), None, &body);
    assert_eq!(none.json()["detail"], "Authentication credentials were not provided.");
}

#[test]
fn an_account_without_password_is_activated_by_its_single_use_set_password_link() {
    let (app, admin) = setup();
    let reply = app.send_json(
        "POST",
        &api("accounts/user_without_password"),
        Some(&admin),
        &json!({"email": "user-without.password@example.com", "name": "No Pass", "country": "UY"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["username"], "userwithoutpassword");
    let second = app.send_json(
        "POST",
        &api("accounts/user_without_password"),
        Some(&admin),
        &json!({"email": "user--without-password@example.org", "name": "Two"}),
    );
    let username = second.json()["username"].as_str().unwrap().to_owned();
    assert!(
        username.starts_with("userwithoutpassword") && username.len() == "userwithoutpassword".len() + 3,
        "{username}"
    );
    assert_eq!(
        app.send_json(
            "POST",
            &api("accounts/user_without_password"),
            Some(&admin),
            &json!({"email": "bad", "name": "x"})
        )
        .json()["user_message"],
        "Wrong email format"
    );
    // The email carries the link; following it sets the password and activates the account.
    let mail = app.dir.0.join("mail");
    let eml = crate::helpers::wait_until(10, || {
        std::fs::read_dir(&mail)
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().contains("set_password"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
    });
    let unfolded = eml.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find("token=").expect("a link in the email") + "token=".len();
    let token: String =
        unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    assert_eq!(
        app.post_form("/login", &[("username", "userwithoutpassword"), ("password", "chosen-password")]).status,
        400,
        "inactive before"
    );
    let set = app.post_form("/account/set-password", &[("token", &token), ("password", "chosen-password")]);
    assert_eq!(set.status, 200, "{}", set.text);
    assert!(set.header("Content-Type").is_some_and(|t| t.starts_with("text/html")), "a browser's form gets a page");
    assert!(set.text.contains("Your password is set") && set.text.contains("userwithoutpassword"), "{}", set.text);
    assert_eq!(
        app.post_form("/login", &[("username", "userwithoutpassword"), ("password", "chosen-password")]).status,
        200
    );
    let again = app.post_form("/account/set-password", &[("token", &token), ("password", "another-password")]);
    assert_eq!(again.status, 400, "single use");
    assert!(again.text.contains("Your password was not set"), "{}", again.text);
}

#[test]
fn connect_and_update_user_change_accounts_as_the_original_answers() {
    let (app, admin) = setup();
    app.create_user(&admin, "test_user", true);
    app.create_user(&admin, "other", true);
    let connect = |body: Value| app.send_json("POST", &api("accounts/connect"), Some(&admin), &body);
    let ok = connect(
        json!({"username": "test_user", "name": "Test User", "email": "test.user@example.com", "password": "new@pass1"}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.json()["user_id"].is_i64());
    assert_eq!(
        app.post_form("/login", &[("username", "test.user@example.com"), ("password", "new@pass1")]).status,
        200
    );
    assert_eq!(connect(json!({"username": "ghost"})).status, 404);
    assert_eq!(
        connect(json!({"username": "test_user", "email": "nope"})).json()["user_message"],
        "Invalid email format"
    );
    let taken = connect(json!({"username": "test_user", "email": "other@example.org"}));
    assert_eq!(
        (taken.status, taken.json()["user_message"].as_str()),
        (409, Some("The email other@example.org is in use by another user"))
    );

    let update = |body: Value| app.send_json("POST", &api("accounts/update_user"), Some(&admin), &body);
    let updated = update(
        json!({"user_lookup": "test.user@example.com", "name": "Doe, John", "country": "ES", "district": "101815"}),
    );
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(
        updated.json()["success"],
        "The following fields has been updated: name=Doe, John, country=ES, district=101815"
    );
    let account = app.get("/api/user/v1/accounts/test_user", Some(&admin)).json();
    assert_eq!((account["name"].as_str(), account["country"].as_str()), (Some("Doe, John"), Some("ES")));
    assert_eq!(account["extended_profile"][0], json!({"field_name": "district", "field_value": "101815"}));
    assert_eq!(update(json!({})).json(), json!({"lookup_error": "No user lookup has been provided"}));
    assert_eq!(update(json!({"user_lookup": "ghost"})).status, 404);
    assert_eq!(update(json!({"user_lookup": "test_user", "gender": "x"})).status, 400);
}

#[test]
fn enrollment_codes_are_generated_redeemed_cancelled_and_restored() {
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    app.create_user(&admin, "bob", true);
    let generated = app.send_json(
        "POST",
        &api("enrollment-codes/generate"),
        Some(&admin),
        &json!({"course_id": COURSE, "total_registration_codes": "3"}),
    );
    assert_eq!(generated.status, 200, "{}", generated.text);
    let body = generated.json();
    assert_eq!(body["course_url"], format!("/courses/{COURSE}/about"));
    let codes: Vec<String> = body["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 3);
    assert!(
        codes.iter().all(|c| c.len() == 8 && !c.contains(['a', 'e', 'i', 'o', 'u', '1', 'l', 'A', 'E', 'I', 'O', 'U'])),
        "{codes:?}"
    );
    let redeem = |email: &str, code: &str| {
        app.send_json(
            "POST",
            &api("enrollment-codes/enroll-user"),
            Some(&admin),
            &json!({"email": email, "enrollment_code": code}),
        )
    };
    assert_eq!(redeem("ann@example.org", &codes[0]).json(), json!({"success": true}));
    assert_eq!(app.get(&format!("/api/enrollment/v1/enrollment/ann,{COURSE}"), Some(&admin)).json()["is_active"], true);
    assert_eq!(redeem("ghost@example.org", &codes[1]).json()["reason"], "User not found");
    assert_eq!(redeem("ann@example.org", "NOPE1234").json()["reason"], "Enrollment code not found");
    // Codes may be redeemed again (the original's clients rely on it); capacity still holds.
    assert_eq!(redeem("bob@example.org", &codes[0]).json(), json!({"success": true}));
    app.create_user(&admin, "cat", true);
    let full = redeem("cat@example.org", &codes[1]);
    assert_eq!((full.status, full.json()["reason"].as_str()), (400, Some("Course full")));
    let status = |code: &str, action: &str| {
        app.send_json(
            "POST",
            &api("enrollment-codes/status"),
            Some(&admin),
            &json!({"enrollment_code": code, "action": action}),
        )
    };
    assert_eq!(status(&codes[0], "cancel").json(), json!({"success": true}));
    assert_eq!(
        app.get(&format!("/api/enrollment/v1/enrollment/ann,{COURSE}"), Some(&admin)).json()["is_active"],
        false,
        "cancelling unenrolls"
    );
    assert_eq!(redeem("ann@example.org", &codes[0]).json()["reason"], "Enrollment code not found");
    assert_eq!(status(&codes[0], "restore").json(), json!({"success": true}));
    assert_eq!(redeem("ann@example.org", &codes[0]).json(), json!({"success": true}));
    assert_eq!(status("MISSING1", "cancel").json()["reason"], "The enrollment code (MISSING1) was not found");
    // A code is an invitation: it opens a closed, invitation-only course.
    let closed = app
        .send_json(
            "POST",
            &api("enrollment-codes/generate"),
            Some(&admin),
            &json!({"course_id": CLOSED, "total_registration_codes": 1}),
        )
        .json();
    assert_eq!(redeem("cat@example.org", closed["codes"][0].as_str().unwrap()).json(), json!({"success": true}));
}

#[test]
fn bulk_enroll_reports_per_course_states_and_checks_course_permissions() {
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    let body = json!({"action": "enroll", "auto_enroll": true, "email_students": false,
        "identifiers": "ann@example.org,new@example.org,not-an-email", "courses": format!("{COURSE},{CLOSED}")});
    let reply = app.send_json("POST", &api("bulk-enrollment/bulk-enroll"), Some(&admin), &body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let result = reply.json();
    let rows = &result["courses"][COURSE]["results"];
    assert_eq!(rows[0]["after"], json!({"user": true, "enrollment": true, "allowed": false, "auto_enroll": false}));
    assert_eq!(rows[1]["after"], json!({"user": false, "enrollment": false, "allowed": true, "auto_enroll": true}));
    assert_eq!(rows[2], json!({"identifier": "not-an-email", "invalidIdentifier": true}));
    assert_eq!(result["courses"][CLOSED]["action"], "enroll");
    let missing = app.send_json(
        "POST",
        &api("bulk-enrollment/bulk-enroll"),
        Some(&admin),
        &json!({"action": "enroll", "courses": COURSE}),
    );
    assert_eq!((missing.status, missing.json()["identifiers"][0].as_str()), (400, Some("This field is required.")));
    let bad_course = app.send_json(
        "POST",
        &api("bulk-enrollment/bulk-enroll"),
        Some(&admin),
        &json!({"action": "enroll", "identifiers": "a@b.org", "courses": "nonsense"}),
    );
    assert_eq!(bad_course.json()["courses"][0], "Course key not valid: nonsense");
    let unknown = app.send_json(
        "POST",
        &api("bulk-enrollment/bulk-enroll"),
        Some(&admin),
        &json!({"action": "enroll", "identifiers": "a@b.org", "courses": "course-v1:No+Such+Run"}),
    );
    assert_eq!(unknown.status, 404);
    let learner = app.user_auth(&admin, "learner", false);
    assert_eq!(app.send_json("POST", &api("bulk-enrollment/bulk-enroll"), Some(&learner), &body).status, 403);
}

#[test]
fn bulk_enroll_with_an_unknown_course_changes_no_course() {
    // Every course is found and checked before any learner changes: a 404 for the second
    // course leaves the first one as it was (the call is one transaction).
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    let body = json!({"action": "enroll", "identifiers": "ann", "courses": format!("{COURSE},course-v1:No+Such+Run")});
    let reply = app.send_json("POST", &api("bulk-enrollment/bulk-enroll"), Some(&admin), &body);
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(app.get(&api("analytics/enrollment/batch?username=ann"), Some(&admin)).json(), json!([]));
    let body = json!({"action": "enroll", "identifiers": "ann", "courses": COURSE});
    assert_eq!(app.send_json("POST", &api("bulk-enrollment/bulk-enroll"), Some(&admin), &body).status, 200);
    assert_eq!(app.get(&api("analytics/enrollment/batch?username=ann"), Some(&admin)).json()[0]["course_id"], COURSE);
}

#[test]
fn analytics_list_accounts_and_enrollments_with_date_filters() {
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    app.send_json(
        "POST",
        "/api/enrollment/v1/enrollment",
        Some(&admin),
        &json!({"user": "ann", "course_details": {"course_id": COURSE}}),
    );
    let accounts = app.get(&api("analytics/accounts/batch"), Some(&admin)).json();
    let names: Vec<&str> = accounts.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"ann") && names.contains(&"admin"));
    assert!(accounts[0]["date_joined"].as_str().unwrap().ends_with('Z'));
    assert_eq!(app.get(&api("analytics/accounts/batch?updated_min=2999-01-01"), Some(&admin)).json(), json!([]));
    let enrollments = app.get(&api(&format!("analytics/enrollment/batch?course_id={COURSE}")), Some(&admin)).json();
    assert_eq!(enrollments[0]["username"], "ann");
    assert_eq!(enrollments[0]["course_id"], COURSE, "a '+' that arrived as a space is restored");
    for key in ["user_id", "enrollment_id", "date_enrolled"] {
        assert!(enrollments[0].get(key).is_some(), "{key}");
    }
    assert_eq!(app.get(&api("analytics/enrollment/batch?username=nobody"), Some(&admin)).json(), json!([]));
    // A passed learner carries the original's certificate block; others none.
    assert!(enrollments[0].get("certificate").is_none());
    let pushed = app.send_json("PUT", &format!("/api/admin/v1/courses/{COURSE}/enrollments/ann/progress"), Some(&admin),
        &json!({"completion": 1, "grade": 0.85, "passed": true, "completed_at": "2017-01-24T14:32:21Z", "certificate_url": "https://certs.example.org/x"}));
    assert_eq!(pushed.status, 200, "{}", pushed.text);
    let enrollments = app.get(&api(&format!("analytics/enrollment/batch?course_id={COURSE}")), Some(&admin)).json();
    assert_eq!(
        enrollments[0]["certificate"],
        json!({"completion_date": "2017-01-24 14:32:21+00:00", "grade": "0.85", "url": "https://certs.example.org/x"})
    );
    assert_eq!(app.get(&api("analytics/accounts/batch?updated_min=yesterday"), Some(&admin)).status, 400);
    let learner = app.user_auth(&admin, "learner", false);
    assert_eq!(app.get(&api("analytics/accounts/batch"), Some(&learner)).status, 403);
}

#[test]
fn analytics_read_an_empty_updated_min_or_max_as_no_filter() {
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    let enroll = json!({"user": "ann", "course_details": {"course_id": COURSE}});
    assert_eq!(app.send_json("POST", "/api/enrollment/v1/enrollment", Some(&admin), &enroll).status, 200);
    for batch in ["analytics/accounts/batch", "analytics/enrollment/batch"] {
        let all = app.get(&api(batch), Some(&admin));
        assert_eq!(all.status, 200, "{}", all.text);
        assert!(!all.json().as_array().unwrap().is_empty());
        for query in ["updated_min=", "updated_max=", "updated_min=&updated_max="] {
            let reply = app.get(&api(&format!("{batch}?{query}")), Some(&admin));
            assert_eq!((reply.status, reply.json()), (200, all.json()), "{batch}?{query}");
        }
        let bounded = app.get(&api(&format!("{batch}?updated_min=&updated_max=2000-01-01")), Some(&admin));
        assert_eq!(bounded.json(), json!([]), "the other bound still applies");
    }
}

#[test]
fn course_search_is_public_and_matches_words() {
    let (app, _) = setup();
    let found = app.get(&api("search_courses?search_term=appsembler"), None);
    assert_eq!(found.status, 200);
    assert_eq!(found.json()["pagination"]["count"], 1);
    assert_eq!(found.json()["results"][0]["id"], COURSE);
    assert_eq!(app.get(&api("search_courses?org=Nobody"), None).json()["pagination"]["count"], 0);
}

fn account(app: &TestApp, admin: &str, username: &str) -> Value {
    app.get(&format!("/api/user/v1/accounts/{username}"), Some(admin)).json()
}

fn login_status(app: &TestApp, username: &str, password: &str) -> u16 {
    app.post_form("/login", &[("username", username), ("password", password)]).status
}

#[test]
fn connect_with_a_null_password_keeps_the_password_and_never_sets_the_text_null() {
    let (app, admin) = setup();
    let body = json!({"username": "ann", "password": "first-pass", "email": "ann@example.com", "name": "Ann"});
    assert_eq!(app.send_json("POST", &api("accounts/create"), Some(&admin), &body).status, 200);
    let reply = app.send_json(
        "POST",
        &api("accounts/connect"),
        Some(&admin),
        &json!({"username": "ann", "password": null, "name": null, "email": null}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(login_status(&app, "ann", "null"), 400, "the text \"null\" is not the password");
    assert_eq!(login_status(&app, "ann", "first-pass"), 200, "the password is unchanged");
    assert_eq!(account(&app, &admin, "ann")["name"], "Ann");
    for bad in [json!(["x"]), json!({"a": 1}), json!(true)] {
        let reply =
            app.send_json("POST", &api("accounts/connect"), Some(&admin), &json!({"username": "ann", "password": bad}));
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
        assert_eq!(reply.json()["password"], json!(["Not a valid string."]), "a serializer-style field error");
    }
    assert_eq!(login_status(&app, "ann", "first-pass"), 200);
}

#[test]
fn update_user_with_a_null_bio_clears_it_and_numbers_are_text() {
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    let update = |body: Value| app.send_json("POST", &api("accounts/update_user"), Some(&admin), &body);
    let set = update(json!({"user_lookup": "ann", "bio": "just another user", "goals": "learn"}));
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(account(&app, &admin, "ann")["bio"], "just another user");
    let reply = update(json!({"user_lookup": "ann", "bio": null, "year_of_birth": 2001, "city": "Montevideo"}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json()["success"],
        "The following fields has been updated: city=Montevideo, bio=None, year_of_birth=2001",
        "the original's message prints the cleared field as Python's None"
    );
    let shown = account(&app, &admin, "ann");
    assert_eq!((shown["bio"].clone(), shown["year_of_birth"].clone()), (Value::Null, json!(2001)), "{shown}");
    assert_eq!(shown["goals"], "learn", "fields not sent are kept");
    let stored: Option<String> =
        app.sqlite().query_row("SELECT bio FROM users WHERE username = 'ann'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, None, "NULL in the database, never the text \"null\"");
    let name = update(json!({"user_lookup": "ann", "name": null}));
    assert_eq!(name.status, 400, "{}", name.text);
    let list =
        app.send_json("POST", &api("accounts/update_user"), Some(&admin), &json!({"user_lookup": "ann", "bio": ["x"]}));
    assert_eq!((list.status, list.json()["bio"].clone()), (400, json!(["Not a valid string."])));
    let lookup = app.send_json("POST", &api("accounts/update_user"), Some(&admin), &json!({"user_lookup": null}));
    assert_eq!(lookup.json(), json!({"lookup_error": "No user lookup has been provided"}));
}

#[test]
fn create_with_a_null_name_is_the_wrong_parameters_error_not_a_user_named_null() {
    let (app, admin) = setup();
    let reply = app.send_json(
        "POST",
        &api("accounts/create"),
        Some(&admin),
        &json!({"username": "ann", "password": "a-pass", "email": "ann@example.com", "name": null}),
    );
    assert_eq!((reply.status, reply.json()["user_message"].as_str()), (400, Some("Wrong parameters on user creation")));
    assert_eq!(app.get(&api("accounts/get-user/ann"), Some(&admin)).status, 404, "nothing was written");
    let numeric = app.send_json(
        "POST",
        &api("accounts/user_without_password"),
        Some(&admin),
        &json!({"email": "num@example.com", "name": 42}),
    );
    assert_eq!(numeric.status, 200, "a number is text where DRF's CharField takes it: {}", numeric.text);
    assert_eq!(account(&app, &admin, numeric.json()["username"].as_str().unwrap())["name"], "42");
}

#[test]
fn every_route_accepts_json_form_and_multipart_bodies_and_refuses_other_types() {
    let (app, admin) = setup();
    let fields = [("username", "multi"), ("password", "multi-pass"), ("email", "multi@example.com"), ("name", "Multi")];
    let multi = app.send_multipart(&api("accounts/create"), Some(&admin), &fields);
    assert_eq!(multi.status, 200, "{}", multi.text);
    assert_eq!(login_status(&app, "multi", "multi-pass"), 200);
    let form =
        app.send_form("POST", &api("accounts/connect"), Some(&admin), &[("username", "multi"), ("name", "Form Name")]);
    assert_eq!(form.status, 200, "{}", form.text);
    assert_eq!(account(&app, &admin, "multi")["name"], "Form Name");
    let plain = app.request(
        "POST",
        &api("accounts/connect"),
        &[("Authorization", &admin)],
        Some(("text/plain", "username=multi")),
    );
    assert_eq!(plain.status, 415, "{}", plain.text);
    assert!(plain.json()["detail"].as_str().unwrap().contains("multipart/form-data"), "{}", plain.text);
    let broken = app.request(
        "POST",
        &api("accounts/connect"),
        &[("Authorization", &admin)],
        Some(("multipart/form-data; boundary=abc", "--abc\r\nno headers end")),
    );
    assert_eq!(broken.status, 400, "{}", broken.text);
}

#[test]
fn bulk_enroll_splits_identifiers_and_courses_on_commas_whitespace_and_line_breaks() {
    let (app, admin) = setup();
    for name in ["ann", "bob"] {
        app.create_user(&admin, name, true);
    }
    let body = json!({"action": "enroll", "identifiers": "ann@example.org bob\tnew@example.org\r\nother@example.org,",
        "courses": format!(" {COURSE}\n"), "auto_enroll": "True"});
    let reply = app.send_json("POST", &api("bulk-enrollment/bulk-enroll"), Some(&admin), &body);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let rows = reply.json()["courses"][COURSE]["results"].as_array().unwrap().clone();
    let identifiers: Vec<&str> = rows.iter().map(|r| r["identifier"].as_str().unwrap()).collect();
    assert_eq!(identifiers, ["ann@example.org", "bob", "new@example.org", "other@example.org"]);
    assert!(rows.iter().all(|r| r.get("invalidIdentifier").is_none()), "{rows:?}");
    assert_eq!(reply.json()["auto_enroll"], true, "\"True\" is true, as DRF reads it");
}

#[test]
fn analytics_accept_dates_and_date_times_with_or_without_a_zone() {
    let (app, admin) = setup();
    app.create_user(&admin, "ann", true);
    for bound in [
        "2015-12-09",
        "2015-12-09T00:00:00",
        "2015-12-09T00:00:00Z",
        "2015-12-09%2000:00:00",
        "2015-12-09T00:00:00%2B02:00",
    ] {
        let reply = app.get(&api(&format!("analytics/accounts/batch?updated_min={bound}")), Some(&admin));
        assert_eq!(reply.status, 200, "{bound}: {}", reply.text);
        assert!(reply.json().as_array().unwrap().iter().any(|u| u["username"] == "ann"), "{bound}");
        let enrollments = app.get(&api(&format!("analytics/enrollment/batch?updated_max={bound}")), Some(&admin));
        assert_eq!((enrollments.status, enrollments.json()), (200, json!([])), "{bound}");
    }
    assert_eq!(app.get(&api("analytics/accounts/batch?updated_max=next%20week"), Some(&admin)).status, 400);
}

#[test]
fn accounts_create_sends_the_activation_email_unless_told_not_to() {
    let (app, admin) = setup();
    let create = |username: &str, flag: Option<Value>| {
        let mut body = json!({"username": username, "password": "a-pass", "email": format!("{username}@example.com"), "name": "N"});
        if let Some(flag) = flag {
            body["send_activation_email"] = flag;
        }
        assert_eq!(app.send_json("POST", &api("accounts/create"), Some(&admin), &body).status, 200);
    };
    create("sent", None);
    create("senttrue", Some(json!("True")));
    create("quietstring", Some(json!("False")));
    create("quietbool", Some(json!(false)));
    let form = app.send_form(
        "POST",
        &api("accounts/create"),
        Some(&admin),
        &[
            ("username", "quietform"),
            ("password", "p"),
            ("email", "quietform@example.com"),
            ("name", "N"),
            ("send_activation_email", "False"),
        ],
    );
    assert_eq!(form.status, 200, "{}", form.text);
    let recipients: Vec<String> = {
        let conn = app.sqlite();
        let mut stmt =
            conn.prepare("SELECT recipient FROM outbox WHERE message_type = 'account_created' ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(recipients, ["sent@example.com", "senttrue@example.com"]);
    assert_eq!(login_status(&app, "quietbool", "a-pass"), 200, "the account is active either way");
}

#[test]
fn enroll_user_answers_seven_invalid_codes_a_minute_and_the_eighth_attempt_is_403() {
    let dir = crate::helpers::TempDir::new();
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_TOKEN_PER_MINUTE", "1000")], &[]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({}));
    let codes = app
        .send_json(
            "POST",
            &api("enrollment-codes/generate"),
            Some(&admin),
            &json!({"course_id": COURSE, "total_registration_codes": 1}),
        )
        .json();
    let code = codes["codes"][0].as_str().unwrap().to_owned();
    let redeem = |email: &str, code: &str| {
        app.send_json(
            "POST",
            &api("enrollment-codes/enroll-user"),
            Some(&admin),
            &json!({"email": email, "enrollment_code": code}),
        )
    };
    for i in 0..8 {
        let email = format!("l{i}@example.org");
        app.create_user(&admin, &format!("l{i}"), true);
        assert_eq!(redeem(&email, &code).json(), json!({"success": true}), "valid redemption {i} is not limited");
    }
    // django-ratelimit's window is fixed: keep the eight attempts within one minute.
    let second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
    if second > 45 {
        std::thread::sleep(std::time::Duration::from_secs(61 - second));
    }
    for i in 0..7 {
        let reply = redeem("l0@example.org", &format!("WRONG{i}"));
        assert_eq!(reply.status, 400, "invalid code {}: {}", i + 1, reply.text);
        assert_eq!(reply.json(), json!({"success": false, "reason": "Enrollment code not found"}));
    }
    let blocked = redeem("l1@example.org", &code);
    assert_eq!(blocked.status, 403, "{}", blocked.text);
    assert_eq!(blocked.json()["detail"], "You do not have permission to perform this action.");
}

/// The `name=value` part of each `Set-Cookie`, joined as a `Cookie` header.
fn cookies_of(reply: &crate::helpers::Reply) -> String {
    let pairs: Vec<&str> = reply.headers_named("Set-Cookie").iter().map(|c| c.split(';').next().unwrap()).collect();
    pairs.join("; ")
}

#[test]
fn login_session_signs_in_by_email_with_the_csrf_cookie_sent_back_and_starts_a_session() {
    let (app, admin) = setup();
    let body = json!({"username": "ann", "email": "ann@example.com", "password": "ann-password-1"});
    assert_eq!(app.send_json("POST", "/api/admin/v1/users", Some(&admin), &body).status, 201);
    let url = api("account/login_session/");
    let form = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(k, v)| format!("{k}={}", crate::helpers::encode(v))).collect::<Vec<_>>().join("&")
    };
    let post = |headers: &[(&str, &str)], pairs: &[(&str, &str)]| {
        app.request("POST", &url, headers, Some(("application/x-www-form-urlencoded", &form(pairs))))
    };
    let right = [("email", "ann@example.com"), ("password", "ann-password-1")];

    // Django's csrf_protect: no csrftoken cookie, no sign-in.
    let no_cookie = post(&[], &right);
    assert_eq!(no_cookie.status, 403, "{}", no_cookie.text);
    assert_eq!(no_cookie.json()["detail"], "CSRF Failed: CSRF cookie not set.");
    assert!(no_cookie.headers_named("Set-Cookie").is_empty());

    let page = app.get(&url, None);
    assert_eq!(page.status, 200, "{}", page.text);
    let cookie = cookies_of(&page);
    let token = page.json()["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(cookie, format!("csrftoken={token}"));
    let wrong_token = post(&[("Cookie", &cookie), ("X-CSRFToken", "not-the-cookie")], &right);
    assert_eq!(wrong_token.status, 403, "{}", wrong_token.text);
    assert_eq!(post(&[("Cookie", &cookie)], &right).status, 403, "the token must come back, not only the cookie");
    let cross_site = post(&[("Cookie", &cookie), ("X-CSRFToken", &token), ("Origin", "https://evil.example")], &right);
    assert_eq!(cross_site.status, 403, "{}", cross_site.text);
    assert!(cross_site.json()["detail"].as_str().unwrap().contains("another site"), "{}", cross_site.text);

    // The same errors as /login.
    let bad =
        post(&[("Cookie", &cookie), ("X-CSRFToken", &token)], &[("email", "ann@example.com"), ("password", "no")]);
    assert_eq!((bad.status, bad.json()), (400, json!({"detail": "Invalid username or password."})));
    let missing = post(&[("Cookie", &cookie), ("X-CSRFToken", &token)], &[("email", "ann@example.com")]);
    assert_eq!(missing.status, 400, "{}", missing.text);

    // The form field carries the token as well as the header does.
    let signed_in = post(&[("Cookie", &cookie)], &[right[0], right[1], ("csrfmiddlewaretoken", &token)]);
    assert_eq!((signed_in.status, signed_in.json()), (200, json!({"success": true})), "{}", signed_in.text);
    let session = cookies_of(&signed_in);
    assert!(session.contains("rollcall_session="), "{session}");
    let me = app.request("GET", "/api/user/v1/me", &[("Cookie", &session)], None);
    assert_eq!((me.status, me.json()["username"].as_str()), (200, Some("ann")), "{}", me.text);
}

#[test]
fn login_session_shares_the_login_throttle() {
    let app = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_LOGIN_PER_MINUTE", "3")], &[]);
    let url = api("account/login_session/");
    let page = app.get(&url, None);
    let (cookie, token) = (cookies_of(&page), page.json()["csrf_token"].as_str().unwrap().to_owned());
    let attempt = |password: &str| {
        let body = format!("email=admin%40rollcall.invalid&password={}", crate::helpers::encode(password));
        let headers = [("Cookie", cookie.as_str()), ("X-CSRFToken", token.as_str())];
        app.request("POST", &url, &headers, Some(("application/x-www-form-urlencoded", &body)))
    };
    assert_eq!(app.post_form("/login", &[("username", "admin@rollcall.invalid"), ("password", "wrong")]).status, 400);
    assert_eq!(attempt("wrong").status, 400);
    assert_eq!(attempt("wrong").status, 400);
    let limited = attempt(&app.password);
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.header("Retry-After").is_some());
}

#[test]
fn a_refused_write_answers_503_for_bulk_enrollment_and_accounts_never_a_per_row_error() {
    let app = TestApp::spawn_refusable(&[]);
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({}));
    app.create_user(&admin, "ann", true);
    let refused = app.refuse_writes();
    let body = json!({"action": "enroll", "identifiers": "ann", "courses": COURSE});
    let bulk = app.send_json("POST", &api("bulk-enrollment/bulk-enroll"), Some(&admin), &body);
    crate::helpers::assert_refused(&bulk, "detail");
    let account = json!({"username": "staff55", "password": "a-long-password", "email": "s@example.com", "name": "S"});
    let created = app.send_json("POST", &api("accounts/create"), Some(&admin), &account);
    crate::helpers::assert_refused(&created, "detail");
    drop(refused);
    let conn = app.sqlite();
    let rows: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM enrollments) + (SELECT COUNT(*) FROM users WHERE username = 'staff55')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "nothing was written");
}
