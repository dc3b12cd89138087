//! Functions in Docker, end to end: the real ssam binary, the real Docker engine, a stand-in
//! for AWS's Python base image (built by `ssam_testkit::lambda_image`, since nothing can be
//! pulled here) running AWS's runtime client, and boto3 as the client.
//!
//! Where no engine answers, every test here prints why it is skipped and returns.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use ssam_testkit::lambda_image;
use ssam_testkit::{run_python, Server};

/// The stand-in's tag for the seed's `FROM` line, and a plain one for the other tests.
const SEED_BASE: &str = "public.ecr.aws/lambda/python:3.9";
const BASE: &str = "ssam-test/python:3.11";

/// Ensures the engine answers and `tag` exists; `None` (after saying why) when the test
/// must be skipped.
fn docker_with(tag: &str) -> Option<()> {
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return None;
    }
    if let Err(e) = lambda_image::python_base_image(tag) {
        panic!("cannot make the stand-in base image {tag}: {e}");
    }
    Some(())
}

/// Removes the images a test built (their tags are unique to the test).
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for tag in &self.0 {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", tag])
                .output();
        }
    }
}

/// Removes every image built for the function `logical_id` (label `ssam.function`), also
/// those a rebuild left untagged.
struct ImagesOf(String);

impl Drop for ImagesOf {
    fn drop(&mut self) {
        let filter = format!("label=ssam.function={}", self.0);
        let Ok(out) = std::process::Command::new("docker")
            .args(["images", "-q", "--filter", &filter])
            .output()
        else {
            return;
        };
        let ids = String::from_utf8_lossy(&out.stdout);
        let mut ids: Vec<&str> = ids.split_whitespace().collect();
        ids.dedup();
        if !ids.is_empty() {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f"])
                .args(ids)
                .output();
        }
    }
}

/// A docker context in `dir`: `app.py` (its `handler` the function) and a Dockerfile shaped
/// like AWS's docs, on the stand-in base image.
fn image_context(dir: &Path, app_py: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {BASE}\nCOPY app.py ${{LAMBDA_TASK_ROOT}}/\nCMD [\"app.handler\"]\n"),
    )
    .unwrap();
    std::fs::write(dir.join("app.py"), app_py).unwrap();
}

/// ssam's containers started by the ssam process `pid`.
fn containers_of(pid: u32) -> Vec<String> {
    lambda_image::containers_with_label(&format!("ssam.pid={pid}"))
}

/// The seed's thumbnail flow with its own Dockerfile: `ssam local start` builds the image,
/// a video uploaded with a presigned URL fires the S3 event, the container writes the
/// thumbnail; `main.py` edited while ssam runs is rebuilt and runs with no flag.
#[test]
fn thumbnail_image_function_end_to_end_and_rebuilt_on_edit() {
    if docker_with(SEED_BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("thumbnail");
    ssam_testkit::copy_dir(
        &ssam_testkit::workspace_root().join("examples/thumbnail"),
        &app,
    );
    let _ = std::fs::remove_dir_all(app.join(".ssam"));
    // A unique logical id (and so image tag) per run: tests run in parallel processes.
    let id = format!("Thumb{}", std::process::id());
    let template = std::fs::read_to_string(app.join("template.yaml"))
        .unwrap()
        .replace("ThumbnailGenerator", &id)
        .replace(
            "BucketName: help-me-sam",
            &format!("BucketName: thumbs-{}", std::process::id()),
        );
    std::fs::write(app.join("template.yaml"), template).unwrap();
    // The edit below rebuilds: the first image is left untagged.
    let _images = ImagesOf(id.clone());

    let server =
        Server::local_start_within(&app.join("template.yaml"), &[], Duration::from_secs(300));
    let s3 = server.word_after("S3 ").expect("S3 address");
    let bucket = format!("thumbs-{}", std::process::id());
    let video = dir.path().join("video.mp4");
    ssam_testkit::video::solid_color_mp4(&video, "yellow", 1, None);
    let got = dir.path().join("thumbnail.png");
    let upload_and_wait = |key: &str, thumbnail: &str| {
        let (video_file, thumbnail_file) = (video.display(), got.display());
        let script = format!(
            r#"
import time, urllib.request, boto3
s3 = boto3.client("s3", endpoint_url="{s3}", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
url = s3.generate_presigned_url("put_object", Params={{"Bucket": "{bucket}", "Key": "{key}"}}, ExpiresIn=300)
req = urllib.request.Request(url, data=open(r"{video_file}", "rb").read(), method="PUT")
assert urllib.request.urlopen(req).status == 200
deadline = time.time() + 240
while time.time() < deadline:
    try:
        head = s3.head_object(Bucket="{bucket}", Key="{thumbnail}")
        assert head["ContentType"] == "image/png", head
        body = s3.get_object(Bucket="{bucket}", Key="{thumbnail}")["Body"].read()
        assert body.startswith(b"\x89PNG"), body[:8]
        open(r"{thumbnail_file}", "wb").write(body)
        print("found")
        break
    except s3.exceptions.ClientError:
        time.sleep(0.2)
else:
    raise SystemExit("no thumbnail {thumbnail}")
"#
        );
        let out = run_python(&script, &[]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("found"));
        // A real frame of the video, made by the image's ffmpeg (pip-installed by the Dockerfile).
        let (w, _, centre) = ssam_testkit::video::png_probe(&std::fs::read(&got).unwrap());
        assert_eq!(w, 160);
        assert!(
            centre[0] > 200 && centre[1] > 200 && centre[2] < 60,
            "{centre:?}"
        );
    };
    upload_and_wait("clip.mp4", "thumbnails/clip.png");

    // Edit the code the Dockerfile COPYs: the next event runs a rebuilt image.
    let main = app.join("app/main.py");
    let code = std::fs::read_to_string(&main)
        .unwrap()
        .replace("}.png\"", "}.v2.png\"");
    assert!(code.contains(".v2.png"), "the edit applies");
    std::fs::write(&main, code).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    upload_and_wait("again.mp4", "thumbnails/again.v2.png");

    let pid = server.child.id();
    let lines = server.stop();
    let text = lines.join("\n");
    assert!(
        text.contains(&format!("Reloading {id}: app/main.py changed")),
        "{text}"
    );
    assert_eq!(
        text.matches(&format!("{id}: built image")).count(),
        2,
        "built at start and after the edit: {text}"
    );
    assert!(
        containers_of(pid).is_empty(),
        "no container left after stop"
    );
}

/// A context with one handler module and a function per behaviour, each built from it.
fn limits_app(dir: &Path, prefix: &str) -> (PathBuf, Images) {
    let img = dir.join("img");
    std::fs::create_dir_all(&img).unwrap();
    std::fs::write(
        img.join("Dockerfile"),
        format!("FROM {BASE}\nCOPY app.py ${{LAMBDA_TASK_ROOT}}/\nCMD [\"app.ok\"]\n"),
    )
    .unwrap();
    std::fs::write(
        img.join("app.py"),
        r#"import os, time, uuid
INSTANCE = uuid.uuid4().hex

def ok(event, context):
    print("ok handler ran")
    time.sleep(event.get("sleep", 0))
    return {"instance": INSTANCE, "cwd": os.getcwd(), "task": os.environ.get("LAMBDA_TASK_ROOT"),
            "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "name": context.function_name,
            "mine": os.environ.get("MINE")}

def slow(event, context):
    time.sleep(event.get("sleep", 1))
    return {"instance": INSTANCE}

def crash(event, context):
    print("about to crash", flush=True)
    os._exit(3)

def hog(event, context):
    blocks = []
    for _ in range(64):
        blocks.append(b"x" * (16 << 20))
    return "survived"
"#,
    )
    .unwrap();
    let mut images = Vec::new();
    let mut resources = String::new();
    for (name, command, timeout, memory) in [
        ("Ok", None, 30, 256),
        ("Slow", Some("app.slow"), 2, 256),
        ("Crash", Some("app.crash"), 3, 256),
        ("Hog", Some("app.hog"), 10, 128),
        ("Cfg", Some("app.ok"), 3, 256),
    ] {
        let id = format!("{prefix}{name}");
        images.push(format!("{}:t", id.to_lowercase()));
        let mut config = command
            .map(|c| format!("      ImageConfig:\n        Command: [\"{c}\"]\n"))
            .unwrap_or_default();
        if name == "Cfg" {
            config.push_str(
                "        EntryPoint: [\"/lambda-entrypoint.sh\"]\n        WorkingDirectory: /tmp\n",
            );
        }
        resources.push_str(&format!(
            "  {id}:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      \
             Timeout: {timeout}\n      MemorySize: {memory}\n      Environment:\n        Variables:\n          MINE: from-template\n{config}    \
             Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./img\n      DockerTag: t\n"
        ));
    }
    let template = dir.join("template.yaml");
    std::fs::write(
        &template,
        format!(
            "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n{resources}"
        ),
    )
    .unwrap();
    (template, Images(images))
}

fn start_lambda(template: &Path, extra: &[&str]) -> Server {
    let mut args: Vec<&std::ffi::OsStr> = ["local", "start-lambda", "--port", "0"]
        .iter()
        .chain(extra)
        .map(std::ffi::OsStr::new)
        .collect();
    args.push(std::ffi::OsStr::new("-t"));
    args.push(template.as_os_str());
    Server::start_within(&args, "Running on", Duration::from_secs(240))
}

/// The Invoke API's address `start-lambda` printed (`http://127.0.0.1:PORT`).
fn invoke_url(server: &Server) -> String {
    format!(
        "http://{}",
        server
            .word_after(" * Running on http://")
            .unwrap()
            .trim_end_matches('/')
    )
}

/// Invokes `function` through the Invoke API with boto3; prints `FunctionError|payload`.
fn invoke(endpoint: &str, function: &str, payload: &str) -> (String, serde_json::Value) {
    let script = format!(
        r#"
import boto3, botocore.config
c = boto3.client("lambda", endpoint_url="{endpoint}", region_name="us-east-1",
                 aws_access_key_id="k", aws_secret_access_key="s",
                 config=botocore.config.Config(read_timeout=60, retries={{"max_attempts": 0}}))
r = c.invoke(FunctionName="{function}", Payload=b'{payload}')
print(r.get("FunctionError", "") + "|" + r["Payload"].read().decode())
"#
    );
    let out = String::from_utf8(run_python(&script, &[]).stdout).unwrap();
    let (err, body) = out.trim().split_once('|').unwrap();
    (err.to_string(), serde_json::from_str(body).unwrap())
}

/// Timeout, crash, memory limit and a normal answer, through containers: Lambda's errors,
/// the function's environment, and every container gone afterwards.
#[test]
fn container_limits_and_errors_are_lambdas() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("Lim{}", std::process::id());
    let (template, _images) = limits_app(dir.path(), &prefix);
    let server = start_lambda(&template, &[]);
    let url = invoke_url(&server);

    let (err, ok) = invoke(&url, &format!("{prefix}Ok"), "{}");
    assert_eq!(err, "", "{ok}");
    assert_eq!(ok["cwd"], "/var/task");
    assert_eq!(ok["task"], "/var/task");
    assert_eq!(ok["memory"], "256");
    assert_eq!(ok["name"], format!("{prefix}Ok"));
    assert_eq!(ok["mine"], "from-template");

    // ImageConfig: EntryPoint, Command and WorkingDirectory replace the image's.
    let (err, cfg) = invoke(&url, &format!("{prefix}Cfg"), "{}");
    assert_eq!(err, "", "{cfg}");
    assert_eq!(cfg["cwd"], "/tmp");

    let (err, doc) = invoke(&url, &format!("{prefix}Slow"), r#"{"sleep": 10}"#);
    assert_eq!(err, "Unhandled");
    assert_eq!(doc["errorType"], "Sandbox.Timedout", "{doc}");
    assert!(doc["errorMessage"]
        .as_str()
        .unwrap()
        .ends_with("Task timed out after 2.00 seconds"));

    let (err, doc) = invoke(&url, &format!("{prefix}Crash"), "{}");
    assert_eq!(err, "Unhandled");
    assert_eq!(doc["errorType"], "Runtime.ExitError", "{doc}");
    assert!(doc["errorMessage"]
        .as_str()
        .unwrap()
        .ends_with("Runtime exited with error: exit status 3"));

    let (err, doc) = invoke(&url, &format!("{prefix}Hog"), "{}");
    assert_eq!(err, "Unhandled");
    assert_eq!(doc["errorType"], "Runtime.OutOfMemory", "{doc}");

    // The killed containers are removed as their instances end, before shutdown.
    let pid = server.child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while containers_of(pid).len() > 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        containers_of(pid).len(),
        2,
        "only Ok's and Cfg's warm containers are left"
    );
    let lines = server.stop().join("\n");
    assert!(
        lines.contains("about to crash"),
        "container output is logged: {lines}"
    );
    assert!(lines.contains("ok handler ran"), "{lines}");
    assert!(
        containers_of(pid).is_empty(),
        "no container left after stop"
    );
}

/// 16 requests at once are served by several containers of the same function.
#[test]
fn parallel_requests_are_served_by_several_containers() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("Par{}", std::process::id());
    let (template, _images) = limits_app(dir.path(), &prefix);
    let server = start_lambda(&template, &["--max-instances", "8"]);
    let url = invoke_url(&server);
    let script = format!(
        r#"
import json, boto3, botocore.config
from concurrent.futures import ThreadPoolExecutor
c = boto3.client("lambda", endpoint_url="{url}", region_name="us-east-1",
                 aws_access_key_id="k", aws_secret_access_key="s",
                 config=botocore.config.Config(read_timeout=60, max_pool_connections=16, retries={{"max_attempts": 0}}))
def one(_):
    r = c.invoke(FunctionName="{prefix}Ok", Payload=b'{{"sleep": 1}}')
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read())["instance"]
with ThreadPoolExecutor(16) as pool:
    instances = list(pool.map(one, range(16)))
print(len(instances), len(set(instances)))
"#
    );
    let out = String::from_utf8(run_python(&script, &[]).stdout).unwrap();
    let counts: Vec<usize> = out.split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(counts[0], 16, "every request answered");
    assert!(counts[1] >= 4, "several containers served them: {out}");
    assert!(counts[1] <= 8, "no more than --max-instances: {out}");
    let pid = server.child.id();
    server.stop();
    assert!(containers_of(pid).is_empty());
}

/// Ctrl-C removes every container; after `kill -9` the next ssam removes what was left.
#[test]
fn no_container_outlives_ssam() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("Life{}", std::process::id());
    let (template, _images) = limits_app(dir.path(), &prefix);

    let server = start_lambda(&template, &["--warm-containers", "EAGER"]);
    let pid = server.child.id();
    assert_eq!(
        containers_of(pid).len(),
        5,
        "one warm container per function"
    );
    server.interrupt();
    assert!(containers_of(pid).is_empty(), "Ctrl-C removes them");

    let killed = start_lambda(&template, &["--warm-containers", "EAGER"]);
    let killed_pid = killed.child.id();
    assert_eq!(containers_of(killed_pid).len(), 5);
    killed.kill9();
    assert_eq!(containers_of(killed_pid).len(), 5, "kill -9 leaves them");

    let next = start_lambda(&template, &[]);
    let next_pid = next.child.id();
    let lines = next.stop().join("\n");
    assert!(
        containers_of(killed_pid).is_empty(),
        "the next start removed them: {lines}"
    );
    assert!(
        lines.contains("removed 5 container(s) left by an earlier ssam"),
        "{lines}"
    );
    assert!(containers_of(next_pid).is_empty());
}

/// A Zip function with `--docker`: its code mounted read-only at /var/task in the runtime
/// image; a runtime image that is not present says which `docker pull` to run.
#[test]
fn zip_function_runs_in_its_runtime_image_with_docker() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    std::fs::write(
        dir.path().join("code/app.py"),
        "import os\ndef handler(event, context):\n    \
         open(__file__, 'a')  # read-only mount: raises\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("code/ro.py"),
        "import os\ndef handler(event, context):\n    \
         try:\n        open(os.path.join(os.path.dirname(__file__), 'x'), 'w')\n        writable = True\n    \
         except OSError:\n        writable = False\n    \
         import mylib\n    \
         return {'file': __file__, 'writable': writable, 'region': os.environ['AWS_REGION'], \
         'layer': mylib.WHO, 'layer_file': mylib.__file__}\n",
    )
    .unwrap();
    // Two layers, merged at /opt in order: the second one's mylib wins.
    for (layer, who) in [("one", "first"), ("two", "second")] {
        std::fs::create_dir_all(dir.path().join(layer).join("python")).unwrap();
        std::fs::write(
            dir.path().join(layer).join("python/mylib.py"),
            format!("WHO = '{who}'\n"),
        )
        .unwrap();
    }
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Zip:\n    Type: AWS::Serverless::Function\n    \
         Properties:\n      CodeUri: code/\n      Handler: ro.handler\n      Runtime: python3.11\n      \
         Layers: [!Ref One, !Ref Two]\n  \
         One:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: one/\n  \
         Two:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: two/\n  \
         Newer:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: code/\n      \
         Handler: ro.handler\n      Runtime: python3.13\n",
    )
    .unwrap();
    let out = std::process::Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", "Zip", "--docker", "--invoke-image"])
        .arg(format!("Zip={BASE}"))
        .arg("-t")
        .arg(&template)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(doc["file"], "/var/task/ro.py");
    assert_eq!(doc["writable"], false, "code is mounted read-only");
    assert_eq!(doc["region"], "us-east-1");
    assert_eq!(doc["layer"], "second", "later layers override earlier ones");
    assert_eq!(doc["layer_file"], "/opt/python/mylib.py");

    let out = std::process::Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", "Newer", "--docker", "-t"])
        .arg(&template)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("the image public.ecr.aws/lambda/python:3.13 is not present locally")
            && text.contains("docker pull public.ecr.aws/lambda/python:3.13"),
        "{text}"
    );
}

/// No engine at DOCKER_HOST: the Image function's error names what was tried, and the Zip
/// function beside it keeps running natively.
#[test]
fn without_an_engine_zip_functions_still_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    std::fs::write(
        dir.path().join("code/app.py"),
        "def handler(event, context):\n    return 'native'\n",
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Zip:\n    Type: AWS::Serverless::Function\n    \
         Properties:\n      CodeUri: code/\n      Handler: app.handler\n      Runtime: python3.11\n  \
         Img:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n    \
         Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./code\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("code/Dockerfile"), format!("FROM {BASE}\n")).unwrap();
    let socket = dir.path().join("no-docker.sock");
    let mut args: Vec<std::ffi::OsString> = ["local", "start-lambda", "--port", "0", "-t"]
        .iter()
        .map(Into::into)
        .collect();
    args.push(template.clone().into());
    let arg_refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let docker_host = format!("unix://{}", socket.display());
    let server = Server::start_env(
        &arg_refs,
        "Running on",
        Duration::from_secs(30),
        &[("DOCKER_HOST", &docker_host)],
    );
    let url = invoke_url(&server);
    let (err, body) = invoke(&url, "Zip", "{}");
    assert_eq!((err.as_str(), body), ("", serde_json::json!("native")));
    let (err, doc) = invoke(&url, "Img", "{}");
    assert_eq!(err, "Unhandled");
    let message = doc["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "cannot reach the Docker engine at unix://{}",
            socket.display()
        )),
        "{doc}"
    );
    let lines = server.stop().join("\n");
    assert!(
        lines.contains("Img: cannot reach the Docker engine"),
        "said at start: {lines}"
    );
}

/// An Image function behind API Gateway (`start-api`), and a Dockerfile that fails: the
/// failing step is shown at start and in the answer, the other function is served.
#[test]
fn start_api_serves_an_image_function_and_shows_a_failing_build_step() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("Api{}", std::process::id());
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    image_context(
        &good,
        "import json\ndef handler(event, context):\n    \
         return {'statusCode': 200, 'body': json.dumps({'path': event['rawPath']})}\n",
    );
    std::fs::write(
        bad.join("Dockerfile"),
        format!("FROM {BASE}\nRUN echo breaking && exit 3\nCMD [\"app.handler\"]\n"),
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    let function = |id: &str, ctx: &str, path: &str| {
        format!(
            "  {id}:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      \
             Events:\n        Get:\n          Type: HttpApi\n          Properties: {{Path: {path}, Method: GET}}\n    \
             Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./{ctx}\n"
        )
    };
    std::fs::write(
        &template,
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n{}{}",
            function(&format!("{prefix}Good"), "good", "/good"),
            function(&format!("{prefix}Bad"), "bad", "/bad")
        ),
    )
    .unwrap();
    let _images = Images(vec![
        format!("{}good:latest", prefix.to_lowercase()),
        format!("{}bad:latest", prefix.to_lowercase()),
    ]);
    let args: Vec<std::ffi::OsString> = vec![
        "local".into(),
        "start-api".into(),
        "--port".into(),
        "0".into(),
        "-t".into(),
        template.clone().into(),
    ];
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let server = Server::start_within(&refs, "Running on", Duration::from_secs(240));
    let base = server
        .word_after(" * Running on ")
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let get = |path: &str| {
        let script = format!(
            "import urllib.request, urllib.error\ntry:\n    r = urllib.request.urlopen('{base}{path}')\n    \
             print(r.status, r.read().decode())\nexcept urllib.error.HTTPError as e:\n    print(e.code, e.read().decode())\n"
        );
        String::from_utf8(run_python(&script, &[]).stdout).unwrap()
    };
    let good = get("/good");
    assert!(good.starts_with("200 "), "{good}");
    assert!(good.contains(r#""path": "/good""#), "{good}");
    let bad = get("/bad");
    assert!(
        bad.starts_with("500 "),
        "an HTTP API's function error: {bad}"
    );
    let pid = server.child.id();
    let lines = server.stop().join("\n");
    assert!(
        lines.contains(&format!(
            "{prefix}Bad: building image {}bad:latest failed at Step 2/",
            prefix.to_lowercase()
        )) && lines.contains("RUN echo breaking && exit 3"),
        "the failing step is shown: {lines}"
    );
    assert!(
        lines.contains("breaking"),
        "the build's output is shown: {lines}"
    );
    assert!(containers_of(pid).is_empty());
}

/// `ImageUri` naming a local image runs it as is; one that is not present says which
/// `docker pull` to run.
#[test]
fn image_uri_of_a_local_image_runs_as_is() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.yaml");
    // awslambdaric resolves `operator.is_not` like any handler: is_not(event, context).
    std::fs::write(
        &template,
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Local:\n    Type: AWS::Serverless::Function\n    \
             Properties:\n      PackageType: Image\n      ImageUri: {BASE}\n      ImageConfig:\n        \
             Command: [operator.is_not]\n  Absent:\n    Type: AWS::Serverless::Function\n    Properties:\n      \
             PackageType: Image\n      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/absent:v1\n"
        ),
    )
    .unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"marker": "printed-by-print"}"#).unwrap();
    let run = |function: &str| {
        let out = std::process::Command::new(ssam_testkit::ssam_bin())
            .args(["local", "invoke", function, "-t"])
            .arg(&template)
            .arg("-e")
            .arg(&event)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (stdout, stderr) = run("Local");
    assert_eq!(stdout.trim(), "true", "{stderr}");
    assert!(stderr.contains("REPORT RequestId"), "{stderr}");
    let (stdout, stderr) = run("Absent");
    let text = format!("{stdout}{stderr}");
    assert!(
        text.contains("docker pull 123456789012.dkr.ecr.us-east-1.amazonaws.com/absent:v1"),
        "{text}"
    );
}

/// `--docker-network bridge`: the container is not on the host's network; it reaches ssam's
/// Runtime API on the network's gateway, and ssam as `host.docker.internal`.
#[test]
fn a_bridge_network_reaches_ssam_through_its_gateway() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let id = format!("Bridge{}", std::process::id());
    let img = dir.path().join("img");
    image_context(&img, "import os\ndef handler(event, context):\n    \
         return {'api': os.environ['AWS_LAMBDA_RUNTIME_API'], 'hosts': open('/etc/hosts').read()}\n");
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  {id}:\n    Type: AWS::Serverless::Function\n    \
             Properties:\n      PackageType: Image\n    Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./img\n"
        ),
    )
    .unwrap();
    let _images = Images(vec![format!("{}:latest", id.to_lowercase())]);
    let out = std::process::Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", &id, "--docker-network", "bridge", "-t"])
        .arg(&template)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let api = doc["api"].as_str().unwrap();
    assert!(!api.starts_with("127."), "the gateway, not loopback: {api}");
    let gateway = api.split(':').next().unwrap();
    assert!(
        doc["hosts"]
            .as_str()
            .unwrap()
            .contains(&format!("{gateway}\thost.docker.internal")),
        "{doc}"
    );
}

/// `ssam build` builds an Image function with the same builder (SAM's tag), the built
/// template names the image, and `ssam local invoke` runs it from there.
#[test]
fn ssam_build_builds_image_functions_and_the_built_template_runs() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let id = format!("Built{}", std::process::id());
    image_context(
        &dir.path().join("img"),
        "def handler(event, context):\n    return 'from the built image'\n",
    );
    std::fs::write(
        dir.path().join("template.yaml"),
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  {id}:\n    Type: AWS::Serverless::Function\n    \
             Properties:\n      PackageType: Image\n    Metadata:\n      Dockerfile: Dockerfile\n      \
             DockerContext: ./img\n      DockerTag: v7\n"
        ),
    )
    .unwrap();
    let tag = format!("{}:v7", id.to_lowercase());
    let _images = Images(vec![tag.clone()]);
    let out = std::process::Command::new(ssam_testkit::ssam_bin())
        .arg("build")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains(&format!("Successfully tagged {tag}")), "{log}");
    let built = dir.path().join(".aws-sam/build/template.yaml");
    let text = std::fs::read_to_string(&built).unwrap();
    assert!(text.contains(&format!("ImageUri: \"{tag}\"")), "{text}");
    let out = std::process::Command::new(ssam_testkit::ssam_bin())
        .args(["local", "invoke", &id, "-t"])
        .arg(&built)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "\"from the built image\"",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An idle container is removed when the idle reaper stops its instance (`--idle-timeout`).
#[test]
fn an_idle_container_is_removed_when_reaped() {
    if docker_with(BASE).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Idle:\n    Type: AWS::Serverless::Function\n    \
             Properties:\n      PackageType: Image\n      ImageUri: {BASE}\n      ImageConfig:\n        \
             Command: [operator.is_not]\n"
        ),
    )
    .unwrap();
    let server = start_lambda(&template, &["--idle-timeout", "1"]);
    let url = invoke_url(&server);
    let (err, body) = invoke(&url, "Idle", "{}");
    assert_eq!((err.as_str(), body), ("", serde_json::json!(true)));
    let pid = server.child.id();
    assert_eq!(containers_of(pid).len(), 1, "warm after the invocation");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !containers_of(pid).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(containers_of(pid).is_empty(), "reaped after 1 s idle");
    server.stop();
}

/// A Zip function with `--docker`: the layer's extension (mounted at /opt) starts in the
/// container before the runtime, registers, gets each INVOKE and the Telemetry API's events
/// (the handler returns what the extension recorded inside the container).
#[test]
fn layer_extensions_run_in_the_container() {
    if docker_with(BASE).is_none() {
        return;
    }
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extensions");
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env.json");
    std::fs::write(&env, r#"{"Parameters": {"RECORD_DIR": "/tmp"}}"#).unwrap();
    let template = fixture.join("template.yaml");
    let server = start_lambda(
        &template,
        &[
            "--invoke-image",
            &format!("ContainerRecordedFunction={BASE}"),
            "--env-vars",
            env.to_str().unwrap(),
        ],
    );
    let url = invoke_url(&server);
    let script = format!(
        r#"
import json, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url="{url}", region_name="us-east-1",
    aws_access_key_id="x", aws_secret_access_key="x",
    config=Config(retries={{"max_attempts": 0}}, read_timeout=60))
first = lam.invoke(FunctionName="ContainerRecordedFunction", Payload=b"{{}}")
first_id = first["ResponseMetadata"]["RequestId"]
import time; time.sleep(0.5)
second = json.loads(lam.invoke(FunctionName="ContainerRecordedFunction", Payload=b"{{}}")["Payload"].read())
print(json.dumps({{"first": first_id, "records": [json.loads(l) for l in second.splitlines()]}}))
"#
    );
    let out = ssam_testkit::run_python(&script, &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = v["first"].as_str().unwrap();
    let records = v["records"].as_array().unwrap();
    let register = records.iter().find(|r| r["kind"] == "register").unwrap();
    assert_eq!(
        register["data"]["body"]["functionName"],
        "ContainerRecordedFunction"
    );
    assert!(
        records
            .iter()
            .any(|r| r["kind"] == "event" && r["data"]["requestId"] == first),
        "INVOKE of {first}: {records:?}"
    );
    let telemetry: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["kind"] == "telemetry")
        .flat_map(|r| r["data"].as_array().unwrap())
        .collect();
    assert!(
        telemetry
            .iter()
            .any(|e| e["type"] == "platform.report" && e["record"]["requestId"] == first),
        "{telemetry:?}"
    );
    assert!(
        telemetry.iter().any(|e| e["type"] == "platform.initStart"),
        "{telemetry:?}"
    );
    // The extension's own output reaches telemetry as `extension` lines, as natively.
    let registered = |e: &&&serde_json::Value| {
        e["record"]
            .as_str()
            .is_some_and(|l| l.starts_with("[recorder] registered as "))
    };
    assert!(
        telemetry
            .iter()
            .filter(|e| e["type"] == "extension")
            .any(|e| registered(&e)),
        "{telemetry:?}"
    );
    assert!(
        !telemetry
            .iter()
            .filter(|e| e["type"] == "function")
            .any(|e| registered(&e)),
        "{telemetry:?}"
    );
    let log = server.stop();
    assert!(
        log.iter().any(|l| l.contains("[recorder] registered as ")),
        "the extension's lines are in the log, unmarked: {log:?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("ssam-extension-exited-")),
        "{log:?}"
    );
}

/// An Image function whose image ships its own external extension in `/opt/extensions`
/// (AWS: "Working with Lambda layers and extensions in container images"): ssam finds it
/// without running the image, the container starts it before the runtime, it registers and
/// gets each INVOKE (the handler returns what it recorded in the container's /tmp); an image
/// without `/opt/extensions` runs as before.
#[test]
fn image_extensions_run_in_the_container() {
    if docker_with(BASE).is_none() {
        return;
    }
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extensions");
    let dir = tempfile::tempdir().unwrap();
    let id = format!("ImgExt{}", std::process::id());
    let img = dir.path().join("img");
    std::fs::create_dir_all(&img).unwrap();
    std::fs::copy(fixture.join("src/app.py"), img.join("app.py")).unwrap();
    std::fs::copy(
        fixture.join("layer/extensions/recorder"),
        img.join("recorder"),
    )
    .unwrap();
    std::fs::write(
        img.join("Dockerfile"),
        format!(
            "FROM {BASE}\nCOPY recorder /opt/extensions/recorder\nCOPY app.py ${{LAMBDA_TASK_ROOT}}/\n\
             CMD [\"app.records\"]\n"
        ),
    )
    .unwrap();
    let plain = dir.path().join("plain");
    image_context(
        &plain,
        "import os\ndef handler(event, context):\n    return sorted(os.listdir('/opt'))\n",
    );
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  {id}:\n    Type: AWS::Serverless::Function\n    \
             Properties:\n      PackageType: Image\n      Timeout: 10\n      Environment:\n        Variables:\n          \
             RECORD_DIR: /tmp\n    Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./img\n  \
             {id}Plain:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n    \
             Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./plain\n"
        ),
    )
    .unwrap();
    let _images = Images(vec![
        format!("{}:latest", id.to_lowercase()),
        format!("{}plain:latest", id.to_lowercase()),
    ]);
    let server = start_lambda(&template, &[]);
    let url = invoke_url(&server);
    let script = format!(
        r#"
import json, time, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url="{url}", region_name="us-east-1",
    aws_access_key_id="x", aws_secret_access_key="x",
    config=Config(retries={{"max_attempts": 0}}, read_timeout=60))
first = lam.invoke(FunctionName="{id}", Payload=b"{{}}")
assert "FunctionError" not in first, first["Payload"].read()
first_id = first["ResponseMetadata"]["RequestId"]
time.sleep(0.5)
second = lam.invoke(FunctionName="{id}", Payload=b"{{}}")
assert "FunctionError" not in second, second["Payload"].read()
records = json.loads(second["Payload"].read())
plain = lam.invoke(FunctionName="{id}Plain", Payload=b"{{}}")
print(json.dumps({{"first": first_id, "records": [json.loads(l) for l in records.splitlines()],
                  "plain": [plain.get("FunctionError"), json.loads(plain["Payload"].read())]}}))
"#
    );
    let out = ssam_testkit::run_python(&script, &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = v["first"].as_str().unwrap();
    let records = v["records"].as_array().unwrap();
    let register = records.iter().find(|r| r["kind"] == "register").unwrap();
    assert_eq!(register["data"]["status"], 200, "{register}");
    assert_eq!(register["data"]["body"]["functionName"], id.as_str());
    assert!(
        records
            .iter()
            .any(|r| r["kind"] == "event" && r["data"]["requestId"] == first),
        "INVOKE of {first}: {records:?}"
    );
    assert_eq!(
        v["plain"],
        serde_json::json!([null, []]),
        "an image without /opt/extensions runs, its /opt empty"
    );
    let pid = server.child.id();
    let lines = server.stop().join("\n");
    assert!(
        lines.contains("[recorder] registered as"),
        "the extension's output is the function's log: {lines}"
    );
    assert!(
        containers_of(pid).is_empty(),
        "no container left after stop (the listing's included)"
    );
}

/// A Node.js Zip function with `--docker` runs in its runtime's image
/// (`public.ecr.aws/lambda/nodejs:20`, here the testkit's stand-in): the code mounted at
/// /var/task, the handler as the image's command, async and callback handlers answered, a
/// thrown error reported with its type, and AWS's Node environment set by the image.
#[test]
fn node_zip_function_runs_in_its_runtime_image() {
    if let Err(e) = lambda_image::docker_engine() {
        eprintln!("skipped: {e}");
        return;
    }
    lambda_image::node_base_image("public.ecr.aws/lambda/nodejs:20").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.js"),
        "exports.handler = async (event, context) => ({ got: event, name: context.functionName,\n  \
         exec: process.env.AWS_EXECUTION_ENV, task: process.env.LAMBDA_TASK_ROOT, cwd: process.cwd() });\n\
         exports.callback = (event, context, done) => setTimeout(() => done(null, { n: event.n + 1 }), 10);\n\
         exports.fails = async () => { throw new RangeError('out of range'); };\n",
    )
    .unwrap();
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: nodejs20.x\n    CodeUri: src\n    \
         Timeout: 10\nResources:\n  Async:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n  \
         Callback:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.callback\n  \
         Fails:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.fails\n",
    )
    .unwrap();
    let server = start_lambda(&template, &["--docker"]);
    let url = invoke_url(&server);
    let (err, body) = invoke(&url, "Async", r#"{"a": 1}"#);
    assert_eq!(err, "", "{body}");
    assert_eq!(
        body,
        serde_json::json!({"got": {"a": 1}, "name": "Async", "exec": "AWS_Lambda_nodejs20.x",
                           "task": "/var/task", "cwd": "/var/task"})
    );
    let (err, body) = invoke(&url, "Callback", r#"{"n": 41}"#);
    assert_eq!((err.as_str(), body), ("", serde_json::json!({"n": 42})));
    let (err, doc) = invoke(&url, "Fails", "{}");
    assert_eq!(err, "Unhandled");
    assert_eq!(doc["errorType"], "RangeError", "{doc}");
    assert_eq!(doc["errorMessage"], "out of range", "{doc}");
    let pid = server.child.id();
    server.stop();
    assert!(containers_of(pid).is_empty());
}

/// An extension that exits during init in a container fails the init at once with
/// `Extension.Crash` and its exit status, as natively (the container's extension wrapper
/// reports the exit), not at the init timeout (10 s).
#[test]
fn an_extension_exiting_during_init_in_a_container_fails_it_at_once() {
    if docker_with(BASE).is_none() {
        return;
    }
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extensions");
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env.json");
    std::fs::write(&env, r#"{"Parameters": {"RECORD_DIR": "/tmp"}}"#).unwrap();
    let server = start_lambda(
        &fixture.join("template.yaml"),
        &[
            "--invoke-image",
            &format!("CrashingExtensionFunction={BASE}"),
            "--env-vars",
            env.to_str().unwrap(),
        ],
    );
    let url = invoke_url(&server);
    let started = std::time::Instant::now();
    let (err, doc) = invoke(&url, "CrashingExtensionFunction", "{}");
    let took = started.elapsed();
    assert_eq!(err, "Unhandled", "{doc}");
    assert_eq!(doc["errorType"], "Extension.Crash", "{doc}");
    assert!(
        doc["errorMessage"]
            .as_str()
            .unwrap()
            .contains("exit status 3"),
        "{doc}"
    );
    assert!(took < Duration::from_secs(5), "noticed after {took:?}");
    let pid = server.child.id();
    let lines = server.stop().join("\n");
    assert!(
        !lines.contains("ssam-extension-exited"),
        "the wrapper's report is not the function's log: {lines}"
    );
    assert!(containers_of(pid).is_empty());
}
