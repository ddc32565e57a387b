//! The command line's arguments: the clap definitions (names and help are the CLI contract).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// What `postdesk -h` and `postdesk --help` open with: what the program does for an admin
/// (the package's description is about how it is built, so it is not used here).
const ABOUT: &str = "Postdesk: set up, test and ship your organization's outgoing mail configuration.";
const LONG_ABOUT: &str = "Postdesk: set up, test and ship your organization's outgoing mail configuration.

Point every client and application at the right mail server (SMTP with a password, \
Microsoft 365 sign-in, sendmail), send a test mail that shows each step, and export the \
settings to roll them out on other machines. Passwords and tokens are kept in the \
system's keychain, never in files.

With no command, opens the settings window. Start with `postdesk config show` to see \
every setting, or `postdesk test-mail --to you@example.com` to try what is saved.";

#[derive(Parser, Debug)]
#[command(name = "postdesk", version, about = ABOUT, long_about = LONG_ABOUT)]
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
        /// Output for monitoring: nagios (one status line with perfdata, exit 0/1/2/3 for
        /// OK/WARNING/CRITICAL/UNKNOWN; Nagios, Icinga, Checkmk) or prometheus (the node
        /// exporter's textfile collector format).
        #[arg(long, value_enum, conflicts_with = "json", value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// Store or remove a secret in the OS keychain.
    #[command(subcommand)]
    Secret(SecretCmd),
    /// Send a test mail through the server that would send it (route, client or global), printing each step as it happens.
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
        /// Output for monitoring: nagios (status line, perfdata, exit 0/1/2/3) or prometheus
        /// (textfile collector format).
        #[arg(long, value_enum, conflicts_with = "json", value_name = "FORMAT")]
        format: Option<Format>,
        /// With --format nagios: WARNING when delivering took at least SECS.
        #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = threshold)]
        warning: f64,
        /// With --format nagios: CRITICAL when delivering took at least SECS.
        #[arg(long, value_name = "SECS", default_value_t = 15.0, value_parser = threshold)]
        critical: f64,
    },
    /// Log in to the receiver mailbox (receive-before-send) for real, printing each step.
    ReceiverCheck {
        #[arg(long)]
        json: bool,
    },
    /// Provider presets (Microsoft 365, Gmail, Amazon SES, …): list them, or apply one.
    #[command(subcommand)]
    Preset(PresetCmd),
    /// The organization's policy (/etc/postdesk/policy.json, POSTDESK_POLICY_FILE): what it
    /// sets and locks.
    #[command(subcommand)]
    Policy(PolicyCmd),
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
        /// Print what changes as one JSON object {"changed", "added", "changed_keys",
        /// "removed", "secrets"} instead of the differences (for Ansible and other fleet tools;
        /// a file that changes nothing is not applied).
        #[arg(long, conflicts_with = "undo")]
        json: bool,
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
    /// force, through the server that sends that client's mail; `--preview` prints exactly what would be sent.
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
        /// Read by `Postdesk::parse_sendmail_args`, not by clap (sendmail's `-FName`,
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
    Set {
        key: String,
        /// Print {"changed": true|false}: whether the keychain held another value (compared
        /// inside this process; the value is never printed).
        #[arg(long)]
        json: bool,
        /// With --json: only say whether it would change; nothing is stored.
        #[arg(long, requires = "json")]
        dry_run: bool,
    },
    /// Remove it from the keychain.
    Clear { key: String },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Print what the policy sets and locks, and where it comes from.
    Show {
        #[arg(long)]
        json: bool,
    },
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

/// How `check` and `test-mail` print their outcome.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Lines for people (the default).
    Text,
    /// One JSON object (as --json).
    Json,
    /// The monitoring plugin conventions (Nagios, Icinga, Checkmk).
    Nagios,
    /// The Prometheus text format, for the node exporter's textfile collector.
    Prometheus,
}

impl Format {
    /// `--format`, or `--json`, or text.
    pub fn of(json: bool, format: Option<Format>) -> Format {
        format.unwrap_or(if json { Format::Json } else { Format::Text })
    }
}

/// A time threshold in seconds: a positive number of at most a day.
fn threshold(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err("must be a number of seconds above 0 and at most 86400 (e.g. 2.5)".into()),
    }
}

impl Cli {
    pub fn data_dir(&self) -> PathBuf {
        postdesk_core::Postdesk::data_dir_from(self.data_dir.clone())
    }
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
