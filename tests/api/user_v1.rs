//! `/api/user/v1/…`: Open edX's account API.

use crate::helpers::TestApp;
use serde_json::json;

#[test]
fn me_and_own_account_show_the_full_view() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let learner = app.user_auth(&admin, "ann", false);
    assert_eq!(app.get("/api/user/v1/me", Some(&learner)).json(), json!({"username": "ann"}));
    let own = app.get("/api/user/v1/accounts/ann", Some(&learner)).json();
    for key in [
        "username",
        "name",
        "email",
        "is_active",
        "date_joined",
        "bio",
        "country",
        "gender",
        "goals",
        "language",
        "level_of_education",
        "mailing_address",
        "year_of_birth",
        "profile_image",
        "extended_profile",
        "account_privacy",
    ] {
        assert!(own.get(key).is_some(), "{key}");
    }
    assert_eq!(own["email"], "ann@example.org");
    assert_eq!(app.get("/api/user/v1/me", None).status, 401);
}

#[test]
fn lookups_by_email_and_usernames_return_arrays_and_others_see_a_reduced_view() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let ann = app.user_auth(&admin, "ann", false);
    app.create_user(&admin, "bob", true);
    let by_email = app.get("/api/user/v1/accounts?email=bob%40example.org", Some(&admin));
    assert_eq!(by_email.status, 200);
    assert_eq!(by_email.json()[0]["username"], "bob");
    assert_eq!(app.get("/api/user/v1/accounts?email=nobody%40example.org", Some(&admin)).status, 404);
    let both = app.get("/api/user/v1/accounts?username=ann,bob", Some(&admin)).json();
    assert_eq!(both.as_array().unwrap().len(), 2);
    // A learner sees only the shared fields of someone else, and cannot probe emails.
    let other = app.get("/api/user/v1/accounts/bob", Some(&ann)).json();
    assert_eq!(other["username"], "bob");
    assert!(other.get("email").is_none());
    // AccountViewSet.list: another user's email is a 403 for a learner.
    assert_eq!(app.get("/api/user/v1/accounts?email=bob%40example.org", Some(&ann)).status, 403);
    assert_eq!(app.get("/api/user/v1/accounts?email=nobody%40example.org", Some(&ann)).status, 403);
    // With no parameters, the caller's own account.
    let own = app.get("/api/user/v1/accounts", Some(&ann)).json();
    assert_eq!((own[0]["username"].as_str(), own[0]["email"].as_str()), (Some("ann"), Some("ann@example.org")));
    assert_eq!(
        app.get("/api/user/v1/accounts?email=ann%40example.org", Some(&ann)).json()[0]["email"],
        "ann@example.org"
    );
    assert_eq!(app.get("/api/user/v1/accounts/ghost", Some(&admin)).status, 404);
    // No parameters: the caller's own account (Open edX), staff included.
    assert_eq!(app.get("/api/user/v1/accounts", Some(&admin)).json()[0]["username"], "admin");
}

#[test]
fn accounts_are_patched_with_merge_patch_json_only() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let ann = app.user_auth(&admin, "ann", false);
    app.create_user(&admin, "bob", true);
    let patch = |auth: &str, user: &str, content_type: &str, body: serde_json::Value| {
        app.request(
            "PATCH",
            &format!("/api/user/v1/accounts/{user}"),
            &[("Authorization", auth)],
            Some((content_type, &body.to_string())),
        )
    };
    let changed = patch(
        &ann,
        "ann",
        "application/merge-patch+json",
        json!({"name": "Ann Lee", "country": "nz", "year_of_birth": 1990, "level_of_education": "b",
        "extended_profile": [{"field_name": "company", "field_value": "Acme"}]}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    let body = changed.json();
    assert_eq!(
        (body["name"].as_str(), body["country"].as_str(), body["year_of_birth"].as_i64()),
        (Some("Ann Lee"), Some("NZ"), Some(1990))
    );
    assert_eq!(body["extended_profile"], json!([{"field_name": "company", "field_value": "Acme"}]));
    assert_eq!(patch(&ann, "ann", "application/json", json!({"name": "x"})).status, 415);
    let invalid = patch(
        &ann,
        "ann",
        "application/merge-patch+json",
        json!({"gender": "x", "year_of_birth": "old", "username": "new", "email": "not-an-email"}),
    );
    assert_eq!(invalid.status, 400);
    let errors = &invalid.json()["field_errors"];
    for field in ["gender", "year_of_birth", "username", "email"] {
        assert!(errors[field]["developer_message"].is_string(), "{field}: {errors}");
    }
    assert_eq!(
        app.get("/api/user/v1/accounts/ann", Some(&ann)).json()["name"],
        "Ann Lee",
        "a rejected patch changes nothing"
    );
    assert_eq!(patch(&ann, "bob", "application/merge-patch+json", json!({"name": "Bobby"})).status, 403);
    // update_account_settings: only the owner, staff included (staff use the admin API).
    assert_eq!(patch(&admin, "bob", "application/merge-patch+json", json!({"name": "Bobby"})).status, 403);
    assert_eq!(patch(&admin, "ghost", "application/merge-patch+json", json!({"name": "x"})).status, 403);
    assert_eq!(patch(&admin, "admin", "application/merge-patch+json", json!({"name": "Head"})).json()["name"], "Head");
}

#[test]
fn a_staff_email_change_claims_the_new_addresses_pre_enrollments() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Rollcall+EMAIL+2026";
    app.create_course(&admin, key, json!({}));
    app.create_user(&admin, "bob", true);
    let allowed = json!({"email": "bob.new@example.org", "course_id": key, "auto_enroll": true});
    assert_eq!(app.send_json("POST", "/api/enrollment/v1/enrollment_allowed/", Some(&admin), &allowed).status, 201);
    let reply =
        app.send_json("PATCH", "/api/admin/v1/users/bob", Some(&admin), &json!({"email": "bob.new@example.org"}));
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(app.get(&format!("/api/enrollment/v1/enrollment/bob,{key}"), Some(&admin)).json()["is_active"], true);
}

#[test]
fn a_refused_account_change_answers_503_with_retry_after() {
    let app = TestApp::spawn_refusable(&[]);
    let admin = app.admin_auth();
    let ann = app.user_auth(&admin, "ann", false);
    let refused = app.refuse_writes();
    let reply = app.request(
        "PATCH",
        "/api/user/v1/accounts/ann",
        &[("Authorization", &ann)],
        Some(("application/merge-patch+json", r#"{"bio": "refused"}"#)),
    );
    crate::helpers::assert_refused(&reply, "developer_message");
    drop(refused);
    assert!(app.get("/api/user/v1/accounts/ann", Some(&ann)).json()["bio"].is_null(), "nothing was written");
}
