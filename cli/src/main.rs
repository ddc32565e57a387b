//! `postdesk`: with a command, runs it headless; with none, starts the settings window
//! (`postdesk-window`, installed beside this program) with the same arguments.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    postdesk_cli::harden_process();
    let cli = match postdesk_cli::as_sendmail().map(Ok).unwrap_or_else(postdesk_cli::Cli::try_parse) {
        Ok(cli) => cli,
        // `--format nagios` with wrong arguments is UNKNOWN (exit 3), as a monitoring plugin must.
        Err(e) => match postdesk_cli::nagios_usage_error(&e, &std::env::args_os().collect::<Vec<_>>()) {
            Some(code) => return ExitCode::from(code),
            None => e.exit(),
        },
    };
    if cli.command.is_some() {
        return postdesk_cli::run(cli);
    }
    postdesk_cli::open_window()
}
