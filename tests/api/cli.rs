//! The `rollcall` command line: first-start bootstrap, `init`, `create-user`,
//! `create-client`, `--help`, argument and configuration errors.

use crate::helpers::{binary, TempDir, TestApp};
use serde_json::Value;

#[test]
fn first_start_writes_working_credentials_once_to_an_owner_only_file_when_stdout_is_no_terminal() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn();
    // Not a terminal (a pipe, a journal): no secret in the output, a file path instead.
    assert!(
        app.banner.iter().all(|l| !l.contains(&app.client_secret) && !l.contains(&app.password)),
        "{:?}",
        app.banner
    );
    let path = crate::helpers::credentials_file(&app.banner).expect("the banner names the credentials file");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(file.contains("curl -s -X POST") && file.contains("/oauth2/access_token"), "{file}");
    assert_eq!(app.username, "admin");
    assert!(app.password.len() >= 16 && !app.client_secret.is_empty());
    // The printed credentials work: a token from the client, and a password login.
    let token = app.token_for(&app.client_id, &app.client_secret, "jwt");
    assert_eq!(token.status, 200, "{}", token.text);
    let login = app.post_form("/login", &[("username", &app.username), ("password", &app.password)]);
    assert_eq!(login.status, 200, "{}", login.text);
    // Secrets are stored only hashed.
    let conn = app.sqlite();
    let stored: String =
        conn.query_row("SELECT password_hash FROM users WHERE username = 'admin'", [], |r| r.get(0)).unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains(&app.password));
    let secret: String = conn.query_row("SELECT secret_hash FROM oauth_clients", [], |r| r.get(0)).unwrap();
    assert_ne!(secret, app.client_secret);
    // A second start on the same database prints no credentials.
    let dir = app.stop();
    let again = TestApp::spawn_in(dir, &[], &[]);
    assert!(again.banner.iter().all(|l| !l.contains("password")), "{:?}", again.banner);
}

#[test]
fn demo_flag_seeds_a_catalog_with_a_window_an_invitation_only_course_and_a_capacity_of_three() {
    let app = TestApp::spawn_with(&[], &["--demo"]);
    let admin = app.admin_auth();
    let list = app.get("/api/admin/v1/courses?page_size=100", Some(&admin)).json();
    let courses = list["results"].as_array().unwrap();
    assert!(courses.len() >= 4);
    assert!(courses.iter().any(|c| c["invitation_only"] == true));
    assert!(courses.iter().any(|c| c["max_enrollments"] == 3));
    assert!(courses.iter().any(|c| c["enrollment_start"].is_string() && c["enrollment_end"].is_string()));
    assert!(courses.iter().any(|c| c["modes"].as_array().unwrap().iter().any(|m| m["min_price"] != "0.00")));
}

#[test]
fn init_prints_json_credentials_then_refuses_with_exit_code_1() {
    let dir = TempDir::new();
    let out = binary().args(["init", "--json", "--db"]).arg(dir.db()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["username", "password", "client_id", "client_secret"] {
        assert!(creds[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
    let again = binary().args(["init", "--db"]).arg(dir.db()).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already initialised"));
    // The server on that database prints nothing new and the first credentials still work.
    let app = TestApp::spawn_in(dir, &[], &[]);
    let token = app.token_for(creds["client_id"].as_str().unwrap(), creds["client_secret"].as_str().unwrap(), "bearer");
    assert_eq!(token.status, 200, "{}", token.text);
}

#[test]
fn create_user_and_create_client_give_a_working_login() {
    let dir = TempDir::new();
    let user = binary()
        .args([
            "create-user",
            "--username",
            "teacher",
            "--email",
            "t@example.org",
            "--password",
            "longenough",
            "--staff",
            "--db",
        ])
        .arg(dir.db())
        .output()
        .unwrap();
    assert!(user.status.success(), "{}", String::from_utf8_lossy(&user.stderr));
    let client = binary()
        .args(["create-client", "--name", "lms", "--user", "teacher", "--json", "--db"])
        .arg(dir.db())
        .output()
        .unwrap();
    assert!(client.status.success(), "{}", String::from_utf8_lossy(&client.stderr));
    let client: Value = serde_json::from_slice(&client.stdout).unwrap();
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    let token = app.token_for(client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap(), "jwt");
    assert_eq!(token.status, 200, "{}", token.text);
    let auth = format!("JWT {}", token.json()["access_token"].as_str().unwrap());
    // teacher is global staff, so the admin API answers.
    assert_eq!(app.get("/api/admin/v1/courses", Some(&auth)).status, 200);
    let login = app.post_form("/login", &[("username", "teacher"), ("password", "longenough")]);
    assert_eq!(login.status, 200, "{}", login.text);
}

#[test]
fn bad_arguments_print_one_line_and_exit_2() {
    for args in [
        vec!["serve", "--bogus"],
        vec!["create-user", "--db", "x.db"],
        vec!["frobnicate"],
        vec!["serve", "--listen"],
        vec!["create-user", "--db", "x.db", "--username", "a b", "--email", "x@example.org"],
    ] {
        let out = binary().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn every_command_answers_help_with_its_usage() {
    for command in ["serve", "init", "create-user", "create-client", "import", "backup", "check"] {
        let out = binary().args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("rollcall {command}")));
    }
    let out = binary().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("create-client"));
    // The benchmark's `--help` is checked in its own crate (bench/tests/help.rs).
}

/// The README's first command, literally: `cargo run --release` in a fresh copy of the
/// repository (no database yet) serves, with its database in ./rollcall.db. The release
/// build goes to its own directory under target/ (the running `cargo test` holds the lock
/// of its own), so only the first run of this test pays for it; it starts from a copy of
/// target/release when one exists.
#[test]
fn the_readme_s_first_command_serves_from_a_fresh_copy_of_the_repository() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let first = readme.split("```sh\n").nth(1).and_then(|b| b.lines().next()).expect("the README's first command");
    let command = first.split('#').next().unwrap().trim();
    assert_eq!(command, "cargo run --release", "the test runs what the README says first");
    // target/debug/rollcall → target
    let target = std::path::Path::new(env!("CARGO_BIN_EXE_rollcall")).ancestors().nth(2).unwrap().to_owned();
    let build_dir = target.join("readme-first-command");
    let seeded = !build_dir.exists() && target.join("release").is_dir();
    if seeded {
        std::fs::create_dir_all(&build_dir).unwrap();
        let _ = Command::new("cp").arg("-a").arg(target.join("release")).arg(&build_dir).status();
    }
    let copy = TempDir::new();
    let copied = Command::new("bash")
        .arg("-c")
        .arg("tar -c --exclude=./target --exclude=./.git --exclude=node_modules --exclude='*.db' --exclude='*.db-*' . | tar -x -C \"$0\"")
        .arg(&copy.0)
        .current_dir(repo)
        .status()
        .unwrap();
    assert!(copied.success());
    if seeded {
        // The copied build may come from other sources with newer times: rebuild this crate.
        let _ = Command::new("find").arg(copy.0.join("src")).args(["-type", "f", "-exec", "touch", "{}", "+"]).status();
    }
    assert!(!copy.0.join("rollcall.db").exists());
    let mut words = command.split_whitespace();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    assert_eq!(words.next(), Some("cargo"));
    // `timeout` bounds the build and the run; cargo execs the server in its place.
    let mut child = Command::new("timeout")
        .args(["2400", &cargo])
        .args(words)
        .current_dir(&copy.0)
        .env("CARGO_TARGET_DIR", &build_dir)
        // Port 0: other servers (other tests, other checkouts) may hold 8000.
        .env("ROLLCALL_SERVER_LISTEN", "127.0.0.1:0")
        .env("ROLLCALL_AUTH_ARGON2_MEMORY_KIB", "64")
        .env("ROLLCALL_AUTH_ARGON2_ITERATIONS", "1")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(copy.0.join("cargo-run.log")).unwrap())
        .spawn()
        .expect("cargo");
    let mut printed = Vec::new();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        match lines.next() {
            Some(Ok(line)) => match line.strip_prefix("listening on ") {
                Some(address) => break address.to_owned(),
                None => printed.push(line),
            },
            _ => {
                let log = std::fs::read_to_string(copy.0.join("cargo-run.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                panic!("`{command}` stopped before serving: {printed:?}\n{}", tail.join("\n"));
            }
        }
    };
    let health = Command::new("curl").args(["-s", "--max-time", "10", &format!("{address}/health")]).output().unwrap();
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    assert!(String::from_utf8_lossy(&health.stdout).contains("ok"), "{}", String::from_utf8_lossy(&health.stdout));
    assert!(copy.0.join("rollcall.db").exists(), "the database is ./rollcall.db");
    assert!(printed.iter().any(|l| l.contains("rollcall.db.first-start-credentials")), "{printed:?}");
}

#[test]
fn an_unknown_setting_or_bad_value_stops_start_up_naming_it() {
    let dir = TempDir::new();
    let out = binary()
        .env("ROLLCALL_SERVER_NOPE", "1")
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.db())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROLLCALL_SERVER_NOPE"));
    let config = dir.0.join("bad.toml");
    std::fs::write(&config, "[server]\nworkers = \"many\"\n").unwrap();
    let out =
        binary().args(["--listen", "127.0.0.1:0", "--config"]).arg(&config).arg("--db").arg(dir.db()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workers"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = TempDir::new();
    rusqlite::Connection::open(dir.db()).unwrap().execute_batch("PRAGMA user_version = 999;").unwrap();
    // Owner-only, as Rollcall requires of a database it did not create itself.
    std::fs::set_permissions(dir.db(), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = binary().args(["--listen", "127.0.0.1:0", "--db"]).arg(dir.db()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer Rollcall"));
}

#[test]
fn the_database_runs_in_wal_mode_with_the_configured_synchronous_setting() {
    let app = TestApp::spawn();
    let mode: String = app.sqlite().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = app.sqlite().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert!(version >= 1);
}

#[test]
fn import_moves_open_edx_users_with_their_passwords_and_enrollments() {
    use base64::Engine;
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, "course-v1:Old+Edx+Run", serde_json::json!({"invitation_only": true}));
    let dir = app.stop();
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"old-secret", b"salty", 1000, &mut derived);
    let django = format!("pbkdf2_sha256$1000$salty${}", base64::engine::general_purpose::STANDARD.encode(derived));
    let users = dir.0.join("users.jsonl");
    std::fs::write(&users, format!(
        "{}\n{}\n",
        serde_json::json!({"username": "veteran", "email": "veteran@example.org", "password": django, "name": "Vet", "date_joined": "2019-05-01T10:00:00Z"}),
        serde_json::json!({"username": "admin", "email": "other@example.org"})
    )).unwrap();
    let enrollments = dir.0.join("enrollments.jsonl");
    std::fs::write(
        &enrollments,
        serde_json::json!({"username": "veteran", "course_id": "course-v1:Old+Edx+Run", "mode": "audit"}).to_string(),
    )
    .unwrap();
    let out = binary()
        .arg("import")
        .arg("--db")
        .arg(dir.db())
        .arg("--users")
        .arg(&users)
        .arg("--enrollments")
        .arg(&enrollments)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("imported 1 users (1 already there)") && stdout.contains("imported 1 enrollments"),
        "{stdout}"
    );

    let progress = dir.0.join("progress.jsonl");
    std::fs::write(
        &progress,
        serde_json::json!({"username": "veteran", "course_id": "course-v1:Old+Edx+Run", "completion": 1.0, "grade": 0.8, "passed": true, "completed_at": "2020-06-01T00:00:00Z"}).to_string(),
    )
    .unwrap();
    let out = binary().arg("import").arg("--db").arg(dir.db()).arg("--progress").arg(&progress).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported progress for 1 enrollments"));
    std::fs::write(
        &progress,
        serde_json::json!({"username": "veteran", "course_id": "course-v1:Old+Edx+Run", "completion": 7}).to_string(),
    )
    .unwrap();
    let out = binary().arg("import").arg("--db").arg(dir.db()).arg("--progress").arg(&progress).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a completion above 1 is refused");

    let bad = dir.0.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"username\": \"fine1\", \"email\": \"f1@example.org\"}\n{\"username\": \"x\", \"email\": \"nope\"}\n",
    )
    .unwrap();
    let out = binary().arg("import").arg("--db").arg(dir.db()).arg("--users").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&out.stderr));

    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    assert_eq!(app.post_form("/login", &[("username", "veteran"), ("password", "old-secret")]).status, 200);
    let fine: i64 =
        app.sqlite().query_row("SELECT COUNT(*) FROM users WHERE username = 'fine1'", [], |r| r.get(0)).unwrap();
    assert_eq!(fine, 0, "a bad line imports nothing from its file");
    let source: String = app.sqlite().query_row("SELECT source FROM enrollment_history", [], |r| r.get(0)).unwrap();
    assert_eq!(source, "import");
    let joined: i64 =
        app.sqlite().query_row("SELECT date_joined FROM users WHERE username = 'veteran'", [], |r| r.get(0)).unwrap();
    assert_eq!(joined, 1_556_704_800);
    let (grade, completed_at): (f64, i64) = app
        .sqlite()
        .query_row("SELECT grade, completed_at FROM enrollment_progress", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((grade, completed_at), (0.8, 1_590_969_600));
}

#[test]
fn backup_copies_a_live_database_and_check_reports_on_it() {
    let app = crate::helpers::TestApp::spawn();
    let admin = app.admin_auth();
    app.create_user(&admin, "ann", true);
    let copy = app.dir.0.join("copy.db");
    let out = binary().args(["backup", "--db"]).arg(app.dir.db()).arg("--to").arg(&copy).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600);
    let users: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM users WHERE username = 'ann'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 1, "the copy holds the committed rows");
    let again = binary().args(["backup", "--db"]).arg(app.dir.db()).arg("--to").arg(&copy).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "an existing file is not overwritten");
    let check = binary().args(["check", "--db"]).arg(&copy).output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("integrity: ok") && report.contains("users: 2"), "{report}");
    // A dangling reference is a problem: exit 1.
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, created) VALUES ('x', 999, 'y', 0, 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let bad = binary().args(["check", "--db"]).arg(&copy).output().unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stdout));
    let missing = binary().args(["check", "--db", "/nonexistent/x.db"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn import_refuses_a_database_that_does_not_exist_and_a_failed_start_leaves_none() {
    let dir = TempDir::new();
    let users = dir.0.join("users.jsonl");
    std::fs::write(&users, "{\"username\": \"ann\", \"email\": \"ann@example.org\"}\n").unwrap();
    let typo = dir.0.join("rolcall.db");
    let out = binary().args(["import", "--db"]).arg(&typo).arg("--users").arg(&users).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("there is no database"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!typo.exists(), "no empty database was created");
    // A start that fails (the address is taken) leaves no empty database behind.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = binary().args(["serve", "--listen", &address, "--db"]).arg(dir.db()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.db().exists(), "the failed start removed the database it had created");
}

#[test]
fn the_demo_has_people_in_it_and_a_second_start_says_it_is_there_already() {
    let app = TestApp::spawn_with(&[], &["--demo"]);
    let admin = app.admin_auth();
    let path = crate::helpers::credentials_file(&app.banner).unwrap();
    let secrets = std::fs::read_to_string(&path).unwrap();
    let password_of = |name: &str| {
        secrets
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{secrets}"))
            .to_owned()
    };
    for name in ["ann", "bob", "cat"] {
        let login = app.post_form("/login", &[("username", name), ("password", &password_of(name))]);
        assert_eq!(login.status, 200, "{name}: {}", login.text);
    }
    let roster = app.get("/api/enrollment/v2/courses/course-v1:Rollcall+SEM-201+2026/enrollments", Some(&admin)).json();
    assert_eq!(roster["count"], 2);
    let pre = app.get("/api/enrollment/v1/enrollment_allowed/?email=dana%40demo.rollcall.invalid", Some(&admin)).json();
    assert_eq!(pre.as_array().unwrap().len(), 1, "{pre}");
    let paths = app.get("/api/admin/v1/learning-paths", Some(&admin)).json();
    assert_eq!(paths["results"][0]["key"], "path-v1:Rollcall+WEB+2026+T1");
    assert!(secrets.contains("Enrollment codes for WEB-301: "), "{secrets}");
    let dir = app.stop();
    let again = TestApp::spawn_in(dir, &[], &["--demo"]);
    assert!(again.banner.iter().any(|l| l.contains("already seeded")), "{:?}", again.banner);
}

#[test]
fn import_keeps_enrollment_dates_and_names_the_hashes_it_cannot_use() {
    let app = TestApp::spawn();
    let admin = app.admin_auth();
    app.create_course(&admin, "course-v1:Old+Edx+Run", serde_json::json!({}));
    let dir = app.stop();
    let users = dir.0.join("users.jsonl");
    std::fs::write(
        &users,
        format!(
            "{}\n{}\n",
            serde_json::json!({"username": "locked", "email": "locked@example.org", "password": "!Xk2abcdefghijklmnopqrstuvwxyz0123456789AB"}),
            serde_json::json!({"username": "sha1user", "email": "sha1@example.org", "password": "sha1$salt$0123456789abcdef"}),
        ),
    )
    .unwrap();
    let enrollments = dir.0.join("enrollments.jsonl");
    std::fs::write(
        &enrollments,
        serde_json::json!({"username": "locked", "course_id": "course-v1:Old+Edx+Run", "mode": "audit", "created": "2018-09-01T08:00:00Z"})
            .to_string(),
    )
    .unwrap();
    let out = binary()
        .args(["import", "--db"])
        .arg(dir.db())
        .arg("--users")
        .arg(&users)
        .arg("--enrollments")
        .arg(&enrollments)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 imported without a password"), "{stdout}");
    assert!(
        stdout.contains("line 1 (locked): password hash unusable") && stdout.contains("line 2 (sha1user)"),
        "{stdout}"
    );
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let created: i64 = conn.query_row("SELECT created FROM enrollments", [], |r| r.get(0)).unwrap();
    assert_eq!(created, 1_535_788_800, "the original enrollment date");
}

#[test]
fn fixtures_give_a_test_double_with_known_credentials_and_load_only_once() {
    let dir = TempDir::new();
    let fixtures = dir.0.join("fixtures.json");
    std::fs::write(
        &fixtures,
        serde_json::json!({
            "users": [{"username": "svc", "email": "svc@example.org", "password": "svc-password", "is_staff": true},
                      {"username": "ann", "email": "ann@example.org", "password": "ann-password"}],
            "clients": [{"name": "WooCommerce", "client_id": "woo-test-client", "client_secret": "woo-test-secret", "user": "svc"}],
            "courses": [{"course_key": "course-v1:Fix+T1+2026", "title": "Fixture course", "code": "FIX-1", "price": "10.00"}],
            "enrollments": [{"user": "ann", "course_id": "course-v1:Fix+T1+2026", "mode": "audit", "is_active": true}],
            "pre_enrollments": [{"email": "later@example.org", "course_id": "course-v1:Fix+T1+2026", "auto_enroll": true}]
        })
        .to_string(),
    )
    .unwrap();
    let path = fixtures.to_str().unwrap().to_owned();
    let app = TestApp::spawn_in(dir, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &["--fixtures", &path]);
    assert!(app.banner.iter().any(|l| l.contains("Loaded 6 fixture entries")), "{:?}", app.banner);
    assert!(crate::helpers::credentials_file(&app.banner).is_none(), "no bootstrap superuser: {:?}", app.banner);
    let token = app.token_for("woo-test-client", "woo-test-secret", "jwt");
    assert_eq!(token.status, 200, "{}", token.text);
    let auth = format!("JWT {}", token.json()["access_token"].as_str().unwrap());
    let enrollment = app.get("/api/enrollment/v1/enrollment/ann,course-v1:Fix+T1+2026", Some(&auth)).json();
    assert_eq!(enrollment["is_active"], true, "{enrollment}");
    let pre = app.get("/api/enrollment/v1/enrollment_allowed/?email=later%40example.org", Some(&auth)).json();
    assert_eq!(pre.as_array().unwrap().len(), 1);
    assert_eq!(app.post_form("/login", &[("username", "ann"), ("password", "ann-password")]).status, 200);
    let dir = app.stop();
    let again = TestApp::spawn_in(dir, &[], &["--fixtures", &path]);
    assert!(again.banner.iter().any(|l| l.contains("Loaded 0 fixture entries")), "{:?}", again.banner);
    let dir = again.stop();
    std::fs::write(&fixtures, r#"{"users": [{"username": "xavier", "email": "not-an-email"}]}"#).unwrap();
    let out = binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.db())
        .args(["--fixtures", &path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fixtures users[0].email"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_ephemeral_server_prints_its_credentials_and_leaves_nothing_behind() {
    let mut child = binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--ephemeral"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut banner = Vec::new();
    let address = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_owned();
        }
        banner.push(line);
    };
    assert!(banner.iter().any(|l| l.starts_with("client_secret: ")), "printed for the harness: {banner:?}");
    let reply = std::process::Command::new("curl").args(["-s", &format!("http://{address}/health")]).output().unwrap();
    assert!(String::from_utf8_lossy(&reply.stdout).contains("ok"));
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(child.wait().unwrap().success());
    let leftover = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(&format!("rollcall-ephemeral-{pid}-")));
    assert!(!leftover, "the temporary database was removed");
}
