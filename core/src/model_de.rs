//! Hand-written `Deserialize` for [`ClientSettings`] and [`RouteSettings`]: the same JSON as
//! the derived, `#[serde(flatten)]`ed form (the server fields sit at the top of a client or
//! route object), read field by field instead of through serde's flatten, which first buffers
//! every value of the object into an intermediate tree. With 10,000 clients that buffering
//! was most of the time `Store::load` took (see bench/README.md, "Clients and routes").
//!
//! Same behaviour as the flattened form: an object only (not an array), unknown keys are
//! ignored, every field optional. Adding a field to `ServerSettings` fails to compile here
//! until it is added below too (the struct is built without `..Default::default()`).

use std::fmt;

use serde::de::{value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::model::{AuthMethod, ClientSettings, ClientSupport, EmailType, M365Settings, MailboxSettings, RouteSettings, Security, ServerSettings};

macro_rules! layer {
    ($target:ident via $repr:ident, $what:literal { $($extra:ident : $ty:ty),* }) => {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct $repr {
            $($extra: $ty,)*
            enabled: Option<bool>,
            email_type: Option<EmailType>,
            sendmail_path: Option<String>,
            host: Option<String>,
            port: Option<u16>,
            security: Option<Security>,
            auth: Option<AuthMethod>,
            username: Option<String>,
            sender: MailboxSettings,
            reply_to: MailboxSettings,
            utf8_headers: Option<bool>,
            timeout_secs: Option<u32>,
            data_timeout_secs: Option<u32>,
            ca_file: Option<String>,
            tls_verify: Option<bool>,
            m365: M365Settings,
        }

        impl<'de> Deserialize<'de> for $target {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct MapOnly;
                impl<'de> Visitor<'de> for MapOnly {
                    type Value = $repr;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$repr, A::Error> {
                        $repr::deserialize(MapAccessDeserializer::new(map))
                    }
                }
                // A map, as the flattened derive required (a derived struct would also take
                // an array).
                let r = deserializer.deserialize_map(MapOnly)?;
                Ok($target {
                    $($extra: r.$extra,)*
                    server: ServerSettings {
                        enabled: r.enabled,
                        email_type: r.email_type,
                        sendmail_path: r.sendmail_path,
                        host: r.host,
                        port: r.port,
                        security: r.security,
                        auth: r.auth,
                        username: r.username,
                        sender: r.sender,
                        reply_to: r.reply_to,
                        utf8_headers: r.utf8_headers,
                        timeout_secs: r.timeout_secs,
                        data_timeout_secs: r.data_timeout_secs,
                        ca_file: r.ca_file,
                        tls_verify: r.tls_verify,
                        m365: r.m365,
                    },
                })
            }
        }
    };
}

layer!(ClientSettings via ClientRepr, "a client object" { name: Option<String>, support: ClientSupport, templates: std::collections::BTreeMap<String, crate::model::TemplateSettings> });
layer!(RouteSettings via RouteRepr, "a route object" { from: Option<String>, order: Option<u32> });

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the derived, flattened form read: the reference the hand-written one must match.
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(default)]
    struct FlatClient {
        name: Option<String>,
        support: ClientSupport,
        templates: std::collections::BTreeMap<String, crate::model::TemplateSettings>,
        #[serde(flatten)]
        server: ServerSettings,
    }
    impl Default for FlatClient {
        fn default() -> Self {
            FlatClient { name: None, support: ClientSupport::default(), templates: Default::default(), server: ServerSettings::default() }
        }
    }
    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct FlatRoute {
        from: Option<String>,
        order: Option<u32>,
        #[serde(flatten)]
        server: ServerSettings,
    }

    fn full_server() -> serde_json::Value {
        json!({
            "enabled": true, "email_type": "smtp", "sendmail_path": "/usr/sbin/sendmail", "host": "smtp.example.com",
            "port": 587, "security": "starttls", "auth": "m365-smtp", "username": "u",
            "sender": {"address": "a@example.com", "name": "A", "alternatives": "b@example.com\nc@example.com", "conceal": true},
            "reply_to": {"address": "r@example.com", "name": "R"},
            "utf8_headers": false, "timeout_secs": 30, "ca_file": "/etc/ca.pem", "tls_verify": false,
            "m365": {"tenant": "contoso.onmicrosoft.com", "client_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "flow": "app",
                     "cloud": "usgov", "authority": "https://login.example", "graph_url": "https://graph.example", "secret_expires": "2027-01-01"},
            "unknown_key": [1, 2, {"x": null}]
        })
    }

    #[test]
    fn reads_exactly_what_the_flattened_derive_read() {
        let mut client = full_server();
        client["name"] = json!("Acme");
        client["support"] = json!({"address": "help@acme.test"});
        client["templates"] = json!({"power": {"subject": "Welcome, {{name}}"}, "standard": {"body": "Hi"}});
        let mut route = full_server();
        route["from"] = json!("*@*.example.org");
        route["order"] = json!(5);
        let cases = [client.clone(), route.clone(), json!({}), json!({"port": null, "name": null}), json!({"sender": {}})];
        for case in &cases {
            for text in [case.to_string(), serde_json::to_string_pretty(case).unwrap()] {
                let flat: Result<FlatClient, _> = serde_json::from_str(&text);
                let ours: Result<ClientSettings, _> = serde_json::from_str(&text);
                assert_eq!(ours.is_ok(), flat.is_ok(), "{text}");
                if let (Ok(a), Ok(b)) = (ours, flat) {
                    assert_eq!((a.name, a.support, a.templates, a.server), (b.name, b.support, b.templates, b.server));
                }
                let flat: FlatRoute = serde_json::from_str(&text).unwrap();
                let ours: RouteSettings = serde_json::from_value(serde_json::from_str(&text).unwrap()).unwrap();
                assert_eq!((ours.from, ours.order, ours.server), (flat.from, flat.order, flat.server));
            }
        }
        // The same values are refused (wrong types, an array instead of an object, a
        // mailbox's unknown key).
        for bad in [json!({"port": "587"}), json!({"port": 70000}), json!(["Acme"]), json!({"sender": {"adress": "x"}}), json!({"support": {"x": 1}}), json!({"auth": "ntlm"}), json!(null)] {
            assert!(serde_json::from_value::<FlatClient>(bad.clone()).is_err(), "{bad}");
            assert!(serde_json::from_value::<ClientSettings>(bad.clone()).is_err(), "{bad}");
            assert!(serde_json::from_str::<ClientSettings>(&bad.to_string()).is_err(), "{bad}");
            assert!(serde_json::from_str::<RouteSettings>(&bad.to_string()).is_err() || bad.get("support").is_some(), "{bad}");
        }
    }

    #[test]
    fn round_trips_through_serialize() {
        let mut client = full_server();
        client.as_object_mut().unwrap().remove("unknown_key");
        client["name"] = json!("Acme");
        client["templates"] = json!({"power": {"subject": "Welcome, {{name}}", "body": "Hi"}});
        let parsed: ClientSettings = serde_json::from_value(client.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), client);
    }
}
