use std::process::ExitCode;

use clap::Parser;
use portcullis::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2, as the contract says
    init_logging(cli.verbose);
    match portcullis::app::run(cli.command, cli.color).map_err(anyhow::Error::from) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Errors quote file contents and paths: nothing from them reaches the terminal raw.
            eprintln!("error: {}", portcullis::report::table::sanitize_lines(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// `-v` logs Portcullis's own events; `-vv` adds detail. The SDK's own logs stay at warnings:
/// its debug output can carry request headers, and a security tool's logs must not hold tokens.
fn init_logging(verbose: u8) {
    let ours = match verbose {
        0 => return,
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("warn,portcullis={ours}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
