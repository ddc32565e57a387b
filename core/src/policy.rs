//! The organization's policy: settings an IT department sets and locks for every user of a
//! machine, in the spirit of Firefox's enterprise policies.
//!
//! Where it comes from (the first that applies):
//! - `POSTDESK_POLICY_FILE` (any platform; tests use it), else
//! - Linux and other Unixes: `/etc/postdesk/policy.json`,
//! - Windows: the registry key `HKLM\Software\Policies\Postdesk` (one string value per key,
//!   named like the key, and a multi-string value `Lock`),
//! - macOS: the managed preferences `/Library/Managed Preferences/com.postdesk.desktop.plist`
//!   (the same names as on Windows: one string per key and an array `Lock`).
//!
//! The file is `{"set": {"global.host": "smtp.example.com", …}, "lock": ["global.host",
//! "client.*.host", "support", …]}`. `set` values are in force as if saved (see
//! [`Policy::overlay`]) and are never written to the user's file ([`Policy::strip`]); a locked
//! key cannot change ([`Policy::locked_changes`]). Everything in it is hostile input: size
//! limit, strict JSON, unknown names named, no secret in `set` and none locked (a secret lives
//! only in each user's keychain), values parsed and validated exactly like `config set`.
//!
//! A policy that exists but cannot be used (unreadable, invalid) sets nothing and locks
//! every setting until it is fixed (`error`; ARCHITECTURE.md says why).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use crate::keys::{self, Key};
use crate::model::Config;
use crate::validate::{validate, Context, Severity};

/// The policy file on Linux (and other Unixes but macOS).
pub const DEFAULT_FILE: &str = "/etc/postdesk/policy.json";
/// Overrides where the policy is read from, on every platform.
pub const FILE_ENV: &str = "POSTDESK_POLICY_FILE";
/// A policy is a handful of keys: anything much larger is not one.
pub const MAX_BYTES: u64 = 256 * 1024;
/// At most this many entries in `set` and in `lock` each.
pub const MAX_ENTRIES: usize = 1000;

/// Where the policy is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// The platform's place (file, registry or managed preferences).
    System,
    /// A given file (`POSTDESK_POLICY_FILE`, tests).
    File(PathBuf),
}

impl PolicySource {
    /// `POSTDESK_POLICY_FILE` when set, else the platform's place.
    pub fn from_env() -> PolicySource {
        match std::env::var_os(FILE_ENV) {
            Some(path) if !path.is_empty() => PolicySource::File(PathBuf::from(path)),
            _ => PolicySource::System,
        }
    }

    pub fn read(&self) -> Policy {
        match self {
            PolicySource::File(path) => Policy::from_file(path),
            PolicySource::System => platform::read(),
        }
    }
}

/// The policy in force (as read, validated).
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Policy {
    /// Where it was read from: a file, a registry key or a plist (named even when absent).
    pub source: String,
    /// Whether there is a policy at all (the file or key exists).
    pub exists: bool,
    /// Values in force, `key → text` as `config set` takes them.
    pub set: BTreeMap<String, String>,
    /// Locked keys and scopes (`global.host`, `client.*.host`, `support`, …).
    pub lock: Vec<String>,
    /// Why the policy cannot be used: then nothing is set and every setting is locked.
    pub error: Option<String>,
}

/// What the window needs of the policy: which of its fields are locked and why.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct PolicyView {
    pub policy: Policy,
    /// The form's keys (`global.*`, `support.*`, `receiver.*`) that cannot be changed.
    pub locked: Vec<String>,
    /// Why they cannot ("set by your organization (policy …)", or that the policy is invalid).
    pub reason: String,
}

impl Policy {
    /// No policy at `source`.
    pub fn none(source: &str) -> Policy {
        Policy { source: source.into(), ..Policy::default() }
    }

    /// A policy that exists but cannot be used.
    pub fn broken(source: &str, error: String) -> Policy {
        Policy { source: source.into(), exists: true, error: Some(error), ..Policy::default() }
    }

    /// Reads a policy file: missing ⇒ no policy; anything else wrong ⇒ [`Policy::broken`].
    pub fn from_file(path: &Path) -> Policy {
        use std::io::Read;
        let source = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Policy::none(&source),
            Err(e) => return Policy::broken(&source, format!("cannot be read: {e}")),
        };
        if !meta.is_file() {
            return Policy::broken(&source, "is not a regular file".into());
        }
        if meta.len() > MAX_BYTES {
            return Policy::broken(&source, format!("is larger than {} KiB", MAX_BYTES / 1024));
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        // A FIFO swapped in after the look above must not block the start.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK | libc::O_NOCTTY);
        let mut bytes = Vec::new();
        let read = options.open(path).and_then(|f| {
            if !f.metadata()?.is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            f.take(MAX_BYTES + 1).read_to_end(&mut bytes)
        });
        if let Err(e) = read {
            return Policy::broken(&source, format!("cannot be read: {e}"));
        }
        if bytes.len() as u64 > MAX_BYTES {
            return Policy::broken(&source, format!("is larger than {} KiB", MAX_BYTES / 1024));
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => Policy::parse(text, &source),
            Err(_) => Policy::broken(&source, "is not UTF-8 text".into()),
        }
    }

    /// Parses and validates the JSON form.
    pub fn parse(text: &str, source: &str) -> Policy {
        let value = match crate::transfer::strict_json(text) {
            Ok(v) => v,
            Err(e) => return Policy::broken(source, format!("is not valid JSON: {e}")),
        };
        let Value::Object(top) = value else {
            return Policy::broken(source, "must be a JSON object with \"set\" and \"lock\"".into());
        };
        let mut errors = Vec::new();
        let mut set = BTreeMap::new();
        let mut lock = Vec::new();
        for (name, value) in top {
            match (name.as_str(), value) {
                ("set", Value::Object(entries)) => {
                    for (key, value) in entries {
                        match value {
                            Value::String(s) => {
                                set.insert(key, s);
                            }
                            Value::Bool(b) => {
                                set.insert(key, b.to_string());
                            }
                            Value::Number(n) => {
                                set.insert(key, n.to_string());
                            }
                            _ => errors.push(format!("set.{}: must be a string, number or true/false", keys::shown(&key))),
                        }
                    }
                }
                ("set", _) => errors.push("set: must be an object of key → value".into()),
                ("lock", Value::Array(items)) => {
                    for item in items {
                        match item {
                            Value::String(s) => lock.push(s),
                            other => errors.push(format!("lock: {} is not a key (a string)", keys::shown(&other.to_string()))),
                        }
                    }
                }
                ("lock", _) => errors.push("lock: must be an array of keys".into()),
                ("$schema" | "comment", _) => {}
                (other, _) => errors.push(format!("{}: unknown name (a policy has \"set\" and \"lock\")", keys::shown(other))),
            }
        }
        // Every problem at once: the entries are checked even when the file's shape is off.
        errors.extend(check_parts(&set, &lock));
        if !errors.is_empty() {
            return Policy::broken(source, errors.join("; "));
        }
        Policy { source: source.into(), exists: true, set, lock, error: None }
    }

    /// Validates `set` and `lock` (from a file, the registry or a plist) into a policy.
    pub fn from_parts(source: &str, set: BTreeMap<String, String>, lock: Vec<String>) -> Policy {
        let errors = check_parts(&set, &lock);
        if !errors.is_empty() {
            return Policy::broken(source, errors.join("; "));
        }
        Policy { source: source.into(), exists: true, set, lock, error: None }
    }

}

/// Everything wrong with the entries of `set` and `lock`, each naming its entry.
fn check_parts(set: &BTreeMap<String, String>, lock: &[String]) -> Vec<String> {
        let mut errors = Vec::new();
        if set.len() > MAX_ENTRIES || lock.len() > MAX_ENTRIES {
            return vec![format!("has more than {MAX_ENTRIES} entries in \"set\" or \"lock\"")];
        }
        let mut config = Config::default();
        for (name, raw) in set {
            let shown = keys::shown(name);
            match Key::parse(name) {
                Err(e) => errors.push(format!("set: {e}")),
                Ok(key) if key.is_secret() => errors.push(format!("set: {shown}: is a secret: a secret never lives in a policy (each user stores it in the keychain)")),
                Ok(key) if matches!(key.scope, keys::Scope::Client(_) | keys::Scope::Route(_) | keys::Scope::ClientTemplate(..)) => {
                    errors.push(format!("set: {shown}: a policy sets keys of global, support, receiver, limits, send and templates; clients and routes are the admin's (lock them instead, e.g. \"client.*.host\")"))
                }
                Ok(key) => match keys::parse_raw(key.field, raw) {
                    Ok(value) => key.write_into(&mut config, value),
                    Err(message) => errors.push(format!("set: {shown}: {message}")),
                },
            }
        }
        if errors.is_empty() {
            // The same validation as any saved setting; only errors of the policy's own keys.
            let ctx = Context { today: crate::edits::today(), secrets_set: None };
            for p in validate(&config, &ctx) {
                if p.severity == Severity::Error && set.contains_key(&p.key) {
                    errors.push(format!("set: {p}"));
                }
            }
        }
        let mut seen = BTreeSet::new();
        for pattern in lock {
            if let Err(e) = check_pattern(pattern) {
                errors.push(format!("lock: {}: {e}", keys::shown(pattern)));
            }
            if !seen.insert(pattern) {
                errors.push(format!("lock: {}: given twice", keys::shown(pattern)));
            }
        }
        errors
}

impl Policy {
    /// Whether the setting `name` cannot be changed (every setting, when the policy is broken).
    /// Secrets are never locked.
    pub fn is_locked(&self, name: &str) -> bool {
        if Key::parse(name).is_ok_and(|k| k.is_secret()) {
            return false;
        }
        self.error.is_some() || self.lock.iter().any(|p| matches(p, name))
    }

    /// Whether the policy does anything to the settings.
    pub fn is_active(&self) -> bool {
        self.error.is_some() || !self.set.is_empty() || !self.lock.is_empty()
    }

    /// Whether `set` puts `name`'s value in force in `stored` (the user's own document): a
    /// locked key always, an unlocked one when the user has no value of their own.
    pub fn sets_in(&self, name: &str, stored: &Config) -> bool {
        self.set.contains_key(name) && (self.is_locked(name) || Key::parse(name).is_ok_and(|k| k.get(stored).is_none()))
    }

    /// The `set` entries as typed values (parsed and checked when the policy was read; a
    /// broken policy has none).
    fn entries(&self) -> impl Iterator<Item = (Key, Option<Value>)> + '_ {
        self.set.iter().filter_map(|(name, raw)| {
            let key = Key::parse(name).ok()?;
            let value = keys::parse_raw(key.field, raw).ok()?;
            Some((key, value))
        })
    }

    /// The settings in force: the user's document with the policy's values laid over it (a
    /// locked key always takes the policy's value; an unlocked one only where the user has
    /// none, like a default the organization chose).
    pub fn overlay(&self, mut config: Config) -> Config {
        for (key, value) in self.entries() {
            if self.is_locked(&key.name()) || key.get(&config).is_none() {
                key.write_into(&mut config, value);
            }
        }
        config
    }

    /// An imported document with the policy's values where it has none of its own (so a file
    /// that does not mention a key the policy sets does not change it).
    pub fn fill_missing(&self, mut config: Config) -> Config {
        for (key, value) in self.entries() {
            if key.get(&config).is_none() {
                key.write_into(&mut config, value);
            }
        }
        config
    }

    /// What is written to the user's file for `after` (settings in force, policy included):
    /// the policy's values are taken out again. `stored` is the user's file as it is now.
    pub fn strip(&self, stored: &Config, mut after: Config) -> Config {
        for (key, value) in self.entries() {
            let name = key.name();
            // The policy's value as the model holds it (compared typed, not as typed text).
            let policy_value = key.write(&Config::default(), value.clone());
            let from_policy = key.get(&after) == key.get(&policy_value);
            if self.is_locked(&name) {
                // Whatever the user had stays underneath (not in force while locked).
                let own = key.get(stored).map(|v| v.into_owned());
                let own = own.and_then(|t| keys::parse_raw(key.field, &t).ok().flatten());
                key.write_into(&mut after, own);
            } else if key.get(stored).is_none() && from_policy {
                key.write_into(&mut after, None);
            }
        }
        after
    }

    /// The locked settings whose value differs between `before` and `after` (settings in
    /// force), in key order.
    pub fn locked_changes(&self, before: &Config, after: &Config) -> Vec<String> {
        if self.error.is_none() && self.lock.is_empty() {
            return Vec::new();
        }
        let names: BTreeSet<String> = keys::all_keys(before).into_iter().chain(keys::all_keys(after)).filter(|k| !k.is_secret()).map(|k| k.name()).collect();
        names
            .into_iter()
            .filter(|name| self.is_locked(name))
            .filter(|name| Key::parse(name).is_ok_and(|k| k.get(before) != k.get(after)))
            .collect()
    }

    /// The lock's explanation, as the window and the CLI say it.
    pub fn reason(&self) -> String {
        match &self.error {
            Some(e) => format!("the organization's policy {} is invalid ({e}): every setting is locked until it is fixed", self.source),
            None => format!("set by your organization (policy {})", self.source),
        }
    }
}

/// Whether a lock pattern covers a key: segment by segment, `*` standing for one client ID,
/// route name or template type, and a pattern shorter than the key locking everything under it.
fn matches(pattern: &str, name: &str) -> bool {
    let mut name_parts = name.split('.');
    pattern.split('.').all(|p| name_parts.next().is_some_and(|n| p == "*" || p == n))
}

/// A lock entry is a key (with `*` for IDs) or a scope: `global`, `support`, `receiver`,
/// `limits`, `send` (any scope without IDs), `client.<ID>`, `route.<NAME>`, `templates.<TYPE>`,
/// `client.<ID>.templates.<TYPE>` (IDs or `*`).
fn check_pattern(pattern: &str) -> Result<(), String> {
    let parts: Vec<&str> = pattern.split('.').collect();
    let id = |p: &str| p == "*" || keys::valid_id(p);
    let scope = match parts.as_slice() {
        // A fixed scope: any scope whose keys exist without an ID (global, support, …).
        [head] if keys::all_keys(&Config::default()).iter().any(|k| k.name().split('.').next() == Some(head)) => true,
        ["client" | "route" | "templates", i] => id(i),
        ["client", i, "templates", t] => id(i) && id(t),
        _ => false,
    };
    if scope {
        return Ok(());
    }
    if parts.iter().any(|p| p.contains('*') && *p != "*") {
        return Err("`*` stands for a whole client ID, route name or template type".into());
    }
    let concrete: String = parts.iter().map(|p| if *p == "*" { "x" } else { p }).collect::<Vec<_>>().join(".");
    let key = Key::parse(&concrete).map_err(|_| "is neither a key nor a scope (global, support, client.<ID>, client.*.host, …)".to_string())?;
    if key.is_secret() {
        return Err("is a secret: secrets are each user's, never locked".into());
    }
    // `*` only where the key has an ID: `global.*` is no key.
    if parts.iter().enumerate().any(|(i, p)| *p == "*" && !matches!((i, parts[0]), (1, "client" | "route" | "templates") | (3, "client"))) {
        return Err("`*` stands for a whole client ID, route name or template type".into());
    }
    Ok(())
}

#[cfg(not(any(windows, target_os = "macos")))]
mod platform {
    use super::*;
    pub fn read() -> Policy {
        Policy::from_file(Path::new(DEFAULT_FILE))
    }
}

/// Windows: `HKLM\Software\Policies\Postdesk`, where Group Policy and Intune (ADMX ingestion
/// or a registry CSP) put machine policy. Each string value named like a key (`global.host`)
/// is a `set` entry; the multi-string `Lock` lists the locks. Cannot run on this project's
/// Linux test machine.
#[cfg(windows)]
mod platform {
    use super::*;
    use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS};
    use windows_sys::Win32::System::Registry::{RegCloseKey, RegEnumValueW, RegOpenKeyExW, HKEY, HKEY_LOCAL_MACHINE, KEY_READ, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ};

    const SOURCE: &str = "HKLM\\Software\\Policies\\Postdesk";

    pub fn read() -> Policy {
        let path: Vec<u16> = "Software\\Policies\\Postdesk".encode_utf16().chain([0]).collect();
        let mut key: HKEY = std::ptr::null_mut();
        // SAFETY: a NUL-terminated path and an out pointer for the handle.
        let status = unsafe { RegOpenKeyExW(HKEY_LOCAL_MACHINE, path.as_ptr(), 0, KEY_READ, &mut key) };
        if status == ERROR_FILE_NOT_FOUND {
            return Policy::none(SOURCE);
        }
        if status != ERROR_SUCCESS {
            return Policy::broken(SOURCE, format!("cannot be read (error {status})"));
        }
        let mut set = BTreeMap::new();
        let mut lock = Vec::new();
        let mut errors = Vec::new();
        for index in 0..(2 * MAX_ENTRIES as u32 + 1) {
            let mut name = vec![0u16; 256];
            let mut name_len = name.len() as u32;
            let mut data = vec![0u8; 64 * 1024];
            let mut data_len = data.len() as u32;
            let mut kind = 0u32;
            // SAFETY: buffers with their lengths; the handle is open.
            let status = unsafe {
                RegEnumValueW(key, index, name.as_mut_ptr(), &mut name_len, std::ptr::null(), &mut kind, data.as_mut_ptr(), &mut data_len)
            };
            if status == ERROR_NO_MORE_ITEMS {
                break;
            }
            if status != ERROR_SUCCESS {
                errors.push(format!("value {index}: cannot be read (error {status}; at most 64 KiB each)"));
                continue;
            }
            let name = String::from_utf16_lossy(&name[..name_len as usize]);
            let words: Vec<u16> = data[..data_len as usize].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            let strings: Vec<String> = words.split(|w| *w == 0).filter(|s| !s.is_empty()).map(String::from_utf16_lossy).collect();
            match (name.eq_ignore_ascii_case("Lock"), kind) {
                (true, REG_MULTI_SZ | REG_SZ) => lock.extend(strings),
                (false, REG_SZ | REG_EXPAND_SZ) => {
                    set.insert(name, strings.into_iter().next().unwrap_or_default());
                }
                (false, REG_DWORD) if data_len == 4 => {
                    set.insert(name, u32::from_le_bytes([data[0], data[1], data[2], data[3]]).to_string());
                }
                _ => errors.push(format!("{}: must be a string (Lock: a multi-string)", keys::shown(&name))),
            }
        }
        // SAFETY: the handle was opened above.
        unsafe { RegCloseKey(key) };
        if !errors.is_empty() {
            return Policy::broken(SOURCE, errors.join("; "));
        }
        Policy::from_parts(SOURCE, set, lock)
    }
}

/// macOS: managed preferences pushed by an MDM profile for the app's identifier, binary or
/// XML plist: string (or number/boolean) values named like keys, and an array `Lock`.
/// Cannot run on this project's Linux test machine.
#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    pub const FILE: &str = "/Library/Managed Preferences/com.postdesk.desktop.plist";

    pub fn read() -> Policy {
        let path = Path::new(FILE);
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Policy::none(FILE),
            Err(e) => return Policy::broken(FILE, format!("cannot be read: {e}")),
            Ok(m) if !m.is_file() || m.len() > MAX_BYTES => return Policy::broken(FILE, format!("is not a regular file of at most {} KiB", MAX_BYTES / 1024)),
            Ok(_) => {}
        }
        let dict = match plist::Value::from_file(path) {
            Ok(plist::Value::Dictionary(d)) => d,
            Ok(_) => return Policy::broken(FILE, "is not a dictionary".into()),
            Err(e) => return Policy::broken(FILE, format!("is not a property list: {e}")),
        };
        let mut set = BTreeMap::new();
        let mut lock = Vec::new();
        let mut errors = Vec::new();
        for (name, value) in dict {
            // Keys an MDM profile adds of its own.
            if name.starts_with("Payload") {
                continue;
            }
            if name == "Lock" {
                match value {
                    plist::Value::Array(items) => {
                        for item in items {
                            match item {
                                plist::Value::String(s) => lock.push(s),
                                _ => errors.push("Lock: every entry must be a string".to_string()),
                            }
                        }
                    }
                    _ => errors.push("Lock: must be an array of strings".to_string()),
                }
                continue;
            }
            let text = match value {
                plist::Value::String(s) => s,
                plist::Value::Boolean(b) => b.to_string(),
                plist::Value::Integer(i) => match (i.as_signed(), i.as_unsigned()) {
                    (Some(n), _) => n.to_string(),
                    (None, Some(n)) => n.to_string(),
                    (None, None) => String::new(),
                },
                _ => {
                    errors.push(format!("{}: must be a string, number or boolean", keys::shown(&name)));
                    continue;
                }
            };
            set.insert(name, text);
        }
        if !errors.is_empty() {
            return Policy::broken(FILE, errors.join("; "));
        }
        Policy::from_parts(FILE, set, lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::test_config;

    fn policy(text: &str) -> Policy {
        Policy::parse(text, "/etc/postdesk/policy.json")
    }

    #[test]
    fn a_policy_sets_and_locks_keys_and_scopes() {
        let p = policy(r#"{"set": {"global.host": "smtp.example.com", "global.port": 587, "global.tls_verify": true}, "lock": ["global.host", "client.*.host", "support"]}"#);
        assert_eq!(p.error, None);
        assert_eq!(p.set["global.port"], "587");
        assert!(p.is_locked("global.host"));
        assert!(!p.is_locked("global.port"));
        assert!(p.is_locked("client.acme.host"));
        assert!(!p.is_locked("client.acme.port"));
        assert!(!p.is_locked("client.acme.templates.power.host"));
        assert!(p.is_locked("support.address"));
        assert!(!p.is_locked("global.password"), "secrets are never locked");
    }

    #[test]
    fn hostile_policies_are_refused_naming_the_entry_and_lock_everything() {
        for (text, named) in [
            (r#"{"set": {"global.host": "smtp.example.com"}, "lok": []}"#, "lok: unknown name"),
            (r#"{"set": {"global.password": "hunter2"}}"#, "global.password: is a secret"),
            (r#"{"set": {"global.port": "99999"}}"#, "set: global.port: must be a whole number"),
            (r#"{"set": {"global.hots": "x"}}"#, "global.hots: unknown key"),
            (r#"{"set": {"global.sender.address": "not an address"}}"#, "set: global.sender.address"),
            (r#"{"set": {"client.acme.host": "smtp.example.com"}}"#, "clients and routes are the admin's"),
            (r#"{"lock": ["global.*"]}"#, "global.*"),
            (r#"{"lock": ["glob"]}"#, "neither a key nor a scope"),
            (r#"{"lock": ["client.a*.host"]}"#, "`*` stands for"),
            (r#"{"lock": ["global.password"]}"#, "is a secret"),
            (r#"{"lock": ["global.host", "global.host"]}"#, "given twice"),
            (r#"{"lock": [1]}"#, "not a key"),
            (r#"{"set": {"global.host": "a", "global.host": "b"}}"#, "not valid JSON"),
            (r#"["global.host"]"#, "must be a JSON object"),
            ("{", "not valid JSON"),
        ] {
            let p = policy(text);
            let error = p.error.clone().unwrap_or_else(|| panic!("accepted: {text}"));
            assert!(error.contains(named), "{text}: {error}");
            assert!(p.set.is_empty() && p.is_locked("global.host") && p.is_locked("client.x.port"), "{text}");
            assert!(!p.is_locked("global.password"));
            assert!(p.reason().contains("/etc/postdesk/policy.json") && p.reason().contains("invalid"), "{}", p.reason());
        }
    }

    #[test]
    fn a_control_character_in_a_key_is_escaped_in_the_error() {
        let p = policy("{\"set\": {\"global.\\u001bhost\": \"x\"}}");
        assert!(p.error.as_deref().is_some_and(|e| e.contains("\\u{1b}") && !e.contains('\u{1b}')), "{:?}", p.error);
    }

    #[test]
    fn files_too_big_missing_or_not_regular_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Policy::from_file(&dir.path().join("policy.json"));
        assert!(!missing.exists && missing.error.is_none() && !missing.is_active());
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; MAX_BYTES as usize + 1]).unwrap();
        assert!(Policy::from_file(&big).error.unwrap().contains("larger than"));
        assert!(Policy::from_file(dir.path()).error.unwrap().contains("not a regular file"));
        let bin = dir.path().join("bin.json");
        std::fs::write(&bin, [0xff, 0xfe]).unwrap();
        assert!(Policy::from_file(&bin).error.unwrap().contains("UTF-8"));
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"set": {"global.host": "smtp.example.com"}, "lock": ["global.host"]}"#).unwrap();
        let p = Policy::from_file(&good);
        assert!(p.exists && p.error.is_none() && p.source.ends_with("good.json"));
    }

    #[test]
    fn overlay_puts_policy_values_in_force_and_strip_keeps_them_out_of_the_file() {
        let p = policy(r#"{"set": {"global.host": "smtp.example.com", "global.port": "2525"}, "lock": ["global.host"]}"#);
        let stored = test_config(&[("global.host", "mine.example.org"), ("global.sender.address", "a@example.org")]);
        let effective = p.overlay(stored.clone());
        assert_eq!(Key::parse("global.host").unwrap().get(&effective).unwrap(), "smtp.example.com", "locked: the policy wins");
        assert_eq!(Key::parse("global.port").unwrap().get(&effective).unwrap(), "2525", "unset: the policy's value");
        let own = p.overlay(test_config(&[("global.port", "465")]));
        assert_eq!(Key::parse("global.port").unwrap().get(&own).unwrap(), "465", "unlocked: the user's own value wins");
        // Saving the settings in force writes only what the user had.
        let saved = p.strip(&stored, effective.clone());
        assert_eq!(saved, stored);
        // A changed unlocked key is the user's own.
        let changed = Key::parse("global.port").unwrap().write(&effective, Some(465.into()));
        let saved = p.strip(&stored, changed);
        assert_eq!(Key::parse("global.port").unwrap().get(&saved).unwrap(), "465");
        assert_eq!(Key::parse("global.host").unwrap().get(&saved).unwrap(), "mine.example.org");
    }

    #[test]
    fn locked_changes_name_every_changed_locked_key() {
        let p = policy(r#"{"set": {"global.host": "smtp.example.com"}, "lock": ["global.host", "client.*.host"]}"#);
        let before = p.overlay(test_config(&[("client.acme.host", "a.example.org")]));
        let same = before.clone();
        assert!(p.locked_changes(&before, &same).is_empty());
        let after = p.overlay(test_config(&[("client.acme.host", "b.example.org"), ("client.new.host", "n.example.org"), ("global.port", "2525")]));
        assert_eq!(p.locked_changes(&before, &after), ["client.acme.host", "client.new.host"]);
        let unset = Key::parse("global.host").unwrap().write(&before, None);
        assert_eq!(p.locked_changes(&before, &unset), ["global.host"]);
        // A file that does not mention the key leaves the policy's value.
        let file = p.fill_missing(test_config(&[("client.acme.host", "a.example.org")]));
        assert!(p.locked_changes(&before, &file).is_empty());
        let file = p.fill_missing(test_config(&[("global.host", "other.example.org"), ("client.acme.host", "a.example.org")]));
        assert_eq!(p.locked_changes(&before, &file), ["global.host"]);
        // A broken policy locks everything.
        let broken = Policy::broken("/p", "bad".into());
        assert_eq!(broken.locked_changes(&before, &after), ["client.acme.host", "client.new.host", "global.port"]);
    }

    #[test]
    fn patterns() {
        assert!(matches("client.*.host", "client.acme.host"));
        assert!(!matches("client.*.host", "client.acme.port"));
        assert!(matches("client.*", "client.acme.templates.power.subject"));
        assert!(matches("global", "global.m365.client_id"));
        assert!(!matches("global.host", "global"));
        assert!(!matches("global", "globalx.host"));
        for ok in ["global", "client.*", "route.r1", "templates.*", "client.*.templates.*", "client.*.templates.power.subject", "global.m365.client_id", "route.*.host"] {
            assert_eq!(check_pattern(ok), Ok(()), "{ok}");
        }
        for bad in ["global.*", "*.host", "client.*.*", "", "global.", "client"] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }
}
