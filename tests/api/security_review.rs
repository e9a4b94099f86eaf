//! Review of the second security pass (#19): attacks that still work after it, each over
//! HTTP against the real binary. Every test here fails on the code it was written against;
//! the fix belongs in the module named in its comment.

use crate::helpers::TestApp;
use serde_json::{json, Value};

fn appsembler(app: &TestApp, path: &str, auth: &str, body: Value) -> crate::helpers::Reply {
    app.send_json("POST", &format!("/appsembler_api/v0/{path}"), Some(auth), &body)
}

fn login(app: &TestApp, username: &str, password: &str) -> u16 {
    app.post_form("/login", &[("username", username), ("password", password)]).status
}

/// A port nothing listens on: mail sent there fails and stays in the outbox.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port().to_string()
}

/// Global staff read live set-password links in the outbox while a message is unsent
/// (pending, or failed because the mail server is down), and a link does not bind the
/// account's privileges: once a superuser promotes the account, the staff member's copy
/// of the link sets the new superuser's password. Fix: `api::admin_v1::outbox::outbox_json`
/// (and the console's outbox) never show a credential, whatever the status; and
/// `auth::links::sign`/`verify` bind is_staff/is_superuser (or `set_password` refuses
/// privileged accounts).
#[test]
fn staff_cannot_take_over_a_promoted_account_with_a_set_password_link_read_from_the_outbox() {
    let port = closed_port();
    let app = TestApp::spawn_with(
        &[
            ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
            ("ROLLCALL_EMAIL_BACKEND", "smtp"),
            ("ROLLCALL_EMAIL_SMTP_HOST", "127.0.0.1"),
            ("ROLLCALL_EMAIL_SMTP_PORT", port.as_str()),
            ("ROLLCALL_EMAIL_SMTP_SECURITY", "none"),
        ],
        &[],
    );
    let admin = app.admin_auth();
    let staff = app.user_auth(&admin, "staffer", true);

    // Staff create a colleague's account the Appsembler way: a set-password link is mailed.
    let created = appsembler(
        &app,
        "accounts/user_without_password",
        &staff,
        json!({"email": "colleague@example.org", "name": "New Colleague"}),
    );
    assert_eq!(created.status, 200, "{}", created.text);
    let username = created.json()["username"].as_str().unwrap().to_owned();

    // The mail server is down: the message stays in the outbox, link and all.
    let outbox = app.get("/api/admin/v1/outbox", Some(&staff));
    assert_eq!(outbox.status, 200, "{}", outbox.text);
    let link = outbox.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_type"] == "set_password")
        .and_then(|m| m["payload"]["link"].as_str().map(str::to_owned))
        .unwrap_or_default();

    // The superuser promotes the colleague before they have set a password.
    let promoted = app.send_json(
        "PATCH",
        &format!("/api/admin/v1/users/{username}"),
        Some(&admin),
        &json!({"is_staff": true, "is_superuser": true}),
    );
    assert_eq!(promoted.status, 200, "{}", promoted.text);

    if let Some((_, token)) = link.split_once("token=") {
        let used = app.send_json(
            "POST",
            "/account/set-password",
            None,
            &json!({"token": token, "password": "staff-chose-this-1"}),
        );
        assert_ne!(used.status, 200, "staff set the new superuser's password: {}", used.text);
    }
    assert_ne!(login(&app, &username, "staff-chose-this-1"), 200, "staff signed in as the new superuser");
    assert!(!link.contains("token="), "an unsent set-password link is shown to staff: {link}");
}

/// `Username::similarity_key` lowercases before it takes the TR39 skeleton, so capital
/// `I` becomes `i` and never meets the skeleton's `I`/`l` rule: `biII` and `paypaI` sit
/// beside `bill` and `paypal` (while `bi11` is refused). Fix: `domain::username::
/// similarity_key` takes the skeleton of the NFKC form before lowercasing (and again after).
#[test]
fn capital_i_and_small_l_usernames_are_look_alikes() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let create = |username: &str, email: &str| {
        app.send_json(
            "POST",
            "/api/admin/v1/users",
            Some(&admin),
            &json!({"username": username, "email": email, "password": "password123"}),
        )
    };
    assert_eq!(create("bill", "bill@example.org").status, 201);
    assert_eq!(create("paypal", "paypal@example.org").status, 201);
    assert_eq!(create("bi11", "digits@example.org").status, 409, "digits are already caught");
    for (name, email) in [("biII", "capital-i@example.org"), ("paypaI", "paypal-i@example.org")] {
        let reply = create(name, email);
        assert_eq!(reply.status, 409, "{name} was created beside its look-alike: {}", reply.text);
    }
}

/// The look-alike rule broke Appsembler's username generation: `username_from_email`
/// checks only for an exact match, so an email whose local part is a case variant of an
/// existing username (`Bill@…` beside `bill`) is refused with 409 (naming the other
/// account) instead of getting a free username. Fix: `core::accounts::username_from_email`
/// (and `core::checkout::new_username`) test candidates by `username_key`.
#[test]
fn appsembler_accounts_get_a_free_username_when_theirs_looks_like_another() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let bill = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "bill", "email": "bill@example.org", "password": "password123"}),
    );
    assert_eq!(bill.status, 201, "{}", bill.text);
    let other = appsembler(
        &app,
        "accounts/user_without_password",
        &admin,
        json!({"email": "Bill@other.org", "name": "Other Bill"}),
    );
    assert_eq!(other.status, 200, "{}", other.text);
    let username = other.json()["username"].as_str().unwrap_or_default().to_owned();
    assert!(!username.eq_ignore_ascii_case("bill"), "{username}");
}

/// `accounts/connect`'s `old_password` check is an oracle outside the login limits: a
/// stolen learner token guesses the current password at the Appsembler rate (600 a
/// minute) where `/login` allows 10 failures a minute. Fix: count wrong `old_password`
/// answers in the login limiter (`core::tokens`' limits.login per user) in
/// `api::appsembler::v0_accounts::post_accounts_connect`.
#[test]
fn wrong_old_passwords_are_limited_like_failed_logins() {
    // Rate limits on, as in production.
    let app = TestApp::spawn_with(&[], &[]);
    let admin = app.admin_auth();
    let learner = app.user_auth(&admin, "learner", false);
    let statuses: Vec<u16> = (0..15)
        .map(|n| {
            appsembler(
                &app,
                "accounts/connect",
                &learner,
                json!({"username": "learner", "password": "new-password-1", "old_password": format!("guess-{n}")}),
            )
            .status
        })
        .collect();
    assert!(statuses.contains(&429), "15 wrong old passwords in a row, none limited: {statuses:?}");
}

/// The front page hides the build version from anonymous callers, but the public OpenAPI
/// document still carries it (`info.version` is `CARGO_PKG_VERSION`). Fix:
/// `api::docs` (the openapi document) gives an API version, not the build's.
#[test]
fn the_openapi_document_does_not_show_the_build_to_anonymous_callers() {
    let app = TestApp::spawn();
    let doc = app.get("/api-docs/openapi.json", None);
    assert_eq!(doc.status, 200);
    assert_ne!(doc.json()["info"]["version"], env!("CARGO_PKG_VERSION"), "the build version is public");
}

/// Generated enrollment codes are bearer secrets (each enrolls whoever redeems it; their
/// guessing is rate limited), yet the answer that lists them may be cached. Fix:
/// `api::appsembler` enrollment-codes/generate adds `Cache-Control: no-store`.
#[test]
fn generated_enrollment_codes_are_not_cached() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Sec+CODES+2026";
    app.create_course(&admin, key, json!({"title": "Codes"}));
    let generated =
        appsembler(&app, "enrollment-codes/generate", &admin, json!({"course_id": key, "total_registration_codes": 2}));
    assert_eq!(generated.status, 200, "{}", generated.text);
    assert_eq!(generated.json()["codes"].as_array().map(Vec::len), Some(2));
    let cache = generated.header("Cache-Control").unwrap_or("").to_owned();
    assert!(cache.contains("no-store"), "Cache-Control: {cache:?}");
}

/// Item 5's rule (an identifier with `@` is an email) is not applied by Appsembler's
/// `accounts/update_user`: its `user_lookup` tries usernames first, so an imported
/// account named like another person's email shadows that person and receives the
/// change staff meant for them. Fix: `api::appsembler::v0_accounts::post_update_user`
/// resolves the lookup with `store::users::by_login` (through a core function).
#[test]
fn update_user_lookups_with_an_at_sign_are_emails_first() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let victim = app.send_json(
        "POST",
        "/api/admin/v1/users",
        Some(&admin),
        &json!({"username": "victim", "email": "victim@example.org", "password": "password123", "name": "Victim"}),
    );
    assert_eq!(victim.status, 201, "{}", victim.text);
    let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
    let dir = app.stop();
    // An Open edX account whose username is the victim's address (Django allows @).
    let users = dir.0.join("users.jsonl");
    std::fs::write(
        &users,
        json!({"username": "victim@example.org", "email": "imported@example.org", "name": "Imported"}).to_string(),
    )
    .unwrap();
    let out =
        crate::helpers::binary().arg("import").arg("--db").arg(dir.db()).arg("--users").arg(&users).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    let token = app.token_for(&client_id, &client_secret, "jwt");
    let admin = format!("JWT {}", token.json()["access_token"].as_str().unwrap());

    let updated = appsembler(
        &app,
        "accounts/update_user",
        &admin,
        json!({"user_lookup": "victim@example.org", "name": "Renamed"}),
    );
    assert_eq!(updated.status, 200, "{}", updated.text);
    let account = app.get("/api/admin/v1/users/victim", Some(&admin)).json();
    assert_eq!(account["name"], "Renamed", "the change went to the imported look-alike instead");
}
