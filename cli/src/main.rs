//! `postdesk`: with a command, runs it headless; with none, starts the settings window
//! (`postdesk-window`, installed beside this program) with the same arguments.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    postdesk_cli::harden_process();
    let cli = postdesk_cli::as_sendmail().unwrap_or_else(postdesk_cli::Cli::parse);
    if cli.command.is_some() {
        return postdesk_cli::run(cli);
    }
    postdesk_cli::open_window()
}
