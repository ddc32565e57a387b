//! Hand-written `Deserialize` for [`ClientSettings`] and [`RouteSettings`]: the same JSON as
//! the derived, `#[serde(flatten)]`ed form (the server fields sit at the top of a client or
//! route object), read key by key through [`Settings::visit_field`] (generated from the
//! declarations in [`crate::model`]) instead of serde's flatten, which first buffers every
//! value of the object into an intermediate tree. With 10,000 clients that buffering was most
//! of the time `Store::load` took (see bench/README.md, "Clients and routes").
//!
//! Same behaviour as the flattened form: an object only (not an array), unknown keys are
//! ignored, every field optional.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::model::{ClientSettings, RouteSettings};
use crate::settings::Settings;

struct Layer<T>(&'static str, PhantomData<T>);

impl<'de, T: Settings> Visitor<'de> for Layer<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        // A field given twice is refused, as serde's derive refuses it (a hostile file could
        // otherwise say one thing to a reader and another to the parser); unknown keys are
        // skipped, repeated or not.
        // The first fields seen are kept on the stack: loading 10,000 clients allocates nothing
        // for this check.
        let (mut first, mut more, mut n): ([Option<Cow<'de, str>>; 16], Vec<Cow<'de, str>>, usize) = Default::default();
        while let Some(KeyText(key)) = map.next_key::<KeyText<'de>>()? {
            if first[..n.min(16)].iter().flatten().chain(&more).any(|k| *k == key) {
                return Err(serde::de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            if value.visit_field(&key, &mut map)? {
                match first.get_mut(n) {
                    Some(slot) => *slot = Some(key),
                    None => more.push(key),
                }
                n += 1;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(value)
    }
}

/// A map key, borrowed from the input when it can be (no allocation per key).
struct KeyText<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = KeyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

impl<'de> Deserialize<'de> for ClientSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A map, as the flattened derive required (a derived struct would also take an array).
        deserializer.deserialize_map(Layer("a client object", PhantomData))
    }
}

impl<'de> Deserialize<'de> for RouteSettings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(Layer("a route object", PhantomData))
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientSupport, ServerSettings};
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

    #[test]
    fn a_field_given_twice_is_refused_like_the_derive_refuses_it() {
        for twice in [r#"{"host": "a", "host": "b"}"#, r#"{"sender": {}, "sender": {"address": "x@example.test"}}"#, r#"{"name": "A", "name": "B"}"#] {
            let err = serde_json::from_str::<ClientSettings>(twice).unwrap_err().to_string();
            assert!(err.contains("duplicate field"), "{twice}: {err}");
            // The global server (serde's own derive) says the same.
            if !twice.contains("name") {
                assert!(serde_json::from_str::<ServerSettings>(twice).unwrap_err().to_string().contains("duplicate field"));
            }
        }
        assert!(serde_json::from_str::<RouteSettings>(r#"{"order": 1, "order": 2}"#).unwrap_err().to_string().contains("duplicate field `order`"));
        // Past the first 16 fields too.
        let many: Vec<String> = ["enabled", "email_type", "sendmail_path", "host", "port", "security", "auth", "username", "utf8_headers", "timeout_secs", "data_timeout_secs", "ca_file", "tls_verify", "helo_name", "name", "support", "templates"]
            .iter()
            .map(|k| format!("\"{k}\": {}", if matches!(*k, "support" | "templates") { "{}" } else { "null" }))
            .collect();
        let text = format!("{{{}, \"host\": \"again\"}}", many.join(", "));
        assert!(serde_json::from_str::<ClientSettings>(&text).unwrap_err().to_string().contains("duplicate field `host`"));
        let text = format!("{{{}, \"sender\": {{}}, \"sender\": {{}}}}", many.join(", "));
        assert!(serde_json::from_str::<ClientSettings>(&text).unwrap_err().to_string().contains("duplicate field `sender`"));
        // Unknown keys are skipped, also when repeated.
        let c: ClientSettings = serde_json::from_str(r#"{"x": 1, "x": 2, "host": "h"}"#).unwrap();
        assert_eq!(c.server.host.as_deref(), Some("h"));
    }
}
