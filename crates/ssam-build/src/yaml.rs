//! A YAML writer for the built template: block style, every string double-quoted in JSON's
//! escaping (valid YAML), so no value is ever re-read as another type (`"yes"`, `"1.0"`,
//! `"null"` stay strings). Keys are quoted only when they could be misread.

use serde_json::Value;

/// The YAML text of `value`, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key_text(key));
        out.push(':');
        write_value(out, value, indent);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            // `- key: value` with the rest of the map aligned under the first key.
            Value::Object(map) if !map.is_empty() => {
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&key_text(key));
                    out.push(':');
                    write_value(out, value, indent + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

/// The value after `key:` (on the same line for scalars and empty collections).
fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Keys such as `Resources`, `Fn::GetAtt`, `AWS::Region` are written bare; anything else is
/// quoted.
fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'))
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !key.ends_with(':')
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml_with_quoted_strings() {
        let doc = json!({
            "Resources": {
                "Fn": {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "CodeUri": "Fn",
                        "Timeout": 3,
                        "Events": {},
                        "Layers": [{"Ref": "Lib"}, "arn:aws:lambda:x"],
                        "Env": {"Variables": {"A": "yes", "on": "1.0"}},
                        "Policies": [{"Statement": [{"Effect": "Allow", "Action": ["s3:*"]}], "Version": "2012-10-17"}],
                        "Nested": [[1, 2], []]
                    }
                }
            }
        });
        let text = to_yaml(&doc);
        let expected = r#"Resources:
  Fn:
    Type: "AWS::Serverless::Function"
    Properties:
      CodeUri: "Fn"
      Timeout: 3
      Events: {}
      Layers:
        - Ref: "Lib"
        - "arn:aws:lambda:x"
      Env:
        Variables:
          A: "yes"
          "on": "1.0"
      Policies:
        - Statement:
            - Effect: "Allow"
              Action:
                - "s3:*"
          Version: "2012-10-17"
      Nested:
        -
          - 1
          - 2
        - []
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn strings_survive_a_round_trip_through_a_yaml_parser() {
        // Every JSON string literal is a YAML double-quoted scalar with the same value.
        for s in [
            "multi\nline",
            "tab\there",
            "quote \" and \\",
            "unicode é ✓",
            "#not a comment",
            "- dash",
            "",
        ] {
            let text = to_yaml(&json!({ "k": s }));
            let parsed: String =
                serde_json::from_str(text.trim_start_matches("k: ").trim_end()).unwrap();
            assert_eq!(parsed, s);
        }
    }
}
