//! Command options from `samconfig.toml`, as SAM CLI reads them: a command's flags may be
//! set under `[env.global.parameters]` or `[env.<command>.parameters]` (`port = 3001`,
//! `warm_containers = "EAGER"`, `strict_auth = true`). A flag given on the command line,
//! or through its environment variable, wins over the file.
//!
//! This runs before the real parse: the command line is parsed once to learn the command,
//! the template and `--config-file`/`--config-env`, then the file's options are inserted
//! right after the command's name as `--flag=value` and the result parsed for real.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches};
use ssam_template::params::{samconfig_options, ConfigOption, ConfigValue};

use super::common::TemplateArgs;

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
    let Some(path) = template.samconfig_path() else {
        return Ok(Args::plain(argv));
    };
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
