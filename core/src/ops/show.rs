//! `config show` as a `Postdesk` operation: every key with its value and where the value comes
//! from, or the saved document with each secret key present but masked.

use serde_json::{json, Value};

use crate::app::{Error, Postdesk};
use crate::edits::secret_keys;
use crate::keys::all_keys;

/// Where a listed value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Saved in the document (or, for a secret, its keychain status).
    Stored,
    /// Not saved here: the global value a client or route inherits.
    Inherited,
    /// Not saved: the built-in default.
    Default,
    /// Set by the organization's policy (never saved in the user's file).
    Policy,
}

/// One key as `config show` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownKey {
    pub name: String,
    /// The value as text; a secret's is masked (`set` / `not set`, as `config get` shows it).
    pub value: String,
    pub origin: Origin,
    /// The organization's policy locks it.
    pub locked: bool,
}

/// Every setting for `config show`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// Every key that has a value, in display order.
    pub keys: Vec<ShownKey>,
    /// How many entries the do-not-email list holds.
    pub dne_entries: usize,
}

impl Postdesk {
    /// The masked status of every secret key the document refers to, as `config get` shows it.
    fn secret_status(&self, config: &crate::model::Config) -> Result<Vec<(String, String)>, Error> {
        secret_keys(config).into_iter().map(|key| Ok((key.clone(), self.get(&key)?))).collect()
    }

    /// Every key with a value (stored, inherited or default), in display order; secrets masked.
    pub fn show(&self) -> Result<Shown, Error> {
        let config = self.load()?;
        let policy = self.policy();
        let stored = if policy.set.is_empty() { None } else { Some(self.load_stored()?) };
        let status = self.secret_status(&config)?;
        let mut keys = Vec::new();
        for key in all_keys(&config) {
            let name = key.name();
            let (value, origin) = if key.is_secret() {
                (status.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default(), Origin::Stored)
            } else if let Some(v) = key.get(&config) {
                let from_policy = stored.as_ref().is_some_and(|s| policy.sets_in(&name, s));
                (v.into_owned(), if from_policy { Origin::Policy } else { Origin::Stored })
            } else if let Some(v) = key.effective(&config) {
                (v, if key.parent().is_some() && key.field.inherited { Origin::Inherited } else { Origin::Default })
            } else {
                continue;
            };
            let locked = !key.is_secret() && policy.is_active() && policy.is_locked(&name);
            keys.push(ShownKey { name, value, origin, locked });
        }
        Ok(Shown { keys, dne_entries: config.dne.len() })
    }

    /// The document as saved, with each secret key present but masked (`config show --json`).
    pub fn show_document(&self) -> Result<Value, Error> {
        let config = self.load()?;
        let status = self.secret_status(&config)?;
        let mut doc = serde_json::to_value(&config).expect("config serializes");
        for (key, masked) in &status {
            insert_dotted(&mut doc, key, Value::from(masked.as_str()));
        }
        Ok(doc)
    }
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
