//! The `ssam` binary: parses the command line, runs one command, maps its error to an exit code.
//!
//! Every command lives in its own module under `commands/`; this file only dispatches.

mod commands;
mod console;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Run AWS serverless applications locally, from the same SAM template you deploy.
#[derive(Parser)]
#[command(name = "ssam", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// How ssam's own notices are written on stderr (function logs stay as they are).
    #[arg(long, global = true, value_enum, default_value_t = console::LogFormat::Text)]
    log_format: console::LogFormat,
}

// Parsed once per run: the size of the flag structs does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Check a template and report every problem with file:line:column.
    Validate(commands::validate::Args),
    /// List what the template defines: functions, endpoints, resources.
    List(commands::list::Args),
    /// Package Zip functions with their dependencies and build Image functions.
    Build(commands::build::Args),
    /// Run functions, APIs and S3 locally.
    #[command(subcommand)]
    Local(LocalCommand),
}

#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum LocalCommand {
    /// Invoke one function once and print its result.
    Invoke(commands::invoke::Args),
    /// Serve the template's APIs like API Gateway.
    StartApi(commands::start_api::Args),
    /// Serve the Lambda Invoke API for SDKs and the aws cli.
    StartLambda(commands::start_lambda::Args),
    /// Serve a local S3 (LocalStack's port by default).
    StartS3(commands::start_s3::Args),
    /// API Gateway, Lambda and S3 in one process, with S3 events wired to functions.
    Start(commands::start::Args),
    /// Print a sample event for a service, shaped like AWS's.
    GenerateEvent(commands::generate_event::Args),
}

fn main() -> ExitCode {
    // A native sandbox's launcher (`ssam __sandbox ...`) runs before anything else, while
    // the process is single-threaded.
    let mut argv = std::env::args_os();
    if argv.nth(1).as_deref() == Some(std::ffi::OsStr::new(ssam_lambda::filesystem::launcher::ARG))
    {
        return ssam_lambda::filesystem::launcher::main(argv.collect());
    }
    if let Ok(exe) = std::env::current_exe() {
        ssam_lambda::filesystem::use_launcher(exe);
    }
    let args = match commands::samconfig::with_config_options(
        &Cli::command(),
        std::env::args_os().collect(),
    ) {
        Ok(args) => args,
        Err(err) => {
            commands::report_error(&err);
            return ExitCode::FAILURE;
        }
    };
    let cli = match Cli::try_parse_from(&args.argv) {
        Ok(cli) => cli,
        Err(err) => {
            if let Some((path, added)) = &args.from_config {
                eprintln!("note: {} added: {}", path.display(), added.join(" "));
            }
            err.exit()
        }
    };
    console::install(cli.log_format);
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::List(args) => commands::list::run(args),
        Command::Build(args) => commands::build::run(args),
        Command::Local(local) => match local {
            LocalCommand::Invoke(args) => commands::invoke::run(args),
            LocalCommand::StartApi(args) => commands::start_api::run(args),
            LocalCommand::StartLambda(args) => commands::start_lambda::run(args),
            LocalCommand::StartS3(args) => commands::start_s3::run(args),
            LocalCommand::Start(args) => commands::start::run(args),
            LocalCommand::GenerateEvent(args) => commands::generate_event::run(args),
        },
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            commands::report_error(&err);
            ExitCode::FAILURE
        }
    }
}
