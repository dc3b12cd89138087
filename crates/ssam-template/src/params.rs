//! Parameter values from the command line (`--parameter-overrides`); samconfig.toml's are
//! read by the binary (`commands/samconfig.rs`) and parsed here.
//!
//! SAM CLI accepts `Key=Value Key2=Value2` and CloudFormation's
//! `ParameterKey=Key,ParameterValue=Value`; values may be quoted to hold spaces.

use indexmap::IndexMap;

/// Parses `--parameter-overrides` arguments (each argument may hold several pairs).
pub fn parse_overrides(args: &[String]) -> Result<IndexMap<String, String>, String> {
    let mut out = IndexMap::new();
    for arg in args {
        for token in split_words(arg)? {
            let (k, v) = parse_pair(&token)?;
            out.insert(k, v);
        }
    }
    Ok(out)
}

fn parse_pair(token: &str) -> Result<(String, String), String> {
    if let Some(rest) = token.strip_prefix("ParameterKey=") {
        let (key, value) = rest.split_once(",ParameterValue=").ok_or_else(|| {
            format!("invalid parameter override {token:?}: expected ParameterKey=KEY,ParameterValue=VALUE")
        })?;
        return Ok((key.to_string(), value.to_string()));
    }
    match token.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "invalid parameter override {token:?}: expected KEY=VALUE or ParameterKey=KEY,ParameterValue=VALUE"
        )),
    }
}

/// Splits on whitespace outside single or double quotes; quotes are removed.
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unbalanced quote in parameter overrides: {s}"));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_sam_forms_and_quotes() {
        let got = parse_overrides(&[
            "A=1 B='x y'".to_string(),
            "ParameterKey=C,ParameterValue=a,b".to_string(),
            "D=\"q=1\"".to_string(),
        ])
        .unwrap();
        assert_eq!(got["A"], "1");
        assert_eq!(got["B"], "x y");
        assert_eq!(got["C"], "a,b");
        assert_eq!(got["D"], "q=1");
    }

    #[test]
    fn rejects_pairs_without_equals() {
        let err = parse_overrides(&["Stage".to_string()]).unwrap_err();
        assert!(err.contains("expected KEY=VALUE"), "{err}");
    }
}
