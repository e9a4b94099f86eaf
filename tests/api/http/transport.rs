//! The transport over raw sockets, with clients no HTTP library would be: idle, slow,
//! pipelining, never reading, malformed, or many at once (src/server/).

use crate::helpers::{wait_until, TempDir, TestApp};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A refused request's unread body (here chunked) must not be parsed as the next request
/// on the same keep-alive connection.
#[test]
fn an_unread_request_body_does_not_corrupt_the_next_request_on_the_connection() {
    use std::io::{Read, Write};
    let app = TestApp::spawn();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let refused = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let next = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    stream.write_all(refused.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stream.write_all(next.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let statuses: Vec<&str> =
        answer.match_indices("HTTP/1.1 ").map(|(i, _)| answer[i..].lines().next().unwrap()).collect();
    assert_eq!(statuses, ["HTTP/1.1 415 Unsupported Media Type", "HTTP/1.1 200 OK"], "{answer}");
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// A raw connection with a read timeout, for clients no HTTP library would be.
fn raw(app: &TestApp) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr(app)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

fn read_some(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    match stream.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) => format!("error: {e}"),
    }
}

fn quick(env: &[(&'static str, &'static str)]) -> TestApp {
    let mut all = vec![
        ("ROLLCALL_RATE_LIMITS_ENABLED", "false"),
        ("ROLLCALL_SERVER_WORKERS", "4"),
        // Longer than the body deadline: a request queued behind slow bodies is not idle.
        ("ROLLCALL_SERVER_IDLE_TIMEOUT_SECONDS", "4"),
        ("ROLLCALL_SERVER_BODY_TIMEOUT_SECONDS", "2"),
    ];
    all.extend_from_slice(env);
    TestApp::spawn_with(&all, &[])
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let app = quick(&[]);
    let mut idle = raw(&app);
    let started = Instant::now();
    assert_eq!(read_some(&mut idle), "", "closed by the server");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(3500) && waited < Duration::from_secs(8), "{waited:?}");
}

#[test]
fn slow_request_bodies_get_408_while_every_other_request_is_served() {
    use std::io::Write;
    let app = quick(&[]);
    let admin = app.admin_auth();
    let head = format!(
        "POST /api/admin/v1/courses HTTP/1.1\r\nHost: x\r\nAuthorization: {admin}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    );
    // More tricklers than request threads.
    let tricklers: Vec<_> = (0..6)
        .map(|_| {
            let mut stream = raw(&app);
            let head = head.clone();
            std::thread::spawn(move || {
                stream.write_all(head.as_bytes()).unwrap();
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(12) {
                    if stream.write_all(b" ").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                (started.elapsed(), read_some(&mut stream))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // The tricklers hold the request threads for at most the body deadline (2 s) each,
    // not forever; what queues behind them is answered.
    let started = Instant::now();
    assert_eq!(app.get("/health", None).status, 200);
    assert_eq!(app.get("/api/admin/v1/courses", Some(&admin)).status, 200);
    assert!(started.elapsed() < Duration::from_secs(8), "served while bodies trickle: {:?}", started.elapsed());
    for trickler in tricklers {
        let (took, answer) = trickler.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(took < Duration::from_secs(8), "{took:?}");
    }
}

#[test]
fn a_refused_request_is_answered_without_waiting_for_its_body() {
    use std::io::Write;
    let app = quick(&[]);
    for (path, status) in [("/api/admin/v1/courses", "401"), ("/no/such/route", "404"), ("/health", "405")] {
        let mut stream = raw(&app);
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        let answer = read_some(&mut stream);
        assert!(answer.starts_with(&format!("HTTP/1.1 {status}")), "{path}: {answer}");
        assert!(started.elapsed() < Duration::from_secs(2), "{path}: {:?}", started.elapsed());
    }
}

#[test]
fn sigterm_while_a_small_body_is_arriving_still_answers_it() {
    use std::io::Write;
    let mut app = TestApp::spawn();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&token_type=jwt",
        app.client_id, app.client_secret
    );
    let mut stream = raw(&app);
    let head = format!(
        "POST /oauth2/access_token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = app.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let answer = read_some(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(read_some(&mut stream), "", "the connection ends after the answer");
    assert!(app.child.wait().unwrap().success());
}

/// Everything the server sends until it closes the connection (or 5 s pass).
fn exchange(app: &TestApp, request: &[u8]) -> String {
    let mut stream = raw(app);
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The server may close before it has read everything (a refused head): a failed
    // write still leaves its answer to read.
    let _ = stream.write_all(request);
    read_to_end(&mut stream)
}

fn read_to_end(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server neither answered nor closed: {e}; got {:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The status lines in a stream of answers.
fn statuses(answers: &str) -> Vec<u16> {
    answers.match_indices("HTTP/1.1 ").filter_map(|(i, _)| answers[i + 9..].get(..3)?.parse().ok()).collect()
}

/// One request on a keep-alive connection; its status line and how long it took.
fn timed_health(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let answer = read_some(stream);
    (answer.lines().next().unwrap_or("").to_owned(), started.elapsed())
}

fn rss_kib(pid: u32) -> u64 {
    let out = std::process::Command::new("ps").args(["-o", "rss=", "-p", &pid.to_string()]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("no RSS for {pid}"))
}

#[test]
fn with_1024_descriptors_idle_keep_alive_connections_never_stop_the_listener() {
    let dir = TempDir::new();
    // The hard limit too: the server cannot raise it.
    let script = "ulimit -n 1024; exec \"$0\" serve --listen 127.0.0.1:0 --db \"$1\"";
    let mut child = std::process::Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_rollcall")])
        .arg(dir.db())
        .env("ROLLCALL_AUTH_ARGON2_MEMORY_KIB", "64")
        .env("ROLLCALL_AUTH_ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.0.join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let target = loop {
        let line = lines.next().expect("a listening line").unwrap();
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_owned();
        }
    };
    let connect = || {
        let stream = TcpStream::connect(&target).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    };
    let probe = || {
        let started = Instant::now();
        let mut stream = connect();
        let (status, _) = timed_health(&mut stream);
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        started.elapsed()
    };
    // 600 keep-alive connections, each answered once and then idle: one descriptor each.
    let mut held: Vec<TcpStream> = (0..600)
        .map(|_| {
            let mut stream = connect();
            assert!(timed_health(&mut stream).0.starts_with("HTTP/1.1 200"));
            stream
        })
        .collect();
    assert!(probe() < Duration::from_secs(1));
    // Past the connection cap (below the limit): the longest-idle connections are closed
    // to make room, and the listener lives on.
    held.extend((0..600).map(|_| connect()));
    assert!(probe() < Duration::from_secs(5));
    assert!(child.try_wait().unwrap().is_none(), "the server is still running");
    drop(held);
    let took = probe();
    assert!(took < Duration::from_secs(1), "{took:?}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn clients_pipelining_requests_and_never_reading_do_not_slow_anyone_else() {
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_SERVER_SEND_TIMEOUT_SECONDS", "3")],
        &[],
    );
    let pipelined = "GET /api-docs/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(40);
    let mut probe = raw(&app);
    timed_health(&mut probe);
    for clients in [1, 2, 4, 6] {
        let stalled: Vec<TcpStream> = (0..clients)
            .map(|_| {
                let mut stream = raw(&app);
                stream.write_all(pipelined.as_bytes()).unwrap();
                stream
            })
            .collect();
        // Their answers fill the socket buffers; the writes wait.
        std::thread::sleep(Duration::from_millis(500));
        let mut took: Vec<Duration> = (0..5)
            .map(|_| {
                let (status, took) = timed_health(&mut probe);
                assert!(status.starts_with("HTTP/1.1 200"), "{status}");
                took
            })
            .collect();
        took.sort();
        assert!(took[2] < Duration::from_millis(50), "{clients} stalled clients: {took:?}");
        drop(stalled);
    }
    // The send deadline (3 s here) ends a connection whose client does not read.
    let mut stalled = raw(&app);
    stalled.write_all(pipelined.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(4500));
    stalled.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let received = read_to_end(&mut stalled);
    let answered = statuses(&received).len();
    assert!((1..40).contains(&answered), "{answered} answers before the connection ended");
}

#[test]
fn sixteen_keep_alive_clients_connecting_at_once_are_all_answered_within_a_second() {
    for _ in 0..25 {
        let app = quick(&[]);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
        let clients: Vec<_> = (0..16)
            .map(|_| {
                let (target, barrier) = (addr(&app), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut stream = TcpStream::connect(target).unwrap();
                    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let first = timed_health(&mut stream);
                    let second = timed_health(&mut stream);
                    (first, second)
                })
            })
            .collect();
        for client in clients {
            for (status, took) in <[_; 2]>::from(client.join().unwrap()) {
                assert!(status.starts_with("HTTP/1.1 200"), "{status}");
                assert!(took < Duration::from_secs(1), "{took:?}");
            }
        }
    }
}

#[test]
fn ambiguous_framing_is_refused_and_nothing_after_it_is_read_as_a_request() {
    let app = quick(&[]);
    let smuggled = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    let many_fields: String = (0..101).map(|i| format!("X-Field-{i}: v\r\n")).collect();
    let cases = [
        ("POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n".to_owned(), 400),
        ("POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n".to_owned(), 400),
        (
            "POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 33\r\n\r\n".to_owned(),
            400,
        ),
        ("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 33\r\n\r\n".to_owned(), 400),
        ("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: +33\r\n\r\n".to_owned(), 400),
        ("GET /health HTTP/1.1\r\n\r\n".to_owned(), 400),
        ("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_owned(), 400),
        (format!("GET /health HTTP/1.1\r\nHost: x\r\n{many_fields}\r\n"), 431),
        (format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(33 * 1024)), 431),
        (format!("GET /health?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "q".repeat(9 * 1024)), 414),
    ];
    for (head, status) in cases {
        let answers = exchange(&app, format!("{head}{smuggled}").as_bytes());
        assert_eq!(statuses(&answers), [status], "{}: {answers}", &head[..head.len().min(80)]);
        assert!(answers.contains("Connection: close"), "{answers}");
    }
    assert_eq!(app.get("/health", None).status, 200);
}

#[test]
fn expect_continue_http_1_0_connection_close_head_chunked_bodies_and_pipelining_are_honoured() {
    let app = quick(&[]);
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&token_type=jwt",
        app.client_id, app.client_secret
    );
    // 100-continue: sent when the handler reads the body, then the answer.
    let mut stream = raw(&app);
    let head = format!(
        "POST /oauth2/access_token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        form.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    assert_eq!(read_some(&mut stream), "HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(form.as_bytes()).unwrap();
    assert!(read_some(&mut stream).starts_with("HTTP/1.1 200"));
    // A refused request is answered without the go-ahead, and its body is not awaited.
    let refused = "POST /api/admin/v1/courses HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n";
    let answers = exchange(&app, refused.as_bytes());
    assert_eq!(statuses(&answers), [401], "{answers}");
    // A chunked body.
    let chunked = format!(
        "POST /oauth2/access_token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        10,
        &form[..10],
        form.len() - 10,
        &form[10..]
    );
    let answers = exchange(&app, chunked.as_bytes());
    assert_eq!(statuses(&answers), [200], "{answers}");
    // HTTP/1.0 and Connection: close end after one answer.
    for request in ["GET /health HTTP/1.0\r\n\r\n", "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"] {
        let answers = exchange(&app, format!("{request}GET /health HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        assert_eq!(statuses(&answers), [200], "{answers}");
    }
    // HEAD: the GET's headers, no body; then pipelined requests, answered in order.
    let pipelined = "HEAD /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: p1\r\n\r\n\
        GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: p2\r\n\r\n\
        GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: p3\r\nConnection: close\r\n\r\n";
    let answers = exchange(&app, pipelined.as_bytes());
    assert_eq!(statuses(&answers), [200, 200, 404], "{answers}");
    let (head_answer, rest) = answers.split_once("\r\n\r\n").unwrap();
    assert!(head_answer.contains("Content-Length: ") && head_answer.contains("X-Request-Id: p1"), "{head_answer}");
    assert!(rest.starts_with("HTTP/1.1 200"), "no body after HEAD's head: {rest}");
    let ids: Vec<&str> = answers.lines().filter_map(|l| l.strip_prefix("X-Request-Id: ")).collect();
    assert_eq!(ids, ["p1", "p2", "p3"]);
}

#[test]
fn heads_arriving_slowly_hold_no_worker_and_end_at_the_header_deadline() {
    let app = quick(&[("ROLLCALL_SERVER_HEADER_TIMEOUT_SECONDS", "2")]);
    // More slow clients than workers (4).
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let mut stream = raw(&app);
            std::thread::spawn(move || {
                let started = Instant::now();
                stream.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
                while started.elapsed() < Duration::from_secs(8) {
                    if stream.write_all(b"X: y\r\n").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                (read_some(&mut stream), started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(app.get("/health", None).status, 200);
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    for client in slow {
        let (answer, took) = client.join().unwrap();
        assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(5), "{took:?}");
    }
}

#[test]
fn a_huge_header_line_or_ten_thousand_headers_leave_memory_as_it_was() {
    let app = quick(&[]);
    assert_eq!(app.get("/health", None).status, 200);
    let before = rss_kib(app.child.id());
    let line = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(1 << 20));
    let fields: String = (0..10_000).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    let clients: Vec<_> = [line, many]
        .into_iter()
        .flat_map(|text| std::iter::repeat_n(text, 4))
        .map(|text| {
            let target = addr(&app);
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(target).unwrap();
                stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let _ = stream.write_all(text.as_bytes());
                read_some(&mut stream)
            })
        })
        .collect();
    for client in clients {
        let answer = client.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    }
    let after = rss_kib(app.child.id());
    assert!(after < before + 20 * 1024, "RSS {before} KiB before, {after} KiB after");
    assert_eq!(app.get("/health", None).status, 200);
}

#[test]
fn sigterm_closes_idle_connections_and_exits_cleanly() {
    let mut app = quick(&[]);
    let mut idle: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut stream = raw(&app);
            timed_health(&mut stream);
            stream
        })
        .collect();
    let started = Instant::now();
    let pid = app.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    for stream in &mut idle {
        assert_eq!(read_some(stream), "", "closed by the server");
    }
    let status = wait_until(10, || app.child.try_wait().unwrap());
    assert!(status.success() && started.elapsed() < Duration::from_secs(3), "{status:?} {:?}", started.elapsed());
}
