//! `Fn::ForEach` of the `AWS::LanguageExtensions` transform, expanded as CloudFormation (and
//! SAM CLI locally) does before the SAM transform: `Fn::ForEach::Name: [Id, Collection,
//! {KeyTemplate: Value}]` becomes one entry per item, with `${Id}` / `&{Id}` replaced in keys
//! and strings and `!Ref Id` replaced by the item.
//!
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-foreach.html>

use indexmap::IndexMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::node::{Map, Node, Source, Value};
use crate::resolve::{ParamValue, Pseudo, Resolver};

const PREFIX: &str = "Fn::ForEach::";
/// Loops nest; CloudFormation allows 5 levels.
const MAX_DEPTH: usize = 5;

/// The Resources mapping with every `Fn::ForEach` expanded, or `None` when there is none.
pub(crate) fn expand(
    src: &Source,
    resources: &Map,
    params: &IndexMap<String, ParamValue>,
    pseudo: &Pseudo,
    mappings: Option<&Map>,
    diags: &mut Diagnostics,
) -> Option<Map> {
    if !resources.keys().any(|k| k.starts_with(PREFIX)) {
        return None;
    }
    let resolver = Resolver::new(
        src.file.clone(),
        pseudo.clone(),
        params.clone(),
        IndexMap::new(),
        mappings,
        None,
    );
    let mut out = Map::new();
    for (key, node) in resources.iter() {
        let pos = resources.key_pos(key).unwrap_or(node.pos);
        entry(src, key, pos, node, &resolver, &mut out, diags, 0);
    }
    resolver.drain_diagnostics(diags);
    Some(out)
}

#[allow(clippy::too_many_arguments)]
fn entry(
    src: &Source,
    key: &str,
    key_pos: crate::node::Pos,
    node: &Node,
    resolver: &Resolver<'_>,
    out: &mut Map,
    diags: &mut Diagnostics,
    depth: usize,
) {
    if !key.starts_with(PREFIX) {
        if out.contains_key(key) {
            diags.push(Diagnostic::error(
                src.location(key_pos),
                format!("Fn::ForEach produces {key}, which already exists"),
            ));
        }
        out.insert(key, key_pos, node.clone());
        return;
    }
    if depth >= MAX_DEPTH {
        diags.push(Diagnostic::error(
            src.location(key_pos),
            format!("{key}: Fn::ForEach loops nest at most {MAX_DEPTH} deep"),
        ));
        return;
    }
    let parts = node.as_seq().filter(|p| p.len() == 3);
    let (Some(id), Some(items), Some(template)) = (
        parts.and_then(|p| p[0].as_str()),
        parts.and_then(|p| resolver.resolve(&p[1])),
        parts.and_then(|p| p[2].as_map()),
    ) else {
        diags.push(
            Diagnostic::error(
                src.location(node.pos),
                format!("{key} must be [Identifier, [items...], {{OutputKey: Value}}]"),
            )
            .with_hint("see Fn::ForEach in the AWS::LanguageExtensions transform"),
        );
        return;
    };
    let Some(values) = items
        .as_seq()
        .map(|s| s.iter().filter_map(Node::scalar_text).collect::<Vec<_>>())
    else {
        diags.push(Diagnostic::error(
            src.location(items.pos),
            format!(
                "{key}: the collection must be a list (or a Ref to a list parameter) known locally"
            ),
        ));
        return;
    };
    for value in &values {
        for (tk, tv) in template.iter() {
            let k = substitute(tk, id, value);
            let v = replace(tv, id, value);
            let pos = template.key_pos(tk).unwrap_or(tv.pos);
            entry(src, &k, pos, &v, resolver, out, diags, depth + 1);
        }
    }
}

/// `${Id}` → value, `&{Id}` → value without non-alphanumerics (for logical ids).
fn substitute(s: &str, id: &str, value: &str) -> String {
    let alnum: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
    s.replace(&format!("${{{id}}}"), value)
        .replace(&format!("&{{{id}}}"), &alnum)
}

fn replace(node: &Node, id: &str, value: &str) -> Node {
    match &node.value {
        Value::String(s) => Node::string(substitute(s, id, value), node.pos),
        Value::Seq(items) => Node::new(
            Value::Seq(items.iter().map(|i| replace(i, id, value)).collect()),
            node.pos,
        ),
        Value::Map(m) => {
            if let Some(("Ref", target)) = node.intrinsic() {
                if target.as_str() == Some(id) {
                    return Node::string(value, node.pos);
                }
            }
            let mut out = Map::new();
            for (k, v) in m.iter() {
                out.insert(
                    substitute(k, id, value),
                    m.key_pos(k).unwrap_or(v.pos),
                    replace(v, id, value),
                );
            }
            Node::new(Value::Map(out), node.pos)
        }
        _ => node.clone(),
    }
}
