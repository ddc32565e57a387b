//! Dotted keys (`global.port`, `client.acme.host`, `support.address`, …): the one way settings
//! are named, read and written by the CLI, the window and import alike.
//!
//! A key is a scope (global, a client, a route, support) plus a field from a fixed table.
//! Reading and writing go through the document's JSON form, so the table is the only place
//! that knows which keys exist and what kind of value each takes.

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::model::Config;

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

#[derive(Clone, Copy, Debug, Serialize, TS)]
#[ts(export)]
pub struct Field {
    /// Key relative to its scope, e.g. `sender.address`.
    pub name: &'static str,
    pub kind: Kind,
    /// Shown when the value is unset (global scope only; clients inherit).
    pub default: Option<&'static str>,
    pub label: &'static str,
}

const fn f(name: &'static str, kind: Kind, default: Option<&'static str>, label: &'static str) -> Field {
    Field { name, kind, default, label }
}

pub const EMAIL_TYPE_CHOICES: &[&str] = &["smtp", "sendmail"];
pub const SECURITY_CHOICES: &[&str] = &["none", "starttls", "tls"];
pub const AUTH_CHOICES: &[&str] = &["none", "password", "m365-smtp", "m365-graph"];
pub const FLOW_CHOICES: &[&str] = &["delegated", "app"];
pub const CLOUD_CHOICES: &[&str] = &["global", "usgov", "usgov-dod", "china"];
pub const RECEIVER_PROTOCOL_CHOICES: &[&str] = &["imap", "imap-starttls", "imaps", "pop3", "pop3-stls", "pop3s"];
pub const IGNORE_DNE_CHOICES: &[&str] = &["none", "priority", "all"];

/// Fields of a mail server: the same for `global.`, `client.<ID>.` and `route.<NAME>.`.
pub const SERVER_FIELDS: &[Field] = &[
    f("enabled", Kind::Bool, Some("false"), "Use mail server"),
    f("email_type", Kind::Enum(EMAIL_TYPE_CHOICES), Some("smtp"), "Email type"),
    f("sendmail_path", Kind::Path, Some("/usr/sbin/sendmail"), "sendmail program"),
    f("host", Kind::Host, None, "Mail server"),
    f("port", Kind::Port, Some("25"), "Port"),
    f("security", Kind::Enum(SECURITY_CHOICES), Some("none"), "Encryption"),
    f("auth", Kind::Enum(AUTH_CHOICES), Some("none"), "Authentication"),
    f("username", Kind::CommandText, None, "Username"),
    f("password", Kind::Secret, None, "Password"),
    f("sender.address", Kind::Email, None, "Sender address"),
    f("sender.name", Kind::DisplayName, None, "Sender name"),
    f("reply_to.address", Kind::Email, None, "Reply-To address"),
    f("reply_to.name", Kind::DisplayName, None, "Reply-To name"),
    f("utf8_headers", Kind::Bool, Some("false"), "UTF-8 headers (RFC 6532)"),
    f("timeout_secs", Kind::Seconds, Some("10"), "Timeout (seconds)"),
    f("data_timeout_secs", Kind::Seconds, Some("600"), "Wait for the end of a message (seconds)"),
    f("ca_file", Kind::Path, None, "Extra CA file"),
    f("tls_verify", Kind::Bool, Some("true"), "Verify TLS certificates"),
    f("m365.tenant", Kind::Tenant, None, "Tenant ID"),
    f("m365.client_id", Kind::Guid, None, "Client ID"),
    f("m365.client_secret", Kind::Secret, None, "Client secret"),
    f("m365.flow", Kind::Enum(FLOW_CHOICES), Some("delegated"), "Sign-in flow"),
    f("m365.cloud", Kind::Enum(CLOUD_CHOICES), Some("global"), "Cloud"),
    f("m365.authority", Kind::Url, None, "Login URL override"),
    f("m365.graph_url", Kind::Url, None, "Graph URL override"),
    f("m365.allow_custom_endpoints", Kind::Bool, Some("false"), "Allow login and Graph URLs outside Microsoft's clouds"),
    f("m365.secret_expires", Kind::Date, None, "Client secret expires"),
];

pub const SUPPORT_FIELDS: &[Field] = &[
    f("address", Kind::Email, None, "Support request address"),
    f("allow_client_address", Kind::Bool, Some("false"), "Allow client-specific support address"),
    f("attach_system_info", Kind::Bool, Some("false"), "Attach system information"),
];

/// Receive-before-send (`receiver.*`). The port's default depends on the protocol (see
/// [`Key::effective_in`]), so it has none here.
pub const RECEIVER_FIELDS: &[Field] = &[
    f("enabled", Kind::Bool, Some("false"), "Use receiver"),
    f("protocol", Kind::Enum(RECEIVER_PROTOCOL_CHOICES), Some("imaps"), "Protocol"),
    f("host", Kind::Host, None, "Receiver server"),
    f("port", Kind::Port, None, "Port"),
    f("username", Kind::CommandText, None, "Username"),
    f("password", Kind::Secret, None, "Password"),
    f("ca_file", Kind::Path, None, "Extra CA file"),
    f("before_send", Kind::Bool, Some("false"), "Log in before each send"),
];

pub const CLIENT_FIELDS: &[Field] = &[
    f("name", Kind::Label, None, "Client name"),
    f("support.address", Kind::Email, None, "Client support address"),
    f("sender.alternatives", Kind::AddressList, None, "Alternative sender addresses (one per line)"),
    f("sender.conceal", Kind::Bool, Some("false"), "Conceal sender (system address, user's name)"),
];

pub const ROUTE_FIELDS: &[Field] = &[
    f("from", Kind::FromPattern, None, "From address pattern"),
    f("order", Kind::Order, Some("100"), "Order among equally specific routes"),
];

/// `templates.<TYPE>.`: defaults depend on the type (see [`crate::templates::default_text`]).
pub const TEMPLATE_FIELDS: &[Field] = &[
    f("subject", Kind::TemplateSubject, None, "Subject"),
    f("body", Kind::TemplateBody, None, "Body"),
];

pub const LIMIT_FIELDS: &[Field] = &[
    f("max_per_day", Kind::Count, Some("0"), "Mails per 24 hours (0 = no limit)"),
    f("ignore_dne_for", Kind::Enum(IGNORE_DNE_CHOICES), Some("none"), "Ignore the Do-Not-Email list for"),
];

/// `send.*`: how `postdesk send` (the sendmail-compatible input) reads what it is given.
/// `local_domain` has no fixed default: unset, it is the domain of `global.sender.address`
/// (see [`crate::sendmail_args::local_domain`]).
pub const SEND_FIELDS: &[Field] = &[f("local_domain", Kind::Domain, None, "Domain for bare local names (root → root@domain)")];

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
            "global" => (Scope::Global, find(SERVER_FIELDS, rest)),
            "support" => (Scope::Support, find(SUPPORT_FIELDS, rest)),
            "receiver" => (Scope::Receiver, find(RECEIVER_FIELDS, rest)),
            "limits" => (Scope::Limits, find(LIMIT_FIELDS, rest)),
            "send" => (Scope::Send, find(SEND_FIELDS, rest)),
            "templates" => {
                let (kind, name) = rest.split_once('.').ok_or_else(unknown)?;
                if !valid_id(kind) {
                    return Err(KeyError::BadId(text.to_string()));
                }
                (Scope::Template(kind.into()), find(TEMPLATE_FIELDS, name))
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
                    let field = find(TEMPLATE_FIELDS, name).ok_or_else(unknown)?;
                    return Ok(Key { scope: Scope::ClientTemplate(id.into(), kind.into()), field });
                }
                let extra = if head == "client" { CLIENT_FIELDS } else { ROUTE_FIELDS };
                let field = find(extra, name).or_else(|| find(SERVER_FIELDS, name));
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

    /// The scope's server fields live at the top of a client/route object (flattened).
    fn json_path(&self) -> Vec<String> {
        let mut path: Vec<String> = match &self.scope {
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
        path.extend(self.field.name.split('.').map(String::from));
        path
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
        self.effective_in(&document(config))
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
        if self.field.name != "enabled" {
            if let Some(parent) = self.parent() {
                return parent.effective_in(doc);
            }
        }
        if self.scope == Scope::Receiver && self.field.name == "port" {
            return Some(receiver_default_port(doc).to_string());
        }
        self.field.default.map(String::from)
    }

    /// Returns a copy of `config` with this key set to `value` (already parsed), or unset.
    pub fn write(&self, config: &Config, value: Option<Value>) -> Config {
        let mut doc = serde_json::to_value(config).expect("config serializes");
        let path = self.json_path();
        match value {
            Some(v) => {
                let mut node = &mut doc;
                for part in &path[..path.len() - 1] {
                    let obj = node.as_object_mut().expect("document nodes are objects");
                    node = obj.entry(part.clone()).or_insert_with(|| Value::Object(Map::new()));
                }
                node.as_object_mut().expect("object").insert(path[path.len() - 1].clone(), v);
            }
            None => remove_path(&mut doc, &path),
        }
        serde_json::from_value(doc).expect("a parsed value always fits its field")
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

/// Removes a leaf and then any object it leaves empty, so unset keys leave no trace.
fn remove_path(node: &mut Value, path: &[String]) {
    let Some(obj) = node.as_object_mut() else { return };
    if path.len() == 1 {
        obj.remove(&path[0]);
        return;
    }
    if let Some(child) = obj.get_mut(&path[0]) {
        remove_path(child, &path[1..]);
        if child.as_object().is_some_and(Map::is_empty) {
            obj.remove(&path[0]);
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
    scope_keys(Scope::Global, &[SERVER_FIELDS]);
    scope_keys(Scope::Support, &[SUPPORT_FIELDS]);
    scope_keys(Scope::Receiver, &[RECEIVER_FIELDS]);
    for (id, client) in &config.clients {
        scope_keys(Scope::Client(id.clone()), &[CLIENT_FIELDS, SERVER_FIELDS]);
        for kind in client.templates.keys() {
            scope_keys(Scope::ClientTemplate(id.clone(), kind.clone()), &[TEMPLATE_FIELDS]);
        }
    }
    for name in config.routes.keys() {
        scope_keys(Scope::Route(name.clone()), &[ROUTE_FIELDS, SERVER_FIELDS]);
    }
    scope_keys(Scope::Limits, &[LIMIT_FIELDS]);
    scope_keys(Scope::Send, &[SEND_FIELDS]);
    for kind in crate::templates::types(config) {
        scope_keys(Scope::Template(kind), &[TEMPLATE_FIELDS]);
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
