//! Lambda's filesystem in local sandboxes: the code and layers are read-only, only `/tmp`
//! is writable, sized by `EphemeralStorage`
//! (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html).
//! The real binary runs the fixture's Python and Node functions natively and, where an
//! engine answers, in Docker; `--writable-code` turns the rules off.
//!
//! Every test works on a copy of the fixture, so a sandbox that failed to protect its code
//! could not write into the repository.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ssam_testkit::lambda_image;

/// A fresh copy of the fixture; returns the directory (kept alive) and its template.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    ssam_testkit::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/filesystem"),
        dir.path(),
    );
    let template = dir.path().join("template.yaml");
    (dir, template)
}

/// `ssam local invoke FUNCTION` with `{}`; the function's JSON result.
fn invoke(template: &Path, function: &str) -> serde_json::Value {
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", function, "--no-event", "-t"])
        .arg(template)
        .output()
        .unwrap();
    invoke_result(out)
}

/// `ssam local invoke FUNCTION -e event.json EXTRA...`; the function's JSON result.
fn invoke_with_event(
    template: &Path,
    function: &str,
    event: &str,
    extra: &[&str],
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, event).unwrap();
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", function, "-e"])
        .arg(&path)
        .arg("-t")
        .arg(template)
        .args(extra)
        .output()
        .unwrap();
    invoke_result(out)
}

fn invoke_result(out: std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// Whether this kernel lets ssam make directories read-only for a native sandbox; a test
/// that needs it says why it is skipped otherwise (ssam itself warns at start).
fn native_read_only() -> bool {
    let ok = Command::new("unshare")
        .args(["--user", "--map-current-user", "--mount", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: this kernel does not allow unprivileged user namespaces");
    }
    ok
}

/// A Python function writing next to its code gets Lambda's `EROFS` error, by relative
/// and by absolute path, and nothing lands on disk; reading its files and writing to /tmp
/// work; so does the same function with `--writable-code`, which writes.
#[test]
fn the_code_directory_is_read_only_and_tmp_is_writable() {
    if !native_read_only() {
        return;
    }
    let (dir, template) = fixture();
    let got = invoke_with_event(&template, "Writer", r#"{"action": "code"}"#, &[]);
    assert_eq!(
        got["relative"], "OSError: [Errno 30] Read-only file system: 'written-by-function.txt'",
        "{got}"
    );
    assert!(
        got["absolute"]
            .as_str()
            .unwrap()
            .starts_with("OSError: [Errno 30] Read-only file system"),
        "{got}"
    );
    assert_eq!(got["tmp"], "written", "{got}");
    assert_eq!(got["read"], "read me", "{got}");
    assert!(!dir.path().join("app/written-by-function.txt").exists());
    assert!(!dir.path().join("app/absolute.txt").exists());

    let got = invoke_with_event(
        &template,
        "Writer",
        r#"{"action": "code"}"#,
        &["--writable-code"],
    );
    assert_eq!(got["relative"], "written", "{got}");
    assert!(dir.path().join("app/written-by-function.txt").exists());
}

/// `/tmp` is the instance's own, as on Lambda: what the function writes there is not in
/// the machine's `/tmp`, and it holds `EphemeralStorage` MB: writing past 512 MB fails with
/// `ENOSPC` natively too.
#[test]
fn native_tmp_is_the_functions_own_and_sized_by_ephemeral_storage() {
    if !native_read_only() {
        return;
    }
    let tmpfs = Command::new("unshare")
        .args([
            "--user",
            "--map-current-user",
            "--mount",
            "mount",
            "-t",
            "tmpfs",
        ])
        .args(["-o", "size=1m", "ssam-tmp", "/tmp"])
        .status()
        .is_ok_and(|s| s.success());
    if !tmpfs {
        eprintln!("skipped: this kernel does not allow a tmpfs in a user namespace");
        return;
    }
    let (_dir, template) = fixture();
    let _ = std::fs::remove_file("/tmp/ssam-fs-test-tmp.txt");
    let got = invoke_with_event(&template, "Writer", r#"{"action": "code"}"#, &[]);
    assert_eq!(got["tmp"], "written", "{got}");
    assert!(
        !Path::new("/tmp/ssam-fs-test-tmp.txt").exists(),
        "the function's /tmp is its own"
    );
    let got = invoke_with_event(
        &template,
        "Writer",
        r#"{"action": "fill-tmp", "mb": 600}"#,
        &[],
    );
    assert_eq!(
        got["error"], "OSError: [Errno 28] No space left on device",
        "{got}"
    );
    let mb = got["written_mb"].as_u64().unwrap();
    assert!((480..=512).contains(&mb), "{got}");
    // Unhandled, the error fails the invocation and ssam's log says what to change.
    let event = template.parent().unwrap().join("fill.json");
    std::fs::write(
        &event,
        r#"{"action": "fill-tmp", "mb": 600, "raise": true}"#,
    )
    .unwrap();
    let out = Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", "Writer", "-e"])
        .arg(&event)
        .arg("-t")
        .arg(&template)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("No space left on device"), "{stdout}");
    assert!(
        stderr.contains("hint: Writer: the function filled its /tmp")
            && stderr.contains("EphemeralStorage, 512 MB"),
        "{stderr}"
    );
}

/// The sandbox launcher joining the namespaces of a process that has already ended (an
/// extension that crashed right after registering) makes its own instead of failing, so
/// the runtime starts and the crash is reported as the extension's (`Extension.Crash`,
/// not the runtime's exit 126).
#[test]
fn joining_an_ended_process_makes_new_namespaces() {
    if !native_read_only() {
        return;
    }
    let dead = {
        let mut c = Command::new("true").spawn().unwrap();
        c.wait().unwrap();
        c.id()
    };
    let out = Command::new(ssam_testkit::ssam_bin())
        .args([
            "__sandbox",
            "--join",
            &dead.to_string(),
            "/",
            "0",
            "/",
            "--",
            "--",
        ])
        .args(["/bin/echo", "started"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n");
}

/// An instance's extensions and its runtime share one `/tmp`, as on Lambda: a file an
/// extension writes there at start is the function's to read, and not the machine's.
#[test]
fn extensions_share_tmp_with_the_function() {
    if !native_read_only() {
        return;
    }
    let (_dir, template) = fixture();
    let _ = std::fs::remove_file("/tmp/from-extension.txt");
    let got = invoke_with_event(&template, "WithExtension", r#"{"action": "shared"}"#, &[]);
    assert_eq!(got["shared"], "shared by the extension", "{got}");
    assert!(!Path::new("/tmp/from-extension.txt").exists());
}

/// A layer's files are read-only too (`/opt` on Lambda).
#[test]
fn layers_are_read_only() {
    if !native_read_only() {
        return;
    }
    let (dir, template) = fixture();
    let got = invoke_with_event(&template, "Writer", r#"{"action": "layer"}"#, &[]);
    assert!(
        got["layer"]
            .as_str()
            .unwrap()
            .starts_with("OSError: [Errno 30] Read-only file system"),
        "{got}"
    );
    assert!(!dir
        .path()
        .join("layer/python/written-by-function.txt")
        .exists());
}

/// Node reports Lambda's `EROFS: read-only file system, open '...'`.
#[test]
fn node_gets_erofs() {
    if !native_read_only() {
        return;
    }
    let (dir, template) = fixture();
    let got = invoke(&template, "NodeWriter");
    assert_eq!(
        got["relative"], "EROFS: read-only file system, open 'written-by-node.txt'",
        "{got}"
    );
    assert_eq!(got["tmp"], "written", "{got}");
    assert!(!dir.path().join("app/written-by-node.txt").exists());
}

/// The code stays editable from outside while a warm instance runs (the sandbox's view is
/// read-only, the developer's is not), and start-lambda's instances keep the rule.
#[test]
fn start_lambda_instances_keep_the_rule_while_the_code_is_edited() {
    if !native_read_only() {
        return;
    }
    let (dir, template) = fixture();
    let server = ssam_testkit::Server::start(
        &[
            "local".as_ref(),
            "start-lambda".as_ref(),
            "--port".as_ref(),
            "0".as_ref(),
            "--no-dashboard".as_ref(),
            "-t".as_ref(),
            template.as_os_str(),
        ],
        "Running on",
    );
    let url = server
        .word_after(" * Running on ")
        .expect("the Running on line");
    let script = r#"
import json, os, time, boto3
lam = boto3.client("lambda", endpoint_url=os.environ["URL"], region_name="us-east-1")
def call():
    r = lam.invoke(FunctionName="Writer", Payload=json.dumps({"action": "code"}))
    return json.loads(r["Payload"].read())
first = call()
assert first["relative"].startswith("OSError: [Errno 30]"), first
open(os.path.join(os.environ["CODE"], "data.txt"), "w").write("edited\n")
deadline = time.time() + 10
while time.time() < deadline:
    again = call()
    if again["read"] == "edited":
        break
    time.sleep(0.2)
assert again["read"] == "edited", again
assert again["relative"].startswith("OSError: [Errno 30]"), again
print("ok")
"#;
    let code = dir.path().join("app");
    let out = ssam_testkit::run_python(
        script,
        &[
            ("URL", &url),
            ("CODE", &code.to_string_lossy()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        "ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop();
}

/// In a container the whole image is read-only and `/tmp` is a tmpfs of the function's
/// `EphemeralStorage` size: writing past 512 MB fails with `ENOSPC`, as on Lambda.
#[test]
fn in_docker_tmp_is_sized_by_ephemeral_storage_and_the_rest_is_read_only() {
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return;
    }
    let base = "ssam-test/python:3.11";
    lambda_image::python_base_image(base).expect("the stand-in base image");
    let (_dir, template) = fixture();
    let image = format!("Writer={base}");
    let docker = ["--docker", "--invoke-image", image.as_str()];
    let got = invoke_with_event(&template, "Writer", r#"{"action": "code"}"#, &docker);
    assert!(
        got["relative"]
            .as_str()
            .unwrap()
            .starts_with("OSError: [Errno 30] Read-only file system"),
        "{got}"
    );
    assert_eq!(got["tmp"], "written", "{got}");
    let got = invoke_with_event(&template, "Writer", r#"{"action": "root"}"#, &docker);
    assert_eq!(
        got["root"], "OSError: [Errno 30] Read-only file system: '/ssam-fs-test-root.txt'",
        "{got}"
    );
    let got = invoke_with_event(
        &template,
        "Writer",
        r#"{"action": "fill-tmp", "mb": 600}"#,
        &docker,
    );
    assert_eq!(
        got["error"], "OSError: [Errno 28] No space left on device",
        "{got}"
    );
    let mb = got["written_mb"].as_u64().unwrap();
    assert!((480..=512).contains(&mb), "{got}");
    // The same function with 600 MB of EphemeralStorage has room for it.
    let raised = std::fs::read_to_string(&template)
        .unwrap()
        .replace("Size: 512", "Size: 700");
    std::fs::write(&template, raised).unwrap();
    let got = invoke_with_event(
        &template,
        "Writer",
        r#"{"action": "fill-tmp", "mb": 600}"#,
        &docker,
    );
    assert_eq!(got["filled"], 608, "{got}");
}
