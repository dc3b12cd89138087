//! Test support for ssam's end-to-end tests (dev-dependency only).
//!
//! Locates the real clients the tests drive: the Python of `.venv` (boto3, aws cli,
//! awslambdaric, installed by `scripts/setup-venv`) and the `ssam` binary. A missing client
//! is a test failure with a hint, never a silent skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .expect("ssam-testkit lives at crates/ssam-testkit")
        .to_path_buf()
}

/// The Python interpreter with the test clients: `$SSAM_TEST_PYTHON`, else `.venv/bin/python`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SSAM_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no test Python at {}: run scripts/setup-venv (or scripts/test) first",
        venv.display()
    );
    venv
}

/// The `aws` cli of the test venv.
pub fn aws_cli() -> PathBuf {
    let py = python();
    let aws = py.with_file_name("aws");
    assert!(
        aws.exists(),
        "no aws cli next to {}: run scripts/setup-venv",
        py.display()
    );
    aws
}

/// The `ssam` binary: `$SSAM_BIN`, else `target/release/ssam`, else `target/debug/ssam`.
pub fn ssam_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SSAM_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    for profile in ["release", "debug"] {
        let p = target.join(profile).join("ssam");
        if p.exists() {
            return p;
        }
    }
    panic!("no ssam binary: run `cargo build --release --bin ssam` or set SSAM_BIN")
}

/// Runs a Python snippet with the venv's interpreter; panics with its output on failure.
pub fn run_python(script: &str, envs: &[(&str, &str)]) -> Output {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .envs(envs.iter().copied())
        .output()
        .expect("spawn python");
    assert!(
        out.status.success(),
        "python failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A TCP port that was free a moment ago on 127.0.0.1 (prefer binding port 0 where possible).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}
