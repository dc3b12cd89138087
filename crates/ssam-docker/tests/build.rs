//! `Docker::ensure_image` against the real engine: builds, up-to-date checks, rebuilds,
//! failures and cleanup.
//!
//! Nothing can be pulled on the machines this runs on, so every Dockerfile starts `FROM
//! scratch` (the legacy builder needs no pull for it). Each test uses its own tag and a
//! `LABEL ssam.test=<marker>` step: the marker makes its images and any intermediate
//! containers findable (containers inherit the image's labels), so tests running in parallel
//! never see each other's, and the [`Cleanup`] guard removes them even when the test fails.
//! With no engine, each test prints `skipped: no Docker engine (...)` and returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use bollard::query_parameters::ListContainersOptionsBuilder;
use ssam_docker::{
    content_hash, platform_for_architecture, BuildError, Built, Docker, ImageSpec,
    LABEL_CONTENT_HASH, LABEL_FUNCTION,
};

async fn engine() -> Option<Docker> {
    match Docker::connect().await {
        Ok(docker) => Some(docker),
        Err(e) => {
            eprintln!("skipped: no Docker engine ({e})");
            None
        }
    }
}

struct Project {
    dir: tempfile::TempDir,
    spec: ImageSpec,
    marker: String,
}

impl Project {
    /// A context with `hello.txt`, an ignored `notes.md`, and the given Dockerfile body (after
    /// the `FROM scratch` + marker lines).
    fn new(test: &str, dockerfile_rest: &str) -> (Project, Cleanup) {
        let pid = std::process::id();
        // Mixed case on purpose: the tag must come out lowercased.
        let logical_id = format!("SsamTest{pid}{}", test.replace('_', "-"));
        let marker = logical_id.to_lowercase();
        let dir = tempfile::tempdir().unwrap();
        let dockerfile = format!("FROM scratch\nLABEL ssam.test={marker}\n{dockerfile_rest}");
        write(dir.path(), "Dockerfile", &dockerfile);
        write(dir.path(), "hello.txt", "hello\n");
        write(dir.path(), "notes.md", "not sent\n");
        write(dir.path(), ".dockerignore", "notes.md\n");
        let spec = ImageSpec {
            logical_id,
            context_dir: dir.path().to_path_buf(),
            dockerfile: "Dockerfile".into(),
            build_args: BTreeMap::from([("GREETING".to_string(), "hi".to_string())]),
            target: None,
            platform: platform_for_architecture(std::env::consts::ARCH).map(str::to_string),
            tag: None,
        };
        let cleanup = Cleanup {
            tag: spec.image_tag(),
            marker: marker.clone(),
        };
        (Project { dir, spec, marker }, cleanup)
    }

    fn write(&self, rel: &str, text: &str) {
        write(self.dir.path(), rel, text);
    }
}

const HELLO: &str = "ARG GREETING\nLABEL greeting=$GREETING\nCOPY hello.txt /hello.txt\n";

fn write(dir: &Path, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).unwrap();
}

/// Removes the test's tag, every image and container carrying its marker. Runs on drop so a
/// failing assertion still leaves the engine clean. Uses the docker CLI so it needs no runtime.
struct Cleanup {
    tag: String,
    marker: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let filter = format!("label=ssam.test={}", self.marker);
        for id in docker_ids(&["ps", "-a", "-q", "--filter", &filter]) {
            let _ = Command::new("docker").args(["rm", "-f", &id]).output();
        }
        let _ = Command::new("docker")
            .args(["rmi", "-f", &self.tag])
            .output();
        // Removing a child can free its parent, so go round until nothing is left (bounded:
        // each round removes at least the leaves).
        for _ in 0..10 {
            let ids = docker_ids(&["image", "ls", "-a", "-q", "--filter", &filter]);
            if ids.is_empty() {
                break;
            }
            for id in ids {
                let _ = Command::new("docker").args(["rmi", "-f", &id]).output();
            }
        }
    }
}

fn docker_ids(args: &[&str]) -> Vec<String> {
    match Command::new("docker").args(args).output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Containers (running or not) created by this test's build: they carry the marker as a label
/// (inherited from the image) or in their command (`#(nop) LABEL ssam.test=<marker>`).
async fn containers_of(docker: &Docker, marker: &str) -> Vec<String> {
    let options = ListContainersOptionsBuilder::new().all(true).build();
    let all = docker
        .bollard()
        .list_containers(Some(options))
        .await
        .unwrap();
    all.into_iter()
        .filter(|c| {
            let labelled = c
                .labels
                .as_ref()
                .and_then(|l| l.get("ssam.test"))
                .is_some_and(|v| v == marker);
            let in_command = c.command.as_deref().is_some_and(|cmd| cmd.contains(marker));
            labelled || in_command
        })
        .map(|c| c.id.unwrap_or_default())
        .collect()
}

async fn labels(docker: &Docker, tag: &str) -> std::collections::HashMap<String, String> {
    let image = docker.bollard().inspect_image(tag).await.unwrap();
    image.config.and_then(|c| c.labels).unwrap_or_default()
}

#[tokio::test]
async fn first_build_labels_the_image_and_the_second_is_up_to_date() {
    let Some(docker) = engine().await else { return };
    let (p, _cleanup) = Project::new("first_build", HELLO);
    let tag = p.spec.image_tag();
    assert_eq!(tag, format!("{}:latest", p.marker));

    let mut lines = Vec::new();
    let started = Instant::now();
    let built = docker
        .ensure_image(&p.spec, false, |l| lines.push(l.to_string()))
        .await
        .unwrap();
    eprintln!("from-scratch build: {:?}", started.elapsed());
    let Built::Built { image_id } = built else {
        panic!("expected a build, got {built:?}")
    };
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    assert!(lines.iter().any(|l| l.starts_with("Step 1/")), "{lines:?}");

    let labels = labels(&docker, &tag).await;
    assert_eq!(
        labels.get(LABEL_CONTENT_HASH),
        Some(&content_hash(&p.spec).unwrap())
    );
    assert_eq!(labels.get(LABEL_FUNCTION), Some(&p.spec.logical_id));
    assert_eq!(labels.get("greeting").map(String::as_str), Some("hi"));

    let started = Instant::now();
    let again = docker.ensure_image(&p.spec, false, |_| {}).await.unwrap();
    eprintln!("up-to-date check: {:?}", started.elapsed());
    assert_eq!(again, Built::UpToDate { image_id });

    // rm: a successful build leaves no intermediate containers either.
    assert_eq!(
        containers_of(&docker, &p.marker).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn editing_a_sent_file_rebuilds_but_editing_an_ignored_file_does_not() {
    let Some(docker) = engine().await else { return };
    let (p, _cleanup) = Project::new("edits", HELLO);
    let first = docker.ensure_image(&p.spec, false, |_| {}).await.unwrap();
    assert!(matches!(first, Built::Built { .. }), "{first:?}");

    p.write("notes.md", "edited, still not sent\n");
    let ignored = docker.ensure_image(&p.spec, false, |_| {}).await.unwrap();
    assert_eq!(
        ignored,
        Built::UpToDate {
            image_id: first.image_id().to_string()
        }
    );

    p.write("hello.txt", "hello again\n");
    let rebuilt = docker.ensure_image(&p.spec, false, |_| {}).await.unwrap();
    assert!(matches!(rebuilt, Built::Built { .. }), "{rebuilt:?}");
    assert_ne!(rebuilt.image_id(), first.image_id());
    let labels = labels(&docker, &p.spec.image_tag()).await;
    assert_eq!(
        labels.get(LABEL_CONTENT_HASH),
        Some(&content_hash(&p.spec).unwrap())
    );
}

#[tokio::test]
async fn force_rebuilds_an_up_to_date_image() {
    let Some(docker) = engine().await else { return };
    let (p, _cleanup) = Project::new("force", HELLO);
    docker.ensure_image(&p.spec, false, |_| {}).await.unwrap();
    let mut lines = Vec::new();
    let forced = docker
        .ensure_image(&p.spec, true, |l| lines.push(l.to_string()))
        .await
        .unwrap();
    assert!(matches!(forced, Built::Built { .. }), "{forced:?}");
    assert!(lines.iter().any(|l| l.starts_with("Step ")), "{lines:?}");
}

#[tokio::test]
async fn a_failed_build_names_the_failing_step_and_leaves_no_containers() {
    let Some(docker) = engine().await else { return };
    let (p, _cleanup) = Project::new(
        "failed_step",
        "COPY hello.txt /hello.txt\nCOPY missing.txt /\n",
    );
    let mut lines = Vec::new();
    let err = docker
        .ensure_image(&p.spec, false, |l| lines.push(l.to_string()))
        .await
        .unwrap_err();
    let BuildError::Failed { step, message, .. } = &err else {
        panic!("expected a build failure, got {err:?}")
    };
    // `Step 4/N`: the legacy builder appends one LABEL step per build label, so N varies.
    let step = step.as_deref().unwrap_or_default();
    assert!(
        step.starts_with("Step 4/") && step.ends_with(" : COPY missing.txt /"),
        "{step:?} {lines:?}"
    );
    assert!(message.contains("missing.txt"), "{message}");
    let text = err.to_string();
    assert!(text.contains(&format!("at {step}: ")), "{text}");

    assert_eq!(
        docker.image_labels(&p.spec.image_tag()).await.unwrap(),
        None
    );
    assert_eq!(
        containers_of(&docker, &p.marker).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_build_target_picks_the_stage() {
    let Some(docker) = engine().await else { return };
    let (mut p, _cleanup) = Project::new(
        "target",
        "LABEL stage=first\nFROM scratch AS second\nLABEL stage=second\n",
    );
    // The first stage needs a name to be a target.
    let dockerfile = std::fs::read_to_string(p.dir.path().join("Dockerfile")).unwrap();
    p.write(
        "Dockerfile",
        &dockerfile.replacen("FROM scratch\n", "FROM scratch AS first\n", 1),
    );
    p.spec.target = Some("first".into());
    docker.ensure_image(&p.spec, false, |_| {}).await.unwrap();
    let labels = labels(&docker, &p.spec.image_tag()).await;
    assert_eq!(labels.get("stage").map(String::as_str), Some("first"));
}

/// A `RUN` step on `scratch` fails after the legacy builder has created its container (there is
/// no `/bin/sh` to start); without `forcerm` that container would be left behind.
#[tokio::test]
async fn a_failed_run_step_leaves_no_container_thanks_to_forcerm() {
    let Some(docker) = engine().await else { return };
    let (p, _cleanup) = Project::new("failed_run", "RUN true\n");
    let mut lines = Vec::new();
    let err = docker
        .ensure_image(&p.spec, false, |l| lines.push(l.to_string()))
        .await
        .unwrap_err();
    let BuildError::Failed { step, .. } = &err else {
        panic!("expected a build failure, got {err:?}")
    };
    let step = step.as_deref().unwrap_or_default();
    assert!(
        step.starts_with("Step 3/") && step.ends_with(" : RUN true"),
        "{step:?} {lines:?}"
    );
    assert_eq!(
        containers_of(&docker, &p.marker).await,
        Vec::<String>::new(),
        "{err}"
    );
}
