//! Tauri commands: one-line delegations to `postdesk_core`. No logic lives here.
//!
//! Every command is declared once, in `command_list.rs` (included below and by `build.rs`).
//! The [`commands!`] macro turns that declaration into
//! - the `#[tauri::command]` functions (each returns `Result<T, CommandError>`),
//! - [`handler`], the `generate_handler!` list `gui.rs` installs,
//! - [`COMMANDS`], the names (`build.rs` reads the same file for the ACL's `allow-<command>`
//!   permissions, and a test checks `capabilities/default.json` grants exactly these),
//! - under `cargo test`, the description `tsgen.rs` writes as `ui/src/lib/bindings/commands.ts`
//!   (one typed function per command; `make bindings`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use postdesk_core::{
    ClientRow, DneView, Explanation, Form, FormPrefetch, ImportPreview, PolicyView, Postdesk, Preset, Problem, Progress, Report, RouteRow, ScopeForm, SecretChange, SignInStatus,
    SupportDraft, SupportPreview, TemplateDraft, TemplatePreview, TemplateView,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, State, WebviewWindow};
use tokio::sync::oneshot;
use ts_rs::TS;

use crate::files::{ChosenFile, DneExported, DneImported, Files};

/// A cancel switch for one running diagnosis (test mail, receiver check).
#[derive(Default)]
pub struct CancelSwitch(Mutex<Option<oneshot::Sender<()>>>);

impl CancelSwitch {
    /// Arms the switch: the future completes on [`CancelSwitch::cancel`] (a dropped switch,
    /// replaced by a newer run, does not stop anything).
    fn arm(&self) -> impl std::future::Future<Output = ()> {
        let (cancel_tx, cancel_rx) = oneshot::channel();
        *self.0.lock().expect("lock") = Some(cancel_tx);
        async {
            if cancel_rx.await.is_err() {
                std::future::pending::<()>().await
            }
        }
    }

    fn cancel(&self) {
        if let Some(cancel) = self.0.lock().expect("lock").take() {
            let _ = cancel.send(());
        }
    }
}

/// The running test mail's cancel switch (one test at a time per window).
#[derive(Default)]
pub struct RunningTest(CancelSwitch);

/// The running receiver check's cancel switch (apart from the test mail's).
#[derive(Default)]
pub struct RunningReceiverCheck(CancelSwitch);

/// What kind of failure a command had: stable, for the page to decide on (the message is
/// for people and may change).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// A value is wrong or missing: `problems` name the keys.
    Invalid,
    /// An import would send stored secrets elsewhere or run another program, not allowed.
    Redirected,
    /// The organization's policy locks a key the change would alter: `problems` name them.
    Locked,
    /// The OS keychain cannot be reached (locked, no Secret Service).
    KeychainUnavailable,
    /// The keychain refused a secret.
    Keychain,
    /// The configuration file or data directory (unreadable, too new, locked, I/O).
    Store,
    /// A key that does not exist or an ID outside the grammar.
    Key,
    /// What the command referred to is gone (an import token, a dropped file): choose again.
    Gone,
    /// Anything else.
    Other,
}

/// What a failed command gives the window: a stable code, a message and the problems by key.
#[derive(Serialize, Debug, TS)]
#[ts(export)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    pub problems: Vec<Problem>,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: &str) -> CommandError {
        CommandError { code, message: message.into(), problems: Vec::new() }
    }

    pub fn message(message: &str) -> CommandError {
        CommandError::new(ErrorCode::Other, message)
    }
}

/// The one place a core error becomes a code: by variant, never by its text.
fn code_of(e: &postdesk_core::Error) -> ErrorCode {
    use postdesk_core::Error;
    match e {
        Error::Invalid(_) => ErrorCode::Invalid,
        Error::Redirected(_) => ErrorCode::Redirected,
        Error::Locked { .. } => ErrorCode::Locked,
        Error::Keychain(postdesk_core::SecretError::Unavailable(_)) => ErrorCode::KeychainUnavailable,
        Error::Keychain(postdesk_core::SecretError::Rejected { .. }) => ErrorCode::Keychain,
        Error::Store(_) => ErrorCode::Store,
        Error::Key(_) => ErrorCode::Key,
        // A sign-in token kept for a client or route that was removed meanwhile.
        Error::Gone { .. } => ErrorCode::Gone,
    }
}

impl From<postdesk_core::Error> for CommandError {
    fn from(e: postdesk_core::Error) -> Self {
        let problems = match &e {
            postdesk_core::Error::Invalid(p) => p.clone(),
            postdesk_core::Error::Locked { .. } => e.locked_problems(),
            postdesk_core::Error::Redirected(r) => r.iter().map(|r| Problem { severity: postdesk_core::Severity::Error, ..r.as_problem() }).collect(),
            _ => Vec::new(),
        };
        CommandError { code: code_of(&e), message: e.to_string(), problems }
    }
}

pub fn passphrase(p: Option<String>) -> Option<postdesk_core::Secret> {
    p.filter(|p| !p.is_empty()).map(postdesk_core::Secret::new)
}

/// Sends a diagnosis's progress to the page (a closed page is not an error of the run).
fn progress_to(channel: &Channel<Progress>) -> impl FnMut(Progress) + '_ {
    move |p| {
        let _ = channel.send(p);
    }
}

/// Declares the window's commands (see the module documentation). Each entry:
///
/// ```text
/// /// What the page sees (becomes the TypeScript function's documentation).
/// async fn name(page_arg: Type, …) using (app: State<'_, Postdesk>, …) -> Answer { body }
/// ```
///
/// `async fn` runs on the async runtime, `fn` on the main thread (only quick, non-blocking
/// work). The page sends the arguments in parentheses (camelCase keys; a last
/// `Channel<T>` argument is a callback in TypeScript); `using (…)` lists what Tauri injects
/// (`State<'_, T>`, `AppHandle`, `WebviewWindow`), which the page never sees. The body returns
/// `Result<Answer, CommandError>`; the page's promise resolves with `Answer` or rejects with a
/// `CommandError`.
macro_rules! commands {
    // Each entry is brought to one shape, then all are emitted together.
    (@entries [$($done:tt)*]) => { commands!(@emit $($done)*); };
    (@entries [$($done:tt)*]
        $(#[doc = $doc:literal])* async fn $name:ident $args:tt $(using $inj:tt)? -> $ret:ty $body:block $($rest:tt)*) => {
        commands!(@entries [$($done)* {[async] [$($doc)*] $name $args [$($inj)?] [$ret] $body}] $($rest)*);
    };
    (@entries [$($done:tt)*]
        $(#[doc = $doc:literal])* fn $name:ident $args:tt $(using $inj:tt)? -> $ret:ty $body:block $($rest:tt)*) => {
        commands!(@entries [$($done)* {[] [$($doc)*] $name $args [$($inj)?] [$ret] $body}] $($rest)*);
    };
    (@emit $({$flavour:tt $docs:tt $name:ident $args:tt $inj:tt $ret:tt $body:block})*) => {
        $(commands!(@fn $flavour $docs $name $args $inj $ret $body);)*

        /// The invoke handler: every declared command, nothing else.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// The declared commands by name (what the ACL allows, one `allow-<command>` each).
        #[cfg_attr(not(test), allow(dead_code))]
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// The commands as the page sees them, for `tsgen.rs`.
        #[cfg(test)]
        pub(crate) fn specs() -> Vec<crate::tsgen::Command> {
            vec![$(commands!(@spec $docs $name $args $ret)),*]
        }
    };
    (@fn [$($async:ident)?] [$($doc:literal)*] $name:ident ($($arg:ident : $aty:ty),* $(,)?) [$(($($inj:ident : $ity:ty),* $(,)?))?] [$ret:ty] $body:block) => {
        $(#[doc = $doc])*
        #[tauri::command]
        pub $($async)? fn $name($($($inj: $ity,)*)? $($arg: $aty),*) -> Result<$ret, CommandError> $body
    };
    (@spec [$($doc:literal)*] $name:ident ($($args:tt)*) [$ret:ty]) => {
        crate::tsgen::Command {
            name: stringify!($name),
            docs: &[$($doc),*],
            args: commands!(@args [] $($args)*),
            ret: crate::tsgen::Ty::of::<$ret>(),
        }
    };
    // The page's arguments, one at a time: a `Channel<T>` is a callback, anything else a value.
    (@args [$($out:expr),*]) => { vec![$($out),*] };
    (@args [$($out:expr),*] $arg:ident : Channel<$t:ty> $(, $($rest:tt)*)?) => {
        commands!(@args [$($out,)* crate::tsgen::Arg::channel::<$t>(stringify!($arg))] $($($rest)*)?)
    };
    (@args [$($out:expr),*] $arg:ident : $t:ty $(, $($rest:tt)*)?) => {
        commands!(@args [$($out,)* crate::tsgen::Arg::value::<$t>(stringify!($arg))] $($($rest)*)?)
    };
    ($($entries:tt)*) => { commands!(@entries [] $($entries)*); };
}

include!("command_list.rs");

#[cfg(test)]
mod tests {
    use super::*;

    /// `build.rs` reads `command_list.rs` on its own (it cannot call this crate): the ACL it
    /// declares and the capability that grants it name exactly the commands declared.
    #[test]
    fn the_capability_grants_exactly_the_declared_commands() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src-tauri/capabilities/default.json")).unwrap();
        let cap: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut granted: Vec<String> = cap["permissions"].as_array().unwrap().iter().filter_map(|p| p.as_str()).filter_map(|p| p.strip_prefix("allow-")).map(String::from).collect();
        let mut declared: Vec<String> = COMMANDS.iter().map(|c| c.replace('_', "-")).collect();
        granted.sort();
        declared.sort();
        assert_eq!(granted, declared, "capabilities/default.json must grant allow-<command> for every command of command_list.rs, and nothing else");
        let unique: std::collections::BTreeSet<_> = COMMANDS.iter().collect();
        assert_eq!(unique.len(), COMMANDS.len(), "a command is declared twice");
    }

    #[test]
    fn a_core_error_keeps_its_problems_and_gets_its_code() {
        let p = Problem { key: "global.port".into(), severity: postdesk_core::Severity::Error, message: "bad".into() };
        let e = CommandError::from(postdesk_core::Error::Invalid(vec![p.clone()]));
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.problems, vec![p]);
        let e = CommandError::from(postdesk_core::Error::Keychain(postdesk_core::SecretError::Unavailable("locked".into())));
        assert_eq!(e.code, ErrorCode::KeychainUnavailable);
        assert!(e.message.contains("keychain is not available"), "{}", e.message);
        let json = serde_json::to_value(CommandError::new(ErrorCode::Gone, "choose again")).unwrap();
        assert_eq!(json, serde_json::json!({ "code": "gone", "message": "choose again", "problems": [] }));
    }
}
