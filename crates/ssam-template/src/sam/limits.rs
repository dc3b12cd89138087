//! Checks against Lambda's documented quotas and required properties.
//!
//! Limits: <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>
//! (memory 128-10,240 MB, timeout 900 s, environment variables 4 KB in total).

use super::Ctx;
use crate::model::*;
use crate::node::Pos;

pub const MIN_MEMORY_MB: u32 = 128;
pub const MAX_MEMORY_MB: u32 = 10_240;
pub const MAX_TIMEOUT_S: u32 = 900;
pub const MAX_ENV_BYTES: usize = 4 * 1024;

/// Every value Lambda's API accepts for `Runtime`, oldest first within a language
/// (deprecated ones included: a deploy with them fails later, on dates that move, not on
/// the value): <https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-Runtime>
/// and <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html>.
pub const LAMBDA_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet7",
    "dotnet8",
    "dotnet10",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// The runtime `runtime` was most likely meant to be: the newest of those sharing the
/// longest prefix with it.
fn closest_runtime(runtime: &str) -> &'static str {
    let shared = |r: &str| {
        r.bytes()
            .zip(runtime.bytes())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let best = LAMBDA_RUNTIMES.iter().map(|r| shared(r)).max().unwrap_or(0);
    LAMBDA_RUNTIMES
        .iter()
        .rev()
        .find(|r| shared(r) == best)
        .copied()
        .unwrap_or("python3.13")
}

pub(crate) fn check(ctx: &mut Ctx<'_>, app: &App) {
    for f in &app.functions {
        let pos = Pos {
            line: f.location.line as u32,
            col: f.location.column as u32,
        };
        let id = &f.logical_id;
        let node = ctx.node_of(id);
        let prop_pos = |key: &str| -> Pos {
            node.and_then(|r| r.get("Properties"))
                .and_then(|p| p.get(key))
                .map_or(pos, |n| n.pos)
        };
        if !(MIN_MEMORY_MB..=MAX_MEMORY_MB).contains(&f.memory_size) {
            let p = prop_pos("MemorySize");
            ctx.error_hint(
                p,
                format!("{id}: MemorySize {} MB is outside Lambda's range of {MIN_MEMORY_MB}-{MAX_MEMORY_MB} MB", f.memory_size),
                "set MemorySize between 128 and 10240",
            );
        }
        if f.timeout < 1 || f.timeout > MAX_TIMEOUT_S {
            let p = prop_pos("Timeout");
            ctx.error_hint(
                p,
                format!(
                    "{id}: Timeout {} s is outside Lambda's range of 1-{MAX_TIMEOUT_S} seconds",
                    f.timeout
                ),
                "set Timeout between 1 and 900 seconds (15 minutes)",
            );
        }
        let env_bytes: usize = f
            .environment
            .iter()
            .map(|(k, v)| k.len() + v.display().len())
            .sum();
        if env_bytes > MAX_ENV_BYTES {
            let p = prop_pos("Environment");
            ctx.error_hint(
                p,
                format!("{id}: environment variables take {env_bytes} bytes; Lambda allows 4 KB (4096 bytes) in total"),
                "move large values to SSM Parameter Store, Secrets Manager or S3 and read them at start-up",
            );
        }
        match f.package_type {
            PackageType::Zip => {
                let has_image_uri = node
                    .and_then(|r| r.get("Properties"))
                    .and_then(|p| p.get("ImageUri"))
                    .is_some();
                if f.handler.is_none() {
                    let hint = if has_image_uri {
                        "this function has an ImageUri: add PackageType: Image"
                    } else {
                        "add Handler (e.g. app.lambda_handler), here or in Globals.Function"
                    };
                    ctx.error_hint(pos, format!("{id}: a Zip function needs a Handler"), hint);
                }
                match f.runtime.as_deref() {
                    None => ctx.error_hint(
                        pos,
                        format!("{id}: a Zip function needs a Runtime"),
                        "add Runtime (e.g. python3.12, nodejs20.x, provided.al2023), here or in Globals.Function",
                    ),
                    // Only plain identifiers: an unresolved intrinsic is reported elsewhere.
                    Some(rt)
                        if rt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
                            && !LAMBDA_RUNTIMES.contains(&rt) =>
                    {
                        ctx.warning_hint(
                            prop_pos("Runtime"),
                            format!("{id}: Runtime {rt} is not a Lambda runtime: deploying this template fails"),
                            format!("did you mean {}?", closest_runtime(rt)),
                        );
                    }
                    Some(_) => {}
                }
            }
            PackageType::Image => {
                let has_uri = matches!(&f.code, Code::Image { uri: Some(_) });
                if !has_uri && f.image_build.is_none() {
                    ctx.error_hint(
                        pos,
                        format!("{id}: an Image function needs an ImageUri or Metadata with Dockerfile and DockerContext"),
                        "add Metadata: {Dockerfile: Dockerfile, DockerContext: ., DockerTag: latest} to build it with `ssam build`",
                    );
                }
            }
        }
    }
}
