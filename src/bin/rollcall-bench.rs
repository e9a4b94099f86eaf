//! `rollcall-bench`: starts a release `rollcall` on a fresh database, seeds what each
//! scenario needs, drives it over loopback with keep-alive clients (raw HTTP/1.1, so the
//! client costs little of the cores it shares with the server) and reports throughput,
//! latency percentiles, errors and the server's peak RSS. The floors are measured in the
//! same run, so the ratios hold on a noisy machine.
//!
//! cargo run --release --bin rollcall-bench -- [--scenario floor-http,floor-sqlite,enroll-v2,…|all]
//!     [--clients 32] [--duration 10] [--json out.json]

use serde_json::{json, Map, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCENARIOS: [&str; 6] = ["floor-http", "floor-sqlite", "enroll-v2", "enroll-v1", "token", "startup"];

struct Options {
    scenarios: Vec<String>,
    clients: usize,
    seconds: f64,
    json: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        scenarios: SCENARIOS.iter().map(|s| s.to_string()).collect(),
        clients: 32,
        seconds: 10.0,
        json: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
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
            other => die(&format!("unknown argument {other}")),
        }
        i += 2;
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
}

impl Stats {
    fn json(&mut self) -> Value {
        self.latencies_us.sort_unstable();
        let l = &self.latencies_us;
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(0) as f64 / 1000.0
        };
        json!({"throughput_per_s": (l.len() as f64 / self.seconds).round(), "p50_ms": pct(0.5), "p90_ms": pct(0.9),
            "p99_ms": pct(0.99), "max_ms": l.last().copied().unwrap_or(0) as f64 / 1000.0, "errors": self.errors,
            "peak_rss_mb": (self.peak_rss_mb * 10.0).round() / 10.0, "seconds": (self.seconds * 10.0).round() / 10.0})
    }
}

struct Server {
    child: Child,
    dir: PathBuf,
    host: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn start() -> Server {
        let binary = std::env::current_exe().expect("own path").with_file_name("rollcall");
        if !binary.exists() {
            die(&format!("{} is missing: cargo build --release first", binary.display()));
        }
        let dir = std::env::temp_dir().join(format!("rollcall-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("bench.db");
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("ROLLCALL_RATE_LIMITS_ENABLED", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rollcall");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let host = loop {
            let line = lines.next().and_then(Result::ok).unwrap_or_else(|| die("rollcall exited before listening"));
            if let Some(addr) = line.strip_prefix("listening on http://") {
                break addr.to_owned();
            }
        };
        let secrets = std::fs::read_to_string(dir.join("bench.db.first-start-credentials")).expect("credentials file");
        let value =
            |key: &str| secrets.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or("").to_owned();
        let body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&token_type=jwt",
            value("client_id"),
            value("client_secret")
        );
        let reply =
            request(&host, "POST", "/oauth2/access_token", &[], Some(("application/x-www-form-urlencoded", &body)));
        let token: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
        let token = format!("JWT {}", token["access_token"].as_str().unwrap_or_else(|| die("no token")));
        Server { child, dir, host, token }
    }

    fn db(&self) -> PathBuf {
        self.dir.join("bench.db")
    }

    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }

    fn create_course(&self, key: &str) {
        let body = json!({"course_key": key, "title": "Bench"}).to_string();
        let reply = request(
            &self.host,
            "POST",
            "/api/admin/v1/courses",
            &[("Authorization", &self.token)],
            Some(("application/json", &body)),
        );
        assert!(reply.contains(key), "course not created: {reply}");
    }

    /// Learners `{prefix}0…` straight into the database (one transaction), as a migration would.
    fn seed_users(&self, prefix: &str, n: usize) {
        let mut conn = rusqlite::Connection::open(self.db()).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx.prepare("INSERT INTO users (username, email, date_joined) VALUES (?1, ?2, 0)").unwrap();
            for i in 0..n {
                stmt.execute([format!("{prefix}{i}"), format!("{prefix}{i}@bench.invalid")]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
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
                // Clients arrive 10 ms apart, as they do in practice: tiny_http's pool can
                // park one of a same-instant burst until another connection closes (the idle
                // deadline bounds that wait; see BENCHMARKS.md).
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

/// Start to `listening on` of `serve --ephemeral` (an empty database), ten times; the
/// "latency" is each start-up.
fn startup() -> Stats {
    let binary = std::env::current_exe().expect("own path").with_file_name("rollcall");
    let mut stats = Stats::default();
    let started = Instant::now();
    for _ in 0..10 {
        let t = Instant::now();
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--ephemeral"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rollcall");
        let listening = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .any(|l| l.starts_with("listening on "));
        if listening {
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

fn main() {
    let o = options();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut results = Map::new();
    let server = Server::start();
    for scenario in &o.scenarios {
        eprintln!("rollcall-bench: {scenario} ({} clients, {} s)…", o.clients, o.seconds);
        let mut stats = match scenario.as_str() {
            "floor-http" => {
                let host = server.host.clone();
                drive(
                    &server,
                    o.clients,
                    o.seconds,
                    Arc::new(move |_, _| format!("GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n")),
                )
            }
            "floor-sqlite" => floor_sqlite(&server.dir, o.seconds),
            "startup" => startup(),
            "enroll-v2" | "enroll-v1" => {
                let v2 = scenario == "enroll-v2";
                let key = if v2 { "course-v1:Bench+V2+2026" } else { "course-v1:Bench+V1+2026" };
                let prefix = if v2 { "a" } else { "b" };
                server.create_course(key);
                // Enough distinct learners for the run: every request enrolls a new one.
                server.seed_users(prefix, o.clients * 40_000);
                let (auth, host, clients) = (server.token.clone(), server.host.clone(), o.clients);
                drive(
                    &server,
                    o.clients,
                    o.seconds,
                    Arc::new(move |c, n| {
                        let user = format!("{prefix}{}", n * clients + c);
                        let (path, body) = if v2 {
                            (
                                format!("/api/enrollment/v2/courses/{key}/enrollments"),
                                json!({"identifiers": [user]}).to_string(),
                            )
                        } else {
                            (
                                "/api/enrollment/v1/enrollment".to_owned(),
                                json!({"user": user, "course_details": {"course_id": key}}).to_string(),
                            )
                        };
                        format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                    }),
                )
            }
            "token" => {
                let secrets = std::fs::read_to_string(server.dir.join("bench.db.first-start-credentials")).unwrap();
                let value = |key: &str| {
                    secrets.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or("").to_owned()
                };
                let body = format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}&token_type=jwt",
                    value("client_id"),
                    value("client_secret")
                );
                let host = server.host.clone();
                drive(
                    &server,
                    o.clients,
                    o.seconds,
                    Arc::new(move |_, _| {
                        format!("POST /oauth2/access_token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                    }),
                )
            }
            _ => unreachable!("checked in options()"),
        };
        let result = stats.json();
        eprintln!("  {result}");
        results.insert(scenario.clone(), result);
    }
    if let (Some(floor), Some(enroll)) = (results.get("floor-sqlite"), results.get("enroll-v2")) {
        let ratio = enroll["throughput_per_s"].as_f64().unwrap_or(0.0)
            / floor["throughput_per_s"].as_f64().unwrap_or(1.0).max(1.0);
        eprintln!("rollcall-bench: enroll-v2 / floor-sqlite = {ratio:.2}");
    }
    let report = json!({
        "machine": {"cpus": cpus, "os": std::env::consts::OS, "arch": std::env::consts::ARCH, "clients": o.clients, "duration_s": o.seconds},
        "scenarios": results,
    });
    let text = serde_json::to_string_pretty(&report).unwrap();
    match &o.json {
        Some(path) => std::fs::write(path, text).unwrap_or_else(|e| die(&format!("{}: {e}", path.display()))),
        None => println!("{text}"),
    }
}
