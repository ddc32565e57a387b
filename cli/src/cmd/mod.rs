//! One function per command, grouped by what they work on; `execute` only dispatches.
//! Each returns the exit code of a command that ran (0, or 1/2 for a refusal it reported
//! itself) or the core's error, which `run` prints and maps to an exit code.

use postdesk_core::{Error, Postdesk};

use crate::args::{ClientCmd, Command, ConfigCmd, DneCmd, Format, PresetCmd, RouteCmd, SecretCmd, TemplateCmd};

mod config;
mod lists;
mod login;
mod mail;
mod routing;
mod transfer;

pub(crate) fn execute(app: &Postdesk, command: Command) -> Result<u8, Error> {
    match command {
        Command::Config(ConfigCmd::Get { key }) => config::get(app, &key),
        Command::Config(ConfigCmd::Set { key, value }) => config::set(app, &key, &value),
        Command::Config(ConfigCmd::Unset { key }) => config::unset(app, &key),
        Command::Config(ConfigCmd::Show { json }) => config::show(app, json),
        Command::Check { json, format } => config::check(app, Format::of(json, format)),
        Command::Secret(SecretCmd::Set { key, json, dry_run }) => config::secret_set(app, &key, json, dry_run),
        Command::Secret(SecretCmd::Clear { key }) => config::secret_clear(app, &key),
        Command::TestMail { to, client, from, timeout, json, format, warning, critical } => {
            mail::test_mail(app, to, client, from, timeout, Format::of(json, format), crate::monitoring::Thresholds { warning, critical })
        }
        Command::ReceiverCheck { json } => mail::receiver_check(app, json),
        Command::Send { args } => mail::send(app, args),
        Command::Support { client, subject, preview, json } => mail::support(app, client, subject, preview, json),
        Command::Preset(PresetCmd::List { json }) => routing::preset_list(json),
        Command::Preset(PresetCmd::Apply { name, variant }) => routing::preset_apply(app, &name, variant.as_deref()),
        Command::Route { command: Some(RouteCmd::Remove { name }), .. } => routing::route_remove(app, &name),
        Command::Route { client, from, json, command: None } => routing::route(app, client, from.as_deref().unwrap_or_default(), json),
        Command::Client(ClientCmd::Remove { id }) => routing::client_remove(app, &id),
        Command::Login { client, browser: true, timeout } => login::browser(app, client.as_deref(), timeout),
        Command::Login { client, browser: false, .. } => login::window(app, client.as_deref()),
        Command::Schema => transfer::schema(),
        Command::Export { file, with_secrets, passphrase_file } => transfer::export(app, &file, with_secrets, passphrase_file.as_deref()),
        Command::Import { undo: true, .. } => transfer::undo_import(app),
        Command::Import { file, dry_run, passphrase_file, allow_redirect, json, .. } => {
            transfer::import(app, &file.expect("clap requires FILE"), dry_run, passphrase_file.as_deref(), allow_redirect, json)
        }
        Command::Template(TemplateCmd::Render { kind, client, vars }) => lists::template_render(app, &kind, client.as_deref(), &vars),
        Command::Dne(DneCmd::Add { addrs }) => lists::dne_add(app, &addrs),
        Command::Dne(DneCmd::Remove { addrs }) => lists::dne_remove(app, &addrs),
        Command::Dne(DneCmd::List { search }) => lists::dne_list(app, search.as_deref()),
        Command::Dne(DneCmd::Import { file }) => lists::dne_import(app, &file),
        Command::Dne(DneCmd::Export { file }) => lists::dne_export(app, &file),
    }
}
