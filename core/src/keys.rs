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

pub use crate::settings::{Field, Kind};
use crate::model::{ClientSettings, LimitSettings, ReceiverSettings, RouteSettings, ProxySettings, SendSettings, ServerSettings, SupportSettings, TemplateSettings};
use crate::settings::{keys_of, Table};

/// Fields of a mail server: the same for `global.`, `client.<ID>.` and `route.<NAME>.`.
pub static SERVER_FIELDS: Table = Table::new(keys_of::<ServerSettings>);
pub static SUPPORT_FIELDS: Table = Table::new(keys_of::<SupportSettings>);
/// Receive-before-send (`receiver.*`). The port's default depends on the protocol (see
/// [`crate::keys::Key::effective`]), so it has none here.
pub static RECEIVER_FIELDS: Table = Table::new(keys_of::<ReceiverSettings>);
/// A client's own keys (besides the server's).
pub static CLIENT_FIELDS: Table = Table::new(keys_of::<ClientSettings>);
/// A route's own keys (besides the server's).
pub static ROUTE_FIELDS: Table = Table::new(keys_of::<RouteSettings>);
/// `templates.<TYPE>.`: defaults depend on the type (see [`crate::templates::default_text`]).
pub static TEMPLATE_FIELDS: Table = Table::new(keys_of::<TemplateSettings>);
pub static LIMIT_FIELDS: Table = Table::new(keys_of::<LimitSettings>);
/// `send.*`: how `postdesk send` (the sendmail-compatible input) reads what it is given.
/// `local_domain` has no fixed default: unset, it is the domain of `global.sender.address`
/// (see [`crate::sendmail_args::local_domain`]).
pub static SEND_FIELDS: Table = Table::new(keys_of::<SendSettings>);
/// `proxy.*`: the HTTP proxy for Entra ID and Graph.
pub static PROXY_FIELDS: Table = Table::new(keys_of::<ProxySettings>);

/// Every scope's table, as the UI gets it (`ui/src/lib/bindings/settings.ts`).
#[cfg(test)]
#[derive(serde::Serialize)]
pub struct AllTables {
    pub server: &'static Table,
    pub client: &'static Table,
    pub route: &'static Table,
    pub support: &'static Table,
    pub receiver: &'static Table,
    pub templates: &'static Table,
    pub limits: &'static Table,
    pub send: &'static Table,
    pub proxy: &'static Table,
}

#[cfg(test)]
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
        proxy: &PROXY_FIELDS,
    }
}

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
    /// `proxy.*`: the HTTP proxy for Entra ID and Graph.
    Proxy,
}

#[derive(Clone, Debug)]
pub struct Key {
    pub scope: Scope,
    pub field: &'static Field,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Shown as `global.hots: unknown key; did you mean global.host? …` (see [`suggest`]).
    #[error("{}: {}", shown(.0), self.message())]
    Unknown(String),
    #[error("{}: {}", shown(.0), self.message())]
    BadId(String),
}

impl KeyError {
    /// The message without the key in front, for places that show the key apart (a
    /// [`crate::Problem`] on that key): the key is named once.
    pub fn message(&self) -> String {
        match self {
            KeyError::Unknown(text) => unknown_key_message(text),
            KeyError::BadId(_) => ID_GRAMMAR.to_string(),
        }
    }
}

/// "unknown key", with the nearest known key when there is one close enough, and where to
/// find them all. Used by `config get/set/unset` (through [`KeyError`]) and import.
pub fn unknown_key_message(text: &str) -> String {
    // A section alone (`global`, `client.acme`): say so, with one of its keys.
    let example = match text.split('.').collect::<Vec<_>>().as_slice() {
        ["global"] | ["receiver"] => Some(format!("{text}.host")),
        ["support"] => Some("support.address".to_string()),
        ["limits"] => Some("limits.max_per_day".to_string()),
        ["send"] => Some("send.local_domain".to_string()),
        ["templates"] => Some("templates.power.subject".to_string()),
        ["templates", kind] if valid_id(kind) => Some(format!("{text}.subject")),
        ["client" | "route", id] if valid_id(id) => Some(format!("{text}.host")),
        _ => None,
    };
    if let Some(example) = example {
        return format!("names a section, not a setting: `postdesk config show` lists its keys (such as {example})");
    }
    match suggest(text) {
        Some(near) => format!("unknown key; did you mean {near}? (`postdesk config show` lists the keys)"),
        None => "unknown key (`postdesk config show` lists the keys)".to_string(),
    }
}

/// The known key nearest to `text` (a mistyped key), if one is close enough to be what was
/// meant: the smallest edit distance (insertions, deletions, substitutions and swaps of
/// neighbouring letters) over the declared key tables, with the client ID, route name or
/// template type taken from `text` itself (`client.acme.hots` → `client.acme.host`).
/// A key that is only a field name (`host`) suggests the global one.
pub fn suggest(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 200 {
        return None;
    }
    let mut candidates: Vec<String> = Vec::new();
    let mut add = |prefix: &str, tables: &[&'static [Field]]| {
        for table in tables {
            candidates.extend(table.iter().map(|f| format!("{prefix}{}", f.name)));
        }
    };
    add("global.", &[&*SERVER_FIELDS]);
    add("support.", &[&*SUPPORT_FIELDS]);
    add("receiver.", &[&*RECEIVER_FIELDS]);
    add("limits.", &[&*LIMIT_FIELDS]);
    add("send.", &[&*SEND_FIELDS]);
    let parts: Vec<&str> = text.split('.').collect();
    // Scopes named by an ID: the ID (and template type) as typed, when it is a valid one.
    if let Some(id) = parts.get(1).filter(|id| valid_id(id)) {
        add(&format!("client.{id}."), &[&*CLIENT_FIELDS, &*SERVER_FIELDS]);
        add(&format!("route.{id}."), &[&*ROUTE_FIELDS, &*SERVER_FIELDS]);
        add(&format!("templates.{id}."), &[&*TEMPLATE_FIELDS]);
        if let Some(kind) = parts.get(3).filter(|k| valid_id(k)) {
            add(&format!("client.{id}.templates.{kind}."), &[&*TEMPLATE_FIELDS]);
        }
    }
    // Only a field name: the global server's key of that name (`host` → `global.host`).
    if !text.contains('.') {
        if let Some(f) = SERVER_FIELDS.iter().find(|f| f.name == text) {
            return Some(format!("global.{}", f.name));
        }
    }
    let len = text.chars().count();
    let limit = (len / 5).clamp(1, 3);
    candidates
        .into_iter()
        // A length further off than the limit cannot be within it: no table walk for those.
        .filter(|c| c != text && c.chars().count().abs_diff(len) <= limit)
        .map(|c| (edit_distance(text, &c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)))
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each count 1 (`hots` → `host` is 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1).min(d[i * width + j - 1] + 1).min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// The grammar of client IDs, route names and template types, typed or imported.
pub const ID_GRAMMAR: &str = "client IDs, route names and template types use letters, digits, '-' and '_' (at most 64)";

/// A client ID, route name or template type: one part of a dotted key, so no `.` or `#`, no
/// control character, not empty, at most 64 characters.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub use crate::checks::shown;

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
            "proxy" => (Scope::Proxy, find(&PROXY_FIELDS, rest)),
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
            Scope::Proxy => config.proxy.get(name),
            Scope::Template(kind) => config.templates.get(kind)?.get(name),
            Scope::ClientTemplate(id, kind) => config.clients.get(id)?.templates.get(kind)?.get(name),
        }
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
            Scope::Proxy => put(&mut config.proxy, name, value),
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
            Scope::Proxy => format!("proxy.{}", self.field.name),
        }
    }
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
    scope_keys(Scope::Proxy, &[&*PROXY_FIELDS]);
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
    fn an_unknown_key_is_named_once_with_the_nearest_known_key() {
        let shown = |k: &str| Key::parse(k).unwrap_err().to_string();
        assert_eq!(shown("global.hots"), "global.hots: unknown key; did you mean global.host? (`postdesk config show` lists the keys)");
        assert_eq!(Key::parse("global.hots").unwrap_err().message(), "unknown key; did you mean global.host? (`postdesk config show` lists the keys)");
        // Client and route keys keep their ID; a scope's own keys are found as well as the server's.
        assert_eq!(suggest("client.acme.hots").as_deref(), Some("client.acme.host"));
        assert_eq!(suggest("client.acme.sender.adress").as_deref(), Some("client.acme.sender.address"));
        assert_eq!(suggest("route.billing.form").as_deref(), Some("route.billing.from"));
        assert_eq!(suggest("client.acme.templates.power.subjet").as_deref(), Some("client.acme.templates.power.subject"));
        assert_eq!(suggest("templates.power.bdy").as_deref(), Some("templates.power.body"));
        // A mistyped scope, a scope's field, a bare field name.
        assert_eq!(suggest("globl.port").as_deref(), Some("global.port"));
        assert_eq!(suggest("limits.max_per_dya").as_deref(), Some("limits.max_per_day"));
        assert_eq!(suggest("receiver.hots").as_deref(), Some("receiver.host"));
        assert_eq!(suggest("host").as_deref(), Some("global.host"));
        assert_eq!(suggest("global.enable").as_deref(), Some("global.enabled"));
        // Nothing near: no guess, and the message says where the keys are.
        assert_eq!(suggest("support.host"), None);
        assert_eq!(suggest("nothing.at.all"), None);
        assert_eq!(shown("nothing.host"), "nothing.host: unknown key (`postdesk config show` lists the keys)");
        // A section alone is not a setting: said so, with one of its keys.
        assert_eq!(shown("global"), "global: names a section, not a setting: `postdesk config show` lists its keys (such as global.host)");
        assert_eq!(shown("client.acme"), "client.acme: names a section, not a setting: `postdesk config show` lists its keys (such as client.acme.host)");
        assert!(shown("templates.power").ends_with("(such as templates.power.subject)"));
        // Hostile text: no panic, nothing echoed raw.
        assert_eq!(suggest(&"x".repeat(10_000)), None);
        assert!(!shown("global.\u{1b}[31mhots").contains('\u{1b}'));
        // Every declared key is its own nearest: a suggestion is always a key that parses.
        let config = Key::parse("client.acme.name").unwrap().write(&Config::default(), Some("A".into()));
        let config = Key::parse("route.r1.from").unwrap().write(&config, Some("*@a.test".into()));
        for key in all_keys(&config) {
            let name = key.name();
            let mut typo = name.clone();
            typo.push('x');
            if let Some(near) = suggest(&typo) {
                assert!(Key::parse(&near).is_ok(), "{typo} → {near}");
            }
        }
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

#[cfg(test)]
mod typed_tests {
    use super::*;
    use crate::keys::{self, Key, Scope};
    use crate::model::Config;
    use serde_json::Value;

    /// How keys were read before the typed model: from the whole document's JSON. The
    /// reference the typed reads must match.
    fn json_stored(key: &Key, doc: &Value) -> Option<Value> {
        let mut node = match &key.scope {
            Scope::Global => doc.get("global")?,
            Scope::Support => doc.get("support")?,
            Scope::Client(id) => doc.get("clients")?.get(id)?,
            Scope::Route(name) => doc.get("routes")?.get(name)?,
            Scope::Receiver => doc.get("receiver")?,
            Scope::Limits => doc.get("limits")?,
            Scope::Send => doc.get("send")?,
            Scope::Proxy => doc.get("proxy")?,
            Scope::Template(kind) => doc.get("templates")?.get(kind)?,
            Scope::ClientTemplate(id, kind) => doc.get("clients")?.get(id)?.get("templates")?.get(kind)?,
        };
        for part in key.field.name.split('.') {
            node = node.get(part)?;
        }
        (!node.is_null()).then(|| node.clone())
    }

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
            let doc = serde_json::to_value(&config).unwrap();
            for (id, client) in &config.clients {
                for field in CLIENT_FIELDS.iter().chain(SERVER_FIELDS.iter()) {
                    let key = Key { scope: Scope::Client(id.clone()), field };
                    let expected = json_stored(&key, &doc).map(|v| keys::display(&v));
                    assert_eq!(client.get(field.name).map(Cow::into_owned), expected, "{}", key.name());
                }
            }
            for (name, route) in &config.routes {
                for field in ROUTE_FIELDS.iter().chain(SERVER_FIELDS.iter()) {
                    let key = Key { scope: Scope::Route(name.clone()), field };
                    let expected = json_stored(&key, &doc).map(|v| keys::display(&v));
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
            Scope::Proxy => vec!["proxy".into()],
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
