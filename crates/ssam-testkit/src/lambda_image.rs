//! Local stand-ins for AWS's Lambda base images (`public.ecr.aws/lambda/python:3.X` and
//! `public.ecr.aws/lambda/nodejs:N`), for end-to-end tests on machines whose Docker engine
//! has no registry to pull from.
//!
//! [`python_base_image`] builds the Python one in a few seconds with `lambda-image/build.sh`:
//! a rootfs copied from the host (Debian's `/usr/bin/python3.11` and its stdlib, the shared
//! libraries `ldd` names, dash as `/bin/sh`, a static busybox when `apt-get download
//! busybox-static` works), awslambdaric in `/var/runtime` and pip from PyPI, the host CA
//! bundle, then `docker import --change ...`. It keeps AWS's contract: `ENTRYPOINT
//! ["/lambda-entrypoint.sh"]` takes exactly one argument, the handler, exports it as
//! `_HANDLER` and execs `/var/runtime/bootstrap`, which runs `python3 -m awslambdaric
//! $_HANDLER` against `$AWS_LAMBDA_RUNTIME_API` (there is no Runtime Interface Emulator
//! inside: without that variable it exits 1). Env, `WORKDIR /var/task` and `LAMBDA_TASK_ROOT`
//! are AWS's, so a Dockerfile written for the real image (`COPY ... ${LAMBDA_TASK_ROOT}`, `RUN
//! pip install`) builds on it unchanged. The Python inside is the host's 3.11 whatever the tag
//! says. Unlike AWS's image, the env also points `PIP_CERT`, `SSL_CERT_FILE` and
//! `REQUESTS_CA_BUNDLE` at the host CA bundle copied to `/etc/ssl/certs/ca-certificates.crt`
//! (TLS to PyPI goes through a local CA here), and `/bin/sh` is dash with busybox for the other
//! commands.
//!
//! [`node_base_image`] builds the Node.js one the same way with `lambda-image/node/build.sh`:
//! the host's `/usr/bin/node` at `/var/lang/bin/node`, the same entrypoint, and
//! `/var/runtime/bootstrap` setting `NODE_PATH` (unless set) and `AWS_EXECUTION_ENV` as AWS's
//! does before it runs `/var/runtime/index.js`: a small Runtime API client written for the
//! testkit (next, response, error, init error; async and callback handlers), not ssam's own
//! Node bootstrap, so ssam is not tested against itself. Node's major version is the host's.
//!
//! Each image is built once per machine: it carries the label `ssam-test.recipe=<hash of the
//! recipe files>` and is rebuilt only when that differs. Builds are serialized across test
//! processes by a file lock. All Docker access goes through the `docker` CLI.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// The image every requested Python tag points to; built once, then `docker tag`ged.
pub const BASE_TAG: &str = "ssam-test/lambda-python-base:3.11";

/// The image every requested Node.js tag points to.
pub const NODE_BASE_TAG: &str = "ssam-test/lambda-nodejs-base:host";

/// The label holding the recipe hash of a stand-in image.
pub const RECIPE_LABEL: &str = "ssam-test.recipe";

const ENTRYPOINT_SH: &str = include_str!("../lambda-image/lambda-entrypoint.sh");

/// One stand-in: the files `build.sh` reads (written next to each other, then run as
/// `build.sh BASE_TAG RECIPE_HASH CACHE_DIR`), the tag it is built as, and the build lock.
struct StandIn {
    what: &'static str,
    base_tag: &'static str,
    recipe: &'static [(&'static str, &'static str)],
    lock: &'static str,
}

const PYTHON: StandIn = StandIn {
    what: "Lambda Python stand-in",
    base_tag: BASE_TAG,
    recipe: &[
        ("build.sh", include_str!("../lambda-image/build.sh")),
        ("lambda-entrypoint.sh", ENTRYPOINT_SH),
        ("bootstrap", include_str!("../lambda-image/bootstrap")),
    ],
    lock: "ssam-test-lambda-image.lock",
};

const NODE: StandIn = StandIn {
    what: "Lambda Node.js stand-in",
    base_tag: NODE_BASE_TAG,
    recipe: &[
        ("build.sh", include_str!("../lambda-image/node/build.sh")),
        ("lambda-entrypoint.sh", ENTRYPOINT_SH),
        ("bootstrap", include_str!("../lambda-image/node/bootstrap")),
        ("index.js", include_str!("../lambda-image/node/index.js")),
    ],
    lock: "ssam-test-lambda-image-node.lock",
};

/// Ok when a Docker engine answers `docker version`; otherwise what was tried and why it
/// failed (tests print it as "skipped: ..." and return).
pub fn docker_engine() -> Result<(), String> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("no Docker: could not run the `docker` CLI ({e})"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "no Docker engine: `docker version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Ensures the image `tag` (e.g. `public.ecr.aws/lambda/python:3.9` or
/// `ssam-test/python:3.11`) exists and is the current Python stand-in, and returns the tag.
///
/// A no-op (one `docker image inspect`) when `tag` already carries the current recipe label.
/// Otherwise, under a file lock shared by all test processes, builds [`BASE_TAG`] if it is
/// missing or stale (a few seconds; PyPI is needed only when the download cache under the
/// temp dir lacks a wheel) and tags it as `tag`.
pub fn python_base_image(tag: &str) -> Result<String, String> {
    ensure(&PYTHON, tag)
}

/// Ensures the image `tag` (e.g. `public.ecr.aws/lambda/nodejs:20` or `ssam-test/nodejs:20`)
/// exists and is the current Node.js stand-in (built from the host's `/usr/bin/node`, or
/// `$SSAM_TEST_HOST_NODE`), and returns the tag. Built and checked as [`python_base_image`]
/// is; it needs no network.
pub fn node_base_image(tag: &str) -> Result<String, String> {
    ensure(&NODE, tag)
}

fn ensure(stand_in: &StandIn, tag: &str) -> Result<String, String> {
    if tag.trim().is_empty() {
        return Err(format!("{}: empty tag", stand_in.what));
    }
    let recipe = stand_in.recipe_hash();
    if recipe_of(tag).as_deref() == Some(recipe.as_str()) {
        return Ok(tag.to_string());
    }
    let lock_path = std::env::temp_dir().join(stand_in.lock);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("open the build lock {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("lock {}: {e}", lock_path.display()))?;
    // Another process may have built it while this one waited.
    if recipe_of(tag).as_deref() == Some(recipe.as_str()) {
        return Ok(tag.to_string());
    }
    let base = stand_in.base_tag;
    if recipe_of(base).as_deref() != Some(recipe.as_str()) {
        let old = image_id(base);
        build_base(stand_in, &recipe)?;
        if let Some(old) = old {
            replace_old_stand_in(base, &old);
        }
    }
    if tag != base {
        docker_ok(&["tag", base, tag])?;
    }
    drop(lock);
    Ok(tag.to_string())
}

/// Ids of all containers (running or not) carrying `label` (`key` or `key=value`).
pub fn containers_with_label(label: &str) -> Vec<String> {
    let filter = format!("label={label}");
    match docker(&["ps", "-aq", "--filter", &filter]) {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Force-removes every container carrying `label` (`key` or `key=value`); best effort.
pub fn remove_containers_with_label(label: &str) {
    let ids = containers_with_label(label);
    if ids.is_empty() {
        return;
    }
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    let _ = docker(&args);
}

/// The hash of the Python stand-in's recipe files (FNV-1a 64, hex), as stored in
/// [`RECIPE_LABEL`].
pub fn recipe_hash() -> String {
    PYTHON.recipe_hash()
}

impl StandIn {
    /// The hash of the recipe files (FNV-1a 64, hex), as stored in [`RECIPE_LABEL`].
    fn recipe_hash(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (name, text) in self.recipe {
            for b in name.bytes().chain([0]).chain(text.bytes()).chain([0]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// The recipe label of image `tag`, `None` when there is no such image (or no label).
fn recipe_of(tag: &str) -> Option<String> {
    let format = format!("{{{{index .Config.Labels \"{RECIPE_LABEL}\"}}}}");
    let out = docker(&["image", "inspect", "--format", &format, tag]).ok()?;
    if !out.status.success() {
        return None;
    }
    let label = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!label.is_empty() && label != "<no value>").then_some(label)
}

/// The id of image `tag`, `None` when there is none.
fn image_id(tag: &str) -> Option<String> {
    let out = docker(&["image", "inspect", "--format", "{{.Id}}", tag]).ok()?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !id.is_empty()).then_some(id)
}

/// After a rebuild of `base`: points every other tag of the previous stand-in `old` at the
/// new one, then removes `old` (without force: kept while a container still uses it).
fn replace_old_stand_in(base: &str, old: &str) {
    let tags = docker(&[
        "image",
        "inspect",
        "--format",
        "{{range .RepoTags}}{{.}} {{end}}",
        old,
    ])
    .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
    .unwrap_or_default();
    for tag in tags.split_whitespace().filter(|t| *t != base) {
        let _ = docker(&["tag", base, tag]);
    }
    let _ = docker(&["rmi", old]);
}

/// Writes the recipe files to a fresh directory and runs `build.sh BASE_TAG recipe cache`.
fn build_base(stand_in: &StandIn, recipe: &str) -> Result<(), String> {
    let started = Instant::now();
    let tmp = std::env::temp_dir();
    let dir = tmp.join(format!(
        "ssam-test-lambda-image-recipe-{}-{}",
        std::process::id(),
        recipe
    ));
    // One download cache for every stand-in (wheels, the busybox-static .deb).
    let cache = tmp.join("ssam-test-lambda-image-cache");
    write_recipe(stand_in, &dir)?;
    let out = Command::new("bash")
        .arg(dir.join("build.sh"))
        .args([stand_in.base_tag, recipe])
        .arg(&cache)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.map_err(|e| format!("run bash {}/build.sh: {e}", dir.display()))?;
    if !out.status.success() {
        return Err(format!(
            "building the {} {} failed ({}):\n{}{}",
            stand_in.what,
            stand_in.base_tag,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    eprintln!(
        "[lambda-image] built {} (recipe {recipe}) in {:.1?}",
        stand_in.base_tag,
        started.elapsed()
    );
    Ok(())
}

fn write_recipe(stand_in: &StandIn, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    for (name, text) in stand_in.recipe {
        let path: PathBuf = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn docker(args: &[&str]) -> Result<Output, String> {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run docker {}: {e}", args.join(" ")))
}

fn docker_ok(args: &[&str]) -> Result<Output, String> {
    let out = docker(args)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "docker {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;
    use std::sync::Arc;
    use std::time::Duration;

    const LABEL_KEY: &str = "ssam-test.lambda-image";

    /// A name unique to this test run.
    fn unique(what: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!("ssam-test-{what}-{}-{nanos}", std::process::id())
    }

    macro_rules! require_docker {
        () => {
            if let Err(why) = docker_engine() {
                eprintln!("skipped: {why}");
                return;
            }
        };
    }

    /// Removes, even when the test panics, the containers labelled `label`, the images and
    /// the directories the test made, then checks no container is left.
    struct Cleanup {
        label: String,
        images: Vec<String>,
        dirs: Vec<PathBuf>,
    }

    impl Cleanup {
        fn new(label: &str) -> Cleanup {
            Cleanup {
                label: label.to_string(),
                images: Vec::new(),
                dirs: Vec::new(),
            }
        }
    }

    impl Drop for Cleanup {
        fn drop(&mut self) {
            remove_containers_with_label(&self.label);
            for image in &self.images {
                let _ = docker(&["rmi", "-f", image]);
            }
            for dir in &self.dirs {
                let _ = std::fs::remove_dir_all(dir);
            }
            if !std::thread::panicking() {
                let left = containers_with_label(&self.label);
                assert!(left.is_empty(), "containers left behind: {left:?}");
            }
        }
    }

    /// What the function POSTed back to the Runtime API.
    #[derive(Debug)]
    struct Posted {
        path: String,
        body: String,
    }

    /// A loopback Runtime API that hands out one invocation (`event`, request id `req-1`),
    /// reports every POST, and holds further `next` polls until dropped.
    struct RuntimeApi {
        port: u16,
        posted: mpsc::Receiver<Posted>,
        stop: Arc<AtomicBool>,
    }

    impl Drop for RuntimeApi {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    impl RuntimeApi {
        fn start(event: &'static str) -> RuntimeApi {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let (tx, posted) = mpsc::channel();
            let stop = Arc::new(AtomicBool::new(false));
            let handed_out = Arc::new(AtomicBool::new(false));
            let stop2 = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { break };
                    let (tx, stop, handed_out) = (tx.clone(), stop2.clone(), handed_out.clone());
                    std::thread::spawn(move || serve(conn, event, &tx, &stop, &handed_out));
                }
            });
            RuntimeApi { port, posted, stop }
        }
    }

    /// One keep-alive connection of the Runtime API stub.
    fn serve(
        conn: TcpStream,
        event: &str,
        tx: &mpsc::Sender<Posted>,
        stop: &AtomicBool,
        handed_out: &AtomicBool,
    ) {
        let mut writer = conn.try_clone().unwrap();
        let mut reader = BufReader::new(conn);
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_string();
            let path = parts.next().unwrap_or_default().to_string();
            let mut content_length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        content_length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; content_length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let reply = if method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
                if handed_out.swap(true, Ordering::SeqCst) {
                    // One invocation only: hold the poll until the test is over.
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    return;
                }
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    + 60_000;
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Lambda-Runtime-Aws-Request-Id: req-1\r\n\
                     Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                     Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:echo\r\n\
                     Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n\
                     Content-Length: {}\r\n\r\n{event}",
                    event.len()
                )
            } else if method == "POST" {
                let _ = tx.send(Posted {
                    path,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let ok = r#"{"status":"OK"}"#;
                format!(
                    "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{ok}",
                    ok.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
            };
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }

    /// `docker run --rm --network host -e AWS_LAMBDA_RUNTIME_API=... [extra] IMAGE [cmd]`
    /// against a fresh Runtime API stub serving `event`; returns what was POSTed first and the
    /// time from `docker run` to that POST. The container is removed before returning.
    fn invoke_once(
        image: &str,
        label: &str,
        extra: &[&str],
        cmd: &[&str],
        event: &'static str,
    ) -> (Posted, Duration) {
        let api = RuntimeApi::start(event);
        let name = unique("run");
        let runtime_api = format!("AWS_LAMBDA_RUNTIME_API=127.0.0.1:{}", api.port);
        let started = Instant::now();
        let mut child = Command::new("docker")
            .args(["run", "--rm", "--name", &name, "--label", label])
            .args(["--network", "host", "-e", &runtime_api])
            .args(["-e", "AWS_LAMBDA_FUNCTION_NAME=echo"])
            .args(extra)
            .arg(image)
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = started + Duration::from_secs(60);
        let posted = loop {
            match api.posted.recv_timeout(Duration::from_millis(100)) {
                Ok(posted) => break Some(posted),
                Err(_) if Instant::now() > deadline => break None,
                // The container is gone (a bad image, a crash at init): no POST is coming.
                Err(_) if child.try_wait().ok().flatten().is_some() => {
                    break api.posted.try_recv().ok()
                }
                Err(_) => {}
            }
        };
        let elapsed = started.elapsed();
        let _ = docker(&["rm", "-f", &name]);
        let out = child.wait_with_output().unwrap();
        let logs = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match posted {
            Some(posted) => (posted, elapsed),
            None => panic!(
                "no POST from the function ({elapsed:.1?}, {}); container output:\n{logs}",
                out.status
            ),
        }
    }

    fn write_files(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    #[test]
    fn second_build_is_a_no_op() {
        require_docker!();
        let started = Instant::now();
        let tag = python_base_image("ssam-test/python:3.11").unwrap();
        let first = started.elapsed();
        let id = docker_ok(&["image", "inspect", "--format", "{{.Id}}", &tag]).unwrap();
        let started = Instant::now();
        python_base_image("ssam-test/python:3.11").unwrap();
        let second = started.elapsed();
        eprintln!("[lambda-image] first python_base_image: {first:.2?}, re-check: {second:.2?}");
        let again = docker_ok(&["image", "inspect", "--format", "{{.Id}}", &tag]).unwrap();
        assert_eq!(id.stdout, again.stdout, "the re-check rebuilt the image");
        assert!(second < Duration::from_secs(2), "re-check took {second:?}");
        assert_eq!(recipe_of(&tag), Some(recipe_hash()));
        assert_eq!(recipe_of(BASE_TAG), Some(recipe_hash()));
    }

    #[test]
    fn runs_a_handler_against_a_runtime_api() {
        require_docker!();
        let image = python_base_image("ssam-test/python:3.11").unwrap();
        let label = format!("{LABEL_KEY}={}", unique("zip"));
        let mut cleanup = Cleanup::new(&label);
        let task = std::env::temp_dir().join(unique("task"));
        cleanup.dirs.push(task.clone());
        write_files(
            &task,
            &[(
                "app.py",
                "import os\n\
                 def handler(event, context):\n\
                 \x20   return '|'.join([event['msg'], context.aws_request_id, \
                 context.function_name, context.invoked_function_arn, os.environ['_HANDLER'], \
                 os.environ['LAMBDA_TASK_ROOT'], os.getcwd()])\n",
            )],
        );
        let volume = format!("{}:/var/task:ro", task.display());
        let (posted, elapsed) = invoke_once(
            &image,
            &label,
            &["-v", &volume],
            &["app.handler"],
            r#"{"msg": "hello"}"#,
        );
        eprintln!("[lambda-image] docker run -> response: {elapsed:.2?}");
        assert_eq!(posted.path, "/2018-06-01/runtime/invocation/req-1/response");
        assert_eq!(
            posted.body,
            "\"hello|req-1|echo|arn:aws:lambda:us-east-1:123456789012:function:echo|app.handler|/var/task|/var/task\""
        );
    }

    /// The Node.js stand-in: async and callback handlers answer, a thrown error is POSTed
    /// to `error` with its type, a missing export to `init/error`; AWS's variables are set.
    #[test]
    fn node_stand_in_runs_async_and_callback_handlers() {
        require_docker!();
        let image = node_base_image("ssam-test/nodejs:20").unwrap();
        let label = format!("{LABEL_KEY}={}", unique("node"));
        let mut cleanup = Cleanup::new(&label);
        let task = std::env::temp_dir().join(unique("node-task"));
        cleanup.dirs.push(task.clone());
        write_files(
            &task,
            &[(
                "app.js",
                "exports.handler = async (event, context) => [event.msg, context.awsRequestId, \
                 context.functionName, process.env._HANDLER, process.env.AWS_EXECUTION_ENV, \
                 process.env.NODE_PATH, process.cwd()].join('|');\n\
                 exports.cb = (event, context, callback) => setTimeout(() => callback(null, { n: event.n + 1 }), 5);\n\
                 exports.bad = async () => { throw new TypeError('boom'); };\n",
            )],
        );
        let volume = format!("{}:/var/task:ro", task.display());
        let run = |cmd: &str, event: &'static str| {
            invoke_once(&image, &label, &["-v", &volume], &[cmd], event).0
        };
        let posted = run("app.handler", r#"{"msg": "hello"}"#);
        assert_eq!(posted.path, "/2018-06-01/runtime/invocation/req-1/response");
        let major = String::from_utf8_lossy(
            &Command::new("node")
                .args(["-p", "process.versions.node.split('.')[0]"])
                .output()
                .unwrap()
                .stdout,
        )
        .trim()
        .to_string();
        assert_eq!(
            posted.body,
            format!(
                "\"hello|req-1|echo|app.handler|AWS_Lambda_nodejs{major}.x|/opt/nodejs/node{major}/node_modules:\
                 /opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task|/var/task\""
            )
        );
        let posted = run("app.cb", r#"{"n": 41}"#);
        assert_eq!(posted.body, r#"{"n":42}"#);
        let posted = run("app.bad", "{}");
        assert_eq!(posted.path, "/2018-06-01/runtime/invocation/req-1/error");
        assert!(
            posted
                .body
                .starts_with(r#"{"errorType":"TypeError","errorMessage":"boom","trace":["#),
            "{}",
            posted.body
        );
        let posted = run("app.missing", "{}");
        assert_eq!(posted.path, "/2018-06-01/runtime/init/error");
        assert!(
            posted
                .body
                .contains(r#""errorType":"Runtime.HandlerNotFound""#),
            "{}",
            posted.body
        );
    }

    #[test]
    fn entrypoint_keeps_aws_contract() {
        require_docker!();
        let image = python_base_image("ssam-test/python:3.11").unwrap();
        let label = format!("{LABEL_KEY}={}", unique("contract"));
        let _cleanup = Cleanup::new(&label);
        let run = |args: &[&str]| {
            let mut all = vec!["run", "--rm", "--label", &label, &image];
            all.extend(args);
            docker(&all).unwrap()
        };
        let no_handler = run(&[]);
        assert_eq!(no_handler.status.code(), Some(142), "{no_handler:?}");
        let no_api = run(&["app.handler"]);
        assert_eq!(no_api.status.code(), Some(1), "{no_api:?}");
        assert!(
            String::from_utf8_lossy(&no_api.stderr).contains("AWS_LAMBDA_RUNTIME_API"),
            "{no_api:?}"
        );
    }

    #[test]
    fn aws_style_dockerfile_builds_with_pip_install() {
        require_docker!();
        let base = python_base_image("public.ecr.aws/lambda/python:3.9").unwrap();
        assert_eq!(base, "public.ecr.aws/lambda/python:3.9");
        let id = unique("image");
        let label = format!("{LABEL_KEY}={id}");
        let mut cleanup = Cleanup::new(&label);
        let ctx = std::env::temp_dir().join(unique("ctx"));
        cleanup.dirs.push(ctx.clone());
        write_files(
            &ctx,
            &[
                (
                    "Dockerfile",
                    "FROM public.ecr.aws/lambda/python:3.9\n\
                     COPY app/requirements.txt ${LAMBDA_TASK_ROOT}/\n\
                     RUN pip install -r ${LAMBDA_TASK_ROOT}/requirements.txt -t ${LAMBDA_TASK_ROOT}\n\
                     COPY app/main.py ${LAMBDA_TASK_ROOT}/\n\
                     CMD [\"main.lambda_handler\"]\n",
                ),
                ("app/requirements.txt", "boto3\n"),
                (
                    "app/main.py",
                    "import boto3\n\
                     def lambda_handler(event, context):\n\
                     \x20   return {'boto3': boto3.__version__ != '', 'n': event['n'] + 1}\n",
                ),
            ],
        );
        let tag = format!("ssam-test/derived:{}", id.trim_start_matches("ssam-test-"));
        cleanup.images.push(tag.clone());
        let started = Instant::now();
        let ctx_arg = ctx.display().to_string();
        let build = docker(&[
            "build",
            "--rm",
            "--force-rm",
            "-t",
            &tag,
            "--label",
            &label,
            &ctx_arg,
        ])
        .unwrap();
        assert!(
            build.status.success(),
            "docker build failed:\n{}{}",
            String::from_utf8_lossy(&build.stdout),
            String::from_utf8_lossy(&build.stderr)
        );
        eprintln!(
            "[lambda-image] docker build (pip install boto3): {:.1?}",
            started.elapsed()
        );

        let import = docker(&[
            "run",
            "--rm",
            "--label",
            &label,
            "--entrypoint",
            "/var/lang/bin/python3",
            &tag,
            "-c",
            "import boto3; print(boto3.__file__)",
        ])
        .unwrap();
        assert!(import.status.success(), "import boto3 failed: {import:?}");
        assert_eq!(
            String::from_utf8_lossy(&import.stdout).trim(),
            "/var/task/boto3/__init__.py"
        );

        // The image's own CMD is the handler.
        let (posted, elapsed) = invoke_once(&tag, &label, &[], &[], r#"{"n": 41}"#);
        eprintln!("[lambda-image] image function docker run -> response: {elapsed:.2?}");
        assert_eq!(posted.path, "/2018-06-01/runtime/invocation/req-1/response");
        assert!(posted.body.contains("\"boto3\": true"), "{}", posted.body);
        assert!(posted.body.contains("\"n\": 42"), "{}", posted.body);
    }
}
