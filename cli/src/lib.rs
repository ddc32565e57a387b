//! The `postdesk` command line (contract: exit codes, names and JSON fields are stable).
//! A thin adapter: parse arguments, call `postdesk_core`, print, map errors to exit codes.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use postdesk_core::app::{secret_keys, Error};
use postdesk_core::keys::{all_keys, display};
use postdesk_core::store::StoreError;
use postdesk_core::diagnosis::{step_line, Progress, Stage};
use postdesk_core::mail::{self, Request};
use postdesk_core::sendmail_args;
use postdesk_core::{Postdesk, Problem, Secret};
use std::time::Duration;
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
    /// Send a test mail through the resolved server, printing each step as it happens.
    TestMail {
        #[arg(long, value_name = "ADDR")]
        to: String,
        #[arg(long, value_name = "ID")]
        client: Option<String>,
        #[arg(long, value_name = "ADDR")]
        from: Option<String>,
        /// Seconds for each network step (default: the server's timeout).
        #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
        timeout: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Log in to the receiver mailbox (receive-before-send) for real, printing each step.
    ReceiverCheck {
        #[arg(long)]
        json: bool,
    },
    /// Provider presets (Microsoft 365, Gmail, Amazon SES, …): list them, or apply one.
    #[command(subcommand)]
    Preset(PresetCmd),
    /// Print the JSON Schema of the export format.
    Schema,
    /// Write the configuration to FILE; secrets are left out unless asked for, and then only
    /// encrypted with the passphrase.
    Export {
        file: PathBuf,
        #[arg(long, requires = "passphrase_file")]
        with_secrets: bool,
        /// File holding the passphrase (first line).
        #[arg(long, value_name = "F")]
        passphrase_file: Option<PathBuf>,
    },
    /// Validate FILE, print the differences, and apply it atomically.
    Import {
        #[arg(required_unless_present = "undo")]
        file: Option<PathBuf>,
        /// Only print the differences.
        #[arg(long)]
        dry_run: bool,
        /// File holding the passphrase of the encrypted secrets (first line).
        #[arg(long, value_name = "F")]
        passphrase_file: Option<PathBuf>,
        /// Restore the configuration (and secrets) from before the last import.
        #[arg(long, conflicts_with_all = ["file", "dry_run"])]
        undo: bool,
        /// Apply the file even where it changes where a stored secret is sent (host, port,
        /// security, certificate checks, Microsoft 365 endpoints) or which program runs
        /// (sendmail_path); without it such an import changes nothing and exits 1.
        #[arg(long)]
        allow_redirect: bool,
    },
    /// Which server would send this mail, and why (`route remove NAME` removes a route).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Route {
        #[arg(long, value_name = "ID")]
        client: Option<String>,
        #[arg(long, value_name = "ADDR", required = true)]
        from: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<RouteCmd>,
    },
    /// Clients (add one with `config set client.ID.name …`).
    #[command(subcommand)]
    Client(ClientCmd),
    /// Send a support request (the message is read from stdin) to the support address in
    /// force, through the resolved route; `--preview` prints exactly what would be sent.
    Support {
        #[arg(long, value_name = "ID")]
        client: Option<String>,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        preview: bool,
        #[arg(long)]
        json: bool,
    },
    /// sendmail-compatible: read an RFC 5322 message on stdin and send it. Takes sendmail's
    /// options as cron, mailx, mutt, git send-email and PHP pass them (-t, -i, -f, -F, -oem…)
    /// and --client ID, --priority: `postdesk send --help` lists them.
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Send {
        /// Read by `postdesk_core::sendmail_args::parse`, not by clap (sendmail's `-FName`,
        /// `-oem`, `-f<>` forms).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        args: Vec<std::ffi::OsString>,
    },
    /// Microsoft 365 delegated sign-in (embedded window, or the system browser with
    /// --browser); stores the refresh token in the keychain.
    Login {
        #[arg(long, value_name = "ID")]
        client: Option<String>,
        /// Sign in through the default browser and a one-shot loopback redirect instead of
        /// the embedded window (for Conditional Access that blocks embedded browsers).
        #[arg(long)]
        browser: bool,
        /// Seconds to wait for the sign-in to come back.
        #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
    },
    /// Invitation templates per user type.
    #[command(subcommand)]
    Template(TemplateCmd),
    /// The Do-Not-Email list (user@domain or *@domain).
    #[command(subcommand)]
    Dne(DneCmd),
}

#[derive(Subcommand, Debug)]
pub enum ClientCmd {
    /// Remove a client and every secret it has in the keychain.
    Remove { id: String },
}

#[derive(Subcommand, Debug)]
pub enum RouteCmd {
    /// Remove a route and every secret it has in the keychain.
    Remove { name: String },
}

#[derive(Subcommand, Debug)]
pub enum TemplateCmd {
    /// Print the rendered subject and body; placeholders without --var get sample values.
    Render {
        /// The user type (power, standard, or one you added).
        #[arg(value_name = "TYPE")]
        kind: String,
        /// Render the template as this client sends it (its own texts, else the global ones).
        #[arg(long, value_name = "ID")]
        client: Option<String>,
        /// A placeholder's value, e.g. --var name="Dana Lee".
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DneCmd {
    /// Add addresses; nothing is saved when one is invalid.
    Add {
        #[arg(required = true, value_name = "ADDR")]
        addrs: Vec<String>,
    },
    /// Remove addresses.
    Remove {
        #[arg(required = true, value_name = "ADDR")]
        addrs: Vec<String>,
    },
    /// Print the list, one entry a line (only those containing SEARCH if given).
    List { search: Option<String> },
    /// Add the addresses of a CSV file (first column; header row optional).
    Import { file: PathBuf },
    /// Write the list as CSV.
    Export { file: PathBuf },
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

#[derive(Subcommand, Debug)]
pub enum PresetCmd {
    /// The presets with their variants (regions, ports).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set the preset's server settings (validated, saved atomically) and print what is left
    /// to do at the provider.
    Apply {
        name: String,
        /// A variant: a region for Amazon SES (e.g. eu-west-1), 465 for Gmail, eu for Mailgun.
        #[arg(long)]
        variant: Option<String>,
    },
}

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;
pub const EXIT_KEYCHAIN: u8 = 3;

impl Cli {
    pub fn data_dir(&self) -> PathBuf {
        postdesk_core::store::data_dir(self.data_dir.clone())
    }
}

/// Called first by both programs: a process that holds passwords and tokens leaves no core
/// dump (RLIMIT_CORE 0, hard limit too, so neither it nor its children can raise it again),
/// and on Linux is not dumpable (PR_SET_DUMPABLE 0): no core through a `core_pattern` pipe
/// either, and other processes of the same user cannot ptrace it or read its memory
/// (`gdb -p`, /proc/PID/mem), as a password manager wants. Failures are ignored: a hardening
/// the system refuses must not stop the program.
pub fn harden_process() {
    #[cfg(unix)]
    {
        let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: plain system calls with a valid pointer to a local value.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// The window program's file name, beside `postdesk`.
pub const WINDOW_PROGRAM: &str = if cfg!(windows) { "postdesk-window.exe" } else { "postdesk-window" };

/// Starts the settings window with this process's arguments (and environment). On Unix the
/// window replaces this process, so a launcher or WebDriver sees one program.
pub fn open_window() -> ExitCode {
    let program = std::env::current_exe().ok().map(|exe| exe.with_file_name(WINDOW_PROGRAM));
    let Some(program) = program.filter(|p| p.exists()) else {
        eprintln!("postdesk: the window program {WINDOW_PROGRAM} is not installed next to postdesk; commands still work: postdesk --help");
        return ExitCode::from(EXIT_FAILED);
    };
    let mut command = std::process::Command::new(&program);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!("postdesk: cannot start {}: {error}", program.display());
        ExitCode::from(EXIT_FAILED)
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1) as u8),
        Err(error) => {
            eprintln!("postdesk: cannot start {}: {error}", program.display());
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Runs a headless command. `cli.command` must be `Some`.
pub fn run(cli: Cli) -> ExitCode {
    // `send --data-dir DIR` (sendmail's arguments are not clap's).
    let send_dir = match &cli.command {
        Some(Command::Send { args }) => utf8_args(args).ok().and_then(|a| sendmail_args::parse(&a).ok()).and_then(|a| a.data_dir),
        _ => None,
    };
    let data_dir = match send_dir {
        Some(d) => postdesk_core::store::data_dir(Some(PathBuf::from(d))),
        None => cli.data_dir(),
    };
    let app = Postdesk::open(&data_dir);
    let Some(command) = cli.command else { return ExitCode::from(EXIT_CONFIG) };
    match execute(&app, command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("postdesk: {}", postdesk_core::keys::shown(line));
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Keychain(postdesk_core::secrets::SecretError::Unavailable(_)) => EXIT_KEYCHAIN,
        Error::Store(StoreError::Io { .. } | StoreError::Locked { .. }) => EXIT_FAILED,
        _ => EXIT_CONFIG,
    }
}

fn execute(app: &Postdesk, command: Command) -> Result<u8, Error> {
    match command {
        Command::Config(ConfigCmd::Get { key }) => println!("{}", app.get(&key)?),
        Command::Config(ConfigCmd::Set { key, value }) => {
            let saved = app.set(&key, &value)?;
            print_saved(&saved);
        }
        Command::Config(ConfigCmd::Unset { key }) => app.unset(&key)?,
        Command::Config(ConfigCmd::Show { json }) => show(app, json)?,
        Command::Check { json } => return check(app, json),
        Command::Secret(SecretCmd::Set { key }) => {
            let secret = read_secret(&key)?;
            app.set_secret(&key, &secret)?;
            eprintln!("postdesk: {key} stored in the OS keychain");
        }
        Command::TestMail { to, client, from, timeout, json } => {
            let request = Request {
                to: vec![to],
                client,
                from,
                timeout: timeout.map(Duration::from_secs),
                message: None,
                compose: None,
                priority: false,
                sent_log: Some(app.sent_log()),
                null_sender: false,
                full_name: None,
            };
            return deliver(app, request, if json { Output::Json } else { Output::Steps });
        }
        Command::Preset(PresetCmd::List { json }) => preset_list(json),
        Command::Preset(PresetCmd::Apply { name, variant }) => {
            let (preset, saved) = app.apply_preset(&name, variant.as_deref())?;
            println!("Applied {}.", preset.name);
            print_saved(&saved);
            println!("\nStill to do at {}:", preset.name);
            for item in &preset.todo {
                println!("  - {item}");
            }
            for item in &preset.advice {
                println!("  Note: {item}");
            }
        }
        Command::ReceiverCheck { json } => return receiver_check(app, if json { Output::Json } else { Output::Steps }),
        Command::Route { command: Some(RouteCmd::Remove { name }), .. } => {
            app.remove_route(&name)?;
            eprintln!("postdesk: route {name} and its secrets removed");
        }
        Command::Route { client, from, json, command: None } => return route(app, client, from.as_deref().unwrap_or_default(), json),
        Command::Client(ClientCmd::Remove { id }) => {
            app.remove_client(&id)?;
            eprintln!("postdesk: client {id} and its secrets removed");
        }
        Command::Support { client, subject, preview, json } => return support(app, client, subject, preview, json),
        Command::Login { client, browser: true, timeout } => return login_browser(app, client.as_deref(), timeout),
        Command::Login { client, browser: false, .. } => {
            // The embedded sign-in window lives in the window program (which handles this
            // command itself); on Unix `open_window` only returns when it could not start.
            app.sign_in_settings(client.as_deref())?;
            let _ = open_window();
            return Ok(EXIT_FAILED);
        }
        Command::Schema => println!("{}", serde_json::to_string_pretty(&postdesk_core::transfer::schema()).expect("json")),
        Command::Export { file, with_secrets, passphrase_file } => {
            let passphrase = match (with_secrets, &passphrase_file) {
                (true, Some(f)) => Some(read_passphrase(f)?),
                _ => None,
            };
            let (text, needed) = app.export(passphrase.as_ref())?;
            Postdesk::write_export_file(&file, &text)?;
            eprintln!("postdesk: exported to {}{}", file.display(), if with_secrets { " (secrets encrypted)" } else { "" });
            if !with_secrets && !needed.is_empty() {
                eprintln!("postdesk: secrets are not in the file; the target machine needs: {}", needed.join(", "));
            }
        }
        Command::Import { undo: true, .. } => {
            let undone = app.undo_import()?;
            eprintln!("postdesk: {}", if undone { "the last import was undone" } else { "there is no import to undo" });
            return Ok(if undone { 0 } else { EXIT_FAILED });
        }
        Command::Import { file, dry_run, passphrase_file, allow_redirect, .. } => {
            let file = file.expect("clap requires FILE");
            let passphrase = passphrase_file.as_deref().map(read_passphrase).transpose()?;
            let bytes = match Postdesk::read_import_file(&file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("postdesk: {e}");
                    return Ok(EXIT_FAILED);
                }
            };
            let plan = match app.plan_import(&bytes, passphrase.as_ref()) {
                Ok(plan) => plan,
                Err(Error::Invalid(problems)) => {
                    for p in problems {
                        eprintln!("postdesk: {p}");
                    }
                    eprintln!("postdesk: nothing was changed");
                    return Ok(EXIT_FAILED);
                }
                Err(e) => return Err(e),
            };
            print_changes(&plan);
            if dry_run {
                eprintln!("postdesk: dry run: nothing was changed");
            } else if !plan.redirects.is_empty() && !allow_redirect {
                eprintln!("postdesk: the file changes where stored secrets are sent or which program runs:");
                for r in &plan.redirects {
                    eprintln!("postdesk: {r}");
                }
                eprintln!("postdesk: nothing was changed; to apply it anyway: postdesk import {} --allow-redirect", file.display());
                return Ok(EXIT_FAILED);
            } else {
                // The plan made from the bytes read once above: exactly what was shown is applied.
                match app.apply_import(&plan, allow_redirect) {
                    Err(Error::Redirected(redirects)) => {
                        // The saved settings changed since the plan was made.
                        for r in &redirects {
                            eprintln!("postdesk: {r}");
                        }
                        eprintln!("postdesk: nothing was changed; to apply it anyway: postdesk import {} --allow-redirect", file.display());
                        return Ok(EXIT_FAILED);
                    }
                    other => other?,
                }
                eprintln!("postdesk: imported {} ({} changes); undo with `postdesk import --undo`", file.display(), plan.changes.len());
            }
        }
        Command::Send { args } => return send(app, args),
        Command::Template(TemplateCmd::Render { kind, client, vars }) => {
            let mut values = std::collections::BTreeMap::new();
            for var in &vars {
                let Some((k, v)) = var.split_once('=') else {
                    return Err(invalid_arg(&format!("--var {var}"), "must be KEY=VALUE"));
                };
                values.insert(k.trim().to_string(), v.to_string());
            }
            let r = app.render_template(&kind, client.as_deref(), &values)?;
            if !r.sampled.is_empty() {
                eprintln!("postdesk: sample values used for: {}", r.sampled.join(", "));
            }
            println!("Subject: {}\n\n{}", r.subject, r.body);
        }
        Command::Dne(cmd) => return dne(app, cmd),
        Command::Secret(SecretCmd::Clear { key }) => {
            let removed = app.clear_secret(&key)?;
            eprintln!("postdesk: {key} {}", if removed { "removed from the OS keychain" } else { "was not set" });
        }
    }
    Ok(0)
}

/// A program that runs `postdesk` under the name `sendmail` (a symlink, as msmtp and
/// nullmailer are installed) gets `postdesk send` with all its arguments.
pub fn as_sendmail() -> Option<Cli> {
    let mut argv = std::env::args_os();
    let name = PathBuf::from(argv.next()?);
    if name.file_name()? != "sendmail" {
        return None;
    }
    let data_dir = std::env::var_os("POSTDESK_DATA_DIR").map(PathBuf::from);
    Some(Cli { data_dir, automation: false, command: Some(Command::Send { args: argv.collect() }) })
}

fn utf8_args(args: &[std::ffi::OsString]) -> Result<Vec<String>, String> {
    args.iter().map(|a| a.clone().into_string().map_err(|bad| format!("{}: not UTF-8", bad.to_string_lossy()))).collect()
}

/// `send`: sendmail's command line, the message on stdin, quiet on success (`-v`: each step).
fn send(app: &Postdesk, raw: Vec<std::ffi::OsString>) -> Result<u8, Error> {
    use sendmail_args::InputError;
    let parsed = utf8_args(&raw).and_then(|a| sendmail_args::parse(&a));
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("postdesk: {e}");
            return Ok(EXIT_CONFIG);
        }
    };
    if args.help {
        print!("{}", sendmail_args::USAGE);
        return Ok(0);
    }
    let config = app.load()?;
    let mut message = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut message) {
        eprintln!("postdesk: cannot read the message from stdin: {e}");
        return Ok(EXIT_FAILED);
    }
    let input = match sendmail_args::input(&args, &message, sendmail_args::local_domain(&config).as_deref()) {
        Ok(i) => i,
        Err(InputError::Usage(e)) => {
            eprintln!("postdesk: {e}");
            return Ok(EXIT_CONFIG);
        }
        Err(InputError::Message(e)) => {
            eprintln!("postdesk: {e}; nothing was sent");
            return Ok(EXIT_FAILED);
        }
    };
    if args.verbose && !args.ignored.is_empty() {
        println!("ignored, as sendmail does: {}", args.ignored.join(" "));
    }
    let request = Request {
        to: input.to,
        client: args.client,
        from: input.from,
        timeout: None,
        message: Some(input.message),
        compose: None,
        priority: args.priority,
        sent_log: Some(app.sent_log()),
        null_sender: input.null_sender,
        full_name: args.full_name,
    };
    deliver(app, request, if args.verbose { Output::Steps } else { Output::Quiet })
}

fn dne(app: &Postdesk, cmd: DneCmd) -> Result<u8, Error> {
    match cmd {
        DneCmd::Add { addrs } => {
            let added = app.dne_add(&addrs)?;
            eprintln!("postdesk: {added} added to the Do-Not-Email list ({} already on it)", addrs.len().saturating_sub(added));
        }
        DneCmd::Remove { addrs } => {
            let missing = app.dne_remove(&addrs)?;
            for m in &missing {
                eprintln!("postdesk: {m}: not on the Do-Not-Email list");
            }
            if !missing.is_empty() {
                return Ok(EXIT_FAILED);
            }
        }
        DneCmd::List { search } => {
            for entry in app.dne_list(search.as_deref())? {
                println!("{entry}");
            }
        }
        DneCmd::Import { file } => match app.dne_import(&file) {
            Ok(added) => eprintln!("postdesk: imported {}: {added} new entries", file.display()),
            Err(Error::Invalid(problems)) => {
                for p in problems {
                    eprintln!("postdesk: {}: {p}", file.display());
                }
                eprintln!("postdesk: nothing was changed");
                return Ok(EXIT_FAILED);
            }
            Err(e) => return Err(e),
        },
        DneCmd::Export { file } => {
            let n = app.dne_export(&file)?;
            eprintln!("postdesk: exported {n} entries to {}", file.display());
        }
    }
    Ok(0)
}

/// After `config set`/`preset apply`: the warnings, and where stored secrets now go (stderr).
fn print_saved(saved: &postdesk_core::app::Saved) {
    for warning in &saved.warnings {
        eprintln!("postdesk: {warning}");
    }
    for r in &saved.redirects {
        eprintln!("postdesk: notice: {r}");
    }
}

fn print_changes(plan: &postdesk_core::transfer::ImportPlan) {
    use postdesk_core::transfer::ChangeKind;
    if plan.changes.is_empty() {
        println!("no changes");
    }
    for c in &plan.changes {
        let show = |v: &Option<String>| v.clone().unwrap_or_default();
        match c.kind {
            ChangeKind::Added => println!("+ {} = {}", c.key, show(&c.new)),
            ChangeKind::Removed => println!("- {} (was {})", c.key, show(&c.old)),
            ChangeKind::Changed => println!("~ {}: {} -> {}", c.key, show(&c.old), show(&c.new)),
            ChangeKind::SecretSet => println!("* {}: will be set in the keychain", c.key),
        }
    }
    for k in &plan.secrets_missing {
        println!("! {k}: needed, not in the file (set it with `postdesk secret set {k}`)");
    }
    for r in &plan.redirects {
        println!("> {r}");
    }
}

/// The passphrase: the first line of the file, which must not be empty. The file's text is
/// wiped from memory once the line is taken.
pub fn read_passphrase(path: &std::path::Path) -> Result<Secret, Error> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| invalid_arg("--passphrase-file", &format!("{}: {e}", path.display())))?);
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(invalid_arg("--passphrase-file", "the passphrase is empty"));
    }
    Ok(Secret::new(line))
}

fn invalid_arg(key: &str, message: &str) -> Error {
    Error::Invalid(vec![Problem { key: key.into(), severity: postdesk_core::Severity::Error, message: message.into() }])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Each step as it finishes, then the outcome and hint.
    Steps,
    /// One JSON report at the end.
    Json,
    /// Nothing on success (sendmail); the failure and hint on stderr.
    Quiet,
}

/// Sends through the core and reports; exit 0 delivered, 1 failed, 2 settings, 3 keychain.
fn deliver(app: &Postdesk, request: Request, output: Output) -> Result<u8, Error> {
    let config = app.load()?;
    let mut progress = |p: Progress| {
        if let (Output::Steps, Progress::Finished { step }) = (output, p) {
            println!("{}", step_line(&step));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let report = runtime.block_on(mail::send(&config, app, request, &mut progress, std::future::pending()));
    Ok(present(&report, output, "Delivered: the server accepted the message."))
}

/// `receiver-check`: log in to the receiver mailbox; exit 0 logged in, 1 failed, 2 settings.
fn receiver_check(app: &Postdesk, output: Output) -> Result<u8, Error> {
    app.load()?;
    let mut progress = |p: Progress| {
        if let (Output::Steps, Progress::Finished { step }) = (output, p) {
            println!("{}", step_line(&step));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let report = runtime.block_on(app.receiver_check(&Default::default(), &[], &mut progress, std::future::pending()));
    Ok(present(&report, output, "Logged in: the receiver accepted the username and password."))
}

/// Prints a diagnosis the way `output` asks and gives its exit code.
fn present(report: &postdesk_core::diagnosis::Report, output: Output, success: &str) -> u8 {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report).expect("json")),
        Output::Steps if report.ok => println!("\n{success}"),
        _ => {}
    }
    if let (Some(stage), Some(error)) = (report.failed_stage, &report.error) {
        if output != Output::Json {
            let to = if output == Output::Steps { "\n" } else { "" };
            eprintln!("{to}postdesk: failed at {}: {error}", stage.as_str());
            if let Some(hint) = &report.hint {
                eprintln!("postdesk: what to do: {hint}");
            }
        }
        return match stage {
            _ if error.contains("keychain is not available") => EXIT_KEYCHAIN,
            Stage::Config => EXIT_CONFIG,
            _ => EXIT_FAILED,
        };
    }
    0
}

fn preset_list(json: bool) {
    let presets = postdesk_core::presets::presets();
    if json {
        println!("{}", serde_json::to_string_pretty(&presets).expect("json"));
        return;
    }
    for p in presets {
        let variants: Vec<&str> = p.variants.iter().map(|v| v.id.as_str()).collect();
        let host = p.settings.get("global.host").filter(|h| !h.is_empty()).map(|h| format!(" ({h})")).unwrap_or_default();
        if variants.is_empty() {
            println!("{:<13} {}{host}", p.id, p.name);
        } else {
            println!("{:<13} {}{host}; --variant {}", p.id, p.name, variants.join("|"));
        }
    }
}

fn route(app: &Postdesk, client: Option<String>, from: &str, json: bool) -> Result<u8, Error> {
    if let Err(e) = postdesk_core::validate::check_email(from, true) {
        eprintln!("postdesk: --from {from}: {e}");
        return Ok(EXIT_CONFIG);
    }
    let e = app.explain(client.as_deref(), Some(from))?;
    let value = match &e.server {
        Some(server) => json!({"source": e.source, "server": server, "reason": e.reason, "from": e.from, "chain": e.chain}),
        None => json!({"source": null, "reason": e.reason, "chain": e.chain}),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else {
        match &e.server {
            Some(s) => println!("{} via {}:{} ({})", s.source, s.host, s.port, e.reason),
            None => println!("no mail would be sent: {}", e.reason),
        }
        for line in &e.chain {
            println!("  {line}");
        }
    }
    Ok(0)
}

fn support(app: &Postdesk, client: Option<String>, subject: String, preview_only: bool, json: bool) -> Result<u8, Error> {
    let mut message = String::new();
    std::io::stdin().read_to_string(&mut message).map_err(|e| invalid_arg("message", &format!("cannot read stdin: {e}")))?;
    let draft = postdesk_core::support::SupportDraft { client, subject, message };
    let preview = app.support_preview(&draft)?;
    if preview_only {
        if json {
            println!("{}", serde_json::to_string_pretty(&preview).expect("json"));
        } else {
            println!("To: {} ({})\nThrough: {} {}:{} ({})\n", preview.to, preview.to_reason, preview.server.source, preview.server.host, preview.server.port, preview.route_reason);
            print!("{}", preview.raw.replace("\r\n", "\n"));
        }
        return Ok(0);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let mut progress = |p: Progress| {
        if let (false, Progress::Finished { step }) = (json, p) {
            println!("{}", step_line(&step));
        }
    };
    let report = runtime.block_on(app.send_support(&preview, &mut progress, std::future::pending()));
    if json {
        println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    }
    match (report.failed_stage, &report.error) {
        (Some(stage), Some(error)) => {
            eprintln!("postdesk: failed at {}: {error}", stage.as_str());
            Ok(if stage == Stage::Config { EXIT_CONFIG } else { EXIT_FAILED })
        }
        _ => Ok(0),
    }
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
        // One line per key: a template body's line breaks are shown as \n.
        println!("{name} = {}{origin}", value.replace('\r', "\\r").replace('\n', "\\n"));
    }
    if !config.dne.is_empty() {
        let n = config.dne.len();
        println!("dne = {n} {} (postdesk dne list)", if n == 1 { "entry" } else { "entries" });
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
    if stdin.is_terminal() {
        eprint!("{key}: ");
        let _ = std::io::stderr().flush();
        return Ok(Secret::new(rpassword::read_password().unwrap_or_default()));
    }
    secret_from_input(stdin.lock(), key)
}

/// A secret piped in: the whole input less one line end. The bytes read are wiped once the
/// secret is made (reserved up front, so reading never reallocates and leaves a copy behind).
pub fn secret_from_input(input: impl Read, key: &str) -> Result<Secret, Error> {
    /// More than any password or token; a larger input is refused, not truncated.
    const MAX_SECRET: usize = 64 * 1024;
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(MAX_SECRET + 1));
    input.take(MAX_SECRET as u64 + 1).read_to_end(&mut bytes).map_err(|e| invalid_arg(key, &format!("cannot read stdin: {e}")))?;
    if bytes.len() > MAX_SECRET {
        return Err(invalid_arg(key, &format!("the secret on stdin is longer than {MAX_SECRET} bytes")));
    }
    let text = bytes.strip_suffix(b"\n").map(|t| t.strip_suffix(b"\r").unwrap_or(t)).unwrap_or(&bytes);
    let text = std::str::from_utf8(text).map_err(|_| invalid_arg(key, "the secret on stdin is not UTF-8 text"))?;
    Ok(Secret::new(text))
}

/// `login --browser`: the system browser and a one-shot loopback redirect listener.
fn login_browser(app: &Postdesk, client: Option<&str>, timeout: u64) -> Result<u8, Error> {
    use postdesk_core::login::{open_in_browser, LoginError};
    let m = app.sign_in_settings(client)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let opened = |url: &str| {
        eprintln!("postdesk: opening the Microsoft sign-in at {} in your browser", url.split('?').next().unwrap_or(url));
        open_in_browser(url)
    };
    match runtime.block_on(app.sign_in_with_browser(&m, opened, Duration::from_secs(timeout))) {
        Ok(account) => {
            println!("Signed in as {account}");
            Ok(0)
        }
        Err(LoginError::Settings(e)) => Err(e),
        Err(LoginError::Failed(error)) => {
            eprintln!("postdesk: token: {error}");
            if let Some(hint) = postdesk_core::hints::hint_for(postdesk_core::diagnosis::Stage::Token, &error) {
                eprintln!("postdesk: what to do: {hint}");
            }
            Ok(EXIT_FAILED)
        }
    }
}
