//! `BuildMethod: rust-cargolambda`: the crate's binary, copied as `bootstrap` (what a
//! `provided` runtime runs). `cargo lambda build --release` when cargo-lambda is on PATH (it
//! targets Lambda's glibc, as SAM runs it); otherwise `cargo build --release`, whose binary
//! runs here and in Debian-based images. Built in the source directory, as SAM does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BuildError;

pub(crate) fn build(
    src: &Path,
    architecture: &str,
    dest: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<(), BuildError> {
    let has_cargo_lambda = Command::new("cargo")
        .args(["lambda", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let binary = if has_cargo_lambda {
        let mut cmd = Command::new("cargo");
        cmd.args(["lambda", "build", "--release"]).current_dir(src);
        if architecture == "arm64" {
            cmd.arg("--arm64");
        }
        run(&mut cmd, "cargo lambda build --release", on_line)?;
        only_one(lambda_bootstraps(src))?
    } else {
        on_line("cargo-lambda is not on PATH: building with cargo build --release");
        let mut cmd = Command::new("cargo");
        cmd.args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(src);
        let stdout = run(&mut cmd, "cargo build --release", on_line)?;
        only_one(executables(&stdout))?
    };
    let target = dest.join("bootstrap");
    std::fs::copy(&binary, &target).map_err(|e| BuildError::io(&target, e))?;
    Ok(())
}

/// `target/lambda/<bin>/bootstrap` files cargo-lambda wrote.
fn lambda_bootstraps(src: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(src.join("target/lambda"))
        .map(|dirs| {
            dirs.flatten()
                .map(|d| d.path().join("bootstrap"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// The executables in cargo's JSON messages.
fn executables(stdout: &str) -> Vec<PathBuf> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .collect()
}

fn only_one(mut found: Vec<PathBuf>) -> Result<PathBuf, BuildError> {
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(BuildError::Step {
            step: "find the binary".into(),
            message: "the crate built no binary; hint: a Lambda function in Rust is a binary crate (src/main.rs)".into(),
        }),
        _ => Err(BuildError::Step {
            step: "find the binary".into(),
            message: format!(
                "the crate builds {} binaries ({}); hint: keep one binary per function's CodeUri",
                found.len(),
                found
                    .iter()
                    .filter_map(|p| p.file_name()?.to_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Runs `cmd`; stderr lines go to `on_line`; returns stdout.
fn run(cmd: &mut Command, step: &str, on_line: &mut dyn FnMut(&str)) -> Result<String, BuildError> {
    let out = cmd.output().map_err(|e| BuildError::Step {
        step: step.into(),
        message: format!("cannot run cargo: {e}"),
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        on_line(line);
    }
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(BuildError::Step {
            step: step.into(),
            message: stderr
                .lines()
                .rev()
                .find(|l| l.contains("error"))
                .unwrap_or("failed")
                .to_string(),
        })
    }
}
