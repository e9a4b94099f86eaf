//! The benchmark's command line: `--help` and `-h` print its usage.

#[test]
fn help_prints_the_usage_with_the_scenarios() {
    for flag in ["--help", "-h"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-bench")).arg(flag).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let usage = String::from_utf8_lossy(&out.stdout);
        assert!(usage.contains("Usage:") && usage.contains("--scenario") && usage.contains("enroll-v2"), "{usage}");
    }
}
