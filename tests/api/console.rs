//! `/admin/…`: the admin console, over HTTP (sessions, CSRF, permissions) and in a real
//! browser (tests/browser/console.mjs in Debian's headless Chromium).

use crate::helpers::{Reply, TestApp};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "course-v1:Rollcall+CONSOLE+2026";

/// Signs in through the console's form: (the session cookie header, the CSRF token).
fn sign_in(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let reply = app.post_form("/admin/login", &[("username", username), ("password", password)]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    let cookies: Vec<String> =
        reply.headers_named("Set-Cookie").iter().map(|c| c.split(';').next().unwrap().to_owned()).collect();
    let csrf = cookies.iter().find_map(|c| c.strip_prefix("csrftoken=")).unwrap().to_owned();
    (cookies.join("; "), csrf)
}

fn get(app: &TestApp, path: &str, cookie: &str) -> Reply {
    app.request("GET", path, &[("Cookie", cookie)], None)
}

fn post(app: &TestApp, path: &str, cookie: &str, form: &[(&str, &str)]) -> Reply {
    let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", crate::helpers::encode(v))).collect();
    app.request("POST", path, &[("Cookie", cookie)], Some(("application/x-www-form-urlencoded", &body.join("&"))))
}

fn user_with_password(app: &TestApp, admin: &str, username: &str, staff: bool) {
    let body = json!({"username": username, "email": format!("{username}@example.org"), "password": "a-long-password-1", "is_staff": staff});
    let reply = app.send_json("POST", "/api/admin/v1/users", Some(admin), &body);
    assert_eq!(reply.status, 201, "{}", reply.text);
}

/// Makes a user "teacher", an instructor of `key`, and signs them in: (cookie, CSRF token).
fn teacher_of(app: &TestApp, admin: &str, key: &str) -> (String, String) {
    user_with_password(app, admin, "teacher", false);
    let staff = app.send_json(
        "POST",
        &format!("/api/admin/v1/courses/{key}/staff"),
        Some(admin),
        &json!({"username": "teacher", "role": "instructor"}),
    );
    assert!(staff.status < 300, "{}", staff.text);
    sign_in(app, "teacher", "a-long-password-1")
}

#[test]
fn the_console_needs_a_session_checks_csrf_and_shows_course_staff_only_their_courses() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.create_course(&admin, "course-v1:Rollcall+OTHER+2026", json!({}));
    // Anonymous: every page sends to the sign-in page; a token is not a session.
    for path in ["/admin/", "/admin/courses", &format!("/admin/courses/{KEY}/roster"), "/admin/clients"] {
        let reply = app.request("GET", path, &[], None);
        assert_eq!((reply.status, reply.header("Location")), (303, Some("/admin/login")), "{path}");
    }
    assert_eq!(app.request("GET", "/admin/courses", &[("Authorization", &admin)], None).status, 303);
    let login = app.get("/admin/login", None);
    assert!(login.text.contains("name=\"password\"") && !login.text.contains("/admin/clients"));
    assert!(login.header("Content-Security-Policy").unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(app.post_form("/admin/login", &[("username", "admin"), ("password", "nope")]).status, 401);

    let (cookie, csrf) = sign_in(&app, "admin", &app.password);
    let courses = get(&app, "/admin/courses", &cookie);
    assert_eq!(courses.status, 200);
    assert!(courses.text.contains(KEY) && courses.text.contains("OTHER"));
    // A form without the session's CSRF token changes nothing.
    let forged = post(&app, "/admin/courses", &cookie, &[("course_key", "course-v1:X+Y+Z"), ("title", "Forged")]);
    assert_eq!(forged.status, 403);
    assert!(forged.text.contains("security token"));
    let wrong = post(
        &app,
        "/admin/courses",
        &cookie,
        &[("csrf_token", "guess"), ("course_key", "course-v1:X+Y+Z"), ("title", "T")],
    );
    assert_eq!(wrong.status, 403);
    assert_eq!(app.get("/api/admin/v1/courses/course-v1:X+Y+Z", Some(&admin)).status, 404);
    // With it: a course with modes; bad input is a 400 page naming the field.
    let made = post(
        &app,
        "/admin/courses",
        &cookie,
        &[
            ("csrf_token", &csrf),
            ("course_key", "course-v1:X+Y+Z"),
            ("title", "<b>T</b>"),
            ("modes", "audit, verified:49.00"),
            ("max_enrollments", "5"),
        ],
    );
    assert_eq!(made.status, 303, "{}", made.text);
    let course = app.get("/api/admin/v1/courses/course-v1:X+Y+Z", Some(&admin)).json();
    assert_eq!((course["title"].as_str(), course["max_enrollments"].as_i64()), (Some("<b>T</b>"), Some(5)));
    assert_eq!(course["modes"][1]["min_price"], "49.00");
    let edit = get(&app, "/admin/courses/course-v1:X+Y+Z", &cookie);
    assert!(edit.text.contains("&lt;b&gt;T&lt;/b&gt;") && !edit.text.contains("<b>T</b>"), "escaped");
    let bad =
        post(&app, "/admin/courses", &cookie, &[("csrf_token", &csrf), ("course_key", "not a key"), ("title", "T")]);
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("course_key"), "{}", bad.text);

    // A teacher on one course's staff sees and manages that course only.
    let (teacher, teacher_csrf) = teacher_of(&app, &admin, KEY);
    let list = get(&app, "/admin/courses", &teacher);
    assert!(list.text.contains(KEY) && !list.text.contains("OTHER") && !list.text.contains("/admin/clients"));
    assert_eq!(get(&app, &format!("/admin/courses/{KEY}/roster"), &teacher).status, 200);
    assert_eq!(get(&app, &format!("/admin/courses/{KEY}/roster.csv"), &teacher).status, 200);
    assert_eq!(get(&app, "/admin/courses/course-v1:Rollcall+OTHER+2026/roster", &teacher).status, 403);
    assert_eq!(get(&app, "/admin/courses/course-v1:Rollcall+OTHER+2026/roster.csv", &teacher).status, 403);
    let batch = post(
        &app,
        "/admin/courses/course-v1:Rollcall+OTHER+2026/batch",
        &teacher,
        &[("csrf_token", &teacher_csrf), ("identifiers", "a@b.org")],
    );
    assert_eq!(batch.status, 403);
    // Course settings and the school-wide pages are for global staff.
    for path in
        [&format!("/admin/courses/{KEY}"), "/admin/clients", "/admin/outbox", "/admin/codes", "/admin/learning-paths"]
    {
        assert_eq!(get(&app, path, &teacher).status, 403, "{path}");
    }
    // The teacher's batch on their course runs as a task, recorded under their name.
    let started = post(
        &app,
        &format!("/admin/courses/{KEY}/batch"),
        &teacher,
        &[("csrf_token", &teacher_csrf), ("identifiers", "x1@example.org x2@example.org"), ("auto_enroll", "on")],
    );
    assert_eq!(started.status, 303, "{}", started.text);
    let task_page = started.header("Location").unwrap().to_owned();
    crate::helpers::wait_until(30, || {
        get(&app, &task_page, &teacher).text.contains("table id=\"results\"").then_some(())
    });
    let tasks = get(&app, "/admin/tasks", &teacher).text;
    assert!(tasks.contains(KEY) && tasks.contains("teacher"), "the teacher's task is listed for them");
    let history = app.get(&format!("/api/admin/v1/courses/{KEY}/history"), Some(&admin)).json();
    assert_eq!(history["results"][0]["actor"], "teacher");
    assert_eq!(
        (history["results"][0]["source"].as_str(), history["results"][0]["surface"].as_str()),
        (Some("bulk"), Some("admin_console"))
    );

    // A learner has no console.
    user_with_password(&app, &admin, "pupil", false);
    let (pupil, _) = sign_in(&app, "pupil", "a-long-password-1");
    assert_eq!(get(&app, &format!("/admin/courses/{KEY}/roster"), &pupil).status, 403);
    assert!(!get(&app, "/admin/courses", &pupil).text.contains(KEY));

    // OAuth clients: the secret is shown once; staff may not mint a superuser's client.
    let created =
        post(&app, "/admin/clients", &cookie, &[("csrf_token", &csrf), ("name", "Shop"), ("user", "teacher")]);
    assert_eq!(created.status, 200, "{}", created.text);
    assert!(created.text.contains("new-client-secret"));
    assert!(!get(&app, "/admin/clients", &cookie).text.contains("new-client-secret"));
    user_with_password(&app, &admin, "deputy", true);
    let (deputy, deputy_csrf) = sign_in(&app, "deputy", "a-long-password-1");
    let refused =
        post(&app, "/admin/clients", &deputy, &[("csrf_token", &deputy_csrf), ("name", "Root"), ("user", "admin")]);
    assert_eq!(refused.status, 403);

    // Signing out ends the session.
    assert_eq!(post(&app, "/admin/logout", &cookie, &[("csrf_token", &csrf)]).status, 303);
    assert_eq!(get(&app, "/admin/courses", &cookie).status, 303);
}

/// Debian's Chromium and playwright-core (pinned in tests/browser/package-lock.json),
/// installed when missing, as the README's test command must pass on a fresh machine.
fn browser_tools() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !Path::new("/usr/bin/chromium").exists() {
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends", "chromium"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .expect("apt-get (the browser test needs Debian's chromium package)")
        };
        // A machine whose package lists were never fetched knows no chromium yet.
        if !install().success() {
            let _ = Command::new("apt-get").args(["update", "-q"]).status();
            assert!(install().success(), "apt-get install chromium failed");
        }
    }
    if !dir.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm (the browser test needs Node.js)");
        assert!(status.success(), "npm ci in tests/browser failed");
    }
    dir
}

#[test]
fn a_school_admin_runs_the_whole_flow_in_a_real_browser() {
    let dir = browser_tools();
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    for learner in ["learner1", "learner2"] {
        app.create_user(&admin, learner, true);
    }
    // Screenshots stay under target/ (README's pictures are copies from a run).
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let run = Command::new("timeout")
        .arg("300")
        .arg("node")
        .arg(dir.join("console.mjs"))
        .args([&app.base, &app.password])
        .arg(&out)
        .output()
        .expect("run node");
    let said = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the browser flow failed:\n{said}");
    assert!(said.contains("console flow passed"), "{said}");
    for shot in [
        "front-page",
        "api-docs",
        "api-docs-checkout",
        "api-docs-phone",
        "sign-in",
        "courses",
        "course-edit",
        "batch",
        "task",
        "roster",
        "history",
        "roster-phone",
        "scim",
    ] {
        assert!(out.join(format!("{shot}.png")).metadata().is_ok_and(|m| m.len() > 1000), "{shot}.png");
    }
}

#[test]
fn console_forms_refuse_over_long_text_and_control_characters_naming_the_field() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    let (cookie, csrf) = sign_in(&app, "admin", &app.password);
    let new_course = |title: &str| {
        post(
            &app,
            "/admin/courses",
            &cookie,
            &[("csrf_token", &csrf), ("course_key", "course-v1:X+Y+Z"), ("title", title)],
        )
    };
    for title in ["Null\u{0}byte".to_owned(), "\u{1b}[2Jcleared".to_owned(), "t".repeat(256)] {
        let reply = new_course(&title);
        assert_eq!(reply.status, 400, "{title:?}: {}", reply.text);
        assert!(reply.text.contains("title"), "{}", reply.text);
    }
    assert_eq!(app.get("/api/admin/v1/courses/course-v1:X+Y+Z", Some(&admin)).status, 404);
    let edit = post(&app, &format!("/admin/courses/{KEY}"), &cookie, &[("csrf_token", &csrf), ("title", "Bad\u{7}")]);
    assert_eq!(edit.status, 400, "{}", edit.text);
    let clients = || app.get("/api/admin/v1/oauth-clients", Some(&admin)).json()["results"].as_array().unwrap().len();
    let before = clients();
    let client =
        post(&app, "/admin/clients", &cookie, &[("csrf_token", &csrf), ("name", "Sync\u{0}"), ("user", "admin")]);
    assert_eq!(client.status, 400, "{}", client.text);
    assert!(client.text.contains("name"), "{}", client.text);
    assert_eq!(clients(), before);
}

#[test]
fn the_roster_shows_access_dates_status_and_the_waitlist_whose_remove_button_takes_a_learner_off() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let key = "course-v1:Rollcall+WAIT+2026";
    app.create_course(&admin, key, json!({"max_enrollments": 3, "waitlist": true, "suspended_holds_seat": true}));
    app.create_course(&admin, KEY, json!({}));
    for name in ["ann", "bob", "cy", "dee", "eve", "fay"] {
        app.create_user(&admin, name, true);
    }
    let v2 = format!("/api/enrollment/v2/courses/{}/enrollments", crate::helpers::encode(key));
    let enroll = |name: &str, extra: serde_json::Value| {
        let mut body = json!({"identifiers": [name]});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let reply = app.send_json("POST", &v2, Some(&admin), &body);
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json()["results"][0]["after"].clone()
    };
    let patch = |name: &str, status: &str| {
        let path = format!("/api/admin/v1/courses/{}/enrollments/{name}", crate::helpers::encode(key));
        let reply = app.send_json("PATCH", &path, Some(&admin), &json!({"status": status}));
        assert_eq!(reply.status, 200, "{}", reply.text);
    };
    enroll("fay", json!({}));
    patch("fay", "inactive");
    enroll("ann", json!({"access_start": "2031-01-01T09:00:00Z", "access_end": "2031-06-30T17:30:00Z"}));
    enroll("bob", json!({}));
    enroll("cy", json!({}));
    patch("bob", "suspended");
    patch("cy", "expired");
    for (i, name) in ["dee", "eve"].iter().enumerate() {
        let after = enroll(name, json!({}));
        assert_eq!((after["waitlisted"].clone(), after["waitlist_position"].clone()), (json!(true), json!(i + 1)));
    }

    let (cookie, csrf) = sign_in(&app, "admin", &app.password);
    let roster_path = format!("/admin/courses/{key}/roster");
    let page = get(&app, &roster_path, &cookie);
    assert_eq!(page.status, 200, "{}", page.text);
    let roster = page.text.split("table id=\"roster\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(roster.contains("<th>Access from</th><th>Access until</th>"), "{roster}");
    let row = |name: &str| roster.split("<tr>").find(|r| r.contains(&format!(">{name}</a>"))).unwrap().to_owned();
    let ann = row("ann");
    assert!(ann.contains("class=\"pill active\"") && ann.contains("<td>2031-01-01 09:00</td>"), "{ann}");
    assert!(ann.contains("<td>2031-06-30 17:30</td>"), "{ann}");
    assert!(row("bob").contains("class=\"pill suspended\">suspended<"), "{}", row("bob"));
    assert!(row("cy").contains("class=\"pill expired\">expired<"), "{}", row("cy"));
    assert!(row("fay").contains("class=\"pill inactive\">inactive<"), "{}", row("fay"));
    assert!(!roster.contains(">dee</a>"), "a waiting learner is not on the roster");
    // The waitlist, in order, each row with a remove form carrying the CSRF field.
    let waitlist = page.text.split("table id=\"waitlist\"").nth(1).expect("a waitlist section").to_owned();
    let dee = waitlist.find(">dee</a>").unwrap();
    assert!(dee < waitlist.find(">eve</a>").unwrap(), "first in line first: {waitlist}");
    assert!(waitlist.contains("<td>1</td>") && waitlist.contains("<td>2</td>"), "{waitlist}");
    let action = format!("action=\"/admin/courses/{key}/waitlist/remove\"");
    assert_eq!(waitlist.matches(&action).count(), 2, "{waitlist}");
    assert_eq!(waitlist.matches(&format!("name=\"csrf_token\" value=\"{csrf}\"")).count(), 2, "{waitlist}");

    // Removing without the session's token changes nothing; with it, as the API's DELETE.
    let listed = || {
        let reply = app.get(&format!("/api/admin/v1/courses/{}/waitlist", crate::helpers::encode(key)), Some(&admin));
        reply.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let remove_path = format!("/admin/courses/{key}/waitlist/remove");
    assert_eq!(post(&app, &remove_path, &cookie, &[("username", "dee")]).status, 403);
    assert_eq!(listed(), ["dee", "eve"]);
    let removed = post(&app, &remove_path, &cookie, &[("csrf_token", &csrf), ("username", "dee")]);
    assert_eq!((removed.status, removed.header("Location")), (303, Some(roster_path.as_str())), "{}", removed.text);
    assert_eq!(listed(), ["eve"]);
    let history = app.get(&format!("/api/admin/v1/courses/{key}/history?username=dee"), Some(&admin)).json();
    assert_eq!(
        (history["results"][0]["actor"].as_str(), history["results"][0]["surface"].as_str()),
        (Some("admin"), Some("admin_console"))
    );
    let again = post(&app, &remove_path, &cookie, &[("csrf_token", &csrf), ("username", "dee")]);
    assert_eq!(again.status, 404, "{}", again.text);
    let nobody = post(&app, &remove_path, &cookie, &[("csrf_token", &csrf), ("username", "nobody")]);
    assert_eq!(nobody.status, 400, "{}", nobody.text);
    // A teacher of another course may not remove anyone from this one's waitlist.
    let (teacher, teacher_csrf) = teacher_of(&app, &admin, KEY);
    let refused = post(&app, &remove_path, &teacher, &[("csrf_token", &teacher_csrf), ("username", "eve")]);
    assert_eq!(refused.status, 403);
    assert_eq!(listed(), ["eve"]);
    // A course without a waitlist shows no waitlist section.
    assert!(!get(&app, &format!("/admin/courses/{KEY}/roster"), &cookie).text.contains("id=\"waitlist\""));
}

#[test]
fn a_superuser_creates_a_scim_token_in_the_console_sees_it_once_and_revokes_it() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    let (cookie, csrf) = sign_in(&app, "admin", &app.password);
    let scim_get = |token: &str| {
        app.request("GET", "/scim/v2/Users?count=1", &[("Authorization", &format!("Bearer {token}"))], None).status
    };
    let listed = || app.get("/api/admin/v1/scim-tokens", Some(&admin)).json()["results"].as_array().unwrap().clone();

    // The page is in a superuser's navigation; a form without the CSRF field makes nothing.
    let home = get(&app, "/admin/courses", &cookie);
    assert!(home.text.contains("href=\"/admin/scim\""), "{}", home.text);
    assert_eq!(post(&app, "/admin/scim", &cookie, &[("name", "Forged")]).status, 403);
    assert!(listed().is_empty());
    let blank = post(&app, "/admin/scim", &cookie, &[("csrf_token", &csrf), ("name", "  ")]);
    assert_eq!(blank.status, 400, "{}", blank.text);
    assert!(blank.text.contains("name"), "{}", blank.text);

    // Created: the token is shown once, with the warning, and opens /scim/v2.
    let created = post(&app, "/admin/scim", &cookie, &[("csrf_token", &csrf), ("name", "Entra <ID>")]);
    assert_eq!(created.status, 200, "{}", created.text);
    assert!(created.text.contains("never shown again"), "{}", created.text);
    let token = created.text.split("id=\"new-scim-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(token.starts_with("rcscim_"), "{token}");
    assert_eq!(scim_get(&token), 200);
    let config =
        app.request("GET", "/scim/v2/ServiceProviderConfig", &[("Authorization", &format!("Bearer {token}"))], None);
    assert_eq!(config.status, 200, "{}", config.text);

    // Listed by name (escaped), never with the token again.
    let page = get(&app, "/admin/scim", &cookie);
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Entra &lt;ID&gt;") && !page.text.contains(&token), "{}", page.text);
    let tokens = listed();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["name"], "Entra <ID>");
    let id = tokens[0]["id"].as_i64().unwrap();
    assert!(page.text.contains(&format!("action=\"/admin/scim/{id}/delete\"")), "{}", page.text);

    // Revoked: CSRF checked, then the token stops working; a second revoke is 404.
    assert_eq!(post(&app, &format!("/admin/scim/{id}/delete"), &cookie, &[]).status, 403);
    assert_eq!(scim_get(&token), 200);
    let revoked = post(&app, &format!("/admin/scim/{id}/delete"), &cookie, &[("csrf_token", &csrf)]);
    assert_eq!((revoked.status, revoked.header("Location")), (303, Some("/admin/scim")));
    assert_eq!(scim_get(&token), 401);
    assert!(listed().is_empty());
    assert!(get(&app, "/admin/scim", &cookie).text.contains("No SCIM tokens."));
    assert_eq!(post(&app, &format!("/admin/scim/{id}/delete"), &cookie, &[("csrf_token", &csrf)]).status, 404);
    assert_eq!(post(&app, "/admin/scim/x/delete", &cookie, &[("csrf_token", &csrf)]).status, 404);

    // Global staff who are not superusers: no link, no page, no token, no revoking.
    let kept = post(&app, "/admin/scim", &cookie, &[("csrf_token", &csrf), ("name", "Okta")]);
    assert_eq!(kept.status, 200, "{}", kept.text);
    let kept_id = listed()[0]["id"].as_i64().unwrap();
    user_with_password(&app, &admin, "deputy", true);
    let (deputy, deputy_csrf) = sign_in(&app, "deputy", "a-long-password-1");
    let deputy_home = get(&app, "/admin/courses", &deputy);
    assert!(deputy_home.text.contains("/admin/clients") && !deputy_home.text.contains("/admin/scim"));
    assert_eq!(get(&app, "/admin/scim", &deputy).status, 403);
    assert_eq!(post(&app, "/admin/scim", &deputy, &[("csrf_token", &deputy_csrf), ("name", "Mine")]).status, 403);
    let refused = post(&app, &format!("/admin/scim/{kept_id}/delete"), &deputy, &[("csrf_token", &deputy_csrf)]);
    assert_eq!(refused.status, 403);
    assert_eq!(listed().len(), 1);
    // Anonymous: the sign-in page.
    assert_eq!(app.request("GET", "/admin/scim", &[], None).header("Location"), Some("/admin/login"));
}

#[test]
fn a_course_page_tells_a_missing_course_or_a_stranger_before_what_is_wrong_with_the_form() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, KEY, json!({}));
    app.create_course(&admin, "course-v1:Rollcall+OTHER+2026", json!({}));
    let (teacher, _) = teacher_of(&app, &admin, KEY);
    let other = "/admin/courses/course-v1:Rollcall+OTHER+2026";
    // A stranger to the course is refused as one, whatever their form lacks (its token, its learners).
    for path in ["/batch", "/waitlist/remove"] {
        let reply = post(&app, &format!("{other}{path}"), &teacher, &[]);
        assert_eq!(reply.status, 403, "{path}: {}", reply.text);
        assert!(reply.text.contains("not on this course"), "{path}: {}", reply.text);
    }
    let history = get(&app, &format!("{other}/history?since=yesterday"), &teacher);
    assert_eq!(history.status, 403, "{}", history.text);
    assert!(history.text.contains("not on this course"), "{}", history.text);
    // A course that does not exist is a 404 before the form's own errors.
    let (cookie, csrf) = sign_in(&app, "admin", &app.password);
    let missing = "/admin/courses/course-v1:X+Y+Z";
    let edit = post(&app, missing, &cookie, &[("csrf_token", &csrf), ("title", "Bad\u{7}")]);
    assert_eq!(edit.status, 404, "{}", edit.text);
    let staff = post(&app, &format!("{missing}/staff"), &cookie, &[("csrf_token", &csrf), ("username", "no body")]);
    assert_eq!(staff.status, 404, "{}", staff.text);
    let waiting =
        post(&app, &format!("{missing}/waitlist/remove"), &cookie, &[("csrf_token", &csrf), ("username", "x")]);
    assert_eq!(waiting.status, 404, "{}", waiting.text);
    assert_eq!(post(&app, &format!("{missing}/batch"), &cookie, &[("csrf_token", &csrf)]).status, 404);
    assert_eq!(get(&app, &format!("{missing}/history?since=yesterday"), &cookie).status, 404);
    // On the teacher's own course the form's errors are told as before.
    assert_eq!(get(&app, &format!("/admin/courses/{KEY}/history?since=yesterday"), &cookie).status, 400);
    let no_token = post(&app, &format!("/admin/courses/{KEY}/batch"), &cookie, &[("identifiers", "a@b.org")]);
    assert_eq!(no_token.status, 403, "{}", no_token.text);
    assert!(no_token.text.contains("security token"), "{}", no_token.text);
}
