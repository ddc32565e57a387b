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
    /// The namespace is the data directory's canonical path, computed the same way whether
    /// or not the directory exists yet (see [`canonical_dir`]).
    pub fn for_data_dir(dir: &Path) -> Keychain {
        let dir = canonical_dir(dir);
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

    /// Which of `keys` hold a secret, without fetching any: on Linux one Secret Service
    /// `SearchItems` for the whole namespace (see [`Keychain::stored`]); elsewhere one look-up
    /// per key through `keyring`.
    pub fn which_set<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Result<BTreeSet<String>, SecretError> {
        if let Some(stored) = self.stored()? {
            return Ok(keys.into_iter().filter(|k| stored.contains(*k)).map(str::to_string).collect());
        }
        let mut set = BTreeSet::new();
        for key in keys {
            if self.get(key)?.is_some() {
                set.insert(key.to_string());
            }
        }
        Ok(set)
    }

    /// Whether `key` holds a secret (without fetching it where the platform allows).
    pub fn is_set(&self, key: &str) -> Result<bool, SecretError> {
        Ok(!self.which_set([key])?.is_empty())
    }

    /// Every key stored under this data directory, when the platform can list them (Linux:
    /// Secret Service); `None` elsewhere (macOS Keychain and Windows Credential Manager go
    /// through `keyring`, key by key).
    pub fn stored(&self) -> Result<Option<BTreeSet<String>>, SecretError> {
        #[cfg(target_os = "linux")]
        {
            let prefix = format!("{}#", self.namespace);
            Ok(Some(secret_service::usernames()?.into_iter().filter_map(|u| u.strip_prefix(&prefix).map(str::to_string)).collect()))
        }
        #[cfg(not(target_os = "linux"))]
        Ok(None)
    }

    /// Removes every secret of the clients and routes `scopes` (prefixes `client.<ID>.` /
    /// `route.<NAME>.`), listing the keychain once. Where it cannot be listed, the `known`
    /// kinds of the scopes in `removed_only` are removed, key by key.
    pub fn clear_scopes(&self, scopes: &BTreeSet<String>, removed_only: &BTreeSet<String>, known: &[&str]) -> Result<Vec<String>, SecretError> {
        let keys: Vec<String> = match self.stored()? {
            Some(stored) => stored.into_iter().filter(|k| scope_prefix(k).is_some_and(|p| scopes.contains(p))).collect(),
            None => removed_only.iter().flat_map(|p| known.iter().map(move |k| format!("{p}{k}"))).collect(),
        };
        let mut removed = Vec::new();
        for key in keys {
            if self.clear(&key)? {
                removed.push(key);
            }
        }
        Ok(removed)
    }

    /// Removes every secret whose key starts with `prefix` (e.g. `client.acme.`): all that a
    /// client or route has, whatever its kind. Where the keychain cannot be listed, the keys
    /// in `known` (with the prefix) are removed. Returns the keys removed.
    pub fn clear_prefix(&self, prefix: &str, known: &[&str]) -> Result<Vec<String>, SecretError> {
        let keys: Vec<String> = match self.stored()? {
            Some(stored) => stored.into_iter().filter(|k| k.starts_with(prefix)).collect(),
            None => known.iter().map(|k| format!("{prefix}{k}")).collect(),
        };
        let mut removed = Vec::new();
        for key in keys {
            if self.clear(&key)? {
                removed.push(key);
            }
        }
        Ok(removed)
    }
}

/// `client.<ID>.` / `route.<NAME>.` of a key of a client or route.
fn scope_prefix(key: &str) -> Option<&str> {
    let first = key.find('.')?;
    let second = first + 1 + key[first + 1..].find('.')?;
    matches!(&key[..first], "client" | "route").then(|| &key[..=second])
}

/// The Secret Service look-ups `keyring` has no call for: the `username` attributes of every
/// item of [`SERVICE`], through one session and one `SearchItems` (the attributes of an item
/// are read once per process: an item's path names it for its whole life).
#[cfg(target_os = "linux")]
mod secret_service {
    use std::collections::{HashMap, HashSet};
    use std::sync::Mutex;

    use dbus_secret_service::{EncryptionType, SecretService};

    use super::{first_line, SecretError, SERVICE};

    static USERNAMES: Mutex<Option<HashMap<String, Option<String>>>> = Mutex::new(None);

    pub(super) fn usernames() -> Result<Vec<String>, SecretError> {
        let unavailable = |e: dbus_secret_service::Error| SecretError::Unavailable(first_line(&e.to_string()));
        // A plain session: nothing secret travels, only names.
        let ss = SecretService::connect(EncryptionType::Plain).map_err(unavailable)?;
        let found = ss.search_items(HashMap::from([("service", SERVICE)])).map_err(unavailable)?;
        let mut cache = USERNAMES.lock().unwrap_or_else(|e| e.into_inner());
        let cache = cache.get_or_insert_with(HashMap::new);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for item in found.unlocked.iter().chain(&found.locked) {
            let path = item.path.to_string();
            let name = match cache.get(&path) {
                Some(name) => name.clone(),
                None => {
                    let name = match item.get_attributes() {
                        Ok(attributes) => attributes.get("username").cloned(),
                        // Deleted between the search and now.
                        Err(_) => continue,
                    };
                    cache.insert(path.clone(), name.clone());
                    name
                }
            };
            seen.insert(path);
            out.extend(name);
        }
        cache.retain(|path, _| seen.contains(path));
        Ok(out)
    }
}

/// The canonical form of a data directory, the same before and after it exists: the nearest
/// existing ancestor is canonicalized (symlinks resolved) and the rest appended as given
/// (with `.` dropped and `..` applied), so a namespace never changes when the directory is
/// created, even under a symlinked parent.
pub fn canonical_dir(dir: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut existing = absolute.clone();
    // The parts below the nearest existing ancestor, last first (`None` is a `..`).
    let mut rest: Vec<Option<std::ffi::OsString>> = Vec::new();
    loop {
        if let Ok(mut out) = existing.canonicalize() {
            for part in rest.iter().rev() {
                match part {
                    Some(name) => out.push(name),
                    None => {
                        out.pop();
                    }
                }
            }
            return out;
        }
        match existing.components().next_back() {
            Some(Component::Normal(name)) => rest.push(Some(name.to_os_string())),
            Some(Component::ParentDir) => rest.push(None),
            Some(Component::CurDir) => {}
            _ => return absolute,
        }
        if !existing.pop() {
            return absolute;
        }
    }
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
    fn scope_prefixes_of_keys() {
        assert_eq!(scope_prefix("client.acme.m365.refresh_token"), Some("client.acme."));
        assert_eq!(scope_prefix("route.corp.password"), Some("route.corp."));
        assert_eq!(scope_prefix("global.password"), None);
        assert_eq!(scope_prefix("client.acme"), None);
        assert_eq!(scope_prefix("undo-import#client.acme.password"), None);
    }

    #[test]
    fn canonical_dir_is_the_same_before_and_after_the_dir_exists() {
        let base = tempfile::tempdir().unwrap();
        let d = base.path().join("a/./b/../c");
        let before = canonical_dir(&d);
        std::fs::create_dir_all(base.path().join("a/c")).unwrap();
        assert_eq!(before, canonical_dir(&d));
        assert_eq!(before, base.path().canonicalize().unwrap().join("a/c"));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }
}
