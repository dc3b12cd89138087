//! The `Globals` section, merged into serverless resources as the SAM translator does:
//! mappings merge key by key (the resource wins), lists are concatenated (globals first),
//! anything else, intrinsics included, is replaced by the resource's value.
//! `IgnoreGlobals: '*'` or a list of property names opts a resource out.

use crate::diag::{Diagnostic, Diagnostics};
use crate::node::{Map, Node, Source, Value};

/// Globals sections and the resource types they apply to.
const SECTIONS: &[(&str, &str)] = &[
    ("Function", "AWS::Serverless::Function"),
    ("Api", "AWS::Serverless::Api"),
    ("HttpApi", "AWS::Serverless::HttpApi"),
    ("SimpleTable", "AWS::Serverless::SimpleTable"),
    ("StateMachine", "AWS::Serverless::StateMachine"),
    ("LayerVersion", "AWS::Serverless::LayerVersion"),
    ("CapacityProvider", "AWS::Serverless::CapacityProvider"),
    ("WebSocketApi", "AWS::Serverless::WebSocketApi"),
];

#[derive(Default)]
pub struct Globals<'a> {
    sections: Vec<(&'static str, &'a Map)>,
}

impl<'a> Globals<'a> {
    pub fn read(src: &Source, node: Option<&'a Node>, diags: &mut Diagnostics) -> Self {
        let mut g = Globals::default();
        let Some(node) = node else { return g };
        let Some(map) = node.as_map() else {
            diags.push(Diagnostic::error(
                src.location(node.pos),
                "Globals must be a mapping",
            ));
            return g;
        };
        for (name, section) in map.iter() {
            let Some(&(_, rtype)) = SECTIONS.iter().find(|(n, _)| *n == name) else {
                let valid: Vec<&str> = SECTIONS.iter().map(|(n, _)| *n).collect();
                diags.push(
                    Diagnostic::error(
                        src.location(map.key_pos(name).unwrap_or(section.pos)),
                        format!("Globals has no section {name:?}"),
                    )
                    .with_hint(format!("valid sections: {}", valid.join(", "))),
                );
                continue;
            };
            match section.as_map() {
                Some(m) => g.sections.push((rtype, m)),
                None => diags.push(Diagnostic::error(
                    src.location(section.pos),
                    format!("Globals.{name} must be a mapping"),
                )),
            }
        }
        g
    }

    /// The Globals mapping for a resource type, if any.
    pub fn for_type(&self, rtype: &str) -> Option<&'a Map> {
        self.sections
            .iter()
            .find(|(t, _)| *t == rtype)
            .map(|(_, m)| *m)
    }

    /// A resource's Properties with Globals merged in (respecting `IgnoreGlobals`).
    pub fn apply(&self, rtype: &str, resource: &Node, props: Option<&Node>) -> Node {
        let pos = props.map_or(resource.pos, |p| p.pos);
        let local = props
            .cloned()
            .unwrap_or_else(|| Node::new(Value::Map(Map::new()), pos));
        let Some(global) = self.for_type(rtype) else {
            return local;
        };
        let ignore = resource.get("IgnoreGlobals");
        let ignored = |k: &str| match ignore.map(|n| &n.value) {
            Some(Value::String(s)) => s == "*" || s == k,
            Some(Value::Seq(items)) => items.iter().any(|i| i.as_str() == Some(k)),
            _ => false,
        };
        let mut filtered = Map::new();
        for (k, v) in global.iter() {
            if !ignored(k) {
                filtered.insert(k, global.key_pos(k).unwrap_or(v.pos), v.clone());
            }
        }
        merge(&Node::new(Value::Map(filtered), pos), &local)
    }
}

fn is_intrinsic(n: &Node) -> bool {
    n.intrinsic().is_some()
}

/// SAM's merge: local wins for scalars; maps merge; lists concatenate (global first).
pub fn merge(global: &Node, local: &Node) -> Node {
    match (&global.value, &local.value) {
        (Value::Map(g), Value::Map(l)) if !is_intrinsic(global) && !is_intrinsic(local) => {
            let mut out = Map::new();
            for (k, gv) in g.iter() {
                match l.get(k) {
                    Some(lv) => out.insert(k, l.key_pos(k).unwrap_or(lv.pos), merge(gv, lv)),
                    None => out.insert(k, g.key_pos(k).unwrap_or(gv.pos), gv.clone()),
                }
            }
            for (k, lv) in l.iter() {
                if !g.contains_key(k) {
                    out.insert(k, l.key_pos(k).unwrap_or(lv.pos), lv.clone());
                }
            }
            Node::new(Value::Map(out), local.pos)
        }
        (Value::Seq(g), Value::Seq(l)) => {
            let mut items = g.clone();
            items.extend(l.iter().cloned());
            Node::new(Value::Seq(items), local.pos)
        }
        _ => local.clone(),
    }
}
