//! `AWS::S3::Bucket`: names (given, or generated the way ssam keeps them stable), S3's
//! naming rules, versioning and CORS (`cors.rs`), and the S3 notifications that bind
//! functions to buckets.

use super::{functions, Ctx};
use crate::model::*;
use crate::node::{Node, Pos};

mod cors;

pub(crate) fn read_buckets(ctx: &mut Ctx<'_>) -> Vec<Bucket> {
    let mut out = Vec::new();
    let ids: Vec<(String, Pos)> = ctx
        .resources
        .iter()
        .filter(|r| r.rtype == "AWS::S3::Bucket")
        .map(|r| (r.id.clone(), r.key_pos))
        .collect();
    for (id, pos) in ids {
        let Some(r) = ctx.resource(&id) else { continue };
        let props = r.properties().and_then(|p| ctx.resolve(p));
        let name_given = props.as_ref().and_then(|p| p.get("BucketName")).is_some();
        let name = ctx
            .resolver
            .resources
            .get(&id)
            .map(|i| i.ref_value.clone())
            .unwrap_or_default();
        let versioning = props
            .as_ref()
            .and_then(|p| p.get("VersioningConfiguration"))
            .and_then(|v| v.get("Status"))
            .and_then(Node::as_str)
            == Some("Enabled");
        let cors = cors::read(ctx, &id, props.as_ref());
        if let Some(problem) = bucket_name_problem(&name) {
            ctx.error_hint(
                pos,
                format!("bucket {id}: {name:?} is not a valid S3 bucket name: {problem}"),
                format!("bucket names are 3-63 lower-case letters, digits, dots and hyphens; see {NAMING_RULES}"),
            );
        }
        out.push(Bucket {
            logical_id: id,
            name,
            name_generated: !name_given,
            versioning,
            cors,
            location: ctx.loc(pos),
        });
    }
    out
}

/// CloudFormation names an unnamed bucket `stack-logicalid-RANDOM`; ssam uses a stable suffix
/// so the name survives restarts (objects stay where they were).
pub fn generated_bucket_name(stack: &str, logical_id: &str) -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in format!("{stack}/{logical_id}").bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let mut prefix = format!("{}-{}", clean(stack), clean(logical_id));
    prefix.truncate(63 - 13);
    let prefix = prefix.trim_matches('-');
    format!("{prefix}-{:012x}", hash & 0xffff_ffff_ffff)
}

/// S3's bucket naming rules for general purpose buckets.
pub(crate) const NAMING_RULES: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html";

/// Whether S3 (and so ssam's S3 store) accepts `name` as a bucket name. Unresolved names
/// (an intrinsic, rendered as JSON) are not checked.
pub fn valid_bucket_name(name: &str) -> bool {
    bucket_name_problem(name).is_none()
}

/// The naming rule `name` breaks, if any. These are the rules ssam's S3 store enforces before
/// a name becomes a directory (`ssam-s3/src/store/mod.rs`, `valid_bucket_name`): a name it
/// would refuse must be a template error, not a failure at start-up. The two crates depend on
/// neither, so the rule is written twice: change both together.
pub(crate) fn bucket_name_problem(name: &str) -> Option<&'static str> {
    if name.starts_with('{') {
        return None;
    }
    let first_last_ok =
        |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(3..=63).contains(&name.len()) {
        Some("it must be 3 to 63 characters long")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        Some("only lower-case letters, digits, dots and hyphens are allowed")
    } else if !first_last_ok(name.as_bytes().first()) || !first_last_ok(name.as_bytes().last()) {
        Some("it must start and end with a letter or digit")
    } else if name.contains("..") {
        Some("it must not contain two adjacent dots")
    } else if name.contains(".-") || name.contains("-.") {
        Some("a dot must not be next to a hyphen")
    } else {
        None
    }
}

/// S3 notifications: function `S3` events and bucket `LambdaConfigurations`.
pub(crate) fn s3_bindings(ctx: &mut Ctx<'_>, functions: &[Function]) -> Vec<S3Binding> {
    let mut out = Vec::new();
    for f in functions {
        for e in &f.events {
            if let EventSource::S3(s3) = &e.source {
                out.push(S3Binding {
                    function: f.logical_id.clone(),
                    bucket: s3.bucket.clone(),
                    events: s3.events.clone(),
                    filter_rules: s3.filter_rules.clone(),
                });
            }
        }
    }
    let bucket_ids: Vec<String> = ctx
        .resources
        .iter()
        .filter(|r| r.rtype == "AWS::S3::Bucket")
        .map(|r| r.id.clone())
        .collect();
    for id in bucket_ids {
        let Some(r) = ctx.resource(&id) else { continue };
        let Some(configs) = r
            .properties()
            .and_then(|p| p.get("NotificationConfiguration"))
            .and_then(|n| n.get("LambdaConfigurations"))
            .and_then(Node::as_seq)
        else {
            continue;
        };
        for c in configs {
            let Some(target) = c
                .get("Function")
                .and_then(|n| functions::function_target(n, functions))
            else {
                continue;
            };
            let events = c
                .get("Event")
                .and_then(|e| ctx.resolve(e))
                .and_then(|e| e.scalar_text())
                .map(|e| vec![e])
                .unwrap_or_default();
            let filter_rules = c
                .get("Filter")
                .and_then(|f| ctx.resolve(f))
                .map(|f| functions::filter_rules(&f))
                .unwrap_or_default();
            out.push(S3Binding {
                function: target,
                bucket: id.clone(),
                events,
                filter_rules,
            });
        }
    }
    out
}
