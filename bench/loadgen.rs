//! Rollcall's load generator: N keep-alive connections on loopback, each sending one
//! request after another for a fixed time (or count), then requests/s and latency
//! percentiles. Raw HTTP/1.1 over `TcpStream`, so the client costs little of the 2 cores it
//! shares with the server.
//!
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8000/health \
//!     [--connections 32] [--seconds 10] [--header 'Authorization: JWT …'] [--method POST --body '{…}']

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    host: String,
    path: String,
    method: String,
    headers: Vec<String>,
    body: String,
    connections: usize,
    seconds: f64,
    max_requests_per_connection: usize,
}

fn parse_args() -> Options {
    let mut o = Options {
        host: String::new(),
        path: "/health".into(),
        method: "GET".into(),
        headers: Vec::new(),
        body: String::new(),
        connections: 32,
        seconds: 10.0,
        max_requests_per_connection: usize::MAX,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_else(|| panic!("{} needs a value", args[i]));
        match args[i].as_str() {
            "--url" => {
                let rest = value.strip_prefix("http://").expect("only http:// URLs");
                let (host, path) = rest
                    .split_once('/')
                    .map(|(h, p)| (h.to_owned(), format!("/{p}")))
                    .unwrap_or((rest.to_owned(), "/".into()));
                assert!(
                    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]"),
                    "loopback only"
                );
                o.host = host;
                o.path = path;
            }
            "--method" => o.method = value,
            "--header" => o.headers.push(value),
            "--body" => o.body = value,
            "--connections" => o.connections = value.parse().expect("--connections N"),
            "--seconds" => o.seconds = value.parse().expect("--seconds S"),
            "--requests" => o.max_requests_per_connection = value.parse().expect("--requests N"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    assert!(!o.host.is_empty(), "--url is required");
    // Hard bounds: a load test here stops by itself.
    o.seconds = o.seconds.min(120.0);
    o
}

/// Reads one response; returns its status.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
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

fn main() {
    let o = Arc::new(parse_args());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..o.connections)
        .map(|i| {
            let o = o.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                // Connections open 10 ms apart, as clients arrive in practice: tiny_http 0.12's
                // connection pool can leave one of a same-instant burst waiting until another
                // connection closes (its idle-thread count is read before waiters wake).
                std::thread::sleep(Duration::from_millis(10 * i as u64));
                let mut latencies = Vec::with_capacity(100_000);
                let mut errors = 0usize;
                let mut non_2xx = 0usize;
                let mut request = format!("{} {} HTTP/1.1\r\nHost: {}\r\n", o.method, o.path, o.host);
                for h in &o.headers {
                    request.push_str(h);
                    request.push_str("\r\n");
                }
                if !o.body.is_empty() {
                    request
                        .push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", o.body.len()));
                }
                request.push_str("\r\n");
                request.push_str(&o.body);
                let connect = || {
                    let stream = TcpStream::connect(&o.host).expect("connect");
                    stream.set_nodelay(true).ok();
                    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
                    stream
                };
                let mut stream = connect();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                while !stop.load(Ordering::Relaxed) && latencies.len() < o.max_requests_per_connection {
                    let t = Instant::now();
                    let result = stream.write_all(request.as_bytes()).and_then(|_| read_response(&mut reader));
                    match result {
                        Ok(status) => {
                            latencies.push(t.elapsed().as_micros() as u32);
                            if !(200..300).contains(&status) {
                                non_2xx += 1;
                            }
                        }
                        Err(_) => {
                            errors += 1;
                            stream = connect();
                            reader = BufReader::new(stream.try_clone().unwrap());
                        }
                    }
                }
                (latencies, errors, non_2xx)
            })
        })
        .collect();
    let deadline = started + Duration::from_secs_f64(o.seconds);
    while Instant::now() < deadline && !workers.iter().all(|w| w.is_finished()) {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let (mut errors, mut non_2xx) = (0, 0);
    let mut fewest = usize::MAX;
    for w in workers {
        let (l, e, n) = w.join().unwrap();
        fewest = fewest.min(l.len());
        all.extend(l);
        errors += e;
        non_2xx += n;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "{} {}: {} requests in {:.1}s = {:.0} req/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; non-2xx {}, errors {}; fewest on one connection {}",
        o.method,
        o.path,
        all.len(),
        elapsed,
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        all.last().copied().unwrap_or(0) as f64 / 1000.0,
        non_2xx,
        errors,
        fewest
    );
}
