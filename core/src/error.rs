//! The core's error type: what an operation on [`crate::Postdesk`] can fail with.
//!
//! It imports only the types its variants carry (the store's, the keychain's, a key's, a
//! problem, a redirect), so protocol clients and operations can return [`Error`] without
//! depending on the operations in `app` (layer 3 of `core/tests/layers.rs`).

use crate::keys::KeyError;
use crate::redirect::Redirect;
use crate::secrets::SecretError;
use crate::store::StoreError;
use crate::checks::{Problem, Severity};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keychain(#[from] SecretError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    /// An import would change where stored secrets go or which program runs, and the admin
    /// did not allow it.
    #[error("{}\nnot imported: the file changes where stored secrets are sent or which program runs; allow it with --allow-redirect (the window: \"Allow these changes\")", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Redirected(Vec<Redirect>),
    /// The change would alter settings the organization's policy locks (`keys`); `reason`
    /// says by which policy (file, registry key) and, for a broken policy, why everything is
    /// locked. Nothing was changed.
    #[error("{}", .keys.iter().map(|k| format!("{}: cannot be changed: {reason}; nothing was changed", crate::checks::shown(k))).collect::<Vec<_>>().join("\n"))]
    Locked { keys: Vec<String>, reason: String },
    /// A token was to be stored for a client or route that was removed meanwhile.
    #[error("{scope} no longer exists: {key} was not stored")]
    Gone { scope: String, key: String },
}

impl Error {
    /// The OS keychain is unavailable (locked, not running): the one failure that is neither
    /// the settings' nor the server's (the CLI's exit code 3).
    pub fn keychain_unavailable(&self) -> bool {
        matches!(self, Error::Keychain(SecretError::Unavailable(_)))
    }
}

impl Error {
    /// One problem per locked key (the window shows each under its field).
    pub fn locked_problems(&self) -> Vec<Problem> {
        match self {
            Error::Locked { keys, reason } => keys.iter().map(|k| Problem { key: k.clone(), severity: Severity::Error, message: format!("cannot be changed: {reason}") }).collect(),
            _ => Vec::new(),
        }
    }
}

/// An error from a pure module, written `key: message`, as an [`Error::Invalid`] on that key.
pub(crate) fn keyed(message: &str) -> Error {
    match message.split_once(": ") {
        Some((key, rest)) if !key.contains(' ') => invalid(key, rest),
        _ => invalid("mail", message),
    }
}

pub(crate) fn invalid(key: &str, message: &str) -> Error {
    Error::Invalid(vec![Problem { key: key.into(), severity: Severity::Error, message: message.into() }])
}
