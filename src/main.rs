use std::process::ExitCode;

use clap::Parser;
use portcullis::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2, as the contract says
    match portcullis::app::run(cli.command).map_err(anyhow::Error::from) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
