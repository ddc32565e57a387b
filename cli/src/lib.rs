//! The `postdesk` command line (contract: exit codes, names and JSON fields are stable).
//! A thin adapter: parse arguments, call `postdesk_core`, print, map errors to exit codes.
//!
//! Rooms: `args` (the clap definitions), `cmd` (one function per command), `output`
//! (printing, JSON, exit codes), `monitoring` (`--format nagios|prometheus`), `input` (secrets, passphrases and raw arguments read),
//! `process` (hardening, starting the window).

use std::path::PathBuf;
use std::process::ExitCode;

use postdesk_core::Postdesk;

mod args;
mod cmd;
mod input;
mod monitoring;
mod output;
mod process;

pub use args::{as_sendmail, Cli, ClientCmd, Command, ConfigCmd, DneCmd, Format, PresetCmd, RouteCmd, SecretCmd, TemplateCmd};
pub use monitoring::nagios_usage_error;
pub use input::{read_passphrase, secret_from_input};
pub use output::{EXIT_CONFIG, EXIT_FAILED, EXIT_KEYCHAIN};
pub use process::{harden_process, open_window, WINDOW_PROGRAM};

/// Runs a headless command. `cli.command` must be `Some`.
pub fn run(cli: Cli) -> ExitCode {
    // `send --data-dir DIR` (sendmail's arguments are not clap's).
    let send_dir = match &cli.command {
        Some(Command::Send { args }) => input::utf8_args(args).ok().and_then(|a| Postdesk::parse_sendmail_args(&a).ok()).and_then(|a| a.data_dir),
        _ => None,
    };
    let data_dir = match send_dir {
        Some(d) => Postdesk::data_dir_from(Some(PathBuf::from(d))),
        None => cli.data_dir(),
    };
    let app = Postdesk::open(&data_dir);
    let Some(command) = cli.command else { return ExitCode::from(EXIT_CONFIG) };
    match cmd::execute(&app, command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::print_error(&e);
            ExitCode::from(output::exit_code(&e))
        }
    }
}
