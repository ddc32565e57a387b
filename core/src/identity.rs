//! Sender identities of a client: which From address a mail of a client may carry, and the
//! "conceal sender" mode (the mail leaves with the system's address and the user's name;
//! replies go to the user). Decided before routing, because routes are chosen by the From
//! address that actually leaves the machine. Pure.

use crate::keys::Key;
use crate::message::Mailbox;
use crate::model::Config;
use crate::validate::address_lines;

/// The addresses a mail carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The From address that leaves (envelope and header), `None`: the resolved server's sender.
    pub from: Option<String>,
    /// Display name for the From header when it is not the server's own sender name.
    pub from_name: Option<String>,
    /// Reply-To replacing the server's, when the identity decides it.
    pub reply_to: Option<Mailbox>,
    /// How the identity was decided (for the explainer and the `config` step).
    pub reasons: Vec<String>,
}

fn effective(config: &Config, key: &str) -> Option<String> {
    Key::parse(key).expect("known key").effective(config)
}

/// The identity of a mail of `client` (none: the organization itself) asked to be sent from
/// `from`. Errors name the key that refuses it.
pub fn sender_identity(config: &Config, client: Option<&str>, from: Option<&str>) -> Result<Identity, String> {
    let doc = config;
    let Some(id) = client else {
        let from = from.map(String::from).or_else(|| effective(doc, "global.sender.address"));
        return Ok(Identity { from, from_name: None, reply_to: None, reasons: vec![] });
    };
    let k = |name: &str| format!("client.{id}.{name}");
    let own = effective(doc, &k("sender.address"));
    let alternatives: Vec<String> =
        effective(doc, &k("sender.alternatives")).map(|v| address_lines(&v).map(String::from).collect()).unwrap_or_default();
    let mut reasons = Vec::new();
    if let Some(f) = from {
        let known = own.iter().chain(&alternatives).any(|a| a.eq_ignore_ascii_case(f));
        if !alternatives.is_empty() && !known {
            return Err(format!(
                "{}: {f} is neither the client's sender address nor one of its alternative addresses",
                k("sender.alternatives")
            ));
        }
        if alternatives.iter().any(|a| a.eq_ignore_ascii_case(f)) {
            reasons.push(format!("{f} is one of client {id}'s alternative sender addresses"));
        }
    }
    let user_address = from.map(String::from).or(own);
    if effective(doc, &k("sender.conceal")).as_deref() == Some("true") {
        let system = effective(doc, "global.sender.address")
            .ok_or_else(|| format!("global.sender.address: required by {} (the system's address is sent)", k("sender.conceal")))?;
        let name = effective(doc, &k("sender.name"));
        let stored_reply = Key::parse(&k("reply_to.address")).expect("key").get(doc).map(|v| v.into_owned());
        let reply_to = match stored_reply {
            Some(address) => Some(Mailbox { address, name: effective(doc, &k("reply_to.name")) }),
            None => user_address.clone().map(|address| Mailbox { address, name: name.clone() }),
        };
        reasons.push(format!(
            "client {id} conceals its sender: From is the system's address {system}{}, replies go to {}",
            name.as_deref().map(|n| format!(" with the name \"{n}\"")).unwrap_or_default(),
            reply_to.as_ref().map(|r| r.address.as_str()).unwrap_or("the system's address")
        ));
        return Ok(Identity { from: Some(system), from_name: name, reply_to, reasons });
    }
    Ok(Identity { from: user_address, from_name: effective(doc, &k("sender.name")), reply_to: None, reasons })
}

/// Rewrites the From header (and sets Reply-To) of a complete message, for a concealed
/// sender sending a message of its own (`postdesk send`): on bytes, the rest of the message
/// kept as it is (see [`crate::message::replace_sender`]).
pub fn rewrite_sender(message: &[u8], from: &Mailbox, reply_to: Option<&Mailbox>, utf8: bool) -> Result<Vec<u8>, String> {
    Ok(crate::message::replace_sender(message, from, reply_to, utf8)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::test_config as config;

    fn acme() -> Config {
        config(&[
            ("global.sender.address", "noreply@system.test"),
            ("client.acme.sender.address", "alice@acme.test"),
            ("client.acme.sender.name", "Alice Example"),
            ("client.acme.sender.alternatives", "sales@acme.test\n\n  billing@acme.test  "),
        ])
    }

    #[test]
    fn alternatives_allow_only_the_listed_addresses() {
        let c = acme();
        assert_eq!(sender_identity(&c, Some("acme"), Some("billing@acme.test")).unwrap().from.as_deref(), Some("billing@acme.test"));
        assert_eq!(sender_identity(&c, Some("acme"), Some("ALICE@acme.test")).unwrap().from.as_deref(), Some("ALICE@acme.test"));
        let err = sender_identity(&c, Some("acme"), Some("mallory@evil.test")).unwrap_err();
        assert!(err.starts_with("client.acme.sender.alternatives: "), "{err}");
        assert_eq!(sender_identity(&c, Some("acme"), None).unwrap().from.as_deref(), Some("alice@acme.test"));
        // Without alternatives any From is the admin's choice, as before.
        let plain = config(&[("client.beta.name", "Beta"), ("global.sender.address", "noreply@system.test")]);
        assert_eq!(sender_identity(&plain, Some("beta"), Some("x@y.test")).unwrap().from.as_deref(), Some("x@y.test"));
        assert_eq!(sender_identity(&plain, Some("beta"), None).unwrap().from.as_deref(), Some("noreply@system.test"));
    }

    #[test]
    fn conceal_sends_the_system_address_with_the_users_name_and_reply_to() {
        let mut c = acme();
        c = crate::edits::apply_edits(&c, &[("client.acme.sender.conceal".to_string(), "true".to_string())].into()).0;
        let id = sender_identity(&c, Some("acme"), Some("sales@acme.test")).unwrap();
        assert_eq!(id.from.as_deref(), Some("noreply@system.test"));
        assert_eq!(id.from_name.as_deref(), Some("Alice Example"));
        assert_eq!(id.reply_to, Some(Mailbox { address: "sales@acme.test".into(), name: Some("Alice Example".into()) }));
        c = crate::edits::apply_edits(&c, &[("client.acme.reply_to.address".to_string(), "desk@acme.test".to_string())].into()).0;
        let id = sender_identity(&c, Some("acme"), None).unwrap();
        assert_eq!(id.reply_to.unwrap().address, "desk@acme.test");
        c = crate::edits::apply_edits(&c, &[("global.sender.address".to_string(), "".to_string())].into()).0;
        assert!(sender_identity(&c, Some("acme"), None).unwrap_err().starts_with("global.sender.address: "));
    }

    #[test]
    fn each_alternative_is_validated_naming_the_key_and_line() {
        let (c, _) = crate::edits::apply_edits(
            &Config::default(),
            &[("client.acme.sender.alternatives".to_string(), "ok@acme.test\nnot an address".to_string())].into(),
        );
        let problems = crate::validate::validate(&c, &crate::validate::Context { today: crate::edits::today(), secrets_set: None });
        let p = problems.iter().find(|p| p.key == "client.acme.sender.alternatives").expect("named");
        assert!(p.message.contains("line 2 (not an address)"), "{}", p.message);
    }

    #[test]
    fn rewriting_replaces_from_and_reply_to_only() {
        let msg = b"Subject: hi\r\nFrom: Alice <alice@acme.test>\r\nReply-To: x@y.test\r\nTo: bob@b.test\r\n\r\nbody\r\nFrom: not a header\r\n";
        let from = Mailbox { address: "noreply@system.test".into(), name: Some("Alice".into()) };
        let reply = Mailbox { address: "alice@acme.test".into(), name: None };
        let out = String::from_utf8(rewrite_sender(msg, &from, Some(&reply), false).unwrap()).unwrap();
        assert_eq!(
            out,
            "From: Alice <noreply@system.test>\r\nReply-To: alice@acme.test\r\nSubject: hi\r\nTo: bob@b.test\r\n\r\nbody\r\nFrom: not a header\r\n"
        );
    }

    /// Issue 14: an LF message with a CRLF empty line in its body lost its To and Subject.
    #[test]
    fn rewriting_an_lf_message_keeps_its_fields_and_8bit_body() {
        let msg = b"From: alice@acme.test\nTo: bob@b.test\nSubject: hi\n\nBcc: x@y.test\r\n\r\ncaf\xe9\n";
        let from = Mailbox { address: "noreply@system.test".into(), name: Some("Alice".into()) };
        let out = rewrite_sender(msg, &from, None, false).unwrap();
        assert_eq!(out, b"From: Alice <noreply@system.test>\nTo: bob@b.test\nSubject: hi\n\nBcc: x@y.test\r\n\r\ncaf\xe9\n");
    }
}
