//! Parameter values from the command line (`--parameter-overrides`) and `samconfig.toml`.
//!
//! SAM CLI accepts `Key=Value Key2=Value2` and CloudFormation's
//! `ParameterKey=Key,ParameterValue=Value`; values may be quoted to hold spaces.

use std::path::Path;

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

/// The `[env]` table of `samconfig.toml` at `path`; `None` when the file or the
/// environment does not exist.
fn samconfig_env(path: &Path, env: &str) -> Result<Option<toml::Table>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e| format!("invalid TOML in {}: {e}", path.display()))?;
    Ok(match doc.remove(env) {
        Some(toml::Value::Table(t)) => Some(t),
        _ => None,
    })
}

/// Parameter overrides from `samconfig.toml`: `[env.global.parameters]` then
/// `[env.<command>.parameters]` (`command` as SAM names it: `local_invoke`, `local_start_api`...).
pub fn samconfig_overrides(
    path: &Path,
    env: &str,
    command: &str,
) -> Result<IndexMap<String, String>, String> {
    let mut out = IndexMap::new();
    let Some(env_table) = samconfig_env(path, env)? else {
        return Ok(out);
    };
    for section in ["global", command] {
        let value = env_table
            .get(section)
            .and_then(|s| s.get("parameters"))
            .and_then(|p| p.get("parameter_overrides"));
        let args: Vec<String> = match value {
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => continue,
        };
        let parsed = parse_overrides(&args).map_err(|e| format!("{}: {e}", path.display()))?;
        out.extend(parsed);
    }
    Ok(out)
}

/// A command option set in `samconfig.toml` (anything but `parameter_overrides`), as SAM
/// CLI reads them: `[env.global.parameters]` for every command, then
/// `[env.<command>.parameters]`, which wins.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigOption {
    /// The option as written, snake_case (`warm_containers`).
    pub key: String,
    pub value: ConfigValue,
    /// True when it comes from the command's own section (not `global`).
    pub own_section: bool,
}

/// The value of a samconfig option.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// `strict_auth = true`.
    Bool(bool),
    /// A string or number (one element) or an array of them.
    Values(Vec<String>),
}

/// The options `samconfig.toml` at `path` sets for `command` in environment `env`, global
/// ones first, each key once (the command's own section wins). A missing file sets none.
pub fn samconfig_options(
    path: &Path,
    env: &str,
    command: &str,
) -> Result<Vec<ConfigOption>, String> {
    let mut out: IndexMap<String, ConfigOption> = IndexMap::new();
    let Some(env_table) = samconfig_env(path, env)? else {
        return Ok(Vec::new());
    };
    for section in ["global", command] {
        let Some(params) = env_table
            .get(section)
            .and_then(|s| s.get("parameters"))
            .and_then(|p| p.as_table())
        else {
            continue;
        };
        for (key, value) in params {
            if key == "parameter_overrides" {
                continue;
            }
            let scalar = |v: &toml::Value| match v {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(i) => Some(i.to_string()),
                toml::Value::Float(f) => Some(f.to_string()),
                toml::Value::Boolean(b) => Some(b.to_string()),
                _ => None,
            };
            let value = match value {
                toml::Value::Boolean(b) => ConfigValue::Bool(*b),
                toml::Value::Array(items) => ConfigValue::Values(
                    items
                        .iter()
                        .map(|v| {
                            scalar(v).ok_or_else(|| {
                                format!(
                                    "{}: [{env}.{section}.parameters] {key}: expected strings or numbers",
                                    path.display()
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?,
                ),
                other => ConfigValue::Values(vec![scalar(other).ok_or_else(|| {
                    format!(
                        "{}: [{env}.{section}.parameters] {key}: expected a string, number, boolean or array",
                        path.display()
                    )
                })?]),
            };
            out.insert(
                key.clone(),
                ConfigOption {
                    key: key.clone(),
                    value,
                    own_section: section == command,
                },
            );
        }
    }
    Ok(out.into_values().collect())
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
    fn samconfig_options_global_then_command_which_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        std::fs::write(
            &path,
            r#"version = 0.1
[default.global.parameters]
parameter_overrides = "A=1"
port = 4000
region = "eu-west-1"
[default.local_start_s3.parameters]
port = 4567
strict_auth = true
credential = ["AK:SK", "AK2:SK2"]
[prod.local_start_s3.parameters]
port = 1
"#,
        )
        .unwrap();
        let got = samconfig_options(&path, "default", "local_start_s3").unwrap();
        let find = |k: &str| got.iter().find(|o| o.key == k).cloned().unwrap();
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(find("port").value, ConfigValue::Values(vec!["4567".into()]));
        assert!(find("port").own_section);
        assert_eq!(
            find("region").value,
            ConfigValue::Values(vec!["eu-west-1".into()])
        );
        assert!(!find("region").own_section);
        assert_eq!(find("strict_auth").value, ConfigValue::Bool(true));
        assert_eq!(
            find("credential").value,
            ConfigValue::Values(vec!["AK:SK".into(), "AK2:SK2".into()])
        );
        assert!(
            samconfig_options(&dir.path().join("none.toml"), "default", "x")
                .unwrap()
                .is_empty()
        );
        std::fs::write(
            &path,
            "[default.local_start_s3.parameters]\nport = { a = 1 }\n",
        )
        .unwrap();
        let err = samconfig_options(&path, "default", "local_start_s3").unwrap_err();
        assert!(
            err.contains("[default.local_start_s3.parameters] port"),
            "{err}"
        );
    }

    #[test]
    fn rejects_pairs_without_equals() {
        let err = parse_overrides(&["Stage".to_string()]).unwrap_err();
        assert!(err.contains("expected KEY=VALUE"), "{err}");
    }

    #[test]
    fn samconfig_global_then_command() {
        let dir = std::env::temp_dir().join(format!("ssam-params-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("samconfig.toml");
        std::fs::write(
            &p,
            "version = 0.1\n[default.global.parameters]\nparameter_overrides = \"Stage=dev Size=1\"\n\
             [default.local_invoke.parameters]\nparameter_overrides = [\"Stage=local\"]\n",
        )
        .unwrap();
        let got = samconfig_overrides(&p, "default", "local_invoke").unwrap();
        assert_eq!(got["Stage"], "local");
        assert_eq!(got["Size"], "1");
        std::fs::remove_dir_all(&dir).ok();
    }
}
