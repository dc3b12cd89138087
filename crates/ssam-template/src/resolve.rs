//! Intrinsic functions, evaluated where they can be locally.
//!
//! [`Resolver::resolve`] rewrites a node tree: `Ref`, `Fn::Sub`, `Fn::Join`, `Fn::If`... are
//! replaced by their value; an intrinsic that depends on something only AWS knows (a
//! `Fn::ImportValue`, an attribute of a resource ssam does not model, a parameter without a
//! value) is left in place in its long form, so callers can tell "unresolved" from "empty".
//! `Ref: AWS::NoValue` removes the enclosing property or list item, as CloudFormation does.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine as _;
use indexmap::IndexMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::node::{location, Map, Node, Pos, Value};

/// SAM CLI's local values for pseudo parameters.
#[derive(Clone, Debug)]
pub struct Pseudo {
    pub region: String,
    pub account_id: String,
    pub stack_name: String,
    pub partition: String,
    pub url_suffix: String,
}

impl Pseudo {
    pub fn new(region: Option<&str>, stack_name: Option<&str>) -> Self {
        let region = region.unwrap_or("us-east-1").to_string();
        let (partition, url_suffix) = if region.starts_with("cn-") {
            ("aws-cn", "amazonaws.com.cn")
        } else if region.starts_with("us-gov-") {
            ("aws-us-gov", "amazonaws.com")
        } else {
            ("aws", "amazonaws.com")
        };
        // `Ref AWS::URLSuffix` is "localhost" in SAM CLI's local symbol table; attributes that
        // AWS computes (bucket domain names) keep the real suffix below.
        Pseudo {
            region,
            account_id: "123456789012".into(),
            stack_name: stack_name.unwrap_or("local").to_string(),
            partition: partition.into(),
            url_suffix: url_suffix.into(),
        }
    }

    fn stack_id(&self) -> String {
        format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/51af3dc0-da77-11e4-872e-1234567db123",
            self.partition, self.region, self.account_id, self.stack_name
        )
    }
}

/// What a resource contributes to `Ref` and `Fn::GetAtt`.
#[derive(Clone, Debug, Default)]
pub struct ResourceInfo {
    pub resource_type: String,
    /// The value of `Ref` (logical id, function name, bucket name...).
    pub ref_value: String,
    /// Attributes known from elsewhere: a nested stack's `Outputs.NAME`.
    pub attributes: IndexMap<String, String>,
}

/// A parameter's value: known, or declared without a value (no default, no override).
#[derive(Clone, Debug)]
pub enum ParamValue {
    Known(Node),
    Unknown,
}

pub struct Resolver<'a> {
    pub file: Arc<std::path::PathBuf>,
    pub pseudo: Pseudo,
    pub params: IndexMap<String, ParamValue>,
    pub resources: IndexMap<String, ResourceInfo>,
    pub mappings: Option<&'a Map>,
    pub condition_defs: Option<&'a Map>,
    conditions: RefCell<IndexMap<String, Option<bool>>>,
    evaluating: RefCell<HashSet<String>>,
    diags: RefCell<Vec<Diagnostic>>,
}

/// The outcome of evaluating a condition that may depend on unknown values.
pub type Decision = Option<bool>;

impl<'a> Resolver<'a> {
    pub fn new(
        file: Arc<std::path::PathBuf>,
        pseudo: Pseudo,
        params: IndexMap<String, ParamValue>,
        resources: IndexMap<String, ResourceInfo>,
        mappings: Option<&'a Map>,
        condition_defs: Option<&'a Map>,
    ) -> Self {
        Resolver {
            file,
            pseudo,
            params,
            resources,
            mappings,
            condition_defs,
            conditions: RefCell::new(IndexMap::new()),
            evaluating: RefCell::new(HashSet::new()),
            diags: RefCell::new(Vec::new()),
        }
    }

    /// Moves the problems found so far into `out`.
    pub fn drain_diagnostics(&self, out: &mut Diagnostics) {
        for d in self.diags.borrow_mut().drain(..) {
            out.push(d);
        }
    }

    fn error(&self, pos: Pos, msg: impl Into<String>) {
        self.diags
            .borrow_mut()
            .push(Diagnostic::error(location(&self.file, pos), msg));
    }

    fn error_hint(&self, pos: Pos, msg: impl Into<String>, hint: impl Into<String>) {
        self.diags
            .borrow_mut()
            .push(Diagnostic::error(location(&self.file, pos), msg).with_hint(hint));
    }

    /// The value of a named condition (`None`: depends on values only AWS knows).
    pub fn condition(&self, name: &str, pos: Pos) -> Decision {
        if let Some(v) = self.conditions.borrow().get(name) {
            return *v;
        }
        let Some(def) = self.condition_defs.and_then(|m| m.get(name)) else {
            self.error(
                pos,
                format!("condition {name:?} is not defined in Conditions"),
            );
            return None;
        };
        if !self.evaluating.borrow_mut().insert(name.to_string()) {
            self.error(def.pos, format!("condition {name:?} refers to itself"));
            return None;
        }
        let v = self.eval_condition(def);
        self.evaluating.borrow_mut().remove(name);
        self.conditions.borrow_mut().insert(name.to_string(), v);
        v
    }

    /// Evaluates a condition expression (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`).
    pub fn eval_condition(&self, node: &Node) -> Decision {
        match &node.value {
            Value::Bool(b) => return Some(*b),
            Value::String(s) if s == "true" => return Some(true),
            Value::String(s) if s == "false" => return Some(false),
            _ => {}
        }
        let Some((f, arg)) = node.intrinsic() else {
            self.error(
                node.pos,
                "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition",
            );
            return None;
        };
        match f {
            "Condition" => match arg.as_str() {
                Some(name) => self.condition(name, arg.pos),
                None => {
                    self.error(arg.pos, "Condition takes the name of a condition");
                    None
                }
            },
            "Fn::Equals" => {
                let items = self.args(arg, f, 2, 2)?;
                let a = self.resolve_value(&items[0])?;
                let b = self.resolve_value(&items[1])?;
                if is_unresolved(&a) || is_unresolved(&b) {
                    return None;
                }
                Some(equal_values(&a, &b))
            }
            "Fn::Not" => {
                let items = self.args(arg, f, 1, 1)?;
                self.eval_condition(&items[0]).map(|b| !b)
            }
            "Fn::And" | "Fn::Or" => {
                let items = self.args(arg, f, 2, 10)?;
                let is_and = f == "Fn::And";
                let mut unknown = false;
                for it in &items {
                    match self.eval_condition(it) {
                        Some(b) if b != is_and => return Some(!is_and),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if unknown {
                    None
                } else {
                    Some(is_and)
                }
            }
            "Fn::Contains" | "Fn::EachMemberEquals" | "Fn::EachMemberIn" => None,
            other => {
                self.error(node.pos, format!("{other} cannot be used in a condition"));
                None
            }
        }
    }

    fn args(&self, arg: &Node, f: &str, min: usize, max: usize) -> Option<Vec<Node>> {
        match arg.as_seq() {
            Some(items) if items.len() >= min && items.len() <= max => Some(items.to_vec()),
            _ => {
                let n = if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                };
                self.error(arg.pos, format!("{f} takes a list of {n} values"));
                None
            }
        }
    }

    /// Resolves a value; `None` means `AWS::NoValue` (the value disappears).
    pub fn resolve_value(&self, node: &Node) -> Option<Node> {
        self.resolve(node)
    }

    /// Resolves every intrinsic in `node`. `None` means `AWS::NoValue`.
    pub fn resolve(&self, node: &Node) -> Option<Node> {
        match &node.value {
            Value::Map(m) => {
                if let Some((f, arg)) = node.intrinsic() {
                    return self.call(f, arg, node);
                }
                let mut out = Map::new();
                for (k, v) in m.iter() {
                    if let Some(rv) = self.resolve(v) {
                        out.insert(k, m.key_pos(k).unwrap_or(v.pos), rv);
                    }
                }
                Some(Node::new(Value::Map(out), node.pos))
            }
            Value::Seq(items) => Some(Node::new(
                Value::Seq(items.iter().filter_map(|i| self.resolve(i)).collect()),
                node.pos,
            )),
            _ => Some(node.clone()),
        }
    }

    /// One intrinsic: dispatches to its function below, grouped by family (references, lists,
    /// conditions, values). Each keeps CloudFormation's long form when ssam cannot evaluate it.
    fn call(&self, f: &str, arg: &Node, whole: &Node) -> Option<Node> {
        let pos = whole.pos;
        match f {
            "Ref" => self.ref_intrinsic(arg, pos),
            "Condition" => Some(whole.clone()),
            "Fn::GetAtt" => self.get_att(arg, whole),
            "Fn::Sub" => self.sub(arg, whole),
            "Fn::FindInMap" => self.find_in_map(arg, whole),
            "Fn::Join" => self.join(arg, whole),
            "Fn::Select" => self.select(arg, whole),
            "Fn::Split" => self.split(arg, whole),
            "Fn::Length" => self.length(arg, pos),
            "Fn::If" => self.if_(arg, whole),
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => match self.eval_condition(whole) {
                Some(b) => Some(Node::new(Value::Bool(b), pos)),
                None => Some(whole.clone()),
            },
            "Fn::Base64" => self.base64(arg, pos),
            "Fn::GetAZs" => Some(self.get_azs(arg, pos)),
            "Fn::ToJsonString" => self.to_json_string(arg, pos),
            // Only AWS can answer these: keep them visible, but resolve what is inside.
            "Fn::ImportValue"
            | "Fn::Cidr"
            | "Fn::Transform"
            | "Fn::GetParam"
            | "Fn::ForEach"
            | "Fn::ValueOf"
            | "Fn::ValueOfAll"
            | "Fn::RefAll"
            | "Fn::Contains"
            | "Fn::EachMemberEquals"
            | "Fn::EachMemberIn"
            | "Fn::Implies" => {
                let inner = self.resolve(arg).unwrap_or_else(|| no_value(arg.pos));
                Some(wrap(f, inner, pos))
            }
            other => {
                self.error_hint(
                    pos,
                    format!("unknown intrinsic function {other}"),
                    "CloudFormation's intrinsics are Ref, Condition and Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Equals, Fn::And, Fn::Or, Fn::Not, Fn::Base64, Fn::Cidr, Fn::GetAZs, Fn::ImportValue, Fn::Transform",
                );
                Some(whole.clone())
            }
        }
    }

    // Lists: `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Length`.

    fn join(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let f = "Fn::Join";
        let pos = whole.pos;
        let items = self.args(arg, f, 2, 2).unwrap_or_default();
        if items.len() != 2 {
            return Some(whole.clone());
        }
        let delim = self.resolve(&items[0]).and_then(|n| n.scalar_text());
        let list = self.resolve(&items[1])?;
        let (Some(delim), Some(parts)) = (delim, list.as_seq()) else {
            return Some(wrap(f, seq(vec![items[0].clone(), list], arg.pos), pos));
        };
        let mut texts = Vec::new();
        for p in parts {
            match p.scalar_text() {
                Some(t) => texts.push(t),
                None if p.is_null() => texts.push(String::new()),
                None => {
                    return Some(wrap(
                        f,
                        seq(vec![items[0].clone(), list.clone()], arg.pos),
                        pos,
                    ))
                }
            }
        }
        Some(Node::string(texts.join(&delim), pos))
    }

    fn select(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let items = self.args(arg, "Fn::Select", 2, 2)?;
        let idx = self.resolve(&items[0]).and_then(|n| n.scalar_text());
        let list = self.resolve(&items[1])?;
        let (Some(idx), Some(parts)) = (idx, list.as_seq()) else {
            return Some(whole.clone());
        };
        let Ok(i) = idx.trim().parse::<usize>() else {
            self.error(
                items[0].pos,
                format!("Fn::Select index {idx:?} is not a number"),
            );
            return Some(whole.clone());
        };
        match parts.get(i) {
            Some(n) => Some(n.clone()),
            None => {
                self.error(
                    whole.pos,
                    format!(
                        "Fn::Select index {i} is out of range (the list has {} items)",
                        parts.len()
                    ),
                );
                Some(whole.clone())
            }
        }
    }

    fn split(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let pos = whole.pos;
        let items = self.args(arg, "Fn::Split", 2, 2)?;
        let delim = self.resolve(&items[0]).and_then(|n| n.scalar_text());
        let source = self.resolve(&items[1]).and_then(|n| n.scalar_text());
        match (delim, source) {
            (Some(d), Some(s)) if !d.is_empty() => Some(seq(
                s.split(d.as_str()).map(|p| Node::string(p, pos)).collect(),
                pos,
            )),
            _ => Some(whole.clone()),
        }
    }

    fn length(&self, arg: &Node, pos: Pos) -> Option<Node> {
        let inner = self.resolve(arg)?;
        match inner.as_seq() {
            Some(items) => Some(Node::new(Value::Number(items.len().to_string()), pos)),
            None => Some(wrap("Fn::Length", inner, pos)),
        }
    }

    // Conditions: `Fn::If` here; `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` in
    // `eval_condition`.

    fn if_(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let f = "Fn::If";
        let pos = whole.pos;
        let items = self.args(arg, f, 3, 3)?;
        let Some(cond) = items[0].as_str() else {
            self.error(items[0].pos, "Fn::If takes a condition name first");
            return Some(whole.clone());
        };
        match self.condition(cond, items[0].pos) {
            Some(true) => self.resolve(&items[1]),
            Some(false) => self.resolve(&items[2]),
            None => {
                let a = self.resolve(&items[1]).unwrap_or_else(|| no_value(pos));
                let b = self.resolve(&items[2]).unwrap_or_else(|| no_value(pos));
                Some(wrap(f, seq(vec![items[0].clone(), a, b], arg.pos), pos))
            }
        }
    }

    // Values: `Fn::Base64`, `Fn::GetAZs`, `Fn::ToJsonString`.

    fn base64(&self, arg: &Node, pos: Pos) -> Option<Node> {
        let inner = self.resolve(arg)?;
        match inner.scalar_text() {
            Some(s) => Some(Node::string(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                pos,
            )),
            None => Some(wrap("Fn::Base64", inner, pos)),
        }
    }

    fn get_azs(&self, arg: &Node, pos: Pos) -> Node {
        let region = self
            .resolve(arg)
            .and_then(|n| n.scalar_text())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| self.pseudo.region.clone());
        seq(
            ["a", "b", "c"]
                .iter()
                .map(|z| Node::string(format!("{region}{z}"), pos))
                .collect(),
            pos,
        )
    }

    fn to_json_string(&self, arg: &Node, pos: Pos) -> Option<Node> {
        let inner = self.resolve(arg)?;
        if contains_intrinsic(&inner) {
            return Some(wrap("Fn::ToJsonString", inner, pos));
        }
        Some(Node::string(inner.to_json().to_string(), pos))
    }

    // References: `Ref` (here and in `reference`), `Fn::GetAtt`, `Fn::Sub`, `Fn::FindInMap`.

    /// `Ref` as an intrinsic; [`Resolver::reference`] says what a name refers to.
    fn ref_intrinsic(&self, arg: &Node, pos: Pos) -> Option<Node> {
        let Some(name) = arg.as_str() else {
            // `Ref` of an intrinsic is only valid in a few places; resolve the inside.
            let inner = self.resolve(arg)?;
            return match inner.as_str() {
                Some(n) => self.reference(n, pos),
                None => Some(wrap("Ref", inner, pos)),
            };
        };
        self.reference(name, arg.pos)
    }

    /// `Ref` of a parameter, pseudo parameter or resource.
    pub fn reference(&self, name: &str, pos: Pos) -> Option<Node> {
        let s = |v: &str| Some(Node::string(v, pos));
        match name {
            "AWS::NoValue" => return None,
            "AWS::Region" => return s(&self.pseudo.region),
            "AWS::AccountId" => return s(&self.pseudo.account_id),
            "AWS::Partition" => return s(&self.pseudo.partition),
            "AWS::StackName" => return s(&self.pseudo.stack_name),
            "AWS::StackId" => return s(&self.pseudo.stack_id()),
            "AWS::URLSuffix" => return s("localhost"),
            "AWS::NotificationARNs" => return Some(seq(Vec::new(), pos)),
            _ => {}
        }
        if let Some(p) = self.params.get(name) {
            return match p {
                ParamValue::Known(n) => {
                    let mut n = n.clone();
                    n.pos = pos;
                    Some(n)
                }
                ParamValue::Unknown => Some(ref_node(name, pos)),
            };
        }
        if let Some(r) = self.resources.get(name) {
            return s(&r.ref_value);
        }
        // SAM's property references: `!Ref MyFunction.Alias`, `!Ref MyFunction.Version`,
        // `!Ref MyApi.Stage`, `!Ref MyApi.Deployment` name resources SAM generates.
        if let Some((res, _prop)) = name.split_once('.') {
            if self.resources.contains_key(res) {
                return Some(ref_node(name, pos));
            }
        }
        if name.starts_with("AWS::") {
            self.error(pos, format!("unknown pseudo parameter {name}"));
        } else {
            self.error_hint(
                pos,
                format!(
                    "Ref to {name:?}, which is neither a parameter nor a resource of this template"
                ),
                "declare it under Parameters or Resources, or fix the name",
            );
        }
        Some(ref_node(name, pos))
    }

    fn get_att(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let pos = whole.pos;
        let (res, attr) = match &arg.value {
            Value::String(s) => match s.split_once('.') {
                Some((r, a)) => (r.to_string(), Some(a.to_string())),
                None => {
                    self.error(
                        arg.pos,
                        format!("Fn::GetAtt {s:?} must be Resource.Attribute"),
                    );
                    return Some(whole.clone());
                }
            },
            Value::Seq(items) if items.len() == 2 => {
                let r = items[0].as_str().map(str::to_string);
                let a = self.resolve(&items[1]).and_then(|n| n.scalar_text());
                match r {
                    Some(r) => (r, a),
                    None => {
                        self.error(arg.pos, "Fn::GetAtt takes [Resource, Attribute]");
                        return Some(whole.clone());
                    }
                }
            }
            _ => {
                self.error(
                    arg.pos,
                    "Fn::GetAtt takes Resource.Attribute or [Resource, Attribute]",
                );
                return Some(whole.clone());
            }
        };
        let Some(info) = self.resources.get(&res) else {
            if res
                .split_once('.')
                .is_some_and(|(r, _)| self.resources.contains_key(r))
            {
                return Some(whole.clone());
            }
            self.error_hint(
                arg.pos,
                format!("Fn::GetAtt of {res:?}, which is not a resource of this template"),
                "fix the resource name",
            );
            return Some(whole.clone());
        };
        let Some(attr) = attr else {
            return Some(whole.clone());
        };
        match self.attribute(&res, info, &attr) {
            Some(v) => Some(Node::string(v, pos)),
            None => Some(Node::new(
                Value::Map({
                    let mut m = Map::new();
                    m.insert(
                        "Fn::GetAtt",
                        pos,
                        seq(vec![Node::string(&res, pos), Node::string(&attr, pos)], pos),
                    );
                    m
                }),
                pos,
            )),
        }
    }

    /// Attributes ssam can compute locally (real-format ARNs); `None` for the rest.
    fn attribute(&self, logical_id: &str, info: &ResourceInfo, attr: &str) -> Option<String> {
        if let Some(v) = info.attributes.get(attr) {
            return Some(v.clone());
        }
        let p = &self.pseudo;
        let (part, region, acct) = (&p.partition, &p.region, &p.account_id);
        let name = &info.ref_value;
        Some(match (info.resource_type.as_str(), attr) {
            ("AWS::Serverless::Function" | "AWS::Lambda::Function", "Arn") => {
                format!("arn:{part}:lambda:{region}:{acct}:function:{name}")
            }
            ("AWS::S3::Bucket", "Arn") => format!("arn:{part}:s3:::{name}"),
            ("AWS::S3::Bucket", "DomainName") => format!("{name}.s3.{}", p.url_suffix),
            ("AWS::S3::Bucket", "RegionalDomainName") => {
                format!("{name}.s3.{region}.{}", p.url_suffix)
            }
            ("AWS::S3::Bucket", "WebsiteURL") => {
                format!("http://{name}.s3-website-{region}.{}", p.url_suffix)
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:{part}:iam::{acct}:role/{logical_id}"),
            ("AWS::SQS::Queue" | "AWS::Serverless::Queue", "Arn") => {
                format!("arn:{part}:sqs:{region}:{acct}:{logical_id}")
            }
            ("AWS::SQS::Queue", "QueueName") => logical_id.to_string(),
            ("AWS::SQS::Queue", "QueueUrl") => {
                format!("https://sqs.{region}.{}/{acct}/{logical_id}", p.url_suffix)
            }
            ("AWS::SNS::Topic", "TopicArn") => {
                format!("arn:{part}:sns:{region}:{acct}:{logical_id}")
            }
            ("AWS::SNS::Topic", "TopicName") => logical_id.to_string(),
            ("AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable", "Arn") => {
                format!("arn:{part}:dynamodb:{region}:{acct}:table/{name}")
            }
            ("AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion", "Arn") => {
                format!("arn:{part}:lambda:{region}:{acct}:layer:{logical_id}:1")
            }
            _ => return None,
        })
    }

    fn sub(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let pos = whole.pos;
        let (template, vars) = match &arg.value {
            Value::String(s) => (s.clone(), None),
            Value::Seq(items) if !items.is_empty() && items.len() <= 2 => {
                let Some(t) = items[0].as_str() else {
                    self.error(items[0].pos, "Fn::Sub takes a string first");
                    return Some(whole.clone());
                };
                let vars = match items.get(1) {
                    Some(v) => match self.resolve(v) {
                        Some(n) if n.as_map().is_some() => Some(n),
                        _ => {
                            self.error(v.pos, "Fn::Sub variables must be a mapping");
                            return Some(whole.clone());
                        }
                    },
                    None => None,
                };
                (t.to_string(), vars)
            }
            _ => {
                self.error(arg.pos, "Fn::Sub takes a string or [string, {variables}]");
                return Some(whole.clone());
            }
        };
        let vars_map = vars.as_ref().and_then(Node::as_map);
        let mut out = String::new();
        let mut rest = template.as_str();
        let mut unresolved = false;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(lit) = after.strip_prefix('!') {
                // `${!Literal}` writes `${Literal}`.
                out.push_str("${");
                rest = lit;
                continue;
            }
            let Some(end) = after.find('}') else {
                self.error(
                    pos,
                    format!("Fn::Sub string has an unclosed ${{ in {template:?}"),
                );
                return Some(whole.clone());
            };
            let var = after[..end].trim();
            let value = match vars_map.and_then(|m| m.get(var)) {
                Some(v) => Some(v.clone()),
                None if var.contains('.') && !var.starts_with("AWS::") => {
                    let att = Node::string(var, pos);
                    let mut m = Map::new();
                    m.insert("Fn::GetAtt", pos, att);
                    self.resolve(&Node::new(Value::Map(m), pos))
                }
                None => self.reference(var, pos),
            };
            match value.as_ref().and_then(Node::scalar_text) {
                Some(t) => out.push_str(&t),
                None => {
                    unresolved = true;
                    out.push_str(&format!("${{{var}}}"));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        if unresolved {
            let inner = match vars {
                Some(v) => seq(vec![Node::string(template, arg.pos), v], arg.pos),
                None => Node::string(template, arg.pos),
            };
            return Some(wrap("Fn::Sub", inner, pos));
        }
        Some(Node::string(out, pos))
    }

    fn find_in_map(&self, arg: &Node, whole: &Node) -> Option<Node> {
        let items = self.args(arg, "Fn::FindInMap", 3, 4)?;
        let keys: Vec<Option<String>> = items[..3]
            .iter()
            .map(|i| self.resolve(i).and_then(|n| n.scalar_text()))
            .collect();
        let [Some(map), Some(top), Some(second)] = [&keys[0], &keys[1], &keys[2]] else {
            return Some(whole.clone());
        };
        let default = items
            .get(3)
            .and_then(|d| d.get("DefaultValue"))
            .and_then(|d| self.resolve(d));
        let found = self
            .mappings
            .and_then(|m| m.get(map))
            .and_then(|m| m.get(top))
            .and_then(|m| m.get(second));
        match (found, default) {
            (Some(v), _) => self.resolve(v),
            (None, Some(d)) => Some(d),
            (None, None) => {
                self.error(
                    whole.pos,
                    format!("Fn::FindInMap found no value at Mappings.{map}.{top}.{second}"),
                );
                Some(whole.clone())
            }
        }
    }
}

fn wrap(f: &str, inner: Node, pos: Pos) -> Node {
    let mut m = Map::new();
    m.insert(f, pos, inner);
    Node::new(Value::Map(m), pos)
}

fn seq(items: Vec<Node>, pos: Pos) -> Node {
    Node::new(Value::Seq(items), pos)
}

fn ref_node(name: &str, pos: Pos) -> Node {
    wrap("Ref", Node::string(name, pos), pos)
}

fn no_value(pos: Pos) -> Node {
    ref_node("AWS::NoValue", pos)
}

/// True when the node is (or contains) an intrinsic left unresolved.
pub fn is_unresolved(node: &Node) -> bool {
    node.intrinsic().is_some()
}

pub fn contains_intrinsic(node: &Node) -> bool {
    match &node.value {
        Value::Map(m) => node.intrinsic().is_some() || m.iter().any(|(_, v)| contains_intrinsic(v)),
        Value::Seq(items) => items.iter().any(contains_intrinsic),
        _ => false,
    }
}

/// CloudFormation compares `Fn::Equals` operands as strings (`"1" == 1`).
fn equal_values(a: &Node, b: &Node) -> bool {
    match (a.scalar_text(), b.scalar_text()) {
        (Some(x), Some(y)) => x == y,
        _ => a.to_json() == b.to_json(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::node::parse_str;
    use serde_json::json;

    fn resolver_for<'a>(root: &'a Node) -> Resolver<'a> {
        let mut params = IndexMap::new();
        params.insert(
            "Stage".into(),
            ParamValue::Known(Node::string("dev", Pos::default())),
        );
        params.insert(
            "Subnets".into(),
            ParamValue::Known(Node::new(
                Value::Seq(vec![
                    Node::string("a", Pos::default()),
                    Node::string("b", Pos::default()),
                ]),
                Pos::default(),
            )),
        );
        params.insert("Secret".into(), ParamValue::Unknown);
        let mut resources = IndexMap::new();
        resources.insert(
            "Fn".into(),
            ResourceInfo {
                resource_type: "AWS::Serverless::Function".into(),
                ref_value: "Fn".into(),
                ..ResourceInfo::default()
            },
        );
        resources.insert(
            "Bucket".into(),
            ResourceInfo {
                resource_type: "AWS::S3::Bucket".into(),
                ref_value: "my-bucket".into(),
                ..ResourceInfo::default()
            },
        );
        Resolver::new(
            Arc::new("t.yaml".into()),
            Pseudo::new(None, None),
            params,
            resources,
            root.get("Mappings").and_then(Node::as_map),
            root.get("Conditions").and_then(Node::as_map),
        )
    }

    /// Resolves `Value` of a small template and returns it as JSON, plus diagnostics.
    fn eval(yaml: &str) -> (serde_json::Value, String) {
        let mut d = Diagnostics::default();
        let Some(src) = parse_str(yaml, Arc::new("t.yaml".into()), &mut d) else {
            panic!("{yaml}: {d}")
        };
        let r = resolver_for(&src.root);
        let v = r
            .resolve(src.root.get("Value").unwrap())
            .map_or(json!("<NoValue>"), |n| n.to_json());
        r.drain_diagnostics(&mut d);
        (v, d.to_string())
    }

    #[test]
    fn intrinsic_table() {
        let cases: &[(&str, serde_json::Value)] = &[
            ("Value: !Ref Stage", json!("dev")),
            ("Value: !Ref AWS::Region", json!("us-east-1")),
            ("Value: !Ref AWS::AccountId", json!("123456789012")),
            ("Value: !Ref AWS::Partition", json!("aws")),
            ("Value: !Ref AWS::URLSuffix", json!("localhost")),
            ("Value: !Ref Bucket", json!("my-bucket")),
            ("Value: !Ref Secret", json!({"Ref": "Secret"})),
            ("Value: !GetAtt Fn.Arn", json!("arn:aws:lambda:us-east-1:123456789012:function:Fn")),
            ("Value: !GetAtt [Bucket, Arn]", json!("arn:aws:s3:::my-bucket")),
            ("Value: !GetAtt Fn.Unknown", json!({"Fn::GetAtt": ["Fn", "Unknown"]})),
            ("Value: !Sub 'app-${Stage}-${AWS::Region}'", json!("app-dev-us-east-1")),
            ("Value: !Sub ['${A}-${Stage}', {A: x}]", json!("x-dev")),
            ("Value: !Sub '${!Literal}-${Stage}'", json!("${Literal}-dev")),
            ("Value: !Sub '${Fn.Arn}'", json!("arn:aws:lambda:us-east-1:123456789012:function:Fn")),
            ("Value: !Sub 'x-${Secret}'", json!({"Fn::Sub": "x-${Secret}"})),
            ("Value: !Join ['-', [a, !Ref Stage, 1]]", json!("a-dev-1")),
            ("Value: !Join [',', !Ref Subnets]", json!("a,b")),
            ("Value: !Select [1, !Ref Subnets]", json!("b")),
            ("Value: !Select [0, !Split [',', 'x,y']]", json!("x")),
            ("Value: !Split ['|', 'a|b']", json!(["a", "b"])),
            ("Value: !Base64 hi", json!("aGk=")),
            ("Value: !GetAZs ''", json!(["us-east-1a", "us-east-1b", "us-east-1c"])),
            ("Value: !ImportValue Shared", json!({"Fn::ImportValue": "Shared"})),
            ("Value: !Equals [!Ref Stage, dev]", json!(true)),
            ("Value: !Not [!Equals [!Ref Stage, dev]]", json!(false)),
            ("Value: [a, !Ref AWS::NoValue, b]", json!(["a", "b"])),
            ("Value: {A: !Ref AWS::NoValue, B: 1}", json!({"B": 1})),
            (
                "Mappings: {M: {dev: {Size: 512}}}\nValue: !FindInMap [M, !Ref Stage, Size]",
                json!(512),
            ),
            (
                "Conditions: {IsDev: !Equals [!Ref Stage, dev]}\nValue: !If [IsDev, yes-dev, no]",
                json!("yes-dev"),
            ),
            (
                "Conditions: {IsProd: !Equals [prod, !Ref Stage]}\nValue: !If [IsProd, 1, !Ref AWS::NoValue]",
                json!("<NoValue>"),
            ),
            (
                "Conditions: {S: !Equals [!Ref Secret, x]}\nValue: !If [S, 1, 2]",
                json!({"Fn::If": ["S", 1, 2]}),
            ),
            (
                "Conditions: {A: !Equals [1, 1], B: !And [!Condition A, !Equals [a, a]], C: !Or [!Condition B, !Equals [!Ref Secret, z]]}\nValue: !If [C, on, off]",
                json!("on"),
            ),
        ];
        for (yaml, want) in cases {
            let (got, diags) = eval(yaml);
            assert_eq!(&got, want, "{yaml}\n{diags}");
            assert!(diags.is_empty(), "{yaml}: {diags}");
        }
    }

    /// One case per branch of the intrinsic functions split out of `call`: the value and
    /// the diagnostics (`""` when there are none).
    #[test]
    fn intrinsic_families_values_and_problems() {
        let cases: &[(&str, serde_json::Value, &str)] = &[
            // Lists.
            ("Value: !Length [a, b, c]", json!(3), ""),
            ("Value: {Fn::Length: !Ref Subnets}", json!(2), ""),
            ("Value: {Fn::Length: !ImportValue L}", json!({"Fn::Length": {"Fn::ImportValue": "L"}}), ""),
            ("Value: !Join ['', [a, null, b]]", json!("ab"), ""),
            (
                "Value: !Join ['-', [a, !Ref Secret]]",
                json!({"Fn::Join": ["-", ["a", {"Ref": "Secret"}]]}),
                "",
            ),
            ("Value: !Join ['-', !ImportValue L]", json!({"Fn::Join": ["-", {"Fn::ImportValue": "L"}]}), ""),
            ("Value: !Join [a]", json!({"Fn::Join": ["a"]}), "t.yaml:1:8: error: Fn::Join takes a list of 2 values"),
            ("Value: !Select [5, [a, b]]", json!({"Fn::Select": [5, ["a", "b"]]}), "t.yaml:1:8: error: Fn::Select index 5 is out of range (the list has 2 items)"),
            ("Value: !Select [x, [a, b]]", json!({"Fn::Select": ["x", ["a", "b"]]}), "t.yaml:1:17: error: Fn::Select index \"x\" is not a number"),
            ("Value: !Select [0, !ImportValue L]", json!({"Fn::Select": [0, {"Fn::ImportValue": "L"}]}), ""),
            ("Value: !Split ['', abc]", json!({"Fn::Split": ["", "abc"]}), ""),
            // Conditions.
            ("Value: !If [NotThere, 1, 2]", json!({"Fn::If": ["NotThere", 1, 2]}), "t.yaml:1:13: error: condition \"NotThere\" is not defined in Conditions"),
            ("Value: !If [[x], 1, 2]", json!({"Fn::If": [["x"], 1, 2]}), "t.yaml:1:13: error: Fn::If takes a condition name first"),
            (
                "Conditions: {S: !Equals [!Ref Secret, x]}\nValue: !If [S, 1, !Ref AWS::NoValue]",
                json!({"Fn::If": ["S", 1, {"Ref": "AWS::NoValue"}]}),
                "",
            ),
            ("Value: !Or [!Equals [a, b], !Equals [1, 1]]", json!(true), ""),
            ("Value: !And [!Equals [a, a], !Equals [!Ref Secret, 1]]", json!({"Fn::And": [{"Fn::Equals": ["a", "a"]}, {"Fn::Equals": [{"Ref": "Secret"}, 1]}]}), ""),
            // Values.
            ("Value: {Fn::Base64: !Ref Secret}", json!({"Fn::Base64": {"Ref": "Secret"}}), ""),
            ("Value: !GetAZs eu-west-1", json!(["eu-west-1a", "eu-west-1b", "eu-west-1c"]), ""),
            ("Value: !ToJsonString {a: [1, !Ref Stage]}", json!("{\"a\":[1,\"dev\"]}"), ""),
            ("Value: !ToJsonString {a: !Ref Secret}", json!({"Fn::ToJsonString": {"a": {"Ref": "Secret"}}}), ""),
            // References and what only AWS can answer.
            ("Value: {Ref: {Fn::Join: ['', [Sta, ge]]}}", json!("dev"), ""),
            ("Value: !Cidr [10.0.0.0/16, 2, !Ref Stage]", json!({"Fn::Cidr": ["10.0.0.0/16", 2, "dev"]}), ""),
            ("Value: {Fn::Nope: 1}", json!({"Fn::Nope": 1}), "t.yaml:1:8: error: unknown intrinsic function Fn::Nope\n  hint: CloudFormation's intrinsics are Ref, Condition and Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Equals, Fn::And, Fn::Or, Fn::Not, Fn::Base64, Fn::Cidr, Fn::GetAZs, Fn::ImportValue, Fn::Transform"),
        ];
        let mut wrong = Vec::new();
        for (yaml, want, want_diags) in cases {
            let (got, diags) = eval(yaml);
            if (&got, diags.as_str()) != (want, *want_diags) {
                wrong.push(format!(
                    "{yaml}\n  got {got} {diags:?}\n  want {want} {want_diags:?}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn missing_ref_and_getatt_are_errors_with_positions() {
        let (_, d) = eval("Value:\n  - !Ref Nope\n  - !GetAtt Missing.Arn\n");
        assert!(d.contains("t.yaml:2:5: error: Ref to \"Nope\""), "{d}");
        assert!(
            d.contains("t.yaml:3:5: error: Fn::GetAtt of \"Missing\""),
            "{d}"
        );
    }

    #[test]
    fn self_referencing_condition_is_an_error() {
        let (_, d) = eval("Conditions: {A: !Condition A}\nValue: !If [A, 1, 2]");
        assert!(d.contains("refers to itself"), "{d}");
    }
}
