//! `rollcall-bench`: starts a release `rollcall` on a fresh database, seeds what each
//! scenario needs, drives it over loopback with keep-alive clients (raw HTTP/1.1, so the
//! client costs little of the cores it shares with the server) and reports throughput,
//! latency percentiles, errors and the server's peak RSS. The floors are measured in the
//! same run, so the ratios hold on a noisy machine.
//!
//! cargo build --release    # the server and this benchmark, side by side in target/release
//! ./target/release/rollcall-bench [--scenario floor-http,floor-sqlite,enroll-v2,idle-5k,…|all]
//!     [--clients 32] [--duration 10] [--json out.json]
//!     [--url http://127.0.0.1:PORT --db PATH --client-id ID --client-secret SECRET]
//!
//! With `--url` it drives a server already running on this machine (loopback only) and
//! seeds through that server's database file, as `rollcall import` would.

use serde_json::{json, Map, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCENARIOS: [&str; 18] = [
    "floor-http",
    "floor-sqlite",
    "enroll-v2",
    "enroll-v1",
    "checkout",
    "enroll-v2-key",
    "checkout-key",
    "token",
    "mixed",
    "bulk-10k",
    "bulk-100k",
    "roster-deep",
    "startup",
    "startup-1m",
    "logins",
    "idle-5k",
    "instructions",
    "instructions-key",
];

struct Options {
    scenarios: Vec<String>,
    clients: usize,
    seconds: f64,
    json: Option<PathBuf>,
    url: Option<String>,
    db: Option<PathBuf>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

const USAGE: &str =
    "rollcall-bench: throughput, latency and memory of a release rollcall, with the floors measured in the same run.

Usage:
  rollcall-bench [--scenario NAME,NAME…|all] [--clients 32] [--duration 10] [--json out.json]
  rollcall-bench --url http://127.0.0.1:PORT --db PATH --client-id ID --client-secret SECRET [--scenario …]
  rollcall-bench --help

Scenarios: floor-http, floor-sqlite, enroll-v2, enroll-v1, checkout, enroll-v2-key, checkout-key, token,
mixed, bulk-10k, bulk-100k, roster-deep, startup, startup-1m, logins, idle-5k, instructions,
instructions-key (default: all). Each starts once the server's queued emails and tasks are done. --duration is seconds per scenario (at most 120).
Without --url it starts the rollcall binary beside it on a throwaway database (build both
with `cargo build --release`). With --url it drives a server you started (loopback only) and seeds
through that server's database file. BENCHMARKS.md explains the numbers.";

fn options() -> Options {
    let mut o = Options {
        scenarios: SCENARIOS.iter().map(|s| s.to_string()).collect(),
        clients: 32,
        seconds: 10.0,
        json: None,
        url: None,
        db: None,
        client_id: None,
        client_secret: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_else(|| die(&format!("{} needs a value", args[i])));
        match args[i].as_str() {
            "--scenario" if value == "all" => {}
            "--scenario" => {
                o.scenarios = value.split(',').map(str::to_owned).collect();
                if let Some(bad) = o.scenarios.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    die(&format!("unknown scenario {bad}; known: {}", SCENARIOS.join(", ")));
                }
            }
            "--clients" => o.clients = value.parse().unwrap_or_else(|_| die("--clients N")),
            "--duration" => o.seconds = value.parse::<f64>().unwrap_or_else(|_| die("--duration S")).min(120.0),
            "--json" => o.json = Some(PathBuf::from(value)),
            "--url" => {
                let host = value.strip_prefix("http://").unwrap_or_else(|| die("--url http://127.0.0.1:PORT"));
                let host = host.trim_end_matches('/');
                let ip = host.rsplit_once(':').map(|(ip, _)| ip.trim_matches(['[', ']'])).unwrap_or(host);
                if !ip.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) && ip != "localhost" {
                    die("--url must name a loopback address: the load would otherwise cross a network");
                }
                o.url = Some(host.to_owned());
            }
            "--db" => o.db = Some(PathBuf::from(value)),
            "--client-id" => o.client_id = Some(value),
            "--client-secret" => o.client_secret = Some(value),
            other => die(&format!("unknown argument {other}")),
        }
        i += 2;
    }
    if o.url.is_some() && (o.db.is_none() || o.client_id.is_none() || o.client_secret.is_none()) {
        die("--url needs --db (the server's database, for seeding), --client-id and --client-secret");
    }
    o
}

fn die(message: &str) -> ! {
    eprintln!("rollcall-bench: {message}");
    std::process::exit(2)
}

#[derive(Default)]
struct Stats {
    latencies_us: Vec<u32>,
    errors: usize,
    seconds: f64,
    peak_rss_mb: f64,
    /// Work done when it is not one item a latency (a bulk task: learners enrolled).
    items: Option<usize>,
    /// Scenario-specific figures, added to the stable keys.
    extra: Map<String, Value>,
}

impl Stats {
    fn json(&mut self) -> Value {
        self.latencies_us.sort_unstable();
        let l = &self.latencies_us;
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(0) as f64 / 1000.0
        };
        let items = self.items.unwrap_or(l.len()) as f64;
        let mut out = json!({"throughput_per_s": (items / self.seconds).round(), "p50_ms": pct(0.5), "p90_ms": pct(0.9),
            "p99_ms": pct(0.99), "max_ms": l.last().copied().unwrap_or(0) as f64 / 1000.0, "errors": self.errors,
            "peak_rss_mb": (self.peak_rss_mb * 10.0).round() / 10.0, "seconds": (self.seconds * 10.0).round() / 10.0});
        out.as_object_mut().unwrap().extend(self.extra.clone());
        out
    }
}

/// The server under load: one this tool started on a fresh database, or (`--url`) one
/// already running.
struct Server {
    child: Option<Child>,
    pid: Option<u32>,
    /// Scratch space for this run (the database too, when the server is ours).
    dir: PathBuf,
    db: PathBuf,
    host: String,
    client_id: String,
    client_secret: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        // What the server warned of (its log is about to go with the scratch directory).
        let said = std::fs::read_to_string(self.db.with_extension("log")).unwrap_or_default();
        let lines: Vec<&str> = said.lines().collect();
        for line in &lines[lines.len().saturating_sub(40)..] {
            eprintln!("rollcall-bench: the server logged: {line}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rollcall_binary() -> PathBuf {
    let binary = std::env::current_exe().expect("own path").with_file_name("rollcall");
    if !binary.exists() {
        die(&format!("{} is missing: cargo build --release first", binary.display()));
    }
    binary
}

/// Reads the `listening on` line of a starting server.
fn listening_address(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().and_then(Result::ok).unwrap_or_else(|| die("rollcall exited before listening"));
        if let Some(addr) = line.strip_prefix("listening on http://") {
            break addr.to_owned();
        }
    }
}

/// Starts `rollcall serve` on `db` (through `wrapper`, e.g. valgrind, when given) and reads
/// its address and first-start credentials.
fn spawn_server(dir: &Path, db: &Path, wrapper: &[&str]) -> (Child, String, String, String) {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(rollcall_binary());
            c
        }
        None => Command::new(rollcall_binary()),
    };
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .env("ROLLCALL_RATE_LIMITS_ENABLED", "false")
        .env("ROLLCALL_SERVER_MAX_BODY_BYTES", "16777216")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        // The server's warnings and errors, for a run whose errors column is not 0.
        .stderr(std::fs::File::create(db.with_extension("log")).map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
        .spawn()
        .expect("start rollcall");
    let host = listening_address(&mut child);
    let name = db.file_name().unwrap().to_string_lossy();
    let secrets =
        std::fs::read_to_string(dir.join(format!("{name}.first-start-credentials"))).expect("credentials file");
    let value = |key: &str| secrets.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or("").to_owned();
    (child, host, value("client_id"), value("client_secret"))
}

impl Server {
    fn start(o: &Options) -> Server {
        let dir = std::env::temp_dir().join(format!("rollcall-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = match (&o.url, &o.db, &o.client_id, &o.client_secret) {
            (Some(host), Some(db), Some(id), Some(secret)) => Server {
                child: None,
                pid: pid_listening_on(host),
                dir,
                db: db.clone(),
                host: host.clone(),
                client_id: id.clone(),
                client_secret: secret.clone(),
                token: String::new(),
            },
            _ => {
                let db = dir.join("bench.db");
                let (child, host, client_id, client_secret) = spawn_server(&dir, &db, &[]);
                Server {
                    pid: Some(child.id()),
                    child: Some(child),
                    dir,
                    db,
                    host,
                    client_id,
                    client_secret,
                    token: String::new(),
                }
            }
        };
        server.token = server.fetch_token();
        server
    }

    /// An `Authorization` value for the bench client: a fresh JWT.
    fn fetch_token(&self) -> String {
        let body = self.token_body();
        let reply = request(
            &self.host,
            "POST",
            "/oauth2/access_token",
            &[],
            Some(("application/x-www-form-urlencoded", &body)),
        );
        let token: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
        format!("JWT {}", token["access_token"].as_str().unwrap_or_else(|| die(&format!("no token: {reply}"))))
    }

    fn token_body(&self) -> String {
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&token_type=jwt",
            self.client_id, self.client_secret
        )
    }

    fn rss_mb(&self, field: &str) -> f64 {
        let Some(pid) = self.pid else { return 0.0 };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }

    fn peak_rss_mb(&self) -> f64 {
        self.rss_mb("VmHWM:")
    }

    fn admin_post(&self, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let reply =
            request(&self.host, "POST", path, &[("Authorization", &self.token)], Some(("application/json", &body)));
        serde_json::from_str(&reply).unwrap_or(Value::Null)
    }

    fn admin_get(&self, path: &str) -> Value {
        serde_json::from_str(&request(&self.host, "GET", path, &[("Authorization", &self.token)], None))
            .unwrap_or(Value::Null)
    }

    fn create_course(&self, key: &str, extra: Value) {
        let mut body = json!({"course_key": key, "title": "Bench"});
        body.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
        let reply = self.admin_post("/api/admin/v1/courses", &body);
        assert!(reply.to_string().contains(key), "course not created: {reply}");
    }

    /// Waits (up to a minute) until the server has no background work due: the emails an
    /// earlier scenario queued (a checkout sends one each) would otherwise be delivered
    /// during the next scenario and count against it.
    fn settle(&self) {
        let conn = self.sqlite();
        let deadline = Instant::now() + Duration::from_secs(60);
        let due = || -> i64 {
            conn.query_row(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= unixepoch()) \
                 + (SELECT COUNT(*) FROM tasks WHERE status IN ('pending', 'running'))",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0)
        };
        while due() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn sqlite(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        conn
    }

    /// Learners `{prefix}0…` straight into the database (one transaction), as a migration would.
    fn seed_users(&self, prefix: &str, n: usize) {
        let mut conn = self.sqlite();
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx.prepare("INSERT INTO users (username, email, date_joined) VALUES (?1, ?2, 0)").unwrap();
            for i in 0..n {
                stmt.execute([format!("{prefix}{i}"), format!("{prefix}{i}@bench.invalid")]).unwrap();
            }
        }
        tx.commit().unwrap();
    }

    /// `n` learners enrolled in `key` straight into the database, every tenth one inactive.
    fn seed_enrollments(&self, key: &str, prefix: &str, n: usize) {
        self.seed_users(prefix, n);
        let conn = self.sqlite();
        let course: i64 = conn.query_row("SELECT id FROM courses WHERE course_key = ?1", [key], |r| r.get(0)).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.execute(
            "INSERT INTO enrollments (user_id, course_id, mode, is_active, course_seq, created, updated) \
             SELECT id, ?1, 'audit', 1, ROW_NUMBER() OVER (ORDER BY id), 0, 0 FROM users WHERE username GLOB ?2",
            rusqlite::params![course, format!("{prefix}[0-9]*")],
        )
        .unwrap();
        conn.execute("UPDATE enrollments SET is_active = 0 WHERE course_id = ?1 AND course_seq % 10 = 0", [course])
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        // As after an import: the bulk load's pages leave the WAL for the database file, so
        // the next start does not pay for them.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    }
}

/// The process listening on a loopback port (for its RSS), from /proc/net/tcp's socket inode.
fn pid_listening_on(host: &str) -> Option<u32> {
    let port: u16 = host.rsplit_once(':')?.1.parse().ok()?;
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port =
                f.get(1).and_then(|a| a.rsplit_once(':')).and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) && f.get(3) == Some(&"0A") {
                inodes.push(format!("socket:[{}]", f.get(9)?));
            }
        }
    }
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = proc_entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|t| inodes.iter().any(|i| t.to_string_lossy() == *i)) {
                return Some(pid);
            }
        }
    }
    None
}

/// One request on a fresh connection, for set-up; the body of the answer.
fn request(host: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<(&str, &str)>) -> String {
    let mut stream = TcpStream::connect(host).expect("connect");
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((kind, body)) = body {
        text.push_str(&format!("Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        text.push_str("\r\n");
    }
    stream.write_all(text.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

fn read_status(reader: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(status)
}

/// `clients` keep-alive connections, each sending `make(client, n)` (a whole raw request)
/// one after another until the time is up. A non-2xx answer counts as an error.
fn drive(
    server: &Server,
    clients: usize,
    seconds: f64,
    make: Arc<dyn Fn(usize, usize) -> String + Send + Sync>,
) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let (stop, make, host) = (stop.clone(), make.clone(), server.host.clone());
            std::thread::spawn(move || {
                // Clients arrive 10 ms apart, as they do in practice.
                std::thread::sleep(Duration::from_millis(10 * c as u64));
                let connect = || {
                    let s = TcpStream::connect(&host).expect("connect");
                    s.set_nodelay(true).ok();
                    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                    s
                };
                let mut stream = connect();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut latencies, mut errors) = (Vec::with_capacity(50_000), 0usize);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let req = make(c, n);
                    n += 1;
                    let t = Instant::now();
                    match stream.write_all(req.as_bytes()).and_then(|_| read_status(&mut reader)) {
                        Ok(status) if (200..300).contains(&status) => latencies.push(t.elapsed().as_micros() as u32),
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            stream = connect();
                            reader = BufReader::new(stream.try_clone().unwrap());
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut stats = Stats::default();
    for w in workers {
        let (l, e) = w.join().unwrap();
        stats.latencies_us.extend(l);
        stats.errors += e;
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.peak_rss_mb = server.peak_rss_mb();
    stats
}

/// Start to the first 200 on `/health`, ten times: of `serve --ephemeral` (an empty
/// database) or, given `db`, of a second server on that database. The "latency" is each
/// start-up.
fn startup(db: Option<&Path>) -> Stats {
    let mut stats = Stats::default();
    let started = Instant::now();
    for _ in 0..10 {
        let t = Instant::now();
        let mut command = Command::new(rollcall_binary());
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        match db {
            Some(db) => command.arg("--db").arg(db),
            None => command.arg("--ephemeral"),
        };
        let mut child = command
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rollcall");
        let host = listening_address(&mut child);
        let healthy = (0..1000).any(|_| {
            let ok = TcpStream::connect(&host).is_ok_and(|mut s| {
                let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                read_status(&mut BufReader::new(s)).is_ok_and(|status| status == 200)
            });
            if !ok {
                std::thread::sleep(Duration::from_millis(1));
            }
            ok
        });
        if healthy {
            stats.latencies_us.push(t.elapsed().as_micros() as u32);
        } else {
            stats.errors += 1;
        }
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let _ = child.wait();
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats
}

/// SQLite's own floor on this disk: one transaction per enrollment-shaped row, WAL,
/// synchronous=FULL (Rollcall's default), one writer (SQLite admits one at a time).
fn floor_sqlite(dir: &Path, seconds: f64) -> Stats {
    let path = dir.join("floor.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS enrollments (id INTEGER PRIMARY KEY, \
         user_id INTEGER NOT NULL, course_id INTEGER NOT NULL, mode TEXT NOT NULL, is_active INTEGER NOT NULL, course_seq INTEGER, \
         created INTEGER NOT NULL, updated INTEGER NOT NULL, UNIQUE (user_id, course_id));",
    )
    .unwrap();
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut i: i64 = 0;
    while started.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.prepare_cached("INSERT INTO enrollments (user_id, course_id, mode, is_active, course_seq, created, updated) VALUES (?1, 1, 'audit', 1, ?1, 0, 0)")
            .unwrap()
            .execute([i])
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        stats.latencies_us.push(t.elapsed().as_micros() as u32);
        i += 1;
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats
}

/// Names this run's courses and learners apart from an earlier run's (`--url` reuses a
/// database).
fn tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let mut n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 46_656;
        let mut out = String::from("r");
        for _ in 0..3 {
            out.push(char::from_digit((n % 36) as u32, 36).unwrap());
            n /= 36;
        }
        out
    })
}

/// A whole raw HTTP/1.1 request on a keep-alive connection.
fn raw(host: &str, method: &str, path: &str, auth: &str, body: Option<(&str, &str)>) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n");
    match body {
        Some((kind, body)) => {
            text.push_str(&format!("Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}", body.len()))
        }
        None => text.push_str("\r\n"),
    }
    text
}

/// A request with an `Idempotency-Key` header (after its request line), for the keyed
/// scenarios: what a key costs is their throughput against the unkeyed ones.
fn with_idempotency_key(request: String, key: &str) -> String {
    match request.split_once("\r\n") {
        Some((line, rest)) => format!("{line}\r\nIdempotency-Key: {key}\r\n{rest}"),
        None => request,
    }
}

fn enroll_request(host: &str, auth: &str, v2: bool, key: &str, user: &str) -> String {
    if v2 {
        let body = json!({"identifiers": [user]}).to_string();
        raw(
            host,
            "POST",
            &format!("/api/enrollment/v2/courses/{key}/enrollments"),
            auth,
            Some(("application/json", &body)),
        )
    } else {
        let body = json!({"user": user, "course_details": {"course_id": key}}).to_string();
        raw(host, "POST", "/api/enrollment/v1/enrollment", auth, Some(("application/json", &body)))
    }
}

fn checkout_body(email: &str, code: &str) -> String {
    let year =
        1970 + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 31_556_952 + 2;
    json!({
        "student": {"email": email, "first_name": "Bench", "last_name": "Learner"},
        "course": {"code": code},
        "payment": {"amount": 10.00, "currency": "USD", "method": "credit_card",
            "card": {"number": "4242424242424242", "holder_name": "Bench Learner", "expiry_month": 12, "expiry_year": year, "cvv": "123"},
            "billing_address": {"same_as_student": true}},
        "enrollment": {"start_immediately": true, "send_welcome_email": true}
    })
    .to_string()
}

/// One v2 request for `n` existing learners (a 202 and a background task), polled until
/// the task is done; throughput is learners per second.
fn bulk(server: &Server, n: usize) -> Stats {
    let (key, prefix) = (format!("course-v1:Bench{}+Bulk{n}+2026", tag()), format!("{}bulk{n}x", tag()));
    server.create_course(&key, json!({}));
    server.seed_users(&prefix, n);
    let identifiers: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let started = Instant::now();
    let accepted = server.admin_post(
        &format!("/api/enrollment/v2/courses/{key}/enrollments"),
        &json!({"identifiers": identifiers, "email_students": true}),
    );
    let status_url = accepted["status_url"].as_str().unwrap_or_else(|| die(&format!("no task: {accepted}"))).to_owned();
    let task = loop {
        let task = server.admin_get(&format!("{status_url}?page_size=1"));
        if task["status"] == "succeeded" || task["status"] == "failed" || task["status"] == "cancelled" {
            break task;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    Stats {
        latencies_us: vec![took.as_micros() as u32],
        errors: task["progress"]["failed"].as_u64().unwrap_or(n as u64) as usize,
        seconds: took.as_secs_f64(),
        peak_rss_mb: server.peak_rss_mb(),
        items: Some(task["progress"]["succeeded"].as_u64().unwrap_or(0) as usize),
        extra: Map::new(),
    }
}

fn deep_course() -> String {
    format!("course-v1:Bench{}+Deep+2026", tag())
}
const DEEP_ROWS: usize = 1_000_000;

/// 1,000,000 enrollments (every tenth inactive) in one course, once per run.
fn seed_deep(server: &Server, seeded: &mut bool) {
    if !*seeded {
        eprintln!("rollcall-bench: seeding {DEEP_ROWS} enrollments…");
        server.create_course(&deep_course(), json!({}));
        server.seed_enrollments(&deep_course(), &format!("{}deep", tag()), DEEP_ROWS);
        *seeded = true;
    }
}

/// Page 1, page 10,000 and the last page of the 1,000,000-row roster, unfiltered and
/// `status=active`: each driven on its own.
fn roster_deep(server: &Server, o: &Options) -> Vec<(String, Stats)> {
    let size = 25;
    let last_all = DEEP_ROWS.div_ceil(size);
    let last_active = (DEEP_ROWS - DEEP_ROWS / 10).div_ceil(size);
    let cases = [
        ("page-1", String::new(), 1),
        ("page-10000", String::new(), 10_000),
        ("page-last", String::new(), last_all),
        ("active-page-1", "&status=active".to_owned(), 1),
        ("active-page-10000", "&status=active".to_owned(), 10_000),
        ("active-page-last", "&status=active".to_owned(), last_active),
    ];
    let mut out = Vec::new();
    for (name, filter, page) in cases {
        let path =
            format!("/api/enrollment/v2/courses/{}/enrollments?page_size={size}&page={page}{filter}", deep_course());
        let request = raw(&server.host, "GET", &path, &server.token, None);
        let stats = drive(server, o.clients, (o.seconds / 2.0).max(2.0), Arc::new(move |_, _| request.clone()));
        out.push((format!("roster-deep/{name}"), stats));
    }
    out
}

/// 80 % reads and 20 % writes across the surfaces, on a course of 10,000 learners.
fn mixed(server: &Server, o: &Options) -> Stats {
    let (key, read, write) =
        (format!("course-v1:Bench{}+Mixed+2026", tag()), format!("{}m", tag()), format!("{}w", tag()));
    server.create_course(&key, json!({}));
    server.seed_enrollments(&key, &read, 10_000);
    server.seed_users(&write, o.clients * 20_000);
    let (host, auth, clients) = (server.host.clone(), server.token.clone(), o.clients);
    drive(
        server,
        o.clients,
        o.seconds,
        Arc::new(move |c, n| {
            let k = n * clients + c;
            let (key, learner) = (key.as_str(), format!("{read}{}", k % 10_000));
            match n % 10 {
                0 => enroll_request(&host, &auth, true, key, &format!("{write}{k}")),
                1 => enroll_request(&host, &auth, false, key, &format!("{write}{k}")),
                2 | 3 => raw(&host, "GET", &format!("/api/enrollment/v1/enrollment/{learner},{key}"), &auth, None),
                4 | 5 => raw(
                    &host,
                    "GET",
                    &format!("/api/enrollment/v2/courses/{key}/enrollments?page={}", k % 400 + 1),
                    &auth,
                    None,
                ),
                6 => raw(&host, "GET", "/api/courses/v1/courses/", &auth, None),
                7 => raw(&host, "GET", &format!("/api/user/v1/accounts/{learner}"), &auth, None),
                8 => raw(
                    &host,
                    "GET",
                    &format!("/api/enrollment/v1/enrollments?course_id={}", key.replace('+', "%2B")),
                    &auth,
                    None,
                ),
                _ => raw(
                    &host,
                    "GET",
                    &format!("/api/enrollment/v2/courses/{key}/enrollments?status=active&page={}", k % 300 + 1),
                    &auth,
                    None,
                ),
            }
        }),
    )
}

/// 50 concurrent password logins at the server's argon2 cost, then 3 s idle: the memory
/// the hashes took must come back.
fn logins(server: &Server) -> Stats {
    let (password, username) = ("bench-login-password-1", format!("{}login", tag()));
    server.admin_post(
        "/api/admin/v1/users",
        &json!({"username": username, "email": format!("{username}@bench.invalid"), "password": password}),
    );
    let before = server.rss_mb("VmRSS:");
    let started = Instant::now();
    let body = format!("username={username}&password={password}");
    let workers: Vec<_> = (0..50)
        .map(|_| {
            let (host, body) = (server.host.clone(), body.clone());
            std::thread::spawn(move || {
                let t = Instant::now();
                let mut stream = TcpStream::connect(&host).expect("connect");
                let text = format!("POST /login HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                let ok = stream.write_all(text.as_bytes()).is_ok()
                    && read_status(&mut BufReader::new(stream)).is_ok_and(|s| (200..400).contains(&s));
                (ok, t.elapsed().as_micros() as u32)
            })
        })
        .collect();
    let mut stats = Stats::default();
    for w in workers {
        let (ok, took) = w.join().unwrap();
        if ok {
            stats.latencies_us.push(took);
        } else {
            stats.errors += 1;
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.peak_rss_mb = server.peak_rss_mb();
    let right_after = server.rss_mb("VmRSS:");
    std::thread::sleep(Duration::from_secs(3));
    let round = |v: f64| (v * 10.0).round() / 10.0;
    stats.extra.insert("rss_before_mb".into(), json!(round(before)));
    stats.extra.insert("rss_after_mb".into(), json!(round(right_after)));
    stats.extra.insert("rss_after_idle_mb".into(), json!(round(server.rss_mb("VmRSS:"))));
    stats
}

/// CPU instructions the server executes per v2 enrollment, counted by callgrind around
/// `COUNTED` sequential requests (after a warm-up, so start-up and first compilations are
/// not in it). Unlike throughput it does not move with the machine's load: it shows what a
/// change to the write path costs, and it is reported next to the throughput ratio.
/// `keyed`: every request with its own `Idempotency-Key`, so the pair shows what a key costs.
fn instructions(server: &Server, keyed: bool) -> Stats {
    const WARM_UP: usize = 200;
    const COUNTED: usize = 1000;
    let mut stats = Stats::default();
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("rollcall-bench: instructions needs valgrind (apt-get install valgrind); skipped");
        stats.errors = 1;
        return stats;
    }
    let dir = server.dir.join(if keyed { "instructions-key" } else { "instructions" });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (db, out) = (dir.join("counted.db"), dir.join("callgrind.out"));
    let out_flag = format!("--callgrind-out-file={}", out.display());
    let (mut child, host, id, secret) =
        spawn_server(&dir, &db, &["valgrind", "--tool=callgrind", "--instr-atstart=no", &out_flag]);
    let mut counted = Server {
        pid: Some(child.id()),
        child: None,
        dir: dir.clone(),
        db,
        host,
        client_id: id,
        client_secret: secret,
        token: String::new(),
    };
    let auth = counted.fetch_token();
    let key = format!("course-v1:Bench{}+Count+2026", tag());
    counted.token = auth.clone();
    counted.create_course(&key, json!({}));
    counted.seed_users("counted", WARM_UP + COUNTED);
    let enroll = |n: usize| {
        let mut stream = TcpStream::connect(&counted.host).expect("connect");
        let learner = format!("counted{n}");
        let mut text = enroll_request(&counted.host, &auth, true, &key, &learner);
        if keyed {
            text = with_idempotency_key(text, &learner);
        }
        stream.write_all(text.as_bytes()).unwrap();
        read_status(&mut BufReader::new(stream)).is_ok_and(|s| s == 200)
    };
    let callgrind = |args: &[&str]| {
        Command::new("callgrind_control").args(args).arg(child.id().to_string()).output().map(|o| o.status.success())
    };
    let started = Instant::now();
    let warm = (0..WARM_UP).filter(|n| enroll(*n)).count();
    let on = callgrind(&["--instr=on"]).unwrap_or(false);
    let ok = (WARM_UP..WARM_UP + COUNTED).filter(|n| enroll(*n)).count();
    let dumped = callgrind(&["--dump"]).unwrap_or(false);
    stats.seconds = started.elapsed().as_secs_f64();
    stats.errors = (WARM_UP - warm) + (COUNTED - ok) + usize::from(!on) + usize::from(!dumped);
    // The dump is `callgrind.out.<n>`; its `summary:` (or `totals:`) line holds the count.
    let total: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("callgrind.out"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("summary: ").or_else(|| l.strip_prefix("totals: ")))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .max()
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    // To read the profile itself (`callgrind_annotate`, with a build that has symbols:
    // `cargo build --profile profiling`), name a directory to keep the dumps in.
    if let Some(keep) = std::env::var_os("ROLLCALL_BENCH_KEEP_CALLGRIND") {
        let keep = PathBuf::from(keep);
        let _ = std::fs::create_dir_all(&keep);
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("callgrind.out") {
                let _ = std::fs::copy(entry.path(), keep.join(entry.file_name()));
            }
        }
    }
    stats.items = Some(ok);
    stats.extra.insert("instructions_per_enrollment".into(), json!(total / COUNTED.max(1) as u64));
    stats
}

/// 5,000 keep-alive connections, each answered once and then left idle: the server's RSS
/// with them open (target < 100 MB), and a `/health` probe on a fresh connection meanwhile.
fn idle_connections(server: &Server) -> Stats {
    raise_own_fd_limit();
    let before = server.rss_mb("VmRSS:");
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut held = Vec::with_capacity(5_000);
    for _ in 0..5_000 {
        let t = Instant::now();
        let Ok(stream) = TcpStream::connect(&server.host) else {
            stats.errors += 1;
            continue;
        };
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut reader = BufReader::new(stream);
        let request = format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", server.host);
        match reader.get_mut().write_all(request.as_bytes()).and_then(|_| read_status(&mut reader)) {
            Ok(200) => stats.latencies_us.push(t.elapsed().as_micros() as u32),
            _ => stats.errors += 1,
        }
        held.push(reader);
    }
    stats.seconds = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    let with_idle = server.rss_mb("VmRSS:");
    let t = Instant::now();
    let probe = request(&server.host, "GET", "/health", &[], None);
    let probe_ms = t.elapsed().as_secs_f64() * 1000.0;
    if !probe.contains("\"ok\"") {
        stats.errors += 1;
    }
    stats.peak_rss_mb = server.peak_rss_mb();
    drop(held);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    stats.extra.insert("rss_before_mb".into(), json!(round(before)));
    stats.extra.insert("rss_with_5000_idle_mb".into(), json!(round(with_idle)));
    stats.extra.insert("health_probe_ms_while_idle".into(), json!(round(probe_ms)));
    stats
}

/// The client side of `idle-5k` holds 5,000 sockets too.
fn raise_own_fd_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn main() {
    let o = options();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut results = Map::new();
    let server = Server::start(&o);
    let mut deep_seeded = false;
    for scenario in &o.scenarios {
        server.settle();
        eprintln!("rollcall-bench: {scenario} ({} clients, {} s)…", o.clients, o.seconds);
        let (host, auth) = (server.host.clone(), server.token.clone());
        let runs: Vec<(String, Stats)> = match scenario.as_str() {
            "floor-http" => {
                let request = format!("GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n");
                vec![(scenario.clone(), drive(&server, o.clients, o.seconds, Arc::new(move |_, _| request.clone())))]
            }
            "floor-sqlite" => vec![(scenario.clone(), floor_sqlite(&server.dir, o.seconds))],
            "startup" => vec![(scenario.clone(), startup(None))],
            "startup-1m" => {
                seed_deep(&server, &mut deep_seeded);
                vec![(scenario.clone(), startup(Some(&server.db)))]
            }
            "enroll-v2" | "enroll-v1" | "enroll-v2-key" => {
                let v2 = scenario.starts_with("enroll-v2");
                let keyed = scenario.ends_with("-key");
                let variant = if keyed {
                    "V2K"
                } else if v2 {
                    "V2"
                } else {
                    "V1"
                };
                let key = format!("course-v1:Bench{}+{variant}+2026", tag());
                let prefix = format!(
                    "{}{}",
                    tag(),
                    if keyed {
                        "k"
                    } else if v2 {
                        "a"
                    } else {
                        "b"
                    }
                );
                server.create_course(&key, json!({}));
                // Enough distinct learners for the run: every request enrolls a new one.
                server.seed_users(&prefix, o.clients * 40_000);
                let clients = o.clients;
                let stats = drive(
                    &server,
                    o.clients,
                    o.seconds,
                    Arc::new(move |c, n| {
                        let learner = format!("{prefix}{}", n * clients + c);
                        let request = enroll_request(&host, &auth, v2, &key, &learner);
                        if keyed {
                            with_idempotency_key(request, &learner)
                        } else {
                            request
                        }
                    }),
                );
                vec![(scenario.clone(), stats)]
            }
            "checkout" | "checkout-key" => {
                let keyed = scenario.ends_with("-key");
                let code = format!("BC{}{}", tag(), if keyed { "K" } else { "" });
                server.create_course(
                    &format!("course-v1:Bench{}+Checkout{}+2026", tag(), if keyed { "K" } else { "" }),
                    json!({"code": code, "price": "10.00", "modes": [{"slug": "audit"}, {"slug": "verified", "min_price": "10.00"}]}),
                );
                let clients = o.clients;
                let stats = drive(
                    &server,
                    o.clients,
                    o.seconds,
                    Arc::new(move |c, n| {
                        let who = format!("{}checkout{}{}", tag(), if keyed { "k" } else { "" }, n * clients + c);
                        let body = checkout_body(&format!("{who}@bench.invalid"), &code);
                        let request =
                            raw(&host, "POST", "/api/v1/enrollments", &auth, Some(("application/json", &body)));
                        if keyed {
                            with_idempotency_key(request, &who)
                        } else {
                            request
                        }
                    }),
                );
                vec![(scenario.clone(), stats)]
            }
            "token" => {
                let body = server.token_body();
                let stats = drive(
                    &server,
                    o.clients,
                    o.seconds,
                    Arc::new(move |_, _| {
                        format!("POST /oauth2/access_token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                    }),
                );
                vec![(scenario.clone(), stats)]
            }
            "mixed" => vec![(scenario.clone(), mixed(&server, &o))],
            "bulk-10k" => vec![(scenario.clone(), bulk(&server, 10_000))],
            "bulk-100k" => vec![(scenario.clone(), bulk(&server, 100_000))],
            "roster-deep" => {
                seed_deep(&server, &mut deep_seeded);
                roster_deep(&server, &o)
            }
            "logins" => vec![(scenario.clone(), logins(&server))],
            "idle-5k" => vec![(scenario.clone(), idle_connections(&server))],
            "instructions" => vec![(scenario.clone(), instructions(&server, false))],
            "instructions-key" => vec![(scenario.clone(), instructions(&server, true))],
            _ => unreachable!("checked in options()"),
        };
        for (name, mut stats) in runs {
            let result = stats.json();
            eprintln!("  {name}: {result}");
            results.insert(name, result);
        }
    }
    let mut ratios = Map::new();
    if let (Some(floor), Some(enroll)) = (results.get("floor-sqlite"), results.get("enroll-v2")) {
        let ratio = enroll["throughput_per_s"].as_f64().unwrap_or(0.0)
            / floor["throughput_per_s"].as_f64().unwrap_or(1.0).max(1.0);
        eprintln!("rollcall-bench: enroll-v2 / floor-sqlite = {ratio:.2}");
        ratios.insert("enroll-v2/floor-sqlite".into(), json!((ratio * 100.0).round() / 100.0));
    }
    let report = json!({
        "machine": {"cpus": cpus, "os": std::env::consts::OS, "arch": std::env::consts::ARCH, "clients": o.clients,
            "duration_s": o.seconds, "target": if o.url.is_some() { "url" } else { "own server, fresh database" }},
        "scenarios": results,
        "ratios": ratios,
    });
    let text = serde_json::to_string_pretty(&report).unwrap();
    match &o.json {
        Some(path) => std::fs::write(path, text).unwrap_or_else(|e| die(&format!("{}: {e}", path.display()))),
        None => println!("{text}"),
    }
}
