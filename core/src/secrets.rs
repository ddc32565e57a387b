//! The one place that talks to the OS keychain (Secret Service, macOS Keychain, Windows
//! Credential Manager, through `keyring` with a real backend — never its in-memory mock).
//!
//! Entries are named `postdesk` / `<data dir>#<key>`, so two data directories never share a
//! secret. A secret leaves the keychain only into an outgoing connection: [`Secret`] cannot be
//! serialized and its `Debug` prints nothing.

use std::collections::BTreeSet;
use std::path::Path;

pub const SERVICE: &str = "postdesk";

/// A password, client secret or token. Not `Serialize`, not `Display`; `Debug` is redacted;
/// its bytes are overwritten with zeros when it is dropped (`zeroize`), so a secret does not
/// linger in freed memory for a core dump, swap or a later allocation to reveal.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(zeroize::Zeroizing<String>);

impl Secret {
    /// Takes the string's buffer as it is (no copy is left behind by this move).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(zeroize::Zeroizing::new(value.into()))
    }
    /// The plain value, for handing to a connection. Never log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keychain is not available ({0}). Unlock your keyring or start one (GNOME Keyring, KWallet, KeePassXC with Secret Service); on a server without a desktop session run Postdesk inside `dbus-run-session` with `gnome-keyring-daemon --unlock`. Postdesk never stores secrets in files.")]
    Unavailable(String),
    #[error("the keychain refused the secret {key}: {detail}")]
    Rejected { key: String, detail: String },
}

/// Secrets of one data directory.
#[derive(Clone, Debug)]
pub struct Keychain {
    namespace: String,
}

impl Keychain {
    pub fn for_data_dir(dir: &Path) -> Keychain {
        let dir = dunce_canonical(dir);
        Keychain { namespace: dir.display().to_string() }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, &format!("{}#{key}", self.namespace)).map_err(|e| map_error(key, e))
    }

    pub fn set(&self, key: &str, secret: &Secret) -> Result<(), SecretError> {
        self.entry(key)?.set_password(secret.expose()).map_err(|e| map_error(key, e))
    }

    pub fn get(&self, key: &str) -> Result<Option<Secret>, SecretError> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(key, e)),
        }
    }

    /// Removes a secret; `Ok(false)` when there was none.
    pub fn clear(&self, key: &str) -> Result<bool, SecretError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(key, e)),
        }
    }

    /// Which of `keys` hold a secret.
    pub fn which_set<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Result<BTreeSet<String>, SecretError> {
        let mut set = BTreeSet::new();
        for key in keys {
            if self.get(key)?.is_some() {
                set.insert(key.to_string());
            }
        }
        Ok(set)
    }
}

/// Canonical path when the directory exists, else the path as given (made absolute).
fn dunce_canonical(dir: &Path) -> std::path::PathBuf {
    dir.canonicalize().unwrap_or_else(|_| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

fn map_error(key: &str, e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoStorageAccess(inner) => SecretError::Unavailable(first_line(&inner.to_string())),
        keyring::Error::PlatformFailure(inner) => SecretError::Unavailable(first_line(&inner.to_string())),
        other => SecretError::Rejected { key: key.to_string(), detail: first_line(&other.to_string()) },
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }
}
