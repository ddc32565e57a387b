//! Dotted keys (`global.port`, `client.acme.host`, `support.address`, …): the one way settings
//! are named, read and written by the CLI, the window and import alike.
//!
//! A key is a scope (global, a client, a route, support) plus a field of that scope's table,
//! which comes from the declarations on the model's fields ([`crate::settings`]). Reading and
//! writing are typed: [`Key::get`] and [`Key::write`] go to the scope's settings struct by key
//! name, never through the whole document's JSON.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::Config;
use crate::settings::Settings;

pub use crate::settings::{Field, Kind, CLIENT_FIELDS, LIMIT_FIELDS, RECEIVER_FIELDS, ROUTE_FIELDS, SEND_FIELDS, SERVER_FIELDS, SUPPORT_FIELDS, TEMPLATE_FIELDS};

/// Where a key lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Support,
    Client(String),
    Route(String),
    Receiver,
    /// An invitation template's user type.
    Template(String),
    /// A client's own invitation template: client ID, user type.
    ClientTemplate(String, String),
    Limits,
    /// `send.*`: the sendmail-compatible input.
    Send,
}

#[derive(Clone, Debug)]
pub struct Key {
    pub scope: Scope,
    pub field: &'static Field,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{}: unknown key (see `postdesk config show` for the keys)", shown(.0))]
    Unknown(String),
    #[error("{}: {ID_GRAMMAR}", shown(.0))]
    BadId(String),
}

/// The grammar of client IDs, route names and template types, typed or imported.
pub const ID_GRAMMAR: &str = "client IDs, route names and template types use letters, digits, '-' and '_' (at most 64)";

/// A client ID, route name or template type: one part of a dotted key, so no `.` or `#`, no
/// control character, not empty, at most 64 characters.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Text as a message may show it: control characters escaped (`\u{1b}`), so a hostile value
/// echoed in an error cannot drive the terminal or break the line it is shown on.
pub fn shown(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

impl Key {
    pub fn parse(text: &str) -> Result<Key, KeyError> {
        let unknown = || KeyError::Unknown(text.to_string());
        let find = |table: &'static [Field], name: &str| table.iter().find(|f| f.name == name);
        let (head, rest) = text.split_once('.').ok_or_else(unknown)?;
        let (scope, field) = match head {
            "global" => (Scope::Global, find(&SERVER_FIELDS, rest)),
            "support" => (Scope::Support, find(&SUPPORT_FIELDS, rest)),
            "receiver" => (Scope::Receiver, find(&RECEIVER_FIELDS, rest)),
            "limits" => (Scope::Limits, find(&LIMIT_FIELDS, rest)),
            "send" => (Scope::Send, find(&SEND_FIELDS, rest)),
            "templates" => {
                let (kind, name) = rest.split_once('.').ok_or_else(unknown)?;
                if !valid_id(kind) {
                    return Err(KeyError::BadId(text.to_string()));
                }
                (Scope::Template(kind.into()), find(&TEMPLATE_FIELDS, name))
            }
            "client" | "route" => {
                let (id, name) = rest.split_once('.').ok_or_else(unknown)?;
                if !valid_id(id) {
                    return Err(KeyError::BadId(text.to_string()));
                }
                if let Some(rest) = name.strip_prefix("templates.").filter(|_| head == "client") {
                    let (kind, name) = rest.split_once('.').ok_or_else(unknown)?;
                    if !valid_id(kind) {
                        return Err(KeyError::BadId(text.to_string()));
                    }
                    let field = find(&TEMPLATE_FIELDS, name).ok_or_else(unknown)?;
                    return Ok(Key { scope: Scope::ClientTemplate(id.into(), kind.into()), field });
                }
                let extra: &'static [Field] = if head == "client" { &CLIENT_FIELDS } else { &ROUTE_FIELDS };
                let field = find(extra, name).or_else(|| find(&SERVER_FIELDS, name));
                let scope = if head == "client" { Scope::Client(id.into()) } else { Scope::Route(id.into()) };
                (scope, field)
            }
            _ => return Err(unknown()),
        };
        Ok(Key { scope, field: field.ok_or_else(unknown)? })
    }

    pub fn is_secret(&self) -> bool {
        self.field.kind == Kind::Secret
    }

    /// The same field one layer up (client/route → global), for inheritance.
    pub fn parent(&self) -> Option<Key> {
        match self.scope {
            Scope::Client(_) | Scope::Route(_) if SERVER_FIELDS.iter().any(|f| f.name == self.field.name) => {
                Some(Key { scope: Scope::Global, field: self.field })
            }
            _ => None,
        }
    }

    /// The stored value as `config get` shows it, read from the typed model (`None` when unset).
    pub fn get<'c>(&self, config: &'c Config) -> Option<Cow<'c, str>> {
        let name = self.field.name;
        match &self.scope {
            Scope::Global => config.global.get(name),
            Scope::Support => config.support.get(name),
            Scope::Client(id) => config.clients.get(id)?.get(name),
            Scope::Route(n) => config.routes.get(n)?.get(name),
            Scope::Receiver => config.receiver.get(name),
            Scope::Limits => config.limits.get(name),
            Scope::Send => config.send.get(name),
            Scope::Template(kind) => config.templates.get(kind)?.get(name),
            Scope::ClientTemplate(id, kind) => config.clients.get(id)?.templates.get(kind)?.get(name),
        }
    }

    /// Value kept in the document, as JSON (`None` when unset).
    pub fn stored(&self, config: &Config) -> Option<Value> {
        self.stored_in(&document(config))
    }

    /// [`Key::stored`] on a [`document`] made once, for code that reads many keys.
    pub fn stored_in(&self, doc: &Value) -> Option<Value> {
        // The same path as `json_path`, walked without allocating (validation reads ~30 keys
        // per client).
        let mut node = match &self.scope {
            Scope::Global => doc.get("global")?,
            Scope::Support => doc.get("support")?,
            Scope::Client(id) => doc.get("clients")?.get(id)?,
            Scope::Route(name) => doc.get("routes")?.get(name)?,
            Scope::Receiver => doc.get("receiver")?,
            Scope::Limits => doc.get("limits")?,
            Scope::Send => doc.get("send")?,
            Scope::Template(kind) => doc.get("templates")?.get(kind)?,
            Scope::ClientTemplate(id, kind) => doc.get("clients")?.get(id)?.get("templates")?.get(kind)?,
        };
        for part in self.field.name.split('.') {
            node = node.get(part)?;
        }
        (!node.is_null()).then(|| node.clone())
    }

    /// Value in force: stored, else inherited from the global server, else the default.
    pub fn effective(&self, config: &Config) -> Option<String> {
        if let Some(v) = self.get(config) {
            return Some(v.into_owned());
        }
        match &self.scope {
            Scope::Template(kind) => return Some(crate::templates::default_text(kind, self.field.name).to_string()),
            // A client's template inherits the global one of its type.
            Scope::ClientTemplate(_, kind) => return Key { scope: Scope::Template(kind.clone()), field: self.field }.effective(config),
            Scope::Receiver if self.field.name == "port" => return Some(config.receiver.protocol.unwrap_or_default().default_port().to_string()),
            _ => {}
        }
        // A client or route's own server is off unless switched on; it does not inherit `enabled`.
        if self.field.inherited {
            if let Some(parent) = self.parent() {
                return parent.effective(config);
            }
        }
        self.field.default.map(String::from)
    }

    /// [`Key::effective`] on a [`document`] made once, for code that reads many keys.
    pub fn effective_in(&self, doc: &Value) -> Option<String> {
        if let Some(v) = self.stored_in(doc) {
            return Some(display(&v));
        }
        if let Scope::Template(kind) = &self.scope {
            return Some(crate::templates::default_text(kind, self.field.name).to_string());
        }
        // A client's template inherits the global one of its type.
        if let Scope::ClientTemplate(_, kind) = &self.scope {
            return Key { scope: Scope::Template(kind.clone()), field: self.field }.effective_in(doc);
        }
        // A client or route's own server is off unless switched on; it does not inherit `enabled`.
        if self.field.inherited {
            if let Some(parent) = self.parent() {
                return parent.effective_in(doc);
            }
        }
        if self.scope == Scope::Receiver && self.field.name == "port" {
            return Some(receiver_default_port(doc).to_string());
        }
        self.field.default.map(String::from)
    }

    /// Returns a copy of `config` with this key set to `value` (already parsed by
    /// [`parse_raw`]), or unset. Unsetting the last key of a client, route or template type
    /// removes it, as the document leaves no empty object behind.
    pub fn write(&self, config: &Config, value: Option<Value>) -> Config {
        let mut config = config.clone();
        self.write_into(&mut config, value);
        config
    }

    /// [`Key::write`] in place.
    pub fn write_into(&self, config: &mut Config, value: Option<Value>) {
        fn put<T: Settings>(node: &mut T, name: &str, value: Option<Value>) {
            // `parse_raw` made the value for this field's kind, so it fits the field's type.
            let set = node.set(name, value).expect("a parsed value fits its field");
            debug_assert!(set, "{name} is a key of its scope");
        }
        fn put_in<T: Settings>(map: &mut std::collections::BTreeMap<String, T>, id: &str, name: &str, value: Option<Value>) {
            let unset = value.is_none();
            if unset && !map.contains_key(id) {
                return;
            }
            let node = map.entry(id.to_string()).or_default();
            put(node, name, value);
            if unset && *node == T::default() {
                map.remove(id);
            }
        }
        if self.is_secret() {
            return; // Secrets live in the keychain, never in the model.
        }
        let name = self.field.name;
        match &self.scope {
            Scope::Global => put(&mut config.global, name, value),
            Scope::Support => put(&mut config.support, name, value),
            Scope::Receiver => put(&mut config.receiver, name, value),
            Scope::Limits => put(&mut config.limits, name, value),
            Scope::Send => put(&mut config.send, name, value),
            Scope::Client(id) => put_in(&mut config.clients, id, name, value),
            Scope::Route(n) => put_in(&mut config.routes, n, name, value),
            Scope::Template(kind) => put_in(&mut config.templates, kind, name, value),
            Scope::ClientTemplate(id, kind) => {
                let unset = value.is_none();
                let Some(client) = (match unset {
                    true => config.clients.get_mut(id),
                    false => Some(config.clients.entry(id.clone()).or_default()),
                }) else {
                    return;
                };
                put_in(&mut client.templates, kind, name, value);
                if unset && *client == Default::default() {
                    config.clients.remove(id);
                }
            }
        }
    }

    pub fn name(&self) -> String {
        match &self.scope {
            Scope::Global => format!("global.{}", self.field.name),
            Scope::Support => format!("support.{}", self.field.name),
            Scope::Client(id) => format!("client.{id}.{}", self.field.name),
            Scope::Route(n) => format!("route.{n}.{}", self.field.name),
            Scope::Receiver => format!("receiver.{}", self.field.name),
            Scope::Template(kind) => format!("templates.{kind}.{}", self.field.name),
            Scope::ClientTemplate(id, kind) => format!("client.{id}.templates.{kind}.{}", self.field.name),
            Scope::Limits => format!("limits.{}", self.field.name),
            Scope::Send => format!("send.{}", self.field.name),
        }
    }
}

/// The receiver's port when `receiver.port` is unset: its protocol's well-known port.
pub fn receiver_default_port(doc: &Value) -> u16 {
    let protocol = doc.pointer("/receiver/protocol").and_then(Value::as_str).and_then(crate::model::ReceiverProtocol::parse);
    protocol.unwrap_or_default().default_port()
}

/// The configuration's JSON form, which keys are read from. Code that reads many keys makes
/// it once and uses [`Key::stored_in`] / [`Key::effective_in`] (serializing per key would make
/// validating 10,000 clients quadratic).
pub fn document(config: &Config) -> Value {
    serde_json::to_value(config).expect("config serializes")
}

/// A JSON value as the CLI prints it.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses what an admin typed into the JSON value the document stores. Only the shape is
/// checked here (a number, a choice); everything else is [`crate::validate`]'s job.
pub fn parse_raw(field: &Field, raw: &str) -> Result<Option<Value>, String> {
    let typed = raw;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let value = match field.kind {
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "off" | "0" => Value::Bool(false),
            _ => return Err("must be true or false".into()),
        },
        Kind::Port => match raw.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Value::from(n),
            _ => return Err("must be a whole number from 1 to 65535".into()),
        },
        Kind::Order => match raw.parse::<u32>() {
            Ok(n) if n <= 100_000 => Value::from(n),
            _ => return Err("must be a whole number from 0 to 100000".into()),
        },
        Kind::Seconds => match raw.parse::<u32>() {
            Ok(n) if (1..=600).contains(&n) => Value::from(n),
            _ => return Err("must be a whole number of seconds from 1 to 600".into()),
        },
        Kind::Count => match raw.parse::<u32>() {
            Ok(n) if n <= 1_000_000 => Value::from(n),
            _ => return Err("must be a whole number from 0 to 1000000 (0 = no limit)".into()),
        },
        Kind::Enum(choices) => {
            let lower = raw.to_ascii_lowercase();
            if !choices.contains(&lower.as_str()) {
                return Err(format!("must be one of: {}", choices.join(", ")));
            }
            Value::String(lower)
        }
        // A body keeps its first line's indentation.
        Kind::TemplateBody => Value::String(typed.trim_end().trim_start_matches(['\r', '\n']).to_string()),
        Kind::Secret => return Err("is a secret: use `postdesk secret set` (reads it from stdin)".into()),
        _ => Value::String(raw.to_string()),
    };
    Ok(Some(value))
}

/// Every key that exists in `config` or could be set in its scopes, in display order.
pub fn all_keys(config: &Config) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut scope_keys = |scope: Scope, tables: &[&'static [Field]]| {
        for table in tables {
            for field in table.iter() {
                keys.push(Key { scope: scope.clone(), field });
            }
        }
    };
    scope_keys(Scope::Global, &[&*SERVER_FIELDS]);
    scope_keys(Scope::Support, &[&*SUPPORT_FIELDS]);
    scope_keys(Scope::Receiver, &[&*RECEIVER_FIELDS]);
    for (id, client) in &config.clients {
        scope_keys(Scope::Client(id.clone()), &[&*CLIENT_FIELDS, &*SERVER_FIELDS]);
        for kind in client.templates.keys() {
            scope_keys(Scope::ClientTemplate(id.clone(), kind.clone()), &[&*TEMPLATE_FIELDS]);
        }
    }
    for name in config.routes.keys() {
        scope_keys(Scope::Route(name.clone()), &[&*ROUTE_FIELDS, &*SERVER_FIELDS]);
    }
    scope_keys(Scope::Limits, &[&*LIMIT_FIELDS]);
    scope_keys(Scope::Send, &[&*SEND_FIELDS]);
    for kind in crate::templates::types(config) {
        scope_keys(Scope::Template(kind), &[&*TEMPLATE_FIELDS]);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_the_document() {
        let config = Config::default();
        for (name, raw) in [
            ("global.port", "587"),
            ("global.sender.address", "it@example.com"),
            ("global.m365.cloud", "usgov"),
            ("support.attach_system_info", "true"),
            ("client.acme.host", "smtp.acme.test"),
            ("client.acme.support.address", "help@acme.test"),
            ("route.billing.from", "*@billing.example.com"),
            ("receiver.protocol", "pop3-stls"),
            ("receiver.host", "pop.example.com"),
            ("receiver.before_send", "true"),
            ("send.local_domain", "host.example.com"),
        ] {
            let key = Key::parse(name).unwrap();
            assert_eq!(key.name(), name);
            let value = parse_raw(key.field, raw).unwrap();
            let updated = key.write(&config, value);
            assert_eq!(key.effective(&updated).as_deref(), Some(raw), "{name}");
            let cleared = key.write(&updated, None);
            assert_eq!(cleared, config, "unset {name} leaves no trace");
        }
    }

    #[test]
    fn client_keys_inherit_from_global_except_enabled() {
        let key = |k| Key::parse(k).unwrap();
        let mut config = Config::default();
        config = key("global.host").write(&config, Some("smtp.example.com".into()));
        config = key("global.enabled").write(&config, Some(true.into()));
        config = key("client.acme.name").write(&config, Some("ACME".into()));
        assert_eq!(key("client.acme.host").effective(&config).unwrap(), "smtp.example.com");
        assert_eq!(key("client.acme.port").effective(&config).unwrap(), "25");
        assert_eq!(key("client.acme.enabled").effective(&config).unwrap(), "false");
    }

    #[test]
    fn receiver_port_defaults_to_the_protocols_port() {
        let key = |k| Key::parse(k).unwrap();
        let mut config = Config::default();
        assert_eq!(key("receiver.port").effective(&config).unwrap(), "993");
        for (protocol, port) in [("imap", "143"), ("imap-starttls", "143"), ("imaps", "993"), ("pop3", "110"), ("pop3-stls", "110"), ("pop3s", "995")] {
            config = key("receiver.protocol").write(&config, Some(protocol.into()));
            assert_eq!(key("receiver.port").effective(&config).unwrap(), port, "{protocol}");
        }
        config = key("receiver.port").write(&config, Some(1995.into()));
        assert_eq!(key("receiver.port").effective(&config).unwrap(), "1995");
        assert!(key("receiver.password").is_secret());
        assert!(Key::parse("receiver.tls_verify").is_err());
    }

    #[test]
    fn unknown_and_malformed_keys_are_named() {
        for bad in ["global.hots", "global", "nothing.host", "client.acme", "support.host"] {
            assert_eq!(Key::parse(bad).unwrap_err(), KeyError::Unknown(bad.into()));
        }
        assert!(matches!(Key::parse("client.a b.host"), Err(KeyError::BadId(_))));
    }

    #[test]
    fn raw_values_are_parsed_by_kind() {
        let port = Key::parse("global.port").unwrap().field;
        assert!(parse_raw(port, "0").is_err());
        assert!(parse_raw(port, "65536").is_err());
        assert!(parse_raw(port, "abc").is_err());
        assert_eq!(parse_raw(port, " 465 ").unwrap(), Some(Value::from(465)));
        assert_eq!(parse_raw(port, "").unwrap(), None);
        let sec = Key::parse("global.security").unwrap().field;
        assert_eq!(parse_raw(sec, "STARTTLS").unwrap(), Some(Value::from("starttls")));
        assert!(parse_raw(sec, "ssl").unwrap_err().contains("none, starttls, tls"));
        let pw = Key::parse("global.password").unwrap().field;
        assert!(parse_raw(pw, "hunter2").unwrap_err().contains("secret set"));
    }
}
