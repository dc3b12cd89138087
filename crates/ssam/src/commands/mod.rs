//! One module per command. Each exposes `Args` (clap) and `run(Args) -> Result<ExitCode>`.

pub mod build;
pub mod build_view;
pub mod common;
pub mod dashboard;
pub mod generate_event;
pub mod invoke;
pub mod list;
pub mod samconfig;
pub mod start;
pub mod start_api;
pub mod start_lambda;
pub mod start_s3;
pub mod validate;

/// Prints an error the way users of ssam see every failure: `error:` then each cause.
pub fn report_error(err: &anyhow::Error) {
    use owo_colors::OwoColorize;
    let mut chain = err.chain();
    if let Some(top) = chain.next() {
        anstream::eprintln!("{} {top}", "error:".red().bold());
    }
    for cause in chain {
        anstream::eprintln!("  {} {cause}", "caused by:".bold());
    }
}
