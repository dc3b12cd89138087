//! `ssam build` end to end: SAM's layout and rewritten template, every built function
//! invoked from the built template, units skipped when nothing they read changed, Python
//! dependencies for the runtime's version (python3.12 built by a 3.11 `python3`).

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// FuncA and FuncB share a CodeUri (one build, two copies), Other uses a built layer, an
/// API's DefinitionUri points at a file next to the template.
fn project(dir: &Path) {
    write(
        dir,
        "src/shared/app.py",
        "import requests, charset_normalizer.md\n\
         def a(event, context):\n    return {'fn': 'a', 'requests': requests.__version__}\n\
         def b(event, context):\n    return {'fn': 'b'}\n",
    );
    write(dir, "src/shared/requirements.txt", "requests==2.32.3\n");
    write(dir, "src/shared/__pycache__/junk.pyc", "junk");
    write(
        dir,
        "src/other/app.py",
        "import mylayerlib\ndef handler(event, context):\n    return {'layer': mylayerlib.NAME}\n",
    );
    write(dir, "layers/deps/mylayerlib.py", "NAME = 'deps-layer'\n");
    write(
        dir,
        "api.json",
        r#"{"openapi": "3.0.1", "info": {"title": "x", "version": "1"}, "paths": {}}"#,
    );
    write(
        dir,
        "template.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n\
         Globals:\n  Function:\n    Timeout: 30\n\
         Resources:\n\
         \x20 FuncA:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/shared\n      Handler: app.a\n      Runtime: python3.12\n\
         \x20 FuncB:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/shared\n      Handler: app.b\n      Runtime: python3.12\n\
         \x20 Other:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/other\n      Handler: app.handler\n      Runtime: python3.11\n      Layers: [!Ref DepsLayer]\n\
         \x20 Inline:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: \"def h(e, c): return 1\"\n      Handler: index.h\n      Runtime: python3.11\n\
         \x20 DepsLayer:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layers/deps\n    Metadata:\n      BuildMethod: python3.11\n\
         \x20 Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: v1\n      DefinitionUri: api.json\n",
    );
}

fn ssam(dir: &Path, args: &[&str]) -> Output {
    Command::new(ssam_testkit::ssam_bin())
        .args(args)
        .current_dir(dir)
        .env("PATH", ssam_testkit::path_with_venv())
        .output()
        .unwrap()
}

fn build(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let out = ssam(dir, &all);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn builds_sams_layout_and_template_and_runs_from_it() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let log = build(dir.path(), &[]);
    assert!(log.contains("Build Succeeded"), "{log}");
    let b = dir.path().join(".aws-sam/build");
    for f in [
        "FuncA/app.py",
        "FuncB/app.py",
        "FuncA/requests/__init__.py",
        "Other/app.py",
        "DepsLayer/python/mylayerlib.py",
    ] {
        assert!(b.join(f).is_file(), "{f} in {log}");
    }
    assert!(
        !b.join("FuncA/__pycache__").exists(),
        "bytecode is left out"
    );
    assert!(!b.join("Inline").exists(), "inline code is not built");
    // Dependencies for the runtime (python3.12), not for the `python3` that ran pip.
    let so: Vec<String> = std::fs::read_dir(b.join("FuncA/charset_normalizer"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".so"))
        .collect();
    assert!(
        !so.is_empty() && so.iter().all(|n| n.contains("cpython-312")),
        "{so:?}"
    );

    // The rewritten template, read back with PyYAML as SAM reads it.
    let script = format!(
        "import json, yaml\nprint(json.dumps(yaml.safe_load(open('{}'))))",
        b.join("template.yaml").display()
    );
    let out = ssam_testkit::run_python(&script, &[]);
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &t["Resources"];
    assert_eq!(r["FuncA"]["Properties"]["CodeUri"], "FuncA");
    assert_eq!(r["FuncB"]["Properties"]["CodeUri"], "FuncB");
    assert_eq!(r["FuncA"]["Metadata"]["SamResourceId"], "FuncA");
    assert_eq!(
        r["Other"]["Properties"]["Layers"],
        serde_json::json!([{"Ref": "DepsLayer"}])
    );
    assert_eq!(r["DepsLayer"]["Properties"]["ContentUri"], "DepsLayer");
    assert_eq!(r["Api"]["Properties"]["DefinitionUri"], "../../api.json");
    assert_eq!(
        r["Inline"]["Properties"]["InlineCode"],
        "def h(e, c): return 1"
    );
    assert_eq!(t["AWSTemplateFormatVersion"], "2010-09-09");
    assert_eq!(t["Globals"]["Function"]["Timeout"], 30);

    let built = b.join("template.yaml");
    let built = built.to_str().unwrap();
    for (function, want) in [
        ("FuncA", r#""requests": "2.32.3""#),
        ("FuncB", r#"{"fn": "b"}"#),
        ("Other", r#"{"layer": "deps-layer"}"#),
    ] {
        let out = ssam(dir.path(), &["local", "invoke", function, "-t", built]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(want),
            "{function}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_rebuild_skips_what_did_not_change() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    build(dir.path(), &[]);

    let again = build(dir.path(), &[]);
    for unit in [
        "Up to date: DepsLayer",
        "Up to date: FuncA, FuncB",
        "Up to date: Other",
    ] {
        assert!(again.contains(unit), "{again}");
    }

    // One source edited: only its unit is rebuilt, and its dependencies are not reinstalled.
    write(
        dir.path(),
        "src/shared/app.py",
        "import requests\ndef a(event, context):\n    return {'fn': 'a2'}\ndef b(event, context):\n    return {'fn': 'b2'}\n",
    );
    let edited = build(dir.path(), &[]);
    assert!(edited.contains("Built FuncA, FuncB"), "{edited}");
    assert!(edited.contains("Up to date: Other"), "{edited}");
    assert!(
        !edited.contains("installing dependencies"),
        "a source edit reuses the dependencies: {edited}"
    );
    let app = std::fs::read_to_string(dir.path().join(".aws-sam/build/FuncB/app.py")).unwrap();
    assert!(app.contains("b2"));

    // The manifest edited: the new dependency set is installed.
    write(
        dir.path(),
        "src/shared/requirements.txt",
        "requests==2.32.3\nsix==1.17.0\n",
    );
    let manifest = build(dir.path(), &[]);
    assert!(manifest.contains("Built FuncA, FuncB"), "{manifest}");
    assert!(dir.path().join(".aws-sam/build/FuncA/six.py").is_file());

    // --no-cached rebuilds everything.
    let forced = build(dir.path(), &["--no-cached"]);
    assert!(!forced.contains("Up to date"), "{forced}");
}

/// `--manifest` (as `sam build --manifest`): python functions take their dependencies from
/// the given file instead of their own requirements.txt; an edit of it rebuilds them; a
/// missing file is refused with a hint.
#[test]
fn a_custom_manifest_replaces_the_functions_own() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    write(dir.path(), "deps/prod.txt", "six==1.17.0\n");
    let out = build(dir.path(), &["--manifest", "deps/prod.txt"]);
    assert!(out.contains("Built FuncA, FuncB"), "{out}");
    let built = dir.path().join(".aws-sam/build/FuncA");
    assert!(built.join("six.py").is_file(), "from deps/prod.txt");
    assert!(
        !built.join("requests").exists(),
        "not from src/shared/requirements.txt"
    );
    let again = build(dir.path(), &["--manifest", "deps/prod.txt"]);
    assert!(again.contains("Up to date: FuncA, FuncB"), "{again}");
    write(dir.path(), "deps/prod.txt", "six==1.16.0\n");
    let edited = build(dir.path(), &["--manifest", "deps/prod.txt"]);
    assert!(
        edited.contains("Built FuncA, FuncB"),
        "the manifest is an input: {edited}"
    );

    let missing = ssam(dir.path(), &["build", "--manifest", "nope.txt"]);
    assert!(!missing.status.success());
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(
        text.contains("the manifest nope.txt does not exist"),
        "{text}"
    );
}

/// On a terminal (a pseudo-terminal from util-linux `script` here), each unit gets its own
/// progress line that ends with its outcome; a failing unit's tool output is printed under
/// its name; in a pipe the same build prints plain `[Resource] line`s (the other tests).
#[test]
fn a_terminal_shows_one_progress_line_per_unit() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    write(
        dir.path(),
        "template.yaml",
        &std::fs::read_to_string(dir.path().join("template.yaml"))
            .unwrap()
            .replace(
                "  Api:\n",
                "  Broken:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/broken\n      Handler: app.h\n      Runtime: python3.12\n  Api:\n",
            ),
    );
    write(dir.path(), "src/broken/app.py", "def h(e, c): pass\n");
    write(
        dir.path(),
        "src/broken/requirements.txt",
        "no-such-package-ssam-test==9.9.9\n",
    );
    let command = format!("{} build", ssam_testkit::ssam_bin().display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("PATH", ssam_testkit::path_with_venv())
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "Broken fails the build: {text}");
    assert!(text.contains("FuncA, FuncB"), "{text}");
    assert!(text.contains("built ("), "a finished unit's line: {text}");
    assert!(text.contains("✖ failed"), "the failed unit's line: {text}");
    assert!(text.contains("── output of Broken ──"), "{text}");
    assert!(
        text.contains("[Broken] ") && text.contains("no-such-package-ssam-test"),
        "pip's output under the unit's name: {text}"
    );
    assert!(
        !text.contains("Building FuncA"),
        "no plain lines on a terminal: {text}"
    );
}

/// Local nested stacks are built as `sam build` builds them ("Building nested
/// applications"): each child's functions below `.aws-sam/build/<Child>/`, its template
/// rewritten to `.aws-sam/build/<Child>/template.yaml`, the parent's `Location` /
/// `TemplateURL` pointing at it; `local invoke Child/Fn` runs the built code.
#[test]
fn nested_stacks_are_built_into_their_own_directories() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n\
         \x20 Greeter:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child/template.yaml\n      Parameters:\n        Greeting: hello\n\
         \x20 Shouter:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./child/template.yaml\n      Parameters:\n        Greeting: HEY\n",
    );
    write(
        dir.path(),
        "child/template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nParameters:\n  Greeting: {Type: String}\nResources:\n\
         \x20 Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Environment:\n        Variables:\n          GREETING: !Ref Greeting\n",
    );
    write(
        dir.path(),
        "child/src/app.py",
        "import os, six\ndef handler(event, context):\n    return {'greeting': os.environ['GREETING'], 'six': six.__version__}\n",
    );
    write(dir.path(), "child/src/requirements.txt", "six==1.17.0\n");
    let out = build(dir.path(), &[]);
    assert!(
        out.contains("Greeter/Fn") && out.contains("Shouter/Fn"),
        "{out}"
    );
    let b = dir.path().join(".aws-sam/build");
    for child in ["Greeter", "Shouter"] {
        assert!(
            b.join(child).join("Fn/app.py").is_file(),
            "{child}'s function"
        );
        assert!(
            b.join(child).join("Fn/six.py").is_file(),
            "{child}'s dependencies"
        );
        let t = std::fs::read_to_string(b.join(child).join("template.yaml")).unwrap();
        assert!(t.contains("CodeUri: \"Fn\""), "{t}");
    }
    let root = std::fs::read_to_string(b.join("template.yaml")).unwrap();
    assert!(
        root.contains("Location: \"Greeter/template.yaml\""),
        "{root}"
    );
    assert!(
        root.contains("TemplateURL: \"Shouter/template.yaml\""),
        "{root}"
    );

    // Nothing changed: every unit, nested ones included, is up to date.
    let again = build(dir.path(), &[]);
    assert!(again.contains("Up to date: Greeter/Fn"), "{again}");

    // The built template runs the built child (no source tree needed for its code).
    std::fs::remove_dir_all(dir.path().join("child/src")).unwrap();
    let invoked = ssam(
        dir.path(),
        &[
            "local",
            "invoke",
            "-t",
            ".aws-sam/build/template.yaml",
            "Shouter/Fn",
        ],
    );
    let text = String::from_utf8_lossy(&invoked.stdout);
    assert!(
        invoked.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&invoked.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["greeting"], "HEY");
    assert_eq!(v["six"], "1.17.0");
}

/// With a `package-lock.json`, dependencies are installed by `npm ci`, exactly as pinned: the
/// lockfile holds leftpad 1.0.0 while the registry's latest (which `^1.0.0` would pick) is
/// 1.1.0. No npm registry is reachable here, so the test serves one (two tarballs and the
/// package's metadata) with Python's http.server on loopback.
#[test]
fn a_lockfile_is_installed_with_npm_ci() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry");
    let port = ssam_testkit::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let made = ssam_testkit::run_python(
        &format!(
            r#"
import base64, hashlib, io, json, os, tarfile
root = r"{root}"
os.makedirs(os.path.join(root, "tarballs"), exist_ok=True)
meta = {{"name": "leftpad", "dist-tags": {{"latest": "1.1.0"}}, "versions": {{}}}}
for v in ["1.0.0", "1.1.0"]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, body in [("package/package.json", json.dumps({{"name": "leftpad", "version": v, "main": "index.js"}})),
                           ("package/index.js", "module.exports = '%s';" % v)]:
            data = body.encode()
            info = tarfile.TarInfo(name); info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    blob = buf.getvalue()
    open(os.path.join(root, "tarballs", f"leftpad-{{v}}.tgz"), "wb").write(blob)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()
    meta["versions"][v] = {{"name": "leftpad", "version": v,
        "dist": {{"tarball": f"{base}/tarballs/leftpad-{{v}}.tgz", "integrity": integrity}}}}
    if v == "1.0.0":
        pinned = integrity
open(os.path.join(root, "leftpad"), "w").write(json.dumps(meta))
print(pinned)
"#,
            root = registry.display()
        ),
        &[],
    );
    let pinned = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let mut server = Command::new(ssam_testkit::python())
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&registry)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the test registry did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    write(
        dir.path(),
        "fn/package.json",
        r#"{"name": "fn", "version": "1.0.0", "dependencies": {"leftpad": "^1.0.0"}}"#,
    );
    write(
        dir.path(),
        "fn/package-lock.json",
        &format!(
            r#"{{"name": "fn", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {{
    "": {{"name": "fn", "version": "1.0.0", "dependencies": {{"leftpad": "^1.0.0"}}}},
    "node_modules/leftpad": {{"version": "1.0.0", "resolved": "{base}/tarballs/leftpad-1.0.0.tgz", "integrity": "{pinned}"}}
  }}}}"#
        ),
    );
    write(
        dir.path(),
        "fn/index.js",
        "exports.handler = async () => ({ leftpad: require('leftpad') });\n",
    );
    write(
        dir.path(),
        "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn/\n      Handler: index.handler\n      Runtime: nodejs20.x\n",
    );
    let out = Command::new(ssam_testkit::ssam_bin())
        .arg("build")
        .current_dir(dir.path())
        .env("PATH", ssam_testkit::path_with_venv())
        .env("npm_config_registry", format!("{base}/"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("npm_config_cache", dir.path().join("npm-cache"))
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let installed = std::fs::read_to_string(
        dir.path()
            .join(".aws-sam/build/Fn/node_modules/leftpad/package.json"),
    )
    .unwrap();
    assert!(
        installed.contains("\"1.0.0\""),
        "the pinned version: {installed}"
    );
}

#[test]
fn building_one_function_points_the_others_at_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    build(dir.path(), &["Other"]);
    let b = dir.path().join(".aws-sam/build");
    assert!(b.join("Other/app.py").is_file());
    assert!(
        b.join("DepsLayer/python/mylayerlib.py").is_file(),
        "its layer is built too"
    );
    assert!(!b.join("FuncA").exists());
    let text = std::fs::read_to_string(b.join("template.yaml")).unwrap();
    assert!(text.contains(r#"CodeUri: "../../src/shared""#), "{text}");

    let out = ssam(dir.path(), &["build", "Nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no function or layer Nope"));
}

#[test]
fn a_failing_unit_shows_its_output_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    write(
        dir.path(),
        "src/other/requirements.txt",
        "this-package-does-not-exist-ssam==0.0.1\n",
    );
    let out = ssam(dir.path(), &["build"]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("[Other]"),
        "pip's output under the function's name: {text}"
    );
    assert!(text.contains("Other: pip install -r"), "{text}");
    assert!(
        text.contains("Built FuncA, FuncB"),
        "the other units finish: {text}"
    );
    assert!(text.contains("Build Failed"), "{text}");
}

/// The inner loop without `ssam build`: a function's `requirements.txt` is installed at
/// start (into the cache `ssam build` uses), and an edit of it while ssam runs gives the
/// next invocation the new set.
#[test]
fn dependencies_without_a_build_step() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/app.py",
        "import six\ndef handler(event, context):\n    \
         try:\n        import idna\n        has_idna = idna.__version__\n    \
         except ImportError:\n        has_idna = None\n    \
         return {'six': six.__version__, 'idna': has_idna}\n",
    );
    write(dir.path(), "src/requirements.txt", "six==1.17.0\n");
    write(
        dir.path(),
        "lib/package.json",
        r#"{"name": "lib", "version": "1.0.0", "main": "index.js"}"#,
    );
    write(
        dir.path(),
        "lib/index.js",
        "module.exports = { name: 'lib-from-file-dep' };\n",
    );
    write(
        dir.path(),
        "node/package.json",
        r#"{"name": "n", "version": "1.0.0", "dependencies": {"lib": "file:../lib"}}"#,
    );
    write(
        dir.path(),
        "node/index.js",
        "const lib = require('lib');\nexports.handler = async () => lib.name;\n",
    );
    write(
        dir.path(),
        "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Deps:\n    Type: AWS::Serverless::Function\n    \
         Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.11\n      Timeout: 30\n  \
         NodeDeps:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: node/\n      \
         Handler: index.handler\n      Runtime: nodejs20.x\n      Timeout: 30\n",
    );
    let template = dir.path().join("template.yaml");
    let args: Vec<&std::ffi::OsStr> = ["local", "start-lambda", "--port", "0", "-t"]
        .iter()
        .map(std::ffi::OsStr::new)
        .chain(std::iter::once(template.as_os_str()))
        .collect();
    let server = ssam_testkit::Server::start_within(
        &args,
        "Running on",
        std::time::Duration::from_secs(180),
    );
    let url = server
        .word_after(" * Running on ")
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let invoke_fn = |function: &str| {
        let script = format!(
            "import boto3, json\nc = boto3.client('lambda', endpoint_url='{url}', region_name='us-east-1', \
             aws_access_key_id='k', aws_secret_access_key='s')\n\
             r = c.invoke(FunctionName='{function}')\nprint(r['Payload'].read().decode())"
        );
        let out = ssam_testkit::run_python(&script, &[]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let invoke = || invoke_fn("Deps");
    assert_eq!(invoke_fn("NodeDeps"), "lib-from-file-dep");
    let first = invoke();
    assert_eq!(first["six"], "1.17.0", "{first}");
    assert_eq!(first["idna"], serde_json::Value::Null);

    write(
        dir.path(),
        "src/requirements.txt",
        "six==1.17.0\nidna==3.10\n",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let second = loop {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let r = invoke();
        if r["idna"] == "3.10" || std::time::Instant::now() > deadline {
            break r;
        }
    };
    assert_eq!(second["idna"], "3.10", "{second}");
    let log = server.stop().join("\n");
    assert!(
        log.contains("Reloading Deps: requirements.txt changed"),
        "{log}"
    );
}

/// nodejs with a local `file:` package (kept, installed as a copy; no registry needed),
/// `BuildMethod: makefile` with `ARTIFACTS_DIR`, and `rust-cargolambda` (cargo's binary as
/// `bootstrap`), each invoked from the built template.
#[test]
fn node_makefile_and_rust_workflows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "shared-lib/package.json",
        r#"{"name": "shared-lib", "version": "1.0.0", "main": "index.js"}"#,
    );
    write(
        d,
        "shared-lib/index.js",
        "module.exports = { name: 'shared' };\n",
    );
    write(
        d,
        "node/package.json",
        r#"{"name": "nodefn", "version": "1.0.0", "dependencies": {"shared-lib": "file:../shared-lib"},
            "devDependencies": {"not-installed-for-lambda": "9.9.9"}}"#,
    );
    write(
        d,
        "node/index.js",
        "const lib = require('shared-lib');\nexports.handler = async () => ({ lib: lib.name });\n",
    );
    write(
        d,
        "make/app.py",
        "def handler(event, context):\n    return open('made.txt').read().strip()\n",
    );
    write(
        d,
        "make/Makefile",
        "build-MakeFn:\n\tcp app.py $(ARTIFACTS_DIR)/\n\techo made-by-make > $(ARTIFACTS_DIR)/made.txt\n",
    );
    write(
        d,
        "rust/Cargo.toml",
        "[package]\nname = \"rustfn\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    write(
        d,
        "rust/src/main.rs",
        r#"use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

// A Lambda runtime in plain std: take the next invocation, answer it.
fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("runtime api");
    loop {
        let mut s = TcpStream::connect(&api).expect("connect");
        write!(s, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n").expect("get");
        let mut r = BufReader::new(s);
        let mut id = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).expect("read") == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("lambda-runtime-aws-request-id:") {
                id = v.trim().to_string();
            }
        }
        let body = "\"from rust\"";
        let mut s = TcpStream::connect(&api).expect("connect");
        write!(s, "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).expect("post");
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
}
"#,
    );
    write(
        d,
        "template.yaml",
        "Transform: AWS::Serverless-2016-10-31\nResources:\n\
         \x20 NodeFn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: node/\n      Handler: index.handler\n      Runtime: nodejs20.x\n\
         \x20 MakeFn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: make/\n      Handler: app.handler\n      Runtime: python3.11\n    Metadata:\n      BuildMethod: makefile\n\
         \x20 RustFn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: rust/\n      Handler: bootstrap\n      Runtime: provided.al2023\n    Metadata:\n      BuildMethod: rust-cargolambda\n",
    );
    let log = build(d, &[]);
    let b = d.join(".aws-sam/build");
    assert!(
        b.join("NodeFn/node_modules/shared-lib/index.js").is_file(),
        "{log}"
    );
    assert!(
        !b.join("NodeFn/node_modules/shared-lib").is_symlink(),
        "a local package is copied into the artifact, not linked out of it"
    );
    assert!(!b
        .join("NodeFn/node_modules/not-installed-for-lambda")
        .exists());
    assert!(b.join("MakeFn/made.txt").is_file(), "{log}");
    assert!(b.join("RustFn/bootstrap").is_file(), "{log}");

    let built = b.join("template.yaml");
    let built = built.to_str().unwrap();
    for (function, want) in [
        ("NodeFn", r#"{"lib":"shared"}"#),
        ("MakeFn", r#""made-by-make""#),
        ("RustFn", r#""from rust""#),
    ] {
        let out = ssam(d, &["local", "invoke", function, "-t", built]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.trim(),
            want,
            "{function}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Unchanged: every unit is skipped, makefile and cargo included.
    let again = build(d, &[]);
    for unit in [
        "Up to date: MakeFn",
        "Up to date: NodeFn",
        "Up to date: RustFn",
    ] {
        assert!(again.contains(unit), "{again}");
    }
}
