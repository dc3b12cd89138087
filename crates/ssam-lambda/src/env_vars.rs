//! SAM's `--env-vars` file: `{"Parameters": {...}, "<LogicalId or FunctionName>": {...}}`.
//!
//! `Parameters` applies to every function, a function's own section overrides it. Unlike
//! SAM CLI, a variable the template does not declare is added rather than ignored.

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

/// One variable's value as written: JSON numbers and booleans are accepted like SAM does.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Value {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
    /// `null`: the variable is left out.
    Null(()),
}

impl Value {
    fn into_string(self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null(()) => None,
        }
    }
}

/// A parsed `--env-vars` file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct EnvVarsFile {
    sections: IndexMap<String, IndexMap<String, Value>>,
}

impl EnvVarsFile {
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| {
            format!(
                "{e} (expected {{\"Parameters\": {{\"VAR\": \"value\"}}, \"FunctionLogicalId\": {{\"VAR\": \"value\"}}}})"
            )
        })
    }

    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The variables for one function: `Parameters`, then its section (by logical id, then name).
    pub fn for_function(&self, logical_id: &str, name: &str) -> IndexMap<String, String> {
        let mut out = IndexMap::new();
        let mut apply = |section: &str| {
            if let Some(vars) = self.sections.get(section) {
                for (k, v) in vars {
                    match v.clone().into_string() {
                        Some(v) => {
                            out.insert(k.clone(), v);
                        }
                        None => {
                            out.shift_remove(k);
                        }
                    }
                }
            }
        };
        apply("Parameters");
        apply(logical_id);
        if name != logical_id {
            apply(name);
        }
        out
    }

    /// Section names that match no function (likely a typo worth a warning).
    pub fn unknown_sections<'a>(&'a self, known: &'a [(&str, &str)]) -> Vec<&'a str> {
        self.sections
            .keys()
            .map(String::as_str)
            .filter(|s| *s != "Parameters" && !known.iter().any(|(id, n)| id == s || n == s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_then_function() {
        let f = EnvVarsFile::parse(
            r#"{"Parameters": {"A": "1", "B": 2, "C": true}, "Fn": {"B": "fn", "NEW": "x", "C": null}}"#,
        )
        .expect("parse");
        let v = f.for_function("Fn", "my-fn");
        assert_eq!(v.get("A").map(String::as_str), Some("1"));
        assert_eq!(v.get("B").map(String::as_str), Some("fn"));
        assert_eq!(v.get("NEW").map(String::as_str), Some("x"));
        assert!(!v.contains_key("C"));
        let other = f.for_function("Other", "Other");
        assert_eq!(other.get("B").map(String::as_str), Some("2"));
        assert_eq!(other.get("C").map(String::as_str), Some("true"));
    }

    #[test]
    fn bad_shape_is_an_error() {
        assert!(EnvVarsFile::parse(r#"{"Fn": "x"}"#).is_err());
    }
}
