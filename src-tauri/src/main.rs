// No console window on Windows for the double-clicked app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod files;
mod gui;
mod login;
mod trace;
#[cfg(test)]
mod tsgen;
mod webkit;

use std::process::ExitCode;

use clap::Parser;

/// The settings window. `postdesk` with no command starts it with the same arguments; a
/// command given here anyway is run like `postdesk` would.
fn main() -> ExitCode {
    postdesk_cli::harden_process();
    trace::mark("main");
    webkit::before_start();
    let cli = postdesk_cli::Cli::parse();
    // `postdesk login` without --browser: the embedded sign-in window only.
    if let Some(postdesk_cli::Command::Login { client, browser: false, .. }) = &cli.command {
        return gui::run_with(cli.data_dir(), Some(client.clone()));
    }
    if cli.command.is_some() {
        return postdesk_cli::run(cli);
    }
    gui::run(cli.data_dir())
}
