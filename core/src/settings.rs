//! Each setting is declared once: on its field in the model ([`crate::model`]), with
//! `#[derive(Settings)]` and a `#[setting(kind = …, default = …, label = …)]` attribute. From
//! that one declaration come
//! - the key table ([`SERVER_FIELDS`], [`CLIENT_FIELDS`], …: name, kind, default, label), which
//!   [`crate::keys`] parses dotted keys against, `config show` lists and the UI gets as
//!   generated metadata (`ui/src/lib/bindings/settings.ts`);
//! - typed reading and writing by key name ([`Settings::get`], [`Settings::set`]), so a key is
//!   read and written on the typed model, never through the whole document's JSON;
//! - inheritance ([`Settings::inherit`]: a client's or route's unset keys from the global
//!   server) and typed getters with the default (`settings.port()` → `u16`), which
//!   [`crate::resolve`] builds the server of a mail from;
//! - the reading of a client's or route's flattened server keys ([`Settings::visit_field`],
//!   used by the hand-written `Deserialize` in `model_de`).
//!
//! Value checks are by [`Kind`] ([`crate::validate::check_value`]); rules between keys (a
//! server that is on needs a host) stay in [`crate::validate`].

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::LazyLock;

use serde::{Serialize, Serializer};
use ts_rs::TS;

pub use postdesk_derive::Settings;

use crate::model::{ClientSettings, LimitSettings, ReceiverSettings, RouteSettings, SendSettings, ServerSettings, SupportSettings, TemplateSettings};

/// What kind of value a field takes; decides parsing and value checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case", tag = "type", content = "choices")]
#[ts(export)]
pub enum Kind {
    Bool,
    Port,
    Seconds,
    /// Position among routes (lower first).
    Order,
    Host,
    Email,
    /// A display name: ends up in a header.
    DisplayName,
    /// Ends up in an SMTP command (user name).
    CommandText,
    Enum(&'static [&'static str]),
    Guid,
    Tenant,
    Url,
    Date,
    Path,
    FromPattern,
    Label,
    /// E-mail addresses, one per line.
    AddressList,
    /// Lives in the OS keychain, never in the document.
    Secret,
    /// An invitation subject: one line with `{{placeholders}}`.
    TemplateSubject,
    /// An invitation body: plain text, several lines, with `{{placeholders}}`.
    TemplateBody,
    /// A whole number from 0 to 1,000,000 (0 = no limit).
    Count,
    /// A DNS domain (no IP address), e.g. the domain given to bare local names.
    Domain,
}

/// One key of a scope, as declared on its model field.
#[derive(Clone, Copy, Debug, Serialize, TS)]
#[ts(export)]
pub struct Field {
    /// Key relative to its scope, e.g. `sender.address`.
    pub name: &'static str,
    pub kind: Kind,
    /// Shown when the value is unset (global scope only; clients inherit).
    pub default: Option<&'static str>,
    pub label: &'static str,
    /// A client's or route's value comes from the global server when unset (all server keys
    /// but `enabled`).
    pub inherited: bool,
}

impl Field {
    /// A table row for the derive: `prefix` + `name`, texts made `'static` once per process
    /// (the tables are built once, see [`Table`]).
    #[doc(hidden)]
    pub fn declared(prefix: &str, name: &'static str, kind: Kind, default: Option<String>, label_prefix: Option<&str>, label: &'static str, inherited: bool) -> Field {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        Field {
            name: if prefix.is_empty() { name } else { leak(format!("{prefix}{name}")) },
            kind,
            default: default.map(leak),
            label: match label_prefix {
                Some(p) => leak(format!("{p} {label}")),
                None => label,
            },
            inherited,
        }
    }
}

/// The marker of a key whose value lives in the OS keychain ([`crate::secrets`]): it places
/// the key in its table and is never saved (`#[serde(skip)]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keychain;

/// What `#[derive(Settings)]` implements (see the module's documentation).
pub trait Settings: Default + PartialEq + Sized {
    /// Appends this struct's keys, prefixed, in declaration order: the keys of clients only
    /// (`client_only`), or all others.
    fn collect_fields(prefix: &str, label_prefix: Option<&str>, client_only: bool, out: &mut Vec<Field>);
    /// The stored value of a key (relative to this struct), as `config get` shows it; `None`
    /// when unset or not a key here. Secrets read as unset: they are never in the model.
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
    /// Sets (or with `None` unsets) a key from its parsed JSON value ([`crate::keys::parse_raw`]);
    /// `Ok(false)` when `name` is not a key here.
    fn set(&mut self, name: &str, value: Option<serde_json::Value>) -> Result<bool, serde_json::Error>;
    /// This layer's values, each unset one (but `own` keys such as `enabled`) taken from `parent`.
    fn inherit(&self, parent: &Self) -> Self;
    /// Reads the value of `key` from a map being deserialized into this struct; `Ok(false)`
    /// when `key` is not one of its fields (the caller skips the value).
    fn visit_field<'de, A: serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// A value as the document stores it and `config get` shows it (an enum by its serde name).
#[doc(hidden)]
pub fn default_text<T: Serialize + ?Sized>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A parsed key value into its field's type.
#[doc(hidden)]
pub fn from_json<T: serde::de::DeserializeOwned>(value: Option<serde_json::Value>) -> Result<Option<T>, serde_json::Error> {
    value.map(serde_json::from_value).transpose()
}

/// A scope's key table, built once from the declarations.
pub struct Table(LazyLock<Vec<Field>>);

impl Deref for Table {
    type Target = [Field];
    fn deref(&self) -> &[Field] {
        &self.0
    }
}

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

fn keys_of<T: Settings>() -> Vec<Field> {
    let mut out = Vec::new();
    T::collect_fields("", None, false, &mut out);
    out
}

/// Fields of a mail server: the same for `global.`, `client.<ID>.` and `route.<NAME>.`.
pub static SERVER_FIELDS: Table = Table(LazyLock::new(keys_of::<ServerSettings>));
pub static SUPPORT_FIELDS: Table = Table(LazyLock::new(keys_of::<SupportSettings>));
/// Receive-before-send (`receiver.*`). The port's default depends on the protocol (see
/// [`crate::keys::Key::effective`]), so it has none here.
pub static RECEIVER_FIELDS: Table = Table(LazyLock::new(keys_of::<ReceiverSettings>));
/// A client's own keys (besides the server's).
pub static CLIENT_FIELDS: Table = Table(LazyLock::new(keys_of::<ClientSettings>));
/// A route's own keys (besides the server's).
pub static ROUTE_FIELDS: Table = Table(LazyLock::new(keys_of::<RouteSettings>));
/// `templates.<TYPE>.`: defaults depend on the type (see [`crate::templates::default_text`]).
pub static TEMPLATE_FIELDS: Table = Table(LazyLock::new(keys_of::<TemplateSettings>));
pub static LIMIT_FIELDS: Table = Table(LazyLock::new(keys_of::<LimitSettings>));
/// `send.*`: how `postdesk send` (the sendmail-compatible input) reads what it is given.
/// `local_domain` has no fixed default: unset, it is the domain of `global.sender.address`
/// (see [`crate::sendmail_args::local_domain`]).
pub static SEND_FIELDS: Table = Table(LazyLock::new(keys_of::<SendSettings>));

/// Every scope's table, as the UI gets it (`ui/src/lib/bindings/settings.ts`).
#[derive(Serialize)]
pub struct AllTables {
    pub server: &'static Table,
    pub client: &'static Table,
    pub route: &'static Table,
    pub support: &'static Table,
    pub receiver: &'static Table,
    pub templates: &'static Table,
    pub limits: &'static Table,
    pub send: &'static Table,
}

pub fn all_tables() -> AllTables {
    AllTables {
        server: &SERVER_FIELDS,
        client: &CLIENT_FIELDS,
        route: &ROUTE_FIELDS,
        support: &SUPPORT_FIELDS,
        receiver: &RECEIVER_FIELDS,
        templates: &TEMPLATE_FIELDS,
        limits: &LIMIT_FIELDS,
        send: &SEND_FIELDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{self, Key, Scope};
    use crate::model::Config;
    use serde_json::Value;

    /// A value of the field's kind that the document accepts.
    fn sample(field: &Field, n: usize) -> Option<Value> {
        Some(match field.kind {
            Kind::Secret => return None,
            Kind::Bool => (n % 2 == 0).into(),
            Kind::Port | Kind::Seconds | Kind::Order | Kind::Count => (n as u64 + 7).into(),
            Kind::Enum(choices) => choices[n % choices.len()].into(),
            _ => format!("value {n} of {}", field.name).into(),
        })
    }

    #[test]
    fn every_client_and_route_key_reads_as_in_the_document() {
        // Every key set (each enum choice in turn), and every key unset.
        for round in 0..4 {
            let mut config = Config::default();
            for (scope, tables) in [(Scope::Client("acme".into()), [&*CLIENT_FIELDS, &*SERVER_FIELDS]), (Scope::Route("r1".into()), [&*ROUTE_FIELDS, &*SERVER_FIELDS])] {
                for (n, field) in tables.iter().flat_map(|t| t.iter()).enumerate() {
                    if round < 3 {
                        config = Key { scope: scope.clone(), field }.write(&config, sample(field, n + round));
                    }
                }
            }
            config.clients.entry("empty".into()).or_default();
            let doc = keys::document(&config);
            for (id, client) in &config.clients {
                for field in CLIENT_FIELDS.iter().chain(SERVER_FIELDS.iter()) {
                    let key = Key { scope: Scope::Client(id.clone()), field };
                    let expected = key.stored_in(&doc).map(|v| keys::display(&v));
                    assert_eq!(client.get(field.name).map(Cow::into_owned), expected, "{}", key.name());
                }
            }
            for (name, route) in &config.routes {
                for field in ROUTE_FIELDS.iter().chain(SERVER_FIELDS.iter()) {
                    let key = Key { scope: Scope::Route(name.clone()), field };
                    let expected = key.stored_in(&doc).map(|v| keys::display(&v));
                    assert_eq!(route.get(field.name).map(Cow::into_owned), expected, "{}", key.name());
                }
            }
        }
    }
}

#[cfg(test)]
mod write_tests {
    use serde_json::{Map, Value};

    use crate::keys::{all_keys, parse_raw, Key, Kind, Scope};
    use crate::model::Config;

    /// How keys were written before the typed model: through the whole document's JSON, the
    /// leaf removed with every object it leaves empty. The reference the typed write must match.
    fn json_write(key: &Key, config: &Config, value: Option<Value>) -> Config {
        let mut path: Vec<String> = match &key.scope {
            Scope::Global => vec!["global".into()],
            Scope::Support => vec!["support".into()],
            Scope::Client(id) => vec!["clients".into(), id.clone()],
            Scope::Route(name) => vec!["routes".into(), name.clone()],
            Scope::Receiver => vec!["receiver".into()],
            Scope::Template(kind) => vec!["templates".into(), kind.clone()],
            Scope::ClientTemplate(id, kind) => vec!["clients".into(), id.clone(), "templates".into(), kind.clone()],
            Scope::Limits => vec!["limits".into()],
            Scope::Send => vec!["send".into()],
        };
        path.extend(key.field.name.split('.').map(String::from));
        fn remove(node: &mut Value, path: &[String]) {
            let Some(obj) = node.as_object_mut() else { return };
            if path.len() == 1 {
                obj.remove(&path[0]);
                return;
            }
            if let Some(child) = obj.get_mut(&path[0]) {
                remove(child, &path[1..]);
                if child.as_object().is_some_and(Map::is_empty) {
                    obj.remove(&path[0]);
                }
            }
        }
        let mut doc = serde_json::to_value(config).unwrap();
        match value {
            Some(v) => {
                let mut node = &mut doc;
                for part in &path[..path.len() - 1] {
                    node = node.as_object_mut().unwrap().entry(part.clone()).or_insert_with(|| Value::Object(Map::new()));
                }
                node.as_object_mut().unwrap().insert(path[path.len() - 1].clone(), v);
            }
            None => remove(&mut doc, &path),
        }
        serde_json::from_value(doc).unwrap()
    }

    fn raw(kind: Kind, n: usize) -> &'static str {
        match kind {
            Kind::Bool => ["true", "false"][n % 2],
            Kind::Port | Kind::Seconds | Kind::Order | Kind::Count => ["7", "600"][n % 2],
            Kind::Enum(choices) => choices[n % choices.len()],
            _ => ["some text", "other@example.com"][n % 2],
        }
    }

    #[test]
    fn typed_writes_match_the_document_writes_they_replace() {
        let mut names: Vec<String> = Vec::new();
        let mut seed = Config::default();
        for k in ["client.acme.name", "client.bare.host", "route.r1.from", "templates.power.subject", "client.acme.templates.power.body"] {
            let key = Key::parse(k).unwrap();
            seed = key.write(&seed, parse_raw(key.field, "x").unwrap());
        }
        seed.clients.entry("empty".into()).or_default();
        names.extend(all_keys(&seed).iter().filter(|k| !k.is_secret()).map(Key::name));
        names.extend(["client.new.host", "route.new.order", "templates.fresh.body", "client.new.templates.standard.subject", "client.empty.port"].map(String::from));
        for (round, config) in [Config::default(), seed].into_iter().enumerate() {
            let mut typed = config.clone();
            let mut json = config;
            // Set every key, then unset them all (in a different order), comparing each step.
            for (n, name) in names.iter().enumerate() {
                let key = Key::parse(name).unwrap();
                let value = parse_raw(key.field, raw(key.field.kind, n + round)).unwrap();
                typed = key.write(&typed, value.clone());
                json = json_write(&key, &json, value);
                assert_eq!(typed, json, "set {name}");
            }
            for name in names.iter().rev().step_by(2).chain(names.iter().step_by(2)) {
                let key = Key::parse(name).unwrap();
                typed = key.write(&typed, None);
                json = json_write(&key, &json, None);
                assert_eq!(typed, json, "unset {name}");
            }
        }
    }
}

/// Writes `ui/src/lib/bindings/settings.ts`: every scope's key table as declared, for the UI
/// (choices and defaults come from here, not from copies). Runs with the ts-rs exports
/// (`make bindings`, and `make test` checks the file is current).
#[cfg(test)]
#[test]
fn export_bindings_settings_tables() {
    let dir = std::env::var("TS_RS_EXPORT_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings").into());
    let tables = serde_json::to_string_pretty(&all_tables()).expect("tables serialize");
    let text = format!(
        "// Generated from the settings declared on the model's fields (core/src/settings.rs, `make bindings`). Do not edit.\n\
         import type {{ Field }} from './Field';\n\n\
         /** Every scope's keys: name, kind (with an enum's choices), default, label, inherited. */\n\
         export const SETTINGS = {tables} satisfies Record<string, Field[]>;\n"
    );
    let path = std::path::Path::new(&dir).join("settings.ts");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).expect("write settings.ts");
    }
}
