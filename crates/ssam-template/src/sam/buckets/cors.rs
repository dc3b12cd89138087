//! A bucket's `CorsConfiguration` → typed [`BucketCorsRule`]s, checked the way
//! CloudFormation and S3 check them, so the S3 emulator never reads template keys.
//!
//! `AWS::S3::Bucket CorsRule`:
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-corsrule.html>
//! (`AllowedMethods` and `AllowedOrigins` required; methods `GET`, `PUT`, `HEAD`, `POST`,
//! `DELETE`; `Id` at most 255 characters; `MaxAge` a whole number of seconds from 0).
//! A rule CloudFormation would refuse is an error and is left out; a rule that depends on a
//! value only AWS knows is a warning and is left out too (it could not match correctly).

use super::super::Ctx;
use crate::model::BucketCorsRule;
use crate::node::{Node, Value};
use crate::resolve::contains_intrinsic;

const RULE_KEYS: &[&str] = &[
    "AllowedHeaders",
    "AllowedMethods",
    "AllowedOrigins",
    "ExposedHeaders",
    "Id",
    "MaxAge",
];

/// The methods S3 accepts in a CORS rule (case-sensitive, as S3 compares them).
const METHODS: &[&str] = &["GET", "PUT", "HEAD", "POST", "DELETE"];

const MAX_ID_LEN: usize = 255;

/// The rules of `props.CorsConfiguration` (already resolved); `None` without one.
pub(super) fn read(
    ctx: &mut Ctx<'_>,
    bucket: &str,
    props: Option<&Node>,
) -> Option<Vec<BucketCorsRule>> {
    let config = props?.get("CorsConfiguration")?;
    if config.intrinsic().is_some() {
        unresolved(ctx, config, &format!("bucket {bucket}: CorsConfiguration"));
        return None;
    }
    let Some(rules) = config.get("CorsRules") else {
        ctx.error_hint(
            config.pos,
            format!("bucket {bucket}: CorsConfiguration has no CorsRules"),
            "write CorsConfiguration: {CorsRules: [{AllowedMethods: [GET], AllowedOrigins: ['*']}]}",
        );
        return None;
    };
    if rules.intrinsic().is_some() {
        unresolved(ctx, rules, &format!("bucket {bucket}: CorsRules"));
        return None;
    }
    let Some(items) = rules.as_seq() else {
        ctx.error(
            rules.pos,
            format!("bucket {bucket}: CorsRules must be a list of rules"),
        );
        return None;
    };
    Some(
        items
            .iter()
            .enumerate()
            .filter_map(|(i, r)| rule(ctx, &format!("bucket {bucket}: CORS rule {}", i + 1), r))
            .collect(),
    )
}

fn unresolved(ctx: &mut Ctx<'_>, node: &Node, what: &str) {
    ctx.warning_hint(
        node.pos,
        format!("{what} depends on a value only AWS knows; ssam leaves it out"),
        "use values ssam can resolve locally (parameters with a value, Ref, Fn::Sub, Fn::If on a known condition)",
    );
}

/// One rule; `None` (with a diagnostic) when it is malformed or not resolvable locally.
fn rule(ctx: &mut Ctx<'_>, what: &str, node: &Node) -> Option<BucketCorsRule> {
    if contains_intrinsic(node) {
        unresolved(ctx, node, what);
        return None;
    }
    let Some(map) = node.as_map() else {
        ctx.error_hint(
            node.pos,
            format!("{what} must be a mapping"),
            "a rule is {AllowedMethods: [GET], AllowedOrigins: ['*']} with optional AllowedHeaders, ExposedHeaders, Id and MaxAge",
        );
        return None;
    };
    let mut ok = true;
    for key in map.keys() {
        if !RULE_KEYS.contains(&key) {
            let pos = map.key_pos(key).unwrap_or(node.pos);
            let hint = match key {
                "MaxAgeSeconds" => "CloudFormation calls it MaxAge".to_string(),
                "ExposeHeaders" | "ExposeHeader" => {
                    "CloudFormation calls it ExposedHeaders".to_string()
                }
                _ => format!("a CORS rule's properties are {}", RULE_KEYS.join(", ")),
            };
            ctx.error_hint(pos, format!("{what}: unknown property {key:?}"), hint);
            ok = false;
        }
    }
    let mut list = |ctx: &mut Ctx<'_>, key: &str, required: bool| {
        strings(ctx, what, node, key, required).unwrap_or_else(|| {
            ok = false;
            Vec::new()
        })
    };
    let allowed_origins = list(ctx, "AllowedOrigins", true);
    let allowed_methods = list(ctx, "AllowedMethods", true);
    let allowed_headers = list(ctx, "AllowedHeaders", false);
    let exposed_headers = list(ctx, "ExposedHeaders", false);
    let method_nodes = node.get("AllowedMethods").and_then(Node::as_seq);
    for (m, n) in allowed_methods.iter().zip(method_nodes.unwrap_or_default()) {
        if !METHODS.contains(&m.as_str()) {
            ctx.error_hint(
                n.pos,
                format!("{what}: {m:?} is not a method S3 allows in a CORS rule"),
                format!("use {}", METHODS.join(", ")),
            );
            ok = false;
        }
    }
    let id = node.get("Id").and_then(Node::scalar_text);
    if let Some(id) = id.as_ref().filter(|id| id.len() > MAX_ID_LEN) {
        let pos = node.get("Id").map_or(node.pos, |n| n.pos);
        ctx.error(
            pos,
            format!(
                "{what}: Id is {} characters long, more than {MAX_ID_LEN}",
                id.len()
            ),
        );
        ok = false;
    }
    let max_age = match node.get("MaxAge") {
        None => None,
        Some(n) => match max_age(n) {
            Some(v) => Some(v),
            None => {
                ctx.error(
                    n.pos,
                    format!(
                        "{what}: MaxAge must be a whole number of seconds from 0 to {}",
                        i32::MAX
                    ),
                );
                ok = false;
                None
            }
        },
    };
    ok.then_some(BucketCorsRule {
        id,
        allowed_origins,
        allowed_methods,
        allowed_headers,
        exposed_headers,
        max_age,
    })
}

/// A list of strings under `key` (numbers are read as their text, as CloudFormation does);
/// `None` (with an error) when it is not one, or when a required list is missing or empty.
fn strings(
    ctx: &mut Ctx<'_>,
    what: &str,
    rule: &Node,
    key: &str,
    required: bool,
) -> Option<Vec<String>> {
    let Some(n) = rule.get(key) else {
        if required {
            ctx.error_hint(
                rule.pos,
                format!("{what} has no {key}"),
                format!("{key} is required: a list with at least one value"),
            );
            return None;
        }
        return Some(Vec::new());
    };
    let items: Option<Vec<String>> = n.as_seq().and_then(|items| {
        items
            .iter()
            .map(|i| match i.value {
                Value::String(_) | Value::Number(_) => i.scalar_text(),
                _ => None,
            })
            .collect()
    });
    match items {
        Some(items) if !(required && items.is_empty()) => Some(items),
        Some(_) => {
            ctx.error(n.pos, format!("{what}: {key} must not be empty"));
            None
        }
        None => {
            ctx.error(n.pos, format!("{what}: {key} must be a list of strings"));
            None
        }
    }
}

/// `MaxAge` in seconds; S3 stores it as a 32-bit integer.
fn max_age(n: &Node) -> Option<u32> {
    let text = match &n.value {
        Value::Number(t) | Value::String(t) => t.trim(),
        _ => return None,
    };
    text.parse::<u32>()
        .ok()
        .filter(|v| i32::try_from(*v).is_ok())
}
