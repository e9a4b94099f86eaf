//! Starts the real `rollcall` binary on port 0 with a fresh database file, and talks to it
//! over HTTP with ureq.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty directory for one test's database; removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "rollcall-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("rollcall.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    // Cheap password hashing, through the same settings a user would set.
    command
        .env("ROLLCALL_AUTH_ARGON2_MEMORY_KIB", "64")
        .env("ROLLCALL_AUTH_ARGON2_ITERATIONS", "1")
        // The tests' webhook receivers listen on loopback, which webhooks may not reach
        // otherwise (the SSRF rule); tests of that rule set it back to [].
        .env("ROLLCALL_WEBHOOKS_ALLOWED_HOSTS", "127.0.0.1")
        .env("RUST_LOG", "warn");
    command
}

pub struct TestApp {
    pub base: String,
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
    /// Lines printed before "listening on".
    pub banner: Vec<String>,
    pub child: Child,
    pub dir: TempDir,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// The body as JSON, or null when it is not JSON.
    pub fn json_or_null(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

/// The path in "… their secrets are in PATH (readable …" of a first start's banner.
pub fn credentials_file(banner: &[String]) -> Option<String> {
    banner.iter().find_map(|l| {
        let rest = l.split_once("their secrets are in ")?.1;
        Some(rest.split(" (").next()?.to_owned())
    })
}

fn value_after(lines: &[String], key: &str) -> String {
    lines.iter().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or_default().to_owned()
}

impl TestApp {
    /// A server on a fresh database, rate limits off.
    pub fn spawn() -> TestApp {
        TestApp::spawn_with(&[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[])
    }

    pub fn spawn_with(env: &[(&str, &str)], args: &[&str]) -> TestApp {
        TestApp::spawn_in(TempDir::new(), env, args)
    }

    /// Starts the server on `dir`'s database (which may already exist).
    pub fn spawn_in(dir: TempDir, env: &[(&str, &str)], args: &[&str]) -> TestApp {
        let mut command = binary();
        command.args(["serve", "--listen", "127.0.0.1:0", "--db"]).arg(dir.db()).args(args);
        // The server's log goes next to its database; a failing test keeps it.
        let log = std::fs::File::create(dir.0.join("server.log")).unwrap();
        command.env("RUST_LOG", "info");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(log).spawn().expect("start rollcall");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut banner = Vec::new();
        let base = loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("rollcall exited before listening; it printed: {banner:?}");
            }
            let line = line.trim_end().to_owned();
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.to_owned();
            }
            banner.push(line);
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are asserted on (the console answers forms with 303s).
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        // stdout is a pipe here, so the first start's secrets are in a file beside the database.
        let mut lines = banner.clone();
        if let Some(path) = credentials_file(&banner) {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            lines.extend(text.lines().map(str::to_owned));
        }
        TestApp {
            base,
            username: value_after(&lines, "username"),
            password: value_after(&lines, "password"),
            client_id: value_after(&lines, "client_id"),
            client_secret: value_after(&lines, "client_secret"),
            banner,
            child,
            dir,
            agent,
        }
    }

    /// Stops the server and hands back its directory (to start it again on the same data).
    pub fn stop(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, TempDir(PathBuf::new()))
    }

    /// A path on this server, or an absolute URL it gave (a task's status_url).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// Any request: `auth` is a full Authorization header value.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<(&str, &str)>) -> Reply {
        let url = self.url(path);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let result = match body {
            Some((content_type, text)) => {
                let request = builder.header("Content-Type", content_type).body(text.to_owned()).unwrap();
                self.agent.run(request)
            }
            None => self.agent.run(builder.body(()).unwrap()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Reply { status, headers, text }
    }

    pub fn get(&self, path: &str, auth: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        self.request("GET", path, &headers, None)
    }

    pub fn send_json(&self, method: &str, path: &str, auth: Option<&str>, body: &Value) -> Reply {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        self.request(method, path, &headers, Some(("application/json", &body.to_string())))
    }

    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        self.request("POST", path, &[], Some(("application/x-www-form-urlencoded", &body.join("&"))))
    }

    /// A form-encoded body with credentials, as DRF views also accept.
    pub fn send_form(&self, method: &str, path: &str, auth: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        self.request(method, path, &headers, Some(("application/x-www-form-urlencoded", &body.join("&"))))
    }

    /// A `multipart/form-data` body of text fields, as Appsembler's manual test plan posts.
    pub fn send_multipart(&self, path: &str, auth: Option<&str>, fields: &[(&str, &str)]) -> Reply {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        let boundary = "----rollcall-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.request("POST", path, &headers, Some((&content_type, &body)))
    }

    pub fn token_for(&self, client_id: &str, client_secret: &str, token_type: &str) -> Reply {
        self.post_form(
            "/oauth2/access_token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("token_type", token_type),
            ],
        )
    }

    /// `Authorization` header value for the bootstrap superuser, via a JWT.
    pub fn admin_auth(&self) -> String {
        let reply = self.token_for(&self.client_id, &self.client_secret, "jwt");
        assert_eq!(reply.status, 200, "{}", reply.text);
        format!("JWT {}", reply.json()["access_token"].as_str().unwrap())
    }

    /// Creates a user through the admin API and returns a JWT `Authorization` value for it
    /// (via a client acting as that user).
    pub fn user_auth(&self, admin: &str, username: &str, staff: bool) -> String {
        let reply = self.send_json(
            "POST",
            "/api/admin/v1/users",
            Some(admin),
            &serde_json::json!({"username": username, "email": format!("{username}@example.org"), "password": "password123", "is_staff": staff}),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        let client = self.send_json(
            "POST",
            "/api/admin/v1/oauth-clients",
            Some(admin),
            &serde_json::json!({"name": username, "user": username}),
        );
        assert_eq!(client.status, 201, "{}", client.text);
        let c = client.json();
        let token = self.token_for(c["client_id"].as_str().unwrap(), c["client_secret"].as_str().unwrap(), "jwt");
        format!("JWT {}", token.json()["access_token"].as_str().unwrap())
    }

    /// A direct connection to the database file, for setting up states no API makes yet.
    pub fn sqlite(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.dir.db()).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl TestApp {
    /// Creates a course through the admin API; `extra` fields are merged in.
    pub fn create_course(&self, admin: &str, key: &str, extra: Value) -> Value {
        let mut body = serde_json::json!({"course_key": key, "title": format!("Course {key}")});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let reply = self.send_json("POST", "/api/admin/v1/courses", Some(admin), &body);
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }

    /// Creates a user (no password, no client) through the admin API.
    pub fn create_user(&self, admin: &str, username: &str, active: bool) -> Value {
        let body =
            serde_json::json!({"username": username, "email": format!("{username}@example.org"), "is_active": active});
        let reply = self.send_json("POST", "/api/admin/v1/users", Some(admin), &body);
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }
}

/// Polls `check` every 50 ms until it answers, for at most `seconds`.
pub fn wait_until<T>(seconds: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The database refusing writes, as a full or read-only disk refuses them: another
/// connection holds its write lock, so each write of the server waits
/// `database.busy_timeout_ms` (short in `spawn_refusable`) and fails, through the same
/// fault path as SQLITE_FULL and SQLITE_READONLY. Dropped, writes go through again.
pub struct WritesRefused(rusqlite::Connection);

impl Drop for WritesRefused {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

impl TestApp {
    /// A server whose writes give up quickly when the database refuses them.
    pub fn spawn_refusable(env: &[(&str, &str)]) -> TestApp {
        let mut all = vec![("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_DATABASE_BUSY_TIMEOUT_MS", "150")];
        all.extend_from_slice(env);
        TestApp::spawn_with(&all, &[])
    }

    pub fn refuse_writes(&self) -> WritesRefused {
        let conn = self.sqlite();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        WritesRefused(conn)
    }
}

/// A write the database refused: the whole request's 503 with Retry-After, never a 2xx,
/// with `field` in the body (the surface's own error format).
pub fn assert_refused(reply: &Reply, field: &str) {
    assert_eq!(reply.status, 503, "{}", reply.text);
    assert!(reply.header("Retry-After").is_some_and(|s| s.parse::<u64>().is_ok()), "Retry-After: {:?}", reply.headers);
    assert!(!reply.json()[field].is_null(), "{field} in {}", reply.text);
}
