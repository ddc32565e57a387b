//! Reading a client's or route's keys straight from the typed model, for code that reads
//! every key of 10,000 clients ([`crate::validate`]): the same values, shown the same way, as
//! [`Key::stored_in`](crate::keys::Key::stored_in) + [`display`](crate::keys::display) read
//! from the JSON [`document`](crate::keys::document), without serializing the whole
//! configuration first. `keys.rs` stays the one list of keys; the test below checks every
//! client and route key of that list against the document.

use std::borrow::Cow;

use serde::Serialize;

use crate::keys::Field;
use crate::model::{ClientSettings, RouteSettings, ServerSettings};

/// A client's or a route's settings.
#[derive(Clone, Copy)]
pub(crate) enum Layer<'a> {
    Client(&'a ClientSettings),
    Route(&'a RouteSettings),
}

impl<'a> Layer<'a> {
    pub(crate) fn server(self) -> &'a ServerSettings {
        match self {
            Layer::Client(c) => &c.server,
            Layer::Route(r) => &r.server,
        }
    }

    /// The stored value of one of the layer's fields (`CLIENT_FIELDS`/`ROUTE_FIELDS` or
    /// `SERVER_FIELDS`), as [`crate::keys::display`] shows it; `None` when unset.
    pub(crate) fn stored(self, field: &Field) -> Option<Cow<'a, str>> {
        match (self, field.name) {
            (Layer::Client(c), "name") => text(&c.name),
            (Layer::Client(c), "support.address") => text(&c.support.address),
            (Layer::Route(r), "from") => text(&r.from),
            (Layer::Route(r), "order") => number(r.order),
            (_, name) => server_stored(self.server(), name),
        }
    }
}

fn text(v: &Option<String>) -> Option<Cow<'_, str>> {
    v.as_deref().map(Cow::Borrowed)
}

fn flag(v: Option<bool>) -> Option<Cow<'static, str>> {
    v.map(|b| Cow::Borrowed(if b { "true" } else { "false" }))
}

fn number(v: Option<impl ToString>) -> Option<Cow<'static, str>> {
    v.map(|n| Cow::Owned(n.to_string()))
}

/// An enum as the document stores it (its serde name).
fn choice<T: Serialize>(v: &Option<T>) -> Option<Cow<'static, str>> {
    v.as_ref().map(|v| match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Cow::Owned(s),
        other => Cow::Owned(other.map(|v| v.to_string()).unwrap_or_default()),
    })
}

/// A server field by its key name (`host`, `sender.address`, `m365.tenant`, …). Secrets are
/// never in the model, so they read as unset, as in the document.
pub(crate) fn server_stored<'a>(s: &'a ServerSettings, name: &str) -> Option<Cow<'a, str>> {
    match name {
        "enabled" => flag(s.enabled),
        "email_type" => choice(&s.email_type),
        "sendmail_path" => text(&s.sendmail_path),
        "host" => text(&s.host),
        "port" => number(s.port),
        "security" => choice(&s.security),
        "auth" => choice(&s.auth),
        "username" => text(&s.username),
        "sender.address" => text(&s.sender.address),
        "sender.name" => text(&s.sender.name),
        "sender.alternatives" => text(&s.sender.alternatives),
        "sender.conceal" => flag(s.sender.conceal),
        "reply_to.address" => text(&s.reply_to.address),
        "reply_to.name" => text(&s.reply_to.name),
        "utf8_headers" => flag(s.utf8_headers),
        "timeout_secs" => number(s.timeout_secs),
        "data_timeout_secs" => number(s.data_timeout_secs),
        "ca_file" => text(&s.ca_file),
        "tls_verify" => flag(s.tls_verify),
        "m365.tenant" => text(&s.m365.tenant),
        "m365.client_id" => text(&s.m365.client_id),
        "m365.flow" => choice(&s.m365.flow),
        "m365.cloud" => choice(&s.m365.cloud),
        "m365.authority" => text(&s.m365.authority),
        "m365.graph_url" => text(&s.m365.graph_url),
        "m365.allow_custom_endpoints" => flag(s.m365.allow_custom_endpoints),
        "m365.secret_expires" => text(&s.m365.secret_expires),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{self, Key, Kind, Scope, CLIENT_FIELDS, ROUTE_FIELDS, SERVER_FIELDS};
    use crate::model::Config;

    /// A value of the field's kind that the document accepts.
    fn sample(field: &Field, n: usize) -> Option<serde_json::Value> {
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
            for (scope, tables) in [(Scope::Client("acme".into()), [CLIENT_FIELDS, SERVER_FIELDS]), (Scope::Route("r1".into()), [ROUTE_FIELDS, SERVER_FIELDS])] {
                for (n, field) in tables.iter().flat_map(|t| t.iter()).enumerate() {
                    if round < 3 {
                        config = Key { scope: scope.clone(), field }.write(&config, sample(field, n + round));
                    }
                }
            }
            config.clients.entry("empty".into()).or_default();
            let doc = keys::document(&config);
            for (id, client) in &config.clients {
                for field in CLIENT_FIELDS.iter().chain(SERVER_FIELDS) {
                    let key = Key { scope: Scope::Client(id.clone()), field };
                    let expected = key.stored_in(&doc).map(|v| keys::display(&v));
                    assert_eq!(Layer::Client(client).stored(field).map(Cow::into_owned), expected, "{}", key.name());
                }
            }
            for (name, route) in &config.routes {
                for field in ROUTE_FIELDS.iter().chain(SERVER_FIELDS) {
                    let key = Key { scope: Scope::Route(name.clone()), field };
                    let expected = key.stored_in(&doc).map(|v| keys::display(&v));
                    assert_eq!(Layer::Route(route).stored(field).map(Cow::into_owned), expected, "{}", key.name());
                }
            }
        }
    }
}
