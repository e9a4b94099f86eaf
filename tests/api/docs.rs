//! `/api-docs/openapi.json` covers every route the router has; `/api-docs/` is readable.

use crate::helpers::TestApp;
use serde_json::Value;

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_openapi_document_lists_every_route_with_its_schemas() {
    let app = TestApp::spawn();
    let reply = app.get("/api-docs/openapi.json", None);
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for route in rollcall::api::router::routes() {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(op.is_object(), "the document lacks {} {}", route.method, route.path);
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{} {} has no responses",
            route.method,
            route.path
        );
        if route.doc.auth {
            assert!(op["security"].as_array().is_some_and(|s| !s.is_empty()), "{} {}", route.method, route.path);
        }
        if matches!(route.method, "POST" | "PATCH") && route.doc.request.is_some() {
            assert!(op["requestBody"].is_object(), "{} {}", route.method, route.path);
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let mut parts = r.trim_start_matches("#/components/").splitn(2, '/');
        let (kind, name) = (parts.next().unwrap(), parts.next().unwrap_or(""));
        assert!(doc["components"][kind][name].is_object(), "dangling $ref {r}");
    }
    for scheme in ["jwt", "bearer", "session", "apiKey"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
}

#[test]
fn the_docs_page_is_html_that_names_the_routes() {
    let app = TestApp::spawn();
    let page = app.get("/api-docs/", None);
    assert_eq!(page.status, 200);
    assert!(page.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("/api/admin/v1/courses") && page.text.contains("/oauth2/access_token"));
    for external in ["src=\"http", "href=\"http", "url(http"] {
        assert!(!page.text.contains(external), "the page must not load anything from the internet ({external})");
    }
}

/// schemathesis (from PyPI), installed into the user's site-packages when missing: the
/// project's own test installs what it needs.
fn schemathesis() -> std::path::PathBuf {
    const VERSION: &str = "4.32.5";
    let found = |cmd: &str| {
        std::process::Command::new(cmd).arg("--version").output().ok().filter(|o| o.status.success()).is_some()
    };
    if found("st") {
        return "st".into();
    }
    let pip = |extra: &[&str]| {
        std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--user", &format!("schemathesis=={VERSION}")])
            .args(extra)
            .status()
            .expect("python3 runs (schemathesis needs it)")
            .success()
    };
    // A Debian-managed Python refuses --user installs unless told (PEP 668).
    let installed = pip(&[]) || pip(&["--break-system-packages"]);
    assert!(installed, "pip could not install schemathesis {VERSION}");
    let user_base = std::process::Command::new("python3").args(["-m", "site", "--user-base"]).output().unwrap();
    let st = std::path::PathBuf::from(String::from_utf8_lossy(&user_base.stdout).trim()).join("bin/st");
    if st.exists() {
        st
    } else {
        "st".into()
    }
}

/// The OpenAPI document tells the truth: schemathesis generates requests from it for every
/// operation and checks that what it calls valid is accepted (positive-data acceptance),
/// that every status and body is documented, and that nothing answers 5xx. Rules a schema
/// cannot state are listed, with their reasons, in tests/schemathesis.toml. Deterministic
/// (a fixed seed) and bounded, so that it can run on every CI build.
#[test]
fn generated_requests_from_the_openapi_document_are_answered_as_documented() {
    let app = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &["--demo"]);
    let admin = app.admin_auth();
    let st = schemathesis();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    // FUZZ_EXAMPLES=50 cargo test generated_requests: a deeper run than CI's.
    let examples = std::env::var("FUZZ_EXAMPLES").unwrap_or_else(|_| "5".into());
    let output = std::process::Command::new("timeout")
        .arg("3000")
        .arg(&st)
        .args(["--config-file", config, "run", &app.url("/api-docs/openapi.json")])
        .args(["-H", &format!("Authorization: {admin}")])
        .args(["--checks", "all", "--exclude-checks", "negative_data_rejection"])
        // One worker: Python 3.11 before 3.11.8 can fail hypothesis' concurrent ast.parse
        // ("AST constructor recursion depth mismatch", CPython gh-106905).
        .args(["--phases", "examples,coverage,fuzzing", "--max-examples", &examples, "--workers", "1"])
        .args(["--seed", "20261202", "--generation-deterministic", "--no-color"])
        .current_dir(&app.dir.0)
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&output.stdout);
    // CPython 3.11's AST constructor sometimes trips over its own recursion counter when
    // hypothesis describes a lambda on two threads (a "Runtime Error" of schemathesis, not a
    // finding about us): a run whose only problems are those passes, naming them.
    let runtime_errors: Vec<&str> = report.split("\nRuntime Error\n").skip(1).collect();
    let interpreter_faults = runtime_errors.len();
    let only_interpreter_faults = interpreter_faults > 0
        && !report.contains(" FAILURES ")
        && runtime_errors
            .iter()
            .all(|e| e.lines().take(3).any(|l| l.contains("AST constructor recursion depth mismatch")));
    if only_interpreter_faults {
        eprintln!(
            "schemathesis: {interpreter_faults} CPython AST fault(s) in its own code, no finding about the server"
        );
    }
    assert!(
        output.status.success() || only_interpreter_faults,
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The README's tour, run as a newcomer would paste it: every `sh` block of the "A short
/// tour with curl" section, in order, in one bash, against a fresh server, with the first
/// start's secrets where the README says to put them. Any command that fails, and any
/// curl answered 4xx/5xx, fails the test.
#[test]
fn the_readme_tour_runs_verbatim_against_a_fresh_server() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## A short tour with curl").nth(1).expect("the tour section");
    let section = section.split("\n## ").next().unwrap();
    let mut script = String::new();
    let mut in_sh = false;
    for line in section.lines() {
        match line.trim_end() {
            "```sh" => in_sh = true,
            "```" if in_sh => in_sh = false,
            text if in_sh => {
                script.push_str(text);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(script.contains("CLIENT_ID") && script.lines().count() > 50, "the tour was found: {script}");
    let app = TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    let script = script
        .replace("'<client_id>'", &format!("'{}'", app.client_id))
        .replace("'<client_secret>'", &format!("'{}'", app.client_secret))
        .replace("'<password>'", &format!("'{}'", app.password))
        .replace("B=http://127.0.0.1:8000", &format!("B={}", app.base));
    assert!(!script.contains("'<"), "every placeholder the README names was filled: {script}");
    let prelude = "set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 20 \"$@\"; echo; }\nset -x\n";
    let run = std::process::Command::new("timeout")
        .args(["120", "bash", "-c"])
        .arg(format!("{prelude}{script}"))
        .current_dir(&app.dir.0)
        .output()
        .expect("bash");
    let said = format!("{}\n{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the README tour stopped:\n{said}");
    // What the tour says happened, happened.
    let conn = app.sqlite();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM outbox WHERE recipient = 'bea@example.org'"), 1, "bea's welcome email");
    // The two-learner enrollment is a background task the tour does not wait for: on a
    // loaded machine it may still be running when the last curl returns.
    let pre_enrolled =
        || count("SELECT COUNT(*) FROM enrollment_allowed WHERE email IN ('carl@example.org', 'dana@example.org')");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while pre_enrolled() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(pre_enrolled(), 2, "carl and dana, pre-enrolled by the task");
    assert_eq!(count("SELECT COUNT(*) FROM code_redemptions"), 1, "the generated code was redeemed");
}

#[test]
fn the_front_page_names_the_school_the_version_and_every_surface_for_browsers_and_scripts() {
    let app = TestApp::spawn_with(&[("ROLLCALL_SERVER_SCHOOL_NAME", "Springfield <Online>")], &[]);
    let html = app.request("GET", "/", &[("Accept", "text/html,application/xhtml+xml")], None);
    assert_eq!(html.status, 200);
    assert!(html.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(html.text.contains("Springfield &lt;Online&gt;"), "the school's name, escaped");
    for link in ["/api-docs/", "/admin/", "/health", "/api-docs/#checkout", "/api-docs/#appsembler"] {
        assert!(html.text.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let json = app.request("GET", "/", &[("Accept", "application/json")], None).json();
    assert_eq!(json["school"], "Springfield <Online>");
    assert!(json.get("version").is_none(), "the build is not shown to anonymous callers: {json}");
    let admin = app.admin_auth();
    let staff = app.request("GET", "/", &[("Accept", "application/json"), ("Authorization", &admin)], None).json();
    assert_eq!(staff["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["surfaces"].as_array().unwrap().len(), 10);
    assert_eq!(json["surfaces"][0]["reference"], format!("{}/api-docs/#authentication", app.base));
}

#[test]
fn operations_have_readable_unique_ids_descriptions_tags_and_documented_headers() {
    let app = TestApp::spawn();
    let doc = app.get("/api-docs/openapi.json", None).json();
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for tag in doc["tags"].as_array().unwrap() {
        assert!(tag["description"].as_str().is_some_and(|d| d.len() > 20), "{tag}");
    }
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{id} is used twice");
            assert!(id.len() < 64 && id.chars().all(|c| c.is_ascii_alphanumeric()), "{method} {path}: {id}");
            assert!(op["description"].as_str().is_some_and(|d| d.len() > 40), "{method} {path}");
            assert!(tags.contains(&op["tags"][0].as_str().unwrap()), "{method} {path}: its tag is declared");
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(response["headers"]["X-Request-Id"].is_object(), "{method} {path} {status}");
            }
        }
    }
    let v2 = &doc["paths"]["/api/enrollment/v2/courses/{course_key}/enrollments"];
    assert_eq!(v2["post"]["operationId"], "enrollmentV2PostCourseEnrollments");
    assert!(v2["post"]["responses"]["202"]["headers"]["Location"].is_object());
    assert!(v2["get"]["responses"]["200"]["headers"]["Link"].is_object());
    assert!(v2["post"]["responses"]["429"]["headers"]["Retry-After"].is_object());
    let one = &doc["paths"]["/api/enrollment/v2/courses/{course_key}/enrollments/{email_or_username}"]["delete"];
    assert_eq!(one["operationId"], "enrollmentV2DeleteCourseEnrollment");
    assert!(doc["components"]["headers"]["X-RateLimit-Remaining"].is_object());
}

/// A tool this test installs into the user's site-packages from PyPI when missing (as
/// schemathesis above): its command's path.
fn pip_tool(package: &str, version: &str, command: &str) -> std::path::PathBuf {
    let user_base = std::process::Command::new("python3").args(["-m", "site", "--user-base"]).output().unwrap();
    let path = std::path::PathBuf::from(String::from_utf8_lossy(&user_base.stdout).trim()).join("bin").join(command);
    let current = std::process::Command::new(&path).arg("--version").output();
    if current.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version)) {
        return path;
    }
    let pip = |extra: &[&str]| {
        std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--user", &format!("{package}=={version}")])
            .args(extra)
            .status()
            .expect("python3 runs")
            .success()
    };
    assert!(pip(&[]) || pip(&["--break-system-packages"]), "pip could not install {package} {version}");
    path
}

/// Clients generated from the document work unpatched: openapi-python-client (PyPI) and
/// openapi-typescript (npm, pinned in tests/client/package-lock.json) run with their
/// default settings; every generated Python module imports; a v2 flow written against the
/// TypeScript types (tests/client/flow.mts) compiles under `strict` without a cast and
/// runs against this server; Redocly's linter finds no error (tests/client/redocly.yaml).
#[test]
fn clients_generated_from_the_document_with_default_settings_import_compile_and_run() {
    use std::process::Command;
    let app = TestApp::spawn();
    let spec = app.dir.0.join("openapi.json");
    std::fs::write(&spec, app.get("/api-docs/openapi.json", None).text).unwrap();
    let said = |o: &std::process::Output| {
        format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };

    let generator = pip_tool("openapi-python-client", "0.29.1", "openapi-python-client");
    let python = app.dir.0.join("python-client");
    let generated = Command::new("timeout")
        .arg("600")
        .arg(&generator)
        .args(["generate", "--path"])
        .arg(&spec)
        .arg("--output-path")
        .arg(&python)
        .output()
        .expect("openapi-python-client");
    let report = said(&generated);
    assert!(generated.status.success(), "openapi-python-client:\n{report}");
    // Only the CSV uploads, a media type it does not generate, may be left out.
    for line in report.lines().filter(|l| l.starts_with("WARNING") || l.contains("Unable to process")) {
        assert!(line.contains(".csv within admin"), "openapi-python-client left something out: {line}\n{report}");
    }
    let import_all = r#"
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import rollcall_client as root
failed = []
for m in pkgutil.walk_packages(root.__path__, "rollcall_client."):
    try:
        importlib.import_module(m.name)
    except Exception as e:
        failed.append(f"{m.name}: {e!r}")
print("\n".join(failed))
sys.exit(1 if failed else 0)
"#;
    let imported = Command::new("python3").args(["-c", import_all]).arg(&python).output().unwrap();
    assert!(imported.status.success(), "generated modules that do not import:\n{}", said(&imported));

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client");
    if !dir.join("node_modules/.bin/openapi-typescript").exists() {
        let status =
            Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).status().expect("npm");
        assert!(status.success(), "npm ci in tests/client failed");
    }
    let bin = |name: &str| dir.join("node_modules/.bin").join(name);
    let types = Command::new("timeout")
        .arg("300")
        .arg(bin("openapi-typescript"))
        .arg(&spec)
        .args(["-o", "generated/rollcall.d.ts"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(types.status.success(), "openapi-typescript:\n{}", said(&types));
    let compiled =
        Command::new("timeout").arg("300").arg(bin("tsc")).args(["-p", "."]).current_dir(&dir).output().unwrap();
    assert!(compiled.status.success(), "tsc --strict:\n{}", said(&compiled));
    let flow = std::fs::read_to_string(dir.join("flow.mts")).unwrap();
    assert!(!flow.contains(" as ") && !flow.contains("<any>") && !flow.contains("@ts-"), "the flow has no casts");
    let ran = Command::new("timeout")
        .args(["120", "node", "build/flow.mjs", &app.base, &app.client_id, &app.client_secret])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(said(&ran).contains("client flow passed"), "the typed flow:\n{}", said(&ran));

    let lint = Command::new("timeout")
        .arg("300")
        .arg(bin("redocly"))
        .arg("lint")
        .arg(&spec)
        .args(["--config", "redocly.yaml", "--format", "summary"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(lint.status.success(), "Redocly lint:\n{}", said(&lint));
}
