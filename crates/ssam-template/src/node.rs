//! The spanned value tree: YAML or JSON text → [`Node`]s that remember `line:column`.
//!
//! CloudFormation short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) are rewritten to
//! their long form (`{"Ref": "X"}`, `{"Fn::GetAtt": ...}`) here, so later stages see one
//! shape. Scalars keep their source text: a plain `1.0` stays `1.0` when used as a string,
//! and an unquoted `2010-09-09` stays a string (YAML 1.2 core schema has no timestamps).

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::diag::{Diagnostic, Diagnostics, Location};

/// A 1-based position in the template file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A value with the position it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, as written (so `1.0` and `012` survive being used as strings).
    Number(String),
    String(String),
    Seq(Vec<Node>),
    Map(Map),
}

/// A mapping in source order. Keys remember their own positions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: IndexMap<String, (Pos, Node)>,
}

impl Map {
    pub fn new() -> Self {
        Map::default()
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.get(key).map(|(_, n)| n)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.get_mut(key).map(|(_, n)| n)
    }

    pub fn key_pos(&self, key: &str) -> Option<Pos> {
        self.entries.get(key).map(|(p, _)| *p)
    }

    /// Inserts (or replaces, keeping the original order) an entry.
    pub fn insert(&mut self, key: impl Into<String>, key_pos: Pos, node: Node) {
        self.entries.insert(key.into(), (key_pos, node));
    }

    pub fn remove(&mut self, key: &str) -> Option<Node> {
        self.entries.shift_remove(key).map(|(_, n)| n)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.entries.iter().map(|(k, (_, n))| (k.as_str(), n))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Node)> {
        self.entries.iter_mut().map(|(k, (_, n))| (k.as_str(), n))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The single key of a one-entry map (the shape of an intrinsic function).
    pub fn single(&self) -> Option<(&str, &Node)> {
        if self.entries.len() == 1 {
            self.iter().next()
        } else {
            None
        }
    }
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Self {
        Node { value, pos }
    }

    pub fn string(s: impl Into<String>, pos: Pos) -> Self {
        Node::new(Value::String(s.into()), pos)
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as CloudFormation reads it in a string context (numbers and booleans too).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// `Some((name, argument))` when this node is an intrinsic function (`Ref`, `Fn::*`, `Condition`).
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        let (k, v) = self.as_map()?.single()?;
        if k == "Ref" || k == "Condition" || k.starts_with("Fn::") {
            Some((k, v))
        } else {
            None
        }
    }

    /// Converts to JSON (numbers parsed where possible, else kept as strings).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_json(n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a node tree from JSON; every node gets `pos`.
    pub fn from_json(v: &serde_json::Value, pos: Pos) -> Node {
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.to_string()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => {
                Value::Seq(a.iter().map(|x| Node::from_json(x, pos)).collect())
            }
            serde_json::Value::Object(o) => {
                let mut m = Map::new();
                for (k, x) in o {
                    m.insert(k.clone(), pos, Node::from_json(x, pos));
                }
                Value::Map(m)
            }
        };
        Node { value, pos }
    }
}

fn number_json(n: &str) -> serde_json::Value {
    if let Ok(i) = n.parse::<i64>() {
        return serde_json::Value::from(i);
    }
    if let Ok(f) = n.parse::<f64>() {
        if let Some(num) = serde_json::Number::from_f64(f) {
            return serde_json::Value::Number(num);
        }
    }
    serde_json::Value::String(n.to_string())
}

/// A parsed source file: its path (for diagnostics) and its root node.
#[derive(Clone, Debug)]
pub struct Source {
    pub file: Arc<std::path::PathBuf>,
    pub root: Node,
}

impl Source {
    pub fn location(&self, pos: Pos) -> Location {
        location(&self.file, pos)
    }
}

pub fn location(file: &Arc<std::path::PathBuf>, pos: Pos) -> Location {
    Location {
        file: file.clone(),
        line: pos.line.max(1) as usize,
        column: pos.col.max(1) as usize,
    }
}

/// Reads and parses a template file (YAML or JSON).
pub fn parse_file(path: &Path, diags: &mut Diagnostics) -> Option<Source> {
    let file = Arc::new(path.to_path_buf());
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(
                    location(&file, Pos { line: 1, col: 1 }),
                    format!("the template is not UTF-8 text: {e}"),
                ));
                return None;
            }
        },
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    location(&file, Pos { line: 1, col: 1 }),
                    format!("cannot read the template: {e}"),
                )
                .with_hint("pass the template with -t PATH"),
            );
            return None;
        }
    };
    parse_str(&text, file, diags)
}

/// Parses template text. Problems go to `diags`; `None` when nothing usable was parsed.
pub fn parse_str(
    text: &str,
    file: Arc<std::path::PathBuf>,
    diags: &mut Diagnostics,
) -> Option<Source> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut text = std::borrow::Cow::Borrowed(text);
    // PyYAML, which CloudFormation tooling uses, accepts a flow collection whose closing
    // bracket sits at its key's indentation; YAML 1.2 (saphyr) does not. Indent such lines
    // and retry, so templates that deploy also load here.
    for _ in 0..64 {
        match first_error(&text) {
            Some((line, true)) => match indent_flow_line(&text, line) {
                Some(fixed) => text = std::borrow::Cow::Owned(fixed),
                None => break,
            },
            _ => break,
        }
    }
    let text: &str = &text;
    let mut builder = Builder {
        file: file.clone(),
        stack: Vec::new(),
        anchors: IndexMap::new(),
        root: None,
        diags: Vec::new(),
    };
    let mut parse_error = None;
    for ev in Parser::new_from_str(text) {
        match ev {
            Ok((event, span)) => builder.on_event(event, span),
            Err(e) => {
                parse_error = Some(e);
                break;
            }
        }
    }
    if let Some(e) = parse_error {
        let trimmed = text.trim_start();
        // JSON with tabs or other constructs YAML rejects: fall back to a JSON parser.
        if trimmed.starts_with('{') {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => {
                    let root = Node::from_json(&v, Pos { line: 1, col: 1 });
                    return Some(Source { file, root });
                }
                Err(je) => {
                    diags.push(Diagnostic::error(
                        location(
                            &file,
                            Pos {
                                line: je.line() as u32,
                                col: je.column() as u32,
                            },
                        ),
                        format!("invalid JSON: {je}"),
                    ));
                    return None;
                }
            }
        }
        let m = e.marker();
        diags.push(
            Diagnostic::error(
                location(
                    &file,
                    Pos {
                        line: m.line() as u32,
                        col: m.col() as u32 + 1,
                    },
                ),
                format!("invalid YAML: {}", e.info()),
            )
            .with_hint("check the indentation and quoting around this position"),
        );
        return None;
    }
    for d in builder.diags {
        diags.push(d);
    }
    match builder.root {
        Some(root) => Some(Source { file, root }),
        None => {
            diags.push(Diagnostic::error(
                location(&file, Pos { line: 1, col: 1 }),
                "the template is empty",
            ));
            None
        }
    }
}

/// The line of the first parse error, and whether it is an indentation error.
fn first_error(text: &str) -> Option<(usize, bool)> {
    for ev in Parser::new_from_str(text) {
        if let Err(e) = ev {
            return Some((e.marker().line(), e.info().contains("indentation")));
        }
    }
    None
}

/// Re-indents line `line` (1-based) to the previous non-blank line's indentation + 2,
/// when it continues a flow collection (a closing bracket or a flow item).
fn indent_flow_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let idx = line.checked_sub(1)?;
    let cur = *lines.get(idx)?;
    let trimmed = cur.trim_start();
    if flow_depth(&lines[..idx]) == 0 {
        return None;
    }
    let prev_indent = lines[..idx]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())?;
    let cur_indent = cur.len() - trimmed.len();
    let want = prev_indent.max(cur_indent) + 2;
    let mut out = String::with_capacity(text.len() + want);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i == idx {
            out.push_str(&" ".repeat(want));
            out.push_str(trimmed);
        } else {
            out.push_str(l);
        }
    }
    Some(out)
}

/// How many flow collections (`[`, `{`) are open at the end of `lines`, ignoring brackets
/// inside quotes and comments. Only lines inside a flow collection are re-indented: in block
/// context indentation is structure, and "fixing" it would change the meaning.
fn flow_depth(lines: &[&str]) -> i64 {
    let mut depth: i64 = 0;
    for line in lines {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in line.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' if depth > 0 || prev == ' ' || prev == ':' => quote = Some(c),
                    '#' if prev == ' ' => break,
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth = (depth - 1).max(0),
                    _ => {}
                },
            }
            prev = c;
        }
    }
    depth
}

enum Frame {
    Seq {
        node_pos: Pos,
        tag: Option<String>,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        node_pos: Pos,
        tag: Option<String>,
        anchor: usize,
        map: Map,
        pending_key: Option<(String, Pos)>,
    },
}

struct Builder {
    file: Arc<std::path::PathBuf>,
    stack: Vec<Frame>,
    anchors: IndexMap<usize, Node>,
    root: Option<Node>,
    diags: Vec<Diagnostic>,
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line() as u32,
        col: span.start.col() as u32 + 1,
    }
}

fn tag_name(tag: Option<&saphyr_parser::Tag>) -> Option<String> {
    let t = tag?;
    if t.handle == "!" {
        Some(format!("!{}", t.suffix))
    } else if t.handle == "!!" || t.handle == "tag:yaml.org,2002:" {
        Some(format!("!!{}", t.suffix))
    } else {
        Some(format!("{}{}", t.handle, t.suffix))
    }
}

/// Short-form tag → long-form intrinsic key.
fn intrinsic_key(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "!Ref" => "Ref",
        "!Condition" => "Condition",
        "!GetAtt" => "Fn::GetAtt",
        "!Sub" => "Fn::Sub",
        "!Join" => "Fn::Join",
        "!If" => "Fn::If",
        "!Select" => "Fn::Select",
        "!Split" => "Fn::Split",
        "!FindInMap" => "Fn::FindInMap",
        "!Equals" => "Fn::Equals",
        "!And" => "Fn::And",
        "!Or" => "Fn::Or",
        "!Not" => "Fn::Not",
        "!Base64" => "Fn::Base64",
        "!Cidr" => "Fn::Cidr",
        "!GetAZs" => "Fn::GetAZs",
        "!ImportValue" => "Fn::ImportValue",
        "!Transform" => "Fn::Transform",
        "!Length" => "Fn::Length",
        "!ToJsonString" => "Fn::ToJsonString",
        "!ForEach" => "Fn::ForEach",
        "!ValueOf" => "Fn::ValueOf",
        "!Contains" => "Fn::Contains",
        "!EachMemberEquals" => "Fn::EachMemberEquals",
        "!EachMemberIn" => "Fn::EachMemberIn",
        "!RefAll" => "Fn::RefAll",
        "!ValueOfAll" => "Fn::ValueOfAll",
        "!Implies" => "Fn::Implies",
        "!GetParam" => "Fn::GetParam",
        _ => return None,
    })
}

impl Builder {
    fn on_event(&mut self, ev: Event<'_>, span: Span) {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let pos = pos_of(&span);
                let tag = tag_name(tag.as_deref());
                let node = self.scalar(&text, style, tag.as_deref(), pos);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node, Some(text.into_owned()), pos);
            }
            Event::Alias(id) => {
                let pos = pos_of(&span);
                match self.anchors.get(&id) {
                    Some(n) => {
                        let mut n = n.clone();
                        n.pos = pos;
                        let key = n.scalar_text();
                        self.push_value(n, key, pos);
                    }
                    None => {
                        self.error(pos, "alias to an unknown anchor");
                        self.push_value(Node::new(Value::Null, pos), None, pos);
                    }
                }
            }
            Event::SequenceStart(anchor, tag) => self.stack.push(Frame::Seq {
                node_pos: pos_of(&span),
                tag: tag_name(tag.as_deref()),
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, tag) => self.stack.push(Frame::Map {
                node_pos: pos_of(&span),
                tag: tag_name(tag.as_deref()),
                anchor,
                map: Map::new(),
                pending_key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let (node, tag, anchor) = match frame {
                    Frame::Seq {
                        node_pos,
                        tag,
                        anchor,
                        items,
                    } => (Node::new(Value::Seq(items), node_pos), tag, anchor),
                    Frame::Map {
                        node_pos,
                        tag,
                        anchor,
                        map,
                        ..
                    } => (
                        Node::new(Value::Map(merge_keys(map)), node_pos),
                        tag,
                        anchor,
                    ),
                };
                let pos = node.pos;
                let node = self.apply_tag(node, tag.as_deref());
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node, None, pos);
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }

    fn error(&mut self, pos: Pos, msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(location(&self.file, pos), msg.into()));
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, tag: Option<&str>, pos: Pos) -> Node {
        let value = match tag {
            Some("!!str") => Value::String(text.to_string()),
            Some("!!int") | Some("!!float") => Value::Number(text.to_string()),
            Some("!!bool") => Value::Bool(matches!(text, "true" | "True" | "TRUE")),
            Some("!!null") => Value::Null,
            _ if style != ScalarStyle::Plain => Value::String(text.to_string()),
            _ => plain_scalar(text),
        };
        let node = Node::new(value, pos);
        match tag {
            Some(t) if !t.starts_with("!!") => self.apply_tag(node, Some(t)),
            _ => node,
        }
    }

    fn apply_tag(&mut self, node: Node, tag: Option<&str>) -> Node {
        let Some(tag) = tag else { return node };
        if tag.starts_with("!!") {
            return node;
        }
        let Some(key) = intrinsic_key(tag) else {
            self.diags.push(
                Diagnostic::error(
                    location(&self.file, node.pos),
                    format!("unknown tag {tag}"),
                )
                .with_hint("CloudFormation short forms are !Ref, !GetAtt, !Sub, !Join, !If, !Select, !Split, !FindInMap, !Equals, !And, !Or, !Not, !Base64, !Cidr, !GetAZs, !ImportValue, !Condition, !Transform"),
            );
            return node;
        };
        let pos = node.pos;
        // `!GetAZs` with no argument means the current region: `{"Fn::GetAZs": ""}`.
        let arg = if node.is_null() && key == "Fn::GetAZs" {
            Node::string("", pos)
        } else {
            node
        };
        let mut m = Map::new();
        m.insert(key, pos, arg);
        Node::new(Value::Map(m), pos)
    }

    fn push_value(&mut self, node: Node, key_text: Option<String>, pos: Pos) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                map, pending_key, ..
            }) => match pending_key.take() {
                None => {
                    let key = match (&node.value, key_text) {
                        (Value::Null, Some(t)) if t.is_empty() => String::new(),
                        (_, Some(t)) => t,
                        (_, None) => {
                            let msg = "a mapping key must be a plain value";
                            self.diags
                                .push(Diagnostic::error(location(&self.file, pos), msg));
                            String::from("<complex key>")
                        }
                    };
                    *pending_key = Some((key, pos));
                }
                Some((key, key_pos)) => {
                    if map.contains_key(&key) {
                        let msg = format!("duplicate key {key:?} in this mapping");
                        self.diags.push(
                            Diagnostic::error(location(&self.file, key_pos), msg)
                                .with_hint("CloudFormation rejects duplicate keys; keep one"),
                        );
                    }
                    map.insert(key, key_pos, node);
                }
            },
        }
    }
}

/// YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`), which PyYAML and so SAM honour:
/// entries of the merged mappings fill in keys the mapping does not set itself.
fn merge_keys(mut map: Map) -> Map {
    let Some(merged) = map.remove("<<") else {
        return map;
    };
    let sources: Vec<Map> = match merged.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.value {
                Value::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for src in sources {
        for (k, v) in src.iter() {
            if !map.contains_key(k) {
                map.insert(k, src.key_pos(k).unwrap_or(v.pos), v.clone());
            }
        }
    }
    map
}

/// Types a plain (unquoted) scalar as YAML 1.2's core schema does; dates stay strings.
fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if is_number(text) {
        Value::Number(text.to_string())
    } else {
        Value::String(text.to_string())
    }
}

fn is_number(t: &str) -> bool {
    let s = t.strip_prefix(['-', '+']).unwrap_or(t);
    if s.is_empty() {
        return false;
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c));
    }
    if matches!(s, ".inf" | ".Inf" | ".INF") || matches!(t, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [0-9]+ ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )?  or  . [0-9]+ ...
    let bytes = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let fs = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - fs;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        let es = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == bytes.len()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> (Option<Source>, Diagnostics) {
        let mut d = Diagnostics::default();
        let s = parse_str(text, Arc::new("t.yaml".into()), &mut d);
        (s, d)
    }

    #[test]
    fn short_tags_become_long_form_with_positions() {
        let (s, d) = parse("A: !Ref B\nC: !GetAtt F.Arn\nD: !Sub\n  - x${y}\n  - {y: 1}\n");
        assert!(d.0.is_empty(), "{d}");
        let root = s.unwrap().root;
        assert_eq!(
            root.get("A").unwrap().to_json(),
            serde_json::json!({"Ref": "B"})
        );
        assert_eq!(
            root.get("C").unwrap().to_json(),
            serde_json::json!({"Fn::GetAtt": "F.Arn"})
        );
        assert_eq!(
            root.get("D").unwrap().to_json(),
            serde_json::json!({"Fn::Sub": ["x${y}", {"y": 1}]})
        );
        assert_eq!(root.get("C").unwrap().pos, Pos { line: 2, col: 4 });
    }

    #[test]
    fn dates_stay_strings_and_numbers_keep_their_text() {
        let (s, _) =
            parse("AWSTemplateFormatVersion: 2010-09-09\nV: 1.0\nQ: '12'\nB: true\nN: ~\n");
        let root = s.unwrap().root;
        assert_eq!(
            root.get("AWSTemplateFormatVersion").unwrap().as_str(),
            Some("2010-09-09")
        );
        assert_eq!(root.get("V").unwrap().scalar_text().as_deref(), Some("1.0"));
        assert_eq!(root.get("Q").unwrap().value, Value::String("12".into()));
        assert_eq!(root.get("B").unwrap().value, Value::Bool(true));
        assert!(root.get("N").unwrap().is_null());
    }

    #[test]
    fn unknown_tag_and_duplicate_key_are_reported_with_positions() {
        let (_, d) = parse("A: !Reff B\nA: 2\n");
        let text = d.to_string();
        assert!(
            text.contains("t.yaml:1:4: error: unknown tag !Reff"),
            "{text}"
        );
        assert!(text.contains("t.yaml:2:1: error: duplicate key"), "{text}");
    }

    #[test]
    fn invalid_yaml_reports_position() {
        let (s, d) = parse("A: [1, 2\nB: 3\n");
        assert!(s.is_none());
        assert!(d.to_string().contains("invalid YAML"), "{d}");
    }

    #[test]
    fn json_templates_parse_with_positions() {
        let (s, d) = parse("{\n  \"A\": {\"Ref\": \"B\"},\n\t\"C\": 1\n}\n");
        assert!(!d.has_errors(), "{d}");
        let root = s.unwrap().root;
        assert_eq!(
            root.get("A").unwrap().to_json(),
            serde_json::json!({"Ref": "B"})
        );
    }

    #[test]
    fn empty_getazs_means_current_region() {
        let (s, _) = parse("A: !GetAZs\n");
        assert_eq!(
            s.unwrap().root.get("A").unwrap().to_json(),
            serde_json::json!({"Fn::GetAZs": ""})
        );
    }
}

#[cfg(test)]
mod lenient_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> (Option<Source>, Diagnostics) {
        let mut d = Diagnostics::default();
        let s = parse_str(text, Arc::new("t.yaml".into()), &mut d);
        (s, d)
    }

    /// PyYAML (SAM, cfn-lint) accepts flow items at their key's indentation; so do we.
    #[test]
    fn flow_items_at_the_keys_indentation_load_as_pyyaml_loads_them() {
        let (s, d) = parse(
            "R:\n  Resource: [\n  !Sub 'a-${X}',\n  b\n  ]\n  Other: [{\n    \"Effect\": \"Allow\"\n  }]\n",
        );
        assert!(!d.has_errors(), "{d}");
        let r = s.unwrap().root;
        let items = r
            .get("R")
            .unwrap()
            .get("Resource")
            .unwrap()
            .as_seq()
            .unwrap()
            .to_vec();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].to_json(), serde_json::json!({"Fn::Sub": "a-${X}"}));
    }

    #[test]
    fn merge_keys_fill_in_unset_keys() {
        let (s, d) = parse("D: &d {Runtime: python3.12, Timeout: 3}\nF:\n  <<: *d\n  Timeout: 9\n");
        assert!(!d.has_errors(), "{d}");
        let f = s.unwrap().root.get("F").unwrap().to_json();
        assert_eq!(
            f,
            serde_json::json!({"Timeout": 9, "Runtime": "python3.12"})
        );
    }

    /// Block indentation is structure: a misindented key stays an error, never "fixed".
    #[test]
    fn misindented_block_keys_are_still_errors() {
        let (s, d) = parse("A:\n    b: 1\n  c: 2\n");
        assert!(s.is_none() && d.has_errors(), "{d}");
    }
}
