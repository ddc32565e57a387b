// No console window on Windows for the double-clicked app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod gui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = postdesk_cli::Cli::parse();
    if cli.command.is_some() {
        return postdesk_cli::run(cli);
    }
    gui::run(cli.data_dir())
}
