//! The one reader of `samconfig.toml` (CLI configuration, not the template's): parameter
//! overrides (`parameter_overrides`) and command options, as SAM CLI reads them: a command's flags may be
//! set under `[env.global.parameters]` or `[env.<command>.parameters]` (`port = 3001`,
//! `warm_containers = "EAGER"`, `strict_auth = true`). A flag given on the command line,
//! or through its environment variable, wins over the file.
//!
//! This runs before the real parse: the command line is parsed once to learn the command,
//! the template and `--config-file`/`--config-env`, then the file's options are inserted
//! right after the command's name as `--flag=value` and the result parsed for real.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches};
use indexmap::IndexMap;

use super::common::TemplateArgs;

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
        let parsed = ssam_template::params::parse_overrides(&args)
            .map_err(|e| format!("{}: {e}", path.display()))?;
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

/// `argv` with the options `samconfig.toml` sets for its command inserted. `argv` comes back
/// unchanged when it does not parse (clap then reports the error as usual), when the
/// command reads no template, or when there is no samconfig. A samconfig that cannot be
/// read is an error.
pub fn with_config_options(cmd: &clap::Command, argv: Vec<OsString>) -> anyhow::Result<Args> {
    let Ok(matches) = cmd.clone().try_get_matches_from(&argv) else {
        return Ok(Args::plain(argv));
    };
    let (names, leaf_cmd, leaf) = leaf(cmd, &matches);
    if leaf_cmd
        .get_arguments()
        .all(|a| a.get_id() != "config_file")
    {
        return Ok(Args::plain(argv));
    }
    let template = TemplateArgs::from_arg_matches(leaf)?;
    let path = template.samconfig_path();
    let section = names.join("_").replace('-', "_");
    let options =
        samconfig_options(&path, &template.config_env, &section).map_err(anyhow::Error::msg)?;
    let (added, ignored) = as_flags(leaf_cmd, leaf, &options);
    for key in ignored {
        eprintln!(
            "warning: {}: [{}.{section}.parameters] {key} is not an option of `ssam {}`; ignored",
            path.display(),
            template.config_env,
            names.join(" ")
        );
    }
    if added.is_empty() {
        return Ok(Args::plain(argv));
    }
    // Right after the command's name, so they never land after a `--`.
    let at = if argv.iter().skip(1).take(names.len()).eq(names
        .iter()
        .map(OsString::from)
        .collect::<Vec<_>>()
        .iter())
    {
        1 + names.len()
    } else {
        argv.len()
    };
    let mut merged = argv;
    merged.splice(at..at, added.iter().map(OsString::from));
    Ok(Args {
        argv: merged,
        from_config: Some((path, added)),
    })
}

/// The command line to parse, and what samconfig added to it (to explain a bad value).
pub struct Args {
    pub argv: Vec<OsString>,
    pub from_config: Option<(PathBuf, Vec<String>)>,
}

impl Args {
    fn plain(argv: Vec<OsString>) -> Self {
        Args {
            argv,
            from_config: None,
        }
    }
}

/// The subcommand names down to the leaf (`["local", "start-s3"]`), its definition and its
/// matches.
fn leaf<'a>(
    cmd: &'a clap::Command,
    matches: &'a ArgMatches,
) -> (Vec<String>, &'a clap::Command, &'a ArgMatches) {
    let (mut names, mut c, mut m) = (Vec::new(), cmd, matches);
    while let Some((name, sub)) = m.subcommand() {
        let Some(next) = c.find_subcommand(name) else {
            break;
        };
        names.push(name.to_owned());
        c = next;
        m = sub;
    }
    (names, c, m)
}

/// The samconfig options as `--flag[=value]` arguments of `cmd`, skipping those already
/// set on the command line or by environment; and the keys of the command's own section
/// that name no option of it (global keys may be meant for other commands).
fn as_flags(
    cmd: &clap::Command,
    matches: &ArgMatches,
    options: &[ConfigOption],
) -> (Vec<String>, Vec<String>) {
    let (mut added, mut ignored) = (Vec::new(), Vec::new());
    for opt in options {
        let long = opt.key.replace('_', "-");
        let Some(arg) = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(long.as_str()))
        else {
            if opt.own_section {
                ignored.push(opt.key.clone());
            }
            continue;
        };
        if matches!(
            matches.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
        match &opt.value {
            ConfigValue::Bool(true) if !takes_value => added.push(format!("--{long}")),
            ConfigValue::Bool(false) if !takes_value => {}
            ConfigValue::Bool(b) => added.push(format!("--{long}={b}")),
            ConfigValue::Values(values) => {
                added.extend(values.iter().map(|v| format!("--{long}={v}")));
            }
        }
    }
    (added, ignored)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
    fn samconfig_global_then_command() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("samconfig.toml");
        std::fs::write(
            &p,
            "version = 0.1\n[default.global.parameters]\nparameter_overrides = \"Stage=dev Size=1\"\n\
             [default.local_invoke.parameters]\nparameter_overrides = [\"Stage=local\"]\n",
        )
        .unwrap();
        let got = samconfig_overrides(&p, "default", "local_invoke").unwrap();
        assert_eq!(got["Stage"], "local");
        assert_eq!(got["Size"], "1");
    }
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Sub,
    }
    #[derive(clap::Subcommand)]
    enum Sub {
        #[command(subcommand)]
        Local(Local),
    }
    #[derive(clap::Subcommand)]
    enum Local {
        StartS3(S3),
    }
    #[derive(clap::Args)]
    struct S3 {
        #[arg(long, default_value_t = 4566)]
        port: u16,
        #[arg(long)]
        strict_auth: bool,
        #[arg(long = "credential")]
        credentials: Vec<String>,
        #[command(flatten)]
        template: TemplateArgs,
    }

    fn run(dir: &std::path::Path, config: &str, args: &[&str]) -> Vec<String> {
        std::fs::write(dir.join("template.yaml"), "Resources: {}\n").unwrap();
        std::fs::write(dir.join("samconfig.toml"), config).unwrap();
        let t = dir.join("template.yaml");
        let mut argv: Vec<OsString> = ["ssam", "local", "start-s3", "-t"]
            .iter()
            .map(OsString::from)
            .collect();
        argv.push(t.into_os_string());
        argv.extend(args.iter().map(OsString::from));
        let cmd = <Cli as clap::CommandFactory>::command();
        let out = with_config_options(&cmd, argv).unwrap();
        out.argv
            .iter()
            .skip(3)
            .map(|a| a.to_string_lossy().into_owned())
            .filter(|a| a.starts_with("--"))
            .collect()
    }

    #[test]
    fn options_come_after_the_command_name_and_the_command_line_wins() {
        let dir = tempfile::tempdir().unwrap();
        let config = "[default.global.parameters]\nwarm_containers = \"EAGER\"\n\
                      [default.local_start_s3.parameters]\nport = 4567\nstrict_auth = true\n\
                      credential = [\"A:B\", \"C:D\"]\nnot_a_flag = 1\n";
        assert_eq!(
            run(dir.path(), config, &[]),
            [
                "--credential=A:B",
                "--credential=C:D",
                "--port=4567",
                "--strict-auth"
            ]
        );
        assert_eq!(
            run(dir.path(), config, &["--port", "9"]),
            [
                "--credential=A:B",
                "--credential=C:D",
                "--strict-auth",
                "--port"
            ]
        );
        let off = "[default.local_start_s3.parameters]\nstrict_auth = false\n";
        assert!(run(dir.path(), off, &[]).is_empty());
    }
}
