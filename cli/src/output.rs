//! What the command line shows and how it ends: exit codes, errors, JSON, diagnoses.

use postdesk_core::{step_line, Error, FailureKind, Progress, Report, SecretError, Stage, StoreError};
use serde::Serialize;

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;
pub const EXIT_KEYCHAIN: u8 = 3;

/// The exit code of a command that failed with `e`: decided by the error's variant.
pub(crate) fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Keychain(SecretError::Unavailable(_)) => EXIT_KEYCHAIN,
        Error::Store(StoreError::Io { .. } | StoreError::Locked { .. }) => EXIT_FAILED,
        _ => EXIT_CONFIG,
    }
}

/// A failed command's error on stderr, one `postdesk: ` line per line of its message.
pub(crate) fn print_error(e: &Error) {
    for line in e.to_string().lines() {
        eprintln!("postdesk: {}", postdesk_core::shown(line));
    }
}

/// A value as pretty JSON on stdout (the `--json` forms).
pub(crate) fn print_json(value: &impl Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("json"));
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// Each step as it finishes, then the outcome and hint.
    Steps,
    /// One JSON report at the end.
    Json,
    /// Nothing on success (sendmail); the failure and hint on stderr.
    Quiet,
}

impl Output {
    pub(crate) fn steps_or_json(json: bool) -> Output {
        if json {
            Output::Json
        } else {
            Output::Steps
        }
    }

    /// The progress callback of a diagnosis: each finished step as a line when showing steps.
    pub(crate) fn progress(self) -> impl FnMut(Progress) + Send {
        move |p: Progress| {
            if let (Output::Steps, Progress::Finished { step }) = (self, p) {
                println!("{}", step_line(&step));
            }
        }
    }
}

/// Prints a diagnosis the way `output` asks and gives its exit code.
pub(crate) fn present(report: &Report, output: Output, success: &str) -> u8 {
    match output {
        Output::Json => print_json(report),
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
        return failed_exit_code(stage, report.failure_kind);
    }
    0
}

/// The exit code of a failed diagnosis: by the kind of failure, never by its wording.
pub(crate) fn failed_exit_code(stage: Stage, kind: Option<FailureKind>) -> u8 {
    match (stage, kind) {
        (_, Some(FailureKind::KeychainUnavailable)) => EXIT_KEYCHAIN,
        (Stage::Config, _) => EXIT_CONFIG,
        _ => EXIT_FAILED,
    }
}

/// After `config set`/`preset apply`: the warnings, and where stored secrets now go (stderr).
pub(crate) fn print_saved(saved: &postdesk_core::Saved) {
    for warning in &saved.warnings {
        eprintln!("postdesk: {warning}");
    }
    for r in &saved.redirects {
        eprintln!("postdesk: notice: {r}");
    }
}

pub(crate) fn print_changes(plan: &postdesk_core::ImportPlan) {
    use postdesk_core::ChangeKind;
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


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_go_by_variant_and_kind() {
        assert_eq!(exit_code(&Error::Keychain(SecretError::Unavailable("locked".into()))), EXIT_KEYCHAIN);
        assert_eq!(exit_code(&Error::Keychain(SecretError::Rejected { key: "global.password".into(), detail: "no".into() })), EXIT_CONFIG);
        let locked = StoreError::Locked { dir: "/d".into(), waited: std::time::Duration::from_secs(1) };
        assert_eq!(exit_code(&Error::Store(locked)), EXIT_FAILED);
        assert_eq!(exit_code(&postdesk_core::Error::Invalid(Vec::new())), EXIT_CONFIG);
        assert_eq!(failed_exit_code(Stage::Token, Some(FailureKind::KeychainUnavailable)), EXIT_KEYCHAIN);
        assert_eq!(failed_exit_code(Stage::Config, Some(FailureKind::KeychainUnavailable)), EXIT_KEYCHAIN);
        assert_eq!(failed_exit_code(Stage::Config, Some(FailureKind::Config)), EXIT_CONFIG);
        assert_eq!(failed_exit_code(Stage::Auth, Some(FailureKind::Auth)), EXIT_FAILED);
    }
}
