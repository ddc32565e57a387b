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
    /// An HTTP proxy: `http://host:port`.
    ProxyUrl,
    /// A no-proxy list: host suffixes, `*`, IP addresses and networks, comma-separated.
    NoProxy,
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

/// A scope's key table, built once from the declarations (the tables are in [`crate::keys`]).
pub struct Table(LazyLock<Vec<Field>>);

impl Table {
    pub const fn new(build: fn() -> Vec<Field>) -> Table {
        Table(LazyLock::new(build))
    }
}

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

/// The keys a settings struct declares, in order (its client-only keys left out).
pub fn keys_of<T: Settings>() -> Vec<Field> {
    let mut out = Vec::new();
    T::collect_fields("", None, false, &mut out);
    out
}
