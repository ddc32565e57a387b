//! The operations an admin performs, shared by the CLI and the window: the adapters parse
//! their input, call one of these, and present the result.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::keys::{self, Key, Kind, Scope, RECEIVER_FIELDS, SERVER_FIELDS, SUPPORT_FIELDS};
use crate::model::Config;
use crate::redirect::Redirect;
use crate::secrets::{Keychain, Secret, SecretError};
use crate::store::{EditLock, Store, StoreError};
use crate::validate::{validate, Context, Problem, Severity};
use crate::policy::{Policy, PolicySource};

pub use crate::error::Error;
pub(crate) use crate::error::{invalid, keyed};

/// What a saved change did: the warnings of the keys set, and where stored secrets now go.
#[derive(Debug, Default)]
pub struct Saved {
    pub warnings: Vec<Problem>,
    pub redirects: Vec<Redirect>,
}

/// The window's view of the settings it edits (`global.*` and `support.*`).
#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct Form {
    /// Saved values as text, `""` when unset, for every non-secret key of the form.
    pub values: BTreeMap<String, String>,
    /// What an unset key means.
    pub defaults: BTreeMap<String, String>,
    /// Whether each secret key holds a value in the keychain (the value itself never leaves).
    pub secrets: BTreeMap<String, bool>,
    pub problems: Vec<Problem>,
    pub config_path: String,
    /// Something the admin must know about the saved file (e.g. it was unreadable and kept aside).
    pub notice: Option<String>,
    /// Why the keychain could not be read, if it could not.
    pub keychain_error: Option<String>,
    /// The redirect URI to register in Entra for the delegated sign-in.
    pub redirect_uri: String,
    /// An import can be undone.
    pub can_undo_import: bool,
    /// The port each receiver protocol uses when `receiver.port` is unset.
    pub receiver_ports: BTreeMap<String, u16>,
}

/// A change to one secret from the window: a new value, or `None` to clear it.
#[derive(Deserialize, Clone, TS)]
#[ts(export)]
pub struct SecretChange {
    pub key: String,
    pub value: Option<String>,
}

impl std::fmt::Debug for SecretChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretChange {{ key: {}, value: <redacted> }}", self.key)
    }
}

/// The value typed in the window is wiped once handled, like a [`Secret`].
impl Drop for SecretChange {
    fn drop(&mut self) {
        if let Some(v) = &mut self.value {
            zeroize::Zeroize::zeroize(v);
        }
    }
}

pub const REDIRECT_URI: &str = "http://localhost/postdesk/callback";

/// Keys shown in the window.
pub fn form_keys() -> impl Iterator<Item = Key> {
    let scoped = |scope: Scope, table: &'static [keys::Field]| table.iter().map(move |field| Key { scope: scope.clone(), field });
    scoped(Scope::Global, &SERVER_FIELDS).chain(scoped(Scope::Support, &SUPPORT_FIELDS)).chain(scoped(Scope::Receiver, &RECEIVER_FIELDS)).chain(scoped(Scope::Proxy, &keys::PROXY_FIELDS))
}

pub use crate::edits::{apply_edits, secret_keys, today};

/// One installation: its data directory and its keychain entries.
#[derive(Clone, Debug)]
pub struct Postdesk {
    pub(crate) store: Store,
    pub(crate) keychain: Keychain,
    /// Where the organization's policy is read from (read again by every operation).
    pub(crate) policy: PolicySource,
}

/// The secrets a client or route can have, for platforms whose keychain cannot be listed
/// (on Linux every stored key under the scope's prefix is found and removed).
pub const SCOPE_SECRETS: &[&str] = &["password", "m365.client_secret", "m365.refresh_token", "m365.account"];

/// `client.<ID>.` / `route.<NAME>.` of every client and route.
fn scope_prefixes(config: &Config) -> BTreeSet<String> {
    config.clients.keys().map(|id| format!("client.{id}.")).chain(config.routes.keys().map(|n| format!("route.{n}."))).collect()
}

impl Postdesk {
    /// The data directory to open: `explicit` (`--data-dir`), else `POSTDESK_DATA_DIR`, else
    /// the OS app-data directory.
    pub fn data_dir_from(explicit: Option<PathBuf>) -> PathBuf {
        crate::store::data_dir(explicit)
    }

    pub fn open(data_dir: &Path) -> Postdesk {
        Postdesk { store: Store::new(data_dir), keychain: Keychain::for_data_dir(data_dir), policy: PolicySource::from_env() }
    }

    /// The same installation under the policy of `file` instead of the system's (tests).
    pub fn with_policy_file(mut self, file: &Path) -> Postdesk {
        self.policy = PolicySource::File(file.to_path_buf());
        self
    }

    /// The organization's policy as it is now (`postdesk policy show`, the window's locks).
    pub fn policy(&self) -> Policy {
        self.policy.read()
    }

    /// The form's keys the policy locks (all of them when it is broken), for the window.
    pub fn policy_view(&self) -> crate::policy::PolicyView {
        let policy = self.policy();
        let locked = form_keys().map(|k| k.name()).filter(|k| policy.is_locked(k)).collect();
        crate::policy::PolicyView { reason: policy.reason(), locked, policy }
    }

    /// Whether the value of `name` in force comes from, or is locked by, the organization's
    /// policy (`config get` says so beside the value).
    pub fn policy_note(&self, name: &str) -> Option<String> {
        let policy = self.policy();
        if !policy.is_active() {
            return None;
        }
        let set = self.load_stored().is_ok_and(|stored| policy.sets_in(name, &stored));
        match (set, policy.is_locked(name)) {
            (false, false) => None,
            (true, true) => Some(format!("{name}: set and locked by the organization's policy {}", policy.source)),
            (true, false) => Some(format!("{name}: set by the organization's policy {} (a value of your own would win)", policy.source)),
            (false, true) => Some(format!("{name}: cannot be changed: {}", policy.reason())),
        }
    }

    /// Refuses a change of settings in force from `before` to `after` that alters a locked key.
    pub(crate) fn refuse_locked(&self, policy: &Policy, before: &Config, after: &Config) -> Result<(), Error> {
        let keys = policy.locked_changes(before, after);
        if keys.is_empty() {
            return Ok(());
        }
        Err(Error::Locked { keys, reason: policy.reason() })
    }

    pub fn config_path(&self) -> PathBuf {
        self.store.path()
    }

    /// The settings in force: the user's saved document with the organization's policy laid
    /// over it ([`Policy::overlay`]). What every operation reads; saves take the policy's
    /// values out again ([`Postdesk::save_config`]).
    pub fn load(&self) -> Result<Config, Error> {
        let stored = self.store.load()?;
        let policy = self.policy();
        Ok(if policy.set.is_empty() { stored } else { policy.overlay(stored) })
    }

    /// The user's own document, without the policy (exports, the undo file).
    pub(crate) fn load_stored(&self) -> Result<Config, Error> {
        Ok(self.store.load()?)
    }

    /// [`Postdesk::load`], or the policy over the defaults when the saved file is unreadable.
    fn load_or_default(&self) -> Config {
        self.load().unwrap_or_else(|_| self.policy().overlay(Config::default()))
    }

    /// Takes the data directory's edit lock (see [`EditLock`]): every load-modify-save, in
    /// every process, holds it from its load to its save.
    pub fn lock(&self) -> Result<EditLock, Error> {
        Ok(self.store.lock()?)
    }

    /// The one way a change is saved: `after`, made from `before` (loaded under `lock`) and
    /// already validated by the caller. A client or route that `after` drops loses every
    /// secret it had, and one that `after` adds starts with none (no leftovers of an earlier
    /// one of the same name), before the file changes: with the keychain unavailable nothing
    /// changes.
    ///
    /// `before` and `after` are settings in force ([`Postdesk::load`]): a change of a key the
    /// organization's policy locks is refused here, whatever path it came by (the window's
    /// page included), and the policy's values are taken out of what is written: a policy
    /// value never reaches the user's file.
    pub(crate) fn save_config(&self, before: &Config, after: &Config, lock: &EditLock) -> Result<(), Error> {
        let policy = self.policy();
        self.refuse_locked(&policy, before, after)?;
        let stripped;
        let after = if policy.set.is_empty() {
            after
        } else {
            let stored = match self.store.load() {
                Ok(c) => c,
                Err(StoreError::Corrupt { .. }) => Config::default(),
                Err(e) => return Err(e.into()),
            };
            stripped = policy.strip(&stored, after.clone());
            &stripped
        };
        let (old, new) = (scope_prefixes(before), scope_prefixes(after));
        let removed: BTreeSet<String> = old.difference(&new).cloned().collect();
        let changed: BTreeSet<String> = old.symmetric_difference(&new).cloned().collect();
        if !changed.is_empty() {
            match self.keychain.clear_scopes(&changed, &removed, SCOPE_SECRETS) {
                Ok(_) => {}
                // Only new scopes on a machine without a keychain: nothing to clear there.
                Err(SecretError::Unavailable(_)) if removed.is_empty() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.store.save(after, lock)?)
    }

    pub fn data_dir(&self) -> &Path {
        self.store.dir()
    }

    /// The sent-mail count every send path reserves a slot in (see [`crate::limits`]).
    pub fn sent_log(&self) -> crate::limits::SentLog {
        crate::limits::SentLog::new(self.store.dir())
    }

    /// The value in force for `key`; secrets give `<set>` / `<not set>`.
    pub fn get(&self, name: &str) -> Result<String, Error> {
        let key = Key::parse(name)?;
        if key.is_secret() {
            let set = self.keychain.is_set(name)?;
            return Ok(if set { "<set>" } else { "<not set>" }.into());
        }
        Ok(key.effective(&self.load()?).unwrap_or_default())
    }

    /// Validates and saves one value. Fails, saving nothing, when the value is invalid or
    /// makes another value invalid. Returns the warnings that concern `key`.
    pub fn set(&self, name: &str, raw: &str) -> Result<Saved, Error> {
        self.set_many(&BTreeMap::from([(name.to_string(), raw.to_string())]))
    }

    /// Validates and saves several values at once (atomically); the warnings of those keys and
    /// where stored secrets now go ([`crate::redirect`]).
    pub fn set_many(&self, edits: &BTreeMap<String, String>) -> Result<Saved, Error> {
        let lock = self.lock()?;
        let before = self.load()?;
        let (after, mut problems) = apply_edits(&before, edits);
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        self.refuse_locked(&self.policy(), &before, &after)?;
        let ctx = Context { today: today(), secrets_set: None };
        let old = validate(&before, &ctx);
        problems = validate(&after, &ctx);
        let new_errors: Vec<Problem> =
            problems.iter().filter(|p| p.severity == Severity::Error && !old.contains(p)).cloned().collect();
        if !new_errors.is_empty() {
            return Err(Error::Invalid(new_errors));
        }
        let redirects = self.redirects(&before, &after, &[]);
        self.save_config(&before, &after, &lock)?;
        let warnings = problems.into_iter().filter(|p| edits.contains_key(&p.key) && p.severity == Severity::Warning).collect();
        Ok(Saved { warnings, redirects })
    }

    /// Where stored secrets go differently, or which program runs, from `before` to `after`.
    /// The keychain is asked only about secrets whose destination changed; one it cannot
    /// answer about counts as stored (a redirect too many rather than one unnamed). Secrets in
    /// `replaced` (an import brings new values) are not the stored ones.
    pub fn redirects(&self, before: &Config, after: &Config, replaced: &[String]) -> Vec<Redirect> {
        // One listing of the keychain answers every question (where the platform can list it).
        let mut listed: Option<Result<Option<BTreeSet<String>>, SecretError>> = None;
        let mut asked: BTreeMap<String, bool> = BTreeMap::new();
        crate::redirect::redirects(before, after, &mut |key| {
            if replaced.iter().any(|r| r == key) {
                return false;
            }
            match listed.get_or_insert_with(|| self.keychain.stored()) {
                Ok(Some(stored)) => stored.contains(key),
                // Unknown counts as stored: a redirect too many rather than one unnamed.
                Err(_) => true,
                Ok(None) => *asked.entry(key.to_string()).or_insert_with(|| self.keychain.is_set(key).unwrap_or(true)),
            }
        })
    }

    pub fn unset(&self, name: &str) -> Result<(), Error> {
        let key = Key::parse(name)?;
        if key.is_secret() {
            self.keychain.clear(name)?;
            return Ok(());
        }
        let lock = self.lock()?;
        let before = self.load()?;
        let after = key.write(&before, None);
        self.refuse_locked(&self.policy(), &before, &after)?;
        if after != before {
            self.save_config(&before, &after, &lock)?;
        }
        Ok(())
    }

    /// Everything wrong with the saved settings, including missing secrets and CA files.
    pub fn check(&self) -> Result<Vec<Problem>, Error> {
        let config = self.load()?;
        let secrets_set = self.keychain.which_set(secret_keys(&config).iter().map(String::as_str))?;
        let mut problems = validate(&config, &Context { today: today(), secrets_set: Some(secrets_set) });
        problems.extend(check_files(&config));
        problems.extend(policy_problem(&self.policy()));
        problems.extend(kept_aside_problem(&self.store));
        Ok(problems)
    }

    /// Stores a secret unless the keychain already holds that very value: `Ok(true)` when it
    /// was written (`secret set --json`, so a fleet tool reports "changed" honestly). The
    /// values are compared here and never leave the process.
    pub fn set_secret_if_changed(&self, name: &str, secret: &Secret) -> Result<bool, Error> {
        if !self.secret_differs(name, secret)? {
            return Ok(false);
        }
        self.set_secret(name, secret)?;
        Ok(true)
    }

    /// Whether storing `secret` under `name` would change the keychain (a valid secret key and
    /// value, compared with the stored one here); nothing is stored (`secret set --json
    /// --dry-run`, a fleet tool's check mode).
    pub fn secret_differs(&self, name: &str, secret: &Secret) -> Result<bool, Error> {
        self.secret_key(name)?;
        check_secret_value(name, secret)?;
        Ok(self.keychain.get(name)?.is_none_or(|stored| stored != *secret))
    }

    pub fn set_secret(&self, name: &str, secret: &Secret) -> Result<(), Error> {
        let key = self.secret_key(name)?;
        check_secret_value(name, secret)?;
        // Under the lock: a client or route removed at the same time cannot leave it orphaned.
        let _lock = self.lock()?;
        let config = self.load()?;
        let missing = match &key.scope {
            Scope::Client(id) if !config.clients.contains_key(id) => Some(format!("client.{id}")),
            Scope::Route(n) if !config.routes.contains_key(n) => Some(format!("route.{n}")),
            _ => None,
        };
        if let Some(prefix) = missing {
            return Err(invalid(name, &format!("{prefix} does not exist: add it first (e.g. `postdesk config set {prefix}.host …`)")));
        }
        Ok(self.keychain.set(name, secret)?)
    }

    /// Removes a secret; `Ok(false)` when none was set.
    pub fn clear_secret(&self, name: &str) -> Result<bool, Error> {
        self.secret_key(name)?;
        Ok(self.keychain.clear(name)?)
    }

    /// A stored secret, for handing to an outgoing connection only.
    pub fn secret(&self, name: &str) -> Result<Option<Secret>, Error> {
        Ok(self.keychain.get(name)?)
    }

    fn secret_key(&self, name: &str) -> Result<Key, Error> {
        let key = Key::parse(name)?;
        if !key.is_secret() {
            return Err(invalid(name, "is not a secret: use `postdesk config set`"));
        }
        Ok(key)
    }

    /// The window's starting point. An unreadable file is reported in `notice`, not an error.
    pub fn form(&self) -> Form {
        let (config, notice) = match self.load() {
            Ok(config) => (config, None),
            Err(e) => (self.policy().overlay(Config::default()), Some(e.to_string())),
        };
        let mut form = self.form_for(&config);
        form.notice = notice;
        form
    }

    /// Problems of the window's unsaved values, as the admin types.
    pub fn preview(&self, edits: &BTreeMap<String, String>, pending_secrets: &[SecretChange]) -> Vec<Problem> {
        let base = self.load_or_default();
        let (config, mut problems) = apply_edits(&base, edits);
        let policy = self.policy();
        problems.extend(Error::Locked { keys: policy.locked_changes(&base, &config), reason: policy.reason() }.locked_problems());
        let secrets_set = self.secrets_after(&config, pending_secrets).ok();
        problems.extend(validate(&config, &Context { today: today(), secrets_set }));
        // Where a stored secret would go differently is said under the key that does it.
        let replaced: Vec<String> = pending_secrets.iter().map(|c| c.key.clone()).collect();
        problems.extend(self.redirects(&base, &config, &replaced).iter().map(Redirect::as_problem));
        problems
    }

    /// Saves the window's values and secret changes together. Nothing is written when a value
    /// of the form is invalid or missing.
    pub fn save_form(&self, edits: &BTreeMap<String, String>, secrets: &[SecretChange]) -> Result<Form, Error> {
        let lock = self.lock()?;
        let base = match self.load() {
            Ok(c) => c,
            // The unreadable file was kept aside when the window opened; start from defaults.
            Err(Error::Store(StoreError::Corrupt { .. })) => self.policy().overlay(Config::default()),
            Err(e) => return Err(e),
        };
        let (config, mut problems) = apply_edits(&base, edits);
        // Before any secret is touched: a locked key refuses the whole save (the page is not
        // trusted to have disabled the field).
        self.refuse_locked(&self.policy(), &base, &config)?;
        let secrets_set = self.secrets_after(&config, secrets)?;
        problems.extend(validate(&config, &Context { today: today(), secrets_set: Some(secrets_set) }));
        let in_form: BTreeSet<String> = form_keys().map(|k| k.name()).collect();
        let blocking: Vec<Problem> = problems.into_iter().filter(|p| p.is_blocking() && in_form.contains(&p.key)).collect();
        if !blocking.is_empty() {
            return Err(Error::Invalid(blocking));
        }
        for change in secrets {
            match &change.value {
                Some(v) => self.set_secret(&change.key, &Secret::new(v.clone()))?,
                None => {
                    self.clear_secret(&change.key)?;
                }
            }
        }
        self.save_config(&base, &config, &lock)?;
        drop(lock);
        Ok(self.form_for(&config))
    }

    fn secrets_after(&self, config: &Config, changes: &[SecretChange]) -> Result<BTreeSet<String>, SecretError> {
        let mut set = self.keychain.which_set(secret_keys(config).iter().map(String::as_str))?;
        for change in changes {
            match change.value.as_deref() {
                Some(v) if !v.is_empty() => set.insert(change.key.clone()),
                _ => set.remove(&change.key),
            };
        }
        Ok(set)
    }

    fn form_for(&self, config: &Config) -> Form {
        let mut values = BTreeMap::new();
        let mut defaults = BTreeMap::new();
        let mut secret_names = Vec::new();
        for key in form_keys() {
            let name = key.name();
            if key.is_secret() {
                secret_names.push(name);
                continue;
            }
            let stored = key.get(config).map(|v| v.into_owned()).unwrap_or_default();
            values.insert(name.clone(), stored);
            if let Some(d) = key.field.default {
                defaults.insert(name, d.to_string());
            }
        }
        let (secrets, keychain_error, secrets_set) = match self.keychain.which_set(secret_names.iter().map(String::as_str)) {
            Ok(set) => (secret_names.iter().map(|k| (k.clone(), set.contains(k))).collect(), None, Some(set)),
            Err(e) => (BTreeMap::new(), Some(e.to_string()), None),
        };
        let mut problems = validate(config, &Context { today: today(), secrets_set });
        problems.extend(check_files(config));
        problems.extend(policy_problem(&self.policy()));
        Form {
            values,
            defaults,
            secrets,
            problems,
            config_path: self.store.path().display().to_string(),
            notice: None,
            keychain_error,
            redirect_uri: REDIRECT_URI.into(),
            can_undo_import: self.can_undo_import(),
            receiver_ports: crate::model::ReceiverProtocol::ALL.iter().map(|p| (p.as_str().to_string(), p.default_port())).collect(),
        }
    }
}

impl Postdesk {
    /// Sends a test mail with the window's unsaved values and secrets, as they would be saved.
    pub async fn test_draft(
        &self,
        edits: &BTreeMap<String, String>,
        pending: &[SecretChange],
        to: String,
        progress: &mut (dyn FnMut(crate::diagnosis::Progress) + Send),
        cancel: impl std::future::Future<Output = ()>,
    ) -> crate::diagnosis::Report {
        let base = self.load_or_default();
        let (config, unparsed) = apply_edits(&base, edits);
        let request = crate::mail::Request {
            to: vec![to],
            sent_log: Some(self.sent_log()),
            ..Default::default()
        };
        if !unparsed.is_empty() {
            let error = unparsed.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return crate::mail::config_failure(error, progress);
        }
        let vault = Pending { app: self, pending };
        crate::mail::send(&config, &vault, request, progress, cancel).await
    }
}

/// The keychain with the window's unsaved secret changes laid over it (for a test mail).
struct Pending<'a> {
    app: &'a Postdesk,
    pending: &'a [SecretChange],
}

impl crate::oauth::Vault for Pending<'_> {
    fn get(&self, key: &str) -> Result<Option<Secret>, Error> {
        match self.pending.iter().find(|c| c.key == key) {
            Some(change) => Ok(change.value.clone().filter(|v| !v.is_empty()).map(Secret::new)),
            None => self.app.secret(key),
        }
    }
    fn set(&self, key: &str, value: &Secret) -> Result<(), Error> {
        crate::oauth::Vault::set(self.app, key, value)
    }
    fn clear(&self, key: &str) -> Result<(), Error> {
        crate::oauth::Vault::clear(self.app, key)
    }
}

/// OAuth's keychain entries (client secret, refresh token, signed-in account) go through the
/// same keychain as every other secret.
impl crate::oauth::Vault for Postdesk {
    fn get(&self, key: &str) -> Result<Option<Secret>, Error> {
        Ok(self.keychain.get(key)?)
    }
    fn set(&self, key: &str, value: &Secret) -> Result<(), Error> {
        // A sign-in or token rotation that ends after its client or route was removed must
        // not leave the token behind: checked and written under the edit lock.
        let _lock = self.lock()?;
        let mut parts = key.splitn(3, '.');
        if let (Some(kind @ ("client" | "route")), Some(id)) = (parts.next(), parts.next()) {
            let config = self.load()?;
            let exists = if kind == "client" { config.clients.contains_key(id) } else { config.routes.contains_key(id) };
            if !exists {
                return Err(Error::Gone { scope: format!("{kind}.{id}"), key: key.into() });
            }
        }
        Ok(self.keychain.set(key, value)?)
    }
    fn clear(&self, key: &str) -> Result<(), Error> {
        self.keychain.clear(key)?;
        Ok(())
    }
}

impl Postdesk {
    /// Logs in to the receiver mailbox (`receiver-check`, the window's Validate), with the
    /// window's unsaved values and secrets as they would be saved (none from the CLI).
    pub async fn receiver_check(
        &self,
        edits: &BTreeMap<String, String>,
        pending: &[SecretChange],
        progress: &mut (dyn FnMut(crate::diagnosis::Progress) + Send),
        cancel: impl std::future::Future<Output = ()>,
    ) -> crate::diagnosis::Report {
        let base = match self.load() {
            Ok(c) => c,
            Err(e) => return crate::mail::config_failure(e.to_string(), progress),
        };
        let (config, unparsed) = apply_edits(&base, edits);
        if !unparsed.is_empty() {
            let error = unparsed.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return crate::mail::config_failure(error, progress);
        }
        let vault = Pending { app: self, pending: &pending };
        crate::receiver::check(&config, &vault, progress, cancel).await
    }
}

impl Postdesk {
    /// Every provider preset, in the order the window offers them ("Custom" last).
    pub fn presets() -> Vec<crate::presets::Preset> {
        crate::presets::presets()
    }

    /// Applies a provider preset (and variant) to the saved settings, validated like
    /// `config set`: nothing is saved when it would make a value invalid. Returns the
    /// preset (for its to-do list) and the warnings of the keys it set.
    pub fn apply_preset(&self, id: &str, variant: Option<&str>) -> Result<(crate::presets::Preset, Saved), Error> {
        let preset = crate::presets::find(id).ok_or_else(|| {
            let ids: Vec<String> = crate::presets::presets().into_iter().map(|p| p.id).collect();
            invalid("preset", &format!("{id} is not a preset (choose one of: {})", ids.join(", ")))
        })?;
        let edits = preset.edits(variant).map_err(|e| invalid("preset", &e))?;
        let saved = self.set_many(&edits)?;
        Ok((preset, saved))
    }
}

/// A secret value the keychain may hold: not empty, one line.
fn check_secret_value(name: &str, secret: &Secret) -> Result<(), Error> {
    if secret.expose().is_empty() {
        return Err(invalid(name, "is empty: use `postdesk secret clear` to remove it"));
    }
    if secret.expose().contains(['\r', '\n', '\0']) {
        return Err(invalid(name, "must not contain line breaks or NUL"));
    }
    Ok(())
}

/// Where the configuration before the last import is kept (secrets: in the keychain).
const UNDO_FILE: &str = "undo-import.json";
const UNDO_PREFIX: &str = "undo-import#";

#[derive(Serialize, Deserialize)]
struct UndoImport {
    config: Config,
    /// Secret keys the import wrote; their previous values are kept under `undo-import#<key>`.
    secrets: Vec<String>,
}

/// What the window shows before an import is applied.
#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct ImportPreview {
    pub changes: Vec<crate::transfer::Change>,
    /// Secrets the file says are needed but does not carry (set them after importing).
    pub secrets_missing: Vec<String>,
    /// Whether the file carries encrypted secrets (then a passphrase is needed).
    pub encrypted_secrets: bool,
    /// Where stored secrets would go differently, or which program would run: applied only
    /// when the admin allows it.
    pub redirects: Vec<Redirect>,
    /// Settings the organization's policy locks that the file would change: the import is
    /// refused while there are any.
    pub locked: Vec<String>,
    /// Names the previewed file's bytes: applying gives it back, and exactly those bytes are
    /// imported.
    pub token: String,
}

impl Postdesk {
    /// The JSON Schema of the export file (`postdesk schema`).
    pub fn export_schema() -> serde_json::Value {
        crate::transfer::schema()
    }

    /// The export file: settings, which secrets are needed, and (with a passphrase) the
    /// secrets themselves, encrypted.
    /// Returns the file's text and the secret keys it names as needed.
    /// The user's own settings: the organization's policy is the machine's, not exported.
    pub fn export(&self, passphrase: Option<&Secret>) -> Result<(String, Vec<String>), Error> {
        let config = self.load_stored()?;
        let mut set = BTreeMap::new();
        // Only the stored ones are fetched (10,000 clients: a handful of look-ups, not 20,000).
        let keys = secret_keys(&config);
        for key in self.keychain.which_set(keys.iter().map(String::as_str))? {
            if let Some(secret) = self.keychain.get(&key)? {
                set.insert(key, secret);
            }
        }
        let text = crate::transfer::export(&config, &set, passphrase).map_err(|e| invalid("passphrase", &e))?;
        Ok((text, set.into_keys().collect()))
    }

    /// Checks a file and computes what importing it would change. Nothing is changed.
    pub fn plan_import(&self, bytes: &[u8], passphrase: Option<&Secret>) -> Result<crate::transfer::ImportPlan, Error> {
        let (config, secrets, secrets_missing) = crate::transfer::parse(bytes, passphrase, today()).map_err(Error::Invalid)?;
        // What the file would put in force: the policy's values where it has none of its own.
        let policy = self.policy();
        let config = if policy.set.is_empty() { config } else { policy.fill_missing(config) };
        let current = self.load()?;
        let mut changes = crate::transfer::diff(&current, &config, &secrets);
        // A carried secret equal to the stored one changes nothing (compared here, never shown),
        // so importing the same file twice reports no change the second time.
        for (key, secret) in &secrets {
            if self.keychain.get(key)?.is_some_and(|stored| stored == *secret) {
                changes.retain(|c| !(c.kind == crate::transfer::ChangeKind::SecretSet && &c.key == key));
            }
        }
        let carried: Vec<String> = secrets.iter().map(|(k, _)| k.clone()).collect();
        let redirects = self.redirects(&current, &config, &carried);
        let locked = policy.locked_changes(&current, &config);
        Ok(crate::transfer::ImportPlan { config, secrets, secrets_missing, changes, redirects, locked })
    }

    /// Whether a file carries encrypted secrets (to ask for a passphrase first).
    pub fn file_has_encrypted_secrets(bytes: &[u8]) -> bool {
        crate::transfer::strict_json(std::str::from_utf8(bytes).unwrap_or(""))
            .ok()
            .is_some_and(|v| v.pointer("/secrets/encrypted").is_some_and(|e| e.is_string()))
    }

    /// Applies a checked import: the previous configuration (and the previous values of the
    /// secrets it replaces or, for a client or route it drops, removes) are kept for
    /// [`Postdesk::undo_import`] until the next import or the undo. An import that changes
    /// where stored secrets go or which program runs (checked again against the settings as
    /// they are now) is refused with [`Error::Redirected`] unless `allow_redirect`.
    pub fn apply_import(&self, plan: &crate::transfer::ImportPlan, allow_redirect: bool) -> Result<(), Error> {
        let lock = self.lock()?;
        let current = self.load()?;
        // Checked again against the settings (and the policy) as they are now.
        self.refuse_locked(&self.policy(), &current, &plan.config)?;
        if !allow_redirect {
            let carried: Vec<String> = plan.secrets.iter().map(|(k, _)| k.clone()).collect();
            let redirects = self.redirects(&current, &plan.config, &carried);
            if !redirects.is_empty() {
                return Err(Error::Redirected(redirects));
            }
        }
        // The backups of an earlier import are no longer needed: only the last one is undone.
        self.clear_undo_backups()?;
        let dropped: BTreeSet<String> = scope_prefixes(&current).difference(&scope_prefixes(&plan.config)).cloned().collect();
        let mut touched: Vec<String> = plan.secrets.iter().map(|(key, _)| key.clone()).collect();
        if !dropped.is_empty() {
            let stored = match self.keychain.stored()? {
                Some(stored) => stored,
                None => dropped.iter().flat_map(|p| SCOPE_SECRETS.iter().map(move |k| format!("{p}{k}"))).collect(),
            };
            let extra: Vec<String> = stored.into_iter().filter(|k| dropped.iter().any(|p| k.starts_with(p.as_str())) && !touched.contains(k)).collect();
            touched.extend(extra);
        }
        let mut backed_up = Vec::new();
        for key in &touched {
            if let Some(old) = self.keychain.get(key)? {
                self.keychain.set(&format!("{UNDO_PREFIX}{key}"), &old)?;
                backed_up.push(key.clone());
            } else if plan.secrets.iter().any(|(k, _)| k == key) {
                backed_up.push(key.clone()); // undo clears it again
            }
        }
        // The user's own document (a policy value is never written to the user's files).
        let undo = UndoImport { config: self.load_stored()?, secrets: backed_up };
        crate::store::write_atomic(self.store.dir(), UNDO_FILE, serde_json::to_string_pretty(&undo).expect("json").as_bytes())?;
        // Drops the secrets of removed clients and routes (kept above as backups).
        self.save_config(&current, &plan.config, &lock)?;
        for (key, secret) in &plan.secrets {
            self.keychain.set(key, secret)?;
        }
        Ok(())
    }

    /// Restores the configuration and secrets from before the last import.
    pub fn undo_import(&self) -> Result<bool, Error> {
        let lock = self.lock()?;
        let path = self.store.dir().join(UNDO_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::Io { action: "cannot read", path, source: e }.into()),
        };
        let undo: UndoImport = serde_json::from_str(&text).map_err(|e| invalid("undo", &format!("{} is damaged: {e}", path.display())))?;
        let current = self.load()?;
        // Clients and routes the import added lose their secrets; re-added ones get theirs back below.
        // The undo file holds the user's own document: compared in force, with the policy over it.
        let restored = self.policy().overlay(undo.config.clone());
        self.save_config(&current, &restored, &lock)?;
        for key in &undo.secrets {
            let backup = format!("{UNDO_PREFIX}{key}");
            match self.keychain.get(&backup)? {
                Some(old) => self.keychain.set(key, &old)?,
                None => {
                    self.keychain.clear(key)?;
                }
            }
        }
        std::fs::remove_file(&path).map_err(|e| StoreError::Io { action: "cannot remove", path, source: e })?;
        self.clear_undo_backups_known(&undo.secrets)?;
        Ok(true)
    }

    /// Removes every `undo-import#…` keychain entry (those of the undo file, where the
    /// keychain cannot be listed).
    fn clear_undo_backups(&self) -> Result<(), Error> {
        let known = std::fs::read_to_string(self.store.dir().join(UNDO_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<UndoImport>(&t).ok())
            .map(|u| u.secrets)
            .unwrap_or_default();
        self.clear_undo_backups_known(&known)
    }

    fn clear_undo_backups_known(&self, known: &[String]) -> Result<(), Error> {
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        self.keychain.clear_prefix(UNDO_PREFIX, &known)?;
        Ok(())
    }

    pub fn can_undo_import(&self) -> bool {
        self.store.dir().join(UNDO_FILE).exists()
    }

    /// Reads a configuration file for import (at most one byte over the limit, which the
    /// parser then names).
    pub fn read_import_file(path: &Path) -> Result<Vec<u8>, Error> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(crate::transfer::MAX_BYTES as u64 + 1).read_to_end(&mut bytes))
            .map_err(|e| invalid("file", &format!("{}: {e}", path.display())))?;
        Ok(bytes)
    }

    /// Writes an export file atomically.
    pub fn write_export_file(path: &Path, text: &str) -> Result<(), Error> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| invalid("file", "is not a file name"))?.to_string_lossy().to_string();
        crate::store::write_atomic(dir, &name, text.as_bytes())?;
        Ok(())
    }
}

/// A damaged settings file kept aside with nothing saved since: the defaults are in force
/// (no mail is sent), and `check` says so until settings are saved or imported again.
fn kept_aside_problem(store: &Store) -> Option<Problem> {
    let kept = store.kept_aside()?;
    Some(Problem {
        key: "config".into(),
        severity: Severity::Error,
        message: format!(
            "the settings file was damaged and kept as {}; the defaults are in force until it is repaired and moved back to {}, or settings are saved or imported again",
            kept.display(),
            store.path().display()
        ),
    })
}

/// A policy that cannot be used, as a problem of `check` and the window (key `policy`).
fn policy_problem(policy: &Policy) -> Option<Problem> {
    let error = policy.error.as_ref()?;
    Some(Problem { key: "policy".into(), severity: Severity::Error, message: format!("{} is invalid: {error}; every setting is locked until it is fixed", policy.source) })
}

/// Files named in settings (the one validation that looks at the disk): a CA file must be a
/// small regular file holding a PEM certificate; a sendmail program a regular executable file,
/// never read. Neither a FIFO nor a device is opened for reading (see [`crate::files`]).
pub fn check_files(config: &Config) -> Vec<Problem> {
    keys::all_keys(config)
        .into_iter()
        .filter(|k| k.field.kind == Kind::Path)
        .filter_map(|k| {
            let path = k.get(config).map(|v| v.into_owned())?;
            let p = Path::new(&path);
            if !p.is_absolute() {
                return None; // reported by validate
            }
            if k.field.name == "sendmail_path" {
                return crate::files::check_program(p).err().map(|e| Problem { key: k.name(), severity: Severity::Error, message: e.to_string() });
            }
            match crate::files::read_ca_file(p) {
                Ok(bytes) if String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") => None,
                Ok(_) => Some("is not a PEM certificate file (no BEGIN CERTIFICATE)".to_string()),
                Err(e) => Some(e.to_string()),
            }
            .map(|message| Problem { key: k.name(), severity: Severity::Error, message })
        })
        .collect()
}

/// Kept for the test modules of other slices' files (`crate::fixtures` is the fixture's home).
#[cfg(test)]
pub(crate) use crate::fixtures::test_config;

#[cfg(test)]
mod policy_tests {
    use super::*;

    fn app_with_policy(text: &str) -> (tempfile::TempDir, Postdesk) {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.json");
        std::fs::write(&policy, text).unwrap();
        let app = Postdesk::open(&dir.path().join("data")).with_policy_file(&policy);
        (dir, app)
    }

    #[test]
    fn policy_values_are_in_force_but_never_saved_and_locked_keys_refuse_every_save_path() {
        let (_dir, app) = app_with_policy(r#"{"set": {"global.host": "smtp.policy.example", "global.port": "2525"}, "lock": ["global.host"]}"#);
        app.set("global.sender.address", "it@example.org").unwrap();
        app.set("global.port", "465").unwrap();
        assert_eq!(app.get("global.host").unwrap(), "smtp.policy.example");
        assert_eq!(app.get("global.port").unwrap(), "465", "an unlocked key: the user's own value wins");
        let file = std::fs::read_to_string(app.config_path()).unwrap();
        assert!(!file.contains("smtp.policy.example") && !file.contains("2525"), "{file}");
        let Err(Error::Locked { keys, reason }) = app.set("global.host", "evil.example.org") else { panic!("a locked key was changed") };
        assert_eq!(keys, ["global.host"]);
        assert!(reason.contains("policy.json"), "{reason}");
        assert!(matches!(app.unset("global.host"), Err(Error::Locked { .. })));
        // The window's save path, whatever the page sends.
        let edits = BTreeMap::from([("global.host".to_string(), "evil.example.org".to_string())]);
        assert!(matches!(app.save_form(&edits, &[]), Err(Error::Locked { .. })));
        assert!(app.preview(&edits, &[]).iter().any(|p| p.key == "global.host" && p.message.contains("cannot be changed")));
        assert_eq!(app.get("global.host").unwrap(), "smtp.policy.example");
        let view = app.policy_view();
        assert!(view.locked.contains(&"global.host".to_string()) && !view.locked.contains(&"global.port".to_string()));
        assert!(app.policy_note("global.host").unwrap().contains("set and locked"));
        assert!(policy_problem(&app.policy()).is_none());
        // (`config show` and `check` need the keychain: tests/policy.rs drives them.)
    }

    #[test]
    fn a_client_editor_names_the_keys_the_policy_locks_in_its_scope() {
        let (_dir, app) = app_with_policy(r#"{"lock": ["client.*.host", "route.*"]}"#);
        app.add_client("acme", "Acme").unwrap();
        let form = app.scope_form("client.acme").unwrap();
        assert_eq!(form.locked, ["client.acme.host"]);
        assert!(form.lock_reason.contains("policy.json"), "{}", form.lock_reason);
        let Err(Error::Locked { keys, .. }) = app.set("client.acme.host", "evil.example.org") else { panic!("a locked client key was changed") };
        assert_eq!(keys, ["client.acme.host"]);
        // Without a lock in the scope, nothing is named.
        let (_dir, app) = app_with_policy(r#"{"lock": ["global.host"]}"#);
        app.add_client("acme", "Acme").unwrap();
        let form = app.scope_form("client.acme").unwrap();
        assert!(form.locked.is_empty() && form.lock_reason.is_empty());
    }

    #[test]
    fn an_invalid_policy_locks_everything_and_check_reports_it() {
        let (_dir, app) = app_with_policy(r#"{"set": {"global.port": "0"}}"#);
        assert!(matches!(app.set("global.host", "smtp.example.org"), Err(Error::Locked { .. })));
        let p = policy_problem(&app.policy()).expect("reported");
        assert!(p.message.contains("policy.json") && p.message.contains("global.port"), "{}", p.message);
        // The window still opens and shows it.
        assert!(app.form().problems.iter().any(|p| p.key == "policy"));
    }
}
