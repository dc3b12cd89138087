//! `ssam local generate-event`: not implemented yet (see the open issues).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("this command is not implemented yet")
}
