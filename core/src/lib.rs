//! Postdesk core: the configuration model, its validation, persistence and secrets.
//!
//! Tauri-free and UI-free: the window (`src-tauri`) and the command line (`cli`) are thin
//! adapters over [`Postdesk`]. `model`, `keys` and `validate` are pure functions over
//! values; `store` (disk) and `secrets` (OS keychain) are the edges.
//!
//! The crate's public face is the façade at the end of this file: [`Postdesk`] (every
//! operation is one of its methods), the data types those operations take and return, the
//! errors callers match on, and a few pure helpers of the contract. Every module is internal.

// The internal modules: `pub(crate)`, or `pub` with the feature `internals`, which only the
// integration tests (`tests/`), the benchmark and the fuzz targets turn on. The CLI and the
// window build without it and see only the façade below (ARCHITECTURE.md, "The façade";
// `scripts/test.sh` checks them alone). A new module is declared here, never `pub mod`
// (`core/tests/facade.rs`).
macro_rules! internal {
    ($($(#[$attr:meta])* $name:ident;)*) => {$(
        $(#[$attr])*
        #[cfg(feature = "internals")]
        pub mod $name;
        $(#[$attr])*
        #[cfg(not(feature = "internals"))]
        pub(crate) mod $name;
    )*};
}

internal!(
    app;
    checks;
    clients;
    diagnosis;
    explain;
    files;
    dne;
    edits;
    error;
    hints;
    http;
    identity;
    keys;
    limits;
    login;
    mail;
    message;
    model;
    oauth;
    policy;
    prefetch;
    proxy;
    sysproxy;
    presets;
    receiver;
    redirect;
    resolve;
    rfc5322;
    secrets;
    settings;
    sendmail_args;
    smtp;
    store;
    support;
    templates;
    transfer;
    validate;
    wording;
);
mod clouds;
#[cfg(test)]
mod fixtures;
mod migrate;
mod model_de;
mod ops;
mod tls;

// ---- The façade: what the CLI and the window may use. ----

// The operations and their error.
pub use app::{Error, Postdesk};
// The errors inside `Error` and of the operations that have their own, which callers match
// on (never on their text).
pub use keys::KeyError;
pub use limits::LimitsError;
pub use login::{BrowserError, LoginError};
pub use message::MessageError;
pub use oauth::{IdTokenError, OAuthError, TokenError};
pub use redirect::{Redirect, RedirectWhat};
pub use rfc5322::{AddressError, HeadError};
pub use secrets::SecretError;
pub use sendmail_args::{InputError, UsageError};
pub use store::StoreError;

// The configuration (the saved document, as `Postdesk::load` returns it) and its problems.
pub use model::{
    AuthMethod, ClientSettings, ClientSupport, Config, EmailType, IgnoreDne, LimitSettings, M365Cloud, M365Flow, M365Settings, MailboxSettings, ReceiverProtocol,
    ReceiverSettings, RouteSettings, Security, ProxySettings, SendSettings, ServerSettings, SupportSettings, TemplateSettings,
};
pub use validate::{Problem, Severity};
pub use secrets::Secret;
// Settings, forms and saving.
pub use app::{Form, ImportPreview, Saved, SecretChange};
pub use policy::{Policy, PolicyView};
pub use ops::{Health, Origin, SecretExpiry, Shown, ShownKey};
pub use clients::{ClientRow, RouteRow, ScopeForm};
pub use dne::DneView;
pub use explain::{Explanation, RouteCandidate};
pub use prefetch::FormPrefetch;
pub use presets::{Preset, PresetVariant};
pub use templates::{Rendered, TemplateDraft, TemplateError, TemplatePreview, TemplateView};
pub use transfer::{Change, ChangeKind, ImportPlan, ImportReport};
// Sending, diagnoses and their reports.
pub use diagnosis::{Failure, FailureKind, Progress, Report, ServerSummary, Stage, Step};
pub use limits::SentLog;
pub use mail::{Compose, Request};
pub use sendmail_args::{Input, SendArgs};
pub use support::{SupportDraft, SupportPreview};
// Microsoft 365 sign-in.
pub use login::SignInStatus;
pub use oauth::{SignIn, M365};

// Pure helpers that are part of the contract (the CLI's text output, sendmail's usage).
pub use hints::hint_for;
pub use diagnosis::step_line;
pub use checks::check_email;
pub use keys::shown;
pub use login::open_in_browser;
pub use sendmail_args::USAGE as SENDMAIL_USAGE;
