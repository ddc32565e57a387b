//! The `postdesk` command line (contract: exit codes, names and JSON fields are stable).
//! A thin adapter: parse arguments, call `postdesk_core`, print, map errors to exit codes.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use postdesk_core::app::{secret_keys, Error};
use postdesk_core::keys::{all_keys, display};
use postdesk_core::store::StoreError;
use postdesk_core::{Postdesk, Problem, Secret};
use serde_json::{json, Value};

/// Postdesk: set up, test and ship your organization's outgoing mail settings.
/// With no command, opens the settings window.
#[derive(Parser, Debug)]
#[command(name = "postdesk", version, about)]
pub struct Cli {
    /// Where the configuration lives (default: the OS app-data directory).
    #[arg(long, global = true, env = "POSTDESK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Passed by WebKitWebDriver when it starts the window for automated tests.
    #[arg(long, hide = true)]
    pub automation: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read and change settings by key (e.g. global.host).
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Validate everything saved; one line per problem.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Store or remove a secret in the OS keychain.
    #[command(subcommand)]
    Secret(SecretCmd),
}

#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Print one value (secrets print <set> / <not set>).
    Get { key: String },
    /// Validate and save one value.
    Set { key: String, value: String },
    /// Remove a value (a client key falls back to the global one).
    Unset { key: String },
    /// The whole configuration, secrets masked.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretCmd {
    /// Read the secret from stdin (no echo; trailing newline dropped) into the keychain.
    Set { key: String },
    /// Remove it from the keychain.
    Clear { key: String },
}

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;
pub const EXIT_KEYCHAIN: u8 = 3;

impl Cli {
    pub fn data_dir(&self) -> PathBuf {
        postdesk_core::store::data_dir(self.data_dir.clone())
    }
}

/// Runs a headless command. `cli.command` must be `Some`.
pub fn run(cli: Cli) -> ExitCode {
    let app = Postdesk::open(&cli.data_dir());
    let Some(command) = cli.command else { return ExitCode::from(EXIT_CONFIG) };
    match execute(&app, command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("postdesk: {line}");
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Keychain(postdesk_core::secrets::SecretError::Unavailable(_)) => EXIT_KEYCHAIN,
        Error::Store(StoreError::Io { .. }) => EXIT_FAILED,
        _ => EXIT_CONFIG,
    }
}

fn execute(app: &Postdesk, command: Command) -> Result<u8, Error> {
    match command {
        Command::Config(ConfigCmd::Get { key }) => println!("{}", app.get(&key)?),
        Command::Config(ConfigCmd::Set { key, value }) => {
            for warning in app.set(&key, &value)? {
                eprintln!("postdesk: {warning}");
            }
        }
        Command::Config(ConfigCmd::Unset { key }) => app.unset(&key)?,
        Command::Config(ConfigCmd::Show { json }) => show(app, json)?,
        Command::Check { json } => return check(app, json),
        Command::Secret(SecretCmd::Set { key }) => {
            let secret = read_secret(&key)?;
            app.set_secret(&key, &secret)?;
            eprintln!("postdesk: {key} stored in the OS keychain");
        }
        Command::Secret(SecretCmd::Clear { key }) => {
            let removed = app.clear_secret(&key)?;
            eprintln!("postdesk: {key} {}", if removed { "removed from the OS keychain" } else { "was not set" });
        }
    }
    Ok(0)
}

fn show(app: &Postdesk, json: bool) -> Result<(), Error> {
    let config = app.load()?;
    let secrets = secret_keys(&config);
    let mut status = Vec::new();
    for key in &secrets {
        status.push((key.clone(), app.get(key)?));
    }
    if json {
        // The document as saved, with each secret key present but masked.
        let mut doc = serde_json::to_value(&config).expect("config serializes");
        for (key, masked) in &status {
            insert_dotted(&mut doc, key, Value::from(masked.as_str()));
        }
        println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(());
    }
    for key in all_keys(&config) {
        let name = key.name();
        let (value, origin) = if key.is_secret() {
            (status.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default(), "")
        } else if let Some(v) = key.stored(&config) {
            (display(&v), "")
        } else if let Some(v) = key.effective(&config) {
            (v, if key.parent().is_some() && key.field.name != "enabled" { "  (inherited)" } else { "  (default)" })
        } else {
            continue;
        };
        println!("{name} = {value}{origin}");
    }
    Ok(())
}

/// Puts a masked secret at its key's place in the JSON document (`client.x.password` → clients.x).
fn insert_dotted(doc: &mut Value, key: &str, value: Value) {
    let mut parts: Vec<String> = key.split('.').map(String::from).collect();
    match parts[0].as_str() {
        "client" => parts[0] = "clients".into(),
        "route" => parts[0] = "routes".into(),
        _ => {}
    }
    let mut node = doc;
    for part in &parts[..parts.len() - 1] {
        node = node.as_object_mut().expect("object").entry(part.clone()).or_insert_with(|| json!({}));
    }
    node.as_object_mut().expect("object").insert(parts[parts.len() - 1].clone(), value);
}

fn check(app: &Postdesk, json: bool) -> Result<u8, Error> {
    let problems = app.check()?;
    let ok = !problems.iter().any(Problem::is_blocking);
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({"ok": ok, "problems": problems})).expect("json"));
    } else {
        for p in &problems {
            println!("{p}");
        }
        if problems.is_empty() {
            println!("no problems found");
        }
    }
    Ok(if ok { 0 } else { EXIT_FAILED })
}

/// The secret from stdin: without echo on a terminal, else the whole input less one newline.
fn read_secret(key: &str) -> Result<Secret, Error> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprint!("{key}: ");
        let _ = std::io::stderr().flush();
        text = rpassword::read_password().unwrap_or_default();
    } else {
        let _ = stdin.lock().read_to_string(&mut text);
        if let Some(t) = text.strip_suffix('\n') {
            text = t.strip_suffix('\r').unwrap_or(t).to_string();
        }
    }
    Ok(Secret::new(text))
}
