//! Test support for ssam's end-to-end tests (dev-dependency only).
//!
//! Locates the real clients the tests drive: the Python of `.venv` (boto3, aws cli,
//! awslambdaric, installed by `scripts/setup-venv`) and the `ssam` binary. A missing client
//! is a test failure with a hint, never a silent skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod lambda_image;
pub mod sigv4;
pub mod video;

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
/// Copies the directory tree `from` into `to` (created), file modes kept: tests work on a
/// copy of a fixture they change or that ssam must not be able to change.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the fixture directory") {
        let entry = entry.expect("a fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a fixture entry's type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

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

/// `PATH` with the test venv's `bin` first, so functions and `bootstrap`s find its Python.
pub fn path_with_venv() -> String {
    let venv_bin = python()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join(".venv/bin"));
    format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A long-running `ssam` server started by a test: its stderr is echoed (prefixed `[ssam]`)
/// and kept, so the test can wait for a line and read what the server printed. Dropping it
/// sends SIGTERM (ssam then stops its function processes), then SIGKILL after 10 s.
pub struct Server {
    pub child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The thread copying stderr into `log`; finished once ssam's stderr is closed.
    reader: std::thread::JoinHandle<()>,
}

impl Server {
    /// Runs `ssam ARGS` with `NO_COLOR` and the venv on `PATH`, and waits (30 s at most) until
    /// a stderr line contains `ready`. Panics with the log if ssam exits or never gets ready.
    pub fn start(args: &[&std::ffi::OsStr], ready: &str) -> Server {
        Server::start_within(args, ready, std::time::Duration::from_secs(30))
    }

    /// Like [`Server::start`], waiting up to `within` (a server that builds images first).
    pub fn start_within(
        args: &[&std::ffi::OsStr],
        ready: &str,
        within: std::time::Duration,
    ) -> Server {
        Server::start_env(args, ready, within, &[])
    }

    /// Like [`Server::start_within`], with extra environment variables for ssam.
    pub fn start_env(
        args: &[&std::ffi::OsStr],
        ready: &str,
        within: std::time::Duration,
        envs: &[(&str, &str)],
    ) -> Server {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut child = Command::new(ssam_bin())
            .args(args)
            .envs(envs.iter().copied())
            .env("NO_COLOR", "1")
            .env("PATH", path_with_venv())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ssam");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[ssam] {line}");
                sink.lock().unwrap().push(line);
            }
        });
        let mut server = Server { child, log, reader };
        let deadline = std::time::Instant::now() + within;
        loop {
            if server.lines().iter().any(|l| l.contains(ready)) {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("ssam exited early ({status}): {:?}", server.lines());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "ssam did not print {ready:?}: {:?}",
                server.lines()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `ssam local start` on free ports (API, Lambda and S3 all `--port 0`), `extra` flags
    /// before `-t template`, once it prints "Press CTRL+C"; its addresses are read with
    /// [`Server::word_after`] (`"S3 "`, `"Lambda "`, `"API "`).
    pub fn local_start(template: &Path, extra: &[&str]) -> Server {
        Server::local_start_within(template, extra, std::time::Duration::from_secs(30))
    }

    /// Like [`Server::local_start`], waiting up to `within` for it to be ready.
    pub fn local_start_within(
        template: &Path,
        extra: &[&str],
        within: std::time::Duration,
    ) -> Server {
        let ports = [
            "local",
            "start",
            "--port",
            "0",
            "--lambda-port",
            "0",
            "--s3-port",
            "0",
        ];
        let mut args: Vec<&std::ffi::OsStr> = ports
            .iter()
            .chain(extra)
            .map(std::ffi::OsStr::new)
            .collect();
        args.push(std::ffi::OsStr::new("-t"));
        args.push(template.as_os_str());
        Server::start_within(&args, "Press CTRL+C", within)
    }

    /// Every stderr line so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The first word after `prefix` on the first line starting with it (e.g. a URL).
    pub fn word_after(&self, prefix: &str) -> Option<String> {
        self.lines().iter().find_map(|l| {
            l.strip_prefix(prefix)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        })
    }

    /// Sends SIGTERM and waits (15 s at most) for ssam to exit; returns what it printed,
    /// to the last line (the copy of its stderr is read to the end, 2 s at most).
    pub fn stop(mut self) -> Vec<String> {
        self.terminate(std::time::Duration::from_secs(15));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !self.reader.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self.lines()
    }

    fn terminate(&mut self, wait: std::time::Duration) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + wait;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILL, as `kill -9` (nothing of ssam runs after it), and waits for the exit.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGINT, as Ctrl-C, and waits (15 s at most) for ssam to exit; returns what it printed.
    pub fn interrupt(mut self) -> Vec<String> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.stop()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate(std::time::Duration::from_secs(10));
        }
    }
}
