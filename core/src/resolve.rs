//! Which server sends a mail, and why: client × From → server. Pure.
//!
//! The global server switched off means no mail at all. Then an enabled From-address route
//! whose pattern matches the From address wins (the most specific: exact address, then
//! domain, then any subdomain; ties by `order`, then name). Otherwise a client with its own
//! server enabled uses it, else the global server (the default gateway). Unset keys of a
//! client or route are inherited from the global server.

use std::time::Duration;


use crate::settings::Settings;
use crate::message::Mailbox;
use crate::model::{AuthMethod, Config, EmailType, Security, ServerSettings};

/// The concrete settings of the server a mail goes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// `global`, `client:<ID>` or `route:<NAME>`.
    pub source: String,
    /// Key prefix the settings were read from (`global`, `client.<ID>`).
    pub prefix: String,
    pub email_type: EmailType,
    pub sendmail_path: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub auth: AuthMethod,
    pub username: String,
    pub sender: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub utf8_headers: bool,
    pub timeout: Duration,
    /// How long the reply to the message's final `.` may take.
    pub data_timeout: Duration,
    pub ca_file: Option<String>,
    pub tls_verify: bool,
    /// Every setting in force for this server (its own, else the global server's): what a
    /// transport reads for a key without a field of its own here (`helo_name`, `m365.*`).
    pub settings: ServerSettings,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Send(Box<Server>),
    NoMail,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client.{0}: no such client")]
pub struct UnknownClient(pub String);

/// Picks the server for a mail of `client` (none: the organization itself) sent from `from`.
pub fn resolve_route(config: &Config, client: Option<&str>, from: Option<&str>) -> Result<(Route, String), UnknownClient> {
    if let Some(id) = client {
        if !config.clients.contains_key(id) {
            return Err(UnknownClient(id.to_string()));
        }
    }
    if config.global.enabled != Some(true) {
        return Ok((Route::NoMail, "the global mail server is off: no mail is sent at all, client servers included".into()));
    }
    if let Some((name, pattern, how)) = from.and_then(|f| matching_route(config, f)) {
        let reason = format!("From {} matches route {name} ({pattern}, {how})", from.unwrap_or_default());
        let route = &config.routes[&name];
        return Ok((Route::Send(Box::new(route.server.resolve(&config.global, &format!("route.{name}"), &format!("route:{name}")))), reason));
    }
    let own = client.and_then(|id| config.clients.get_key_value(id)).filter(|(_, c)| c.server.enabled == Some(true));
    let (server, reason) = match (client, own) {
        (_, Some((id, c))) => (c.server.resolve(&config.global, &format!("client.{id}"), &format!("client:{id}")), format!("client {id} has its own server enabled")),
        (Some(id), None) => (config.global.resolve(&config.global, "global", "global"), format!("client {id} has no own server enabled: the global server is used")),
        (None, _) => (config.global.resolve(&config.global, "global", "global"), "no client given: the global server is used".into()),
    };
    let reason = if from.is_some() && !config.routes.is_empty() { format!("no route matches the From address; {reason}") } else { reason };
    Ok((Route::Send(Box::new(server)), reason))
}

/// How specific a From pattern is (higher wins), or `None` when it does not match.
pub fn pattern_match(pattern: &str, from: &str) -> Option<(u8, &'static str)> {
    let domain = from.rsplit_once('@').map(|(_, d)| d)?;
    match_with_domain(pattern, from, domain)
}

/// [`pattern_match`] with the From address's domain found once (this runs for every route
/// on every mail, so it does not allocate).
fn match_with_domain(pattern: &str, from: &str, domain: &str) -> Option<(u8, &'static str)> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b) || (!(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase());
    if let Some(parent) = pattern.strip_prefix("*@*.") {
        let Some(cut) = domain.len().checked_sub(parent.len()).filter(|&c| c > 0 && domain.is_char_boundary(c)) else {
            return None;
        };
        return (same(&domain[cut..], parent) && domain[..cut].ends_with('.')).then_some((1, "any subdomain"));
    }
    if let Some(d) = pattern.strip_prefix("*@") {
        return same(d, domain).then_some((2, "domain"));
    }
    same(pattern, from).then_some((3, "exact address"))
}

/// The enabled route that wins for `from`: name, pattern and how it matched.
fn matching_route(config: &Config, from: &str) -> Option<(String, String, &'static str)> {
    let domain = from.rsplit_once('@').map(|(_, d)| d)?;
    config
        .routes
        .iter()
        // A route's `enabled` is its own (never inherited), default off.
        .filter(|(_, route)| route.server.enabled == Some(true))
        .filter_map(|(name, route)| {
            let pattern = route.from.as_deref()?;
            let (rank, how) = match_with_domain(pattern, from, domain)?;
            Some((rank, route.order.unwrap_or(100), name, pattern, how))
        })
        // Most specific first, then lowest order, then name (the map is ordered by name).
        .min_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)))
        .map(|(_, _, name, pattern, how)| (name.clone(), pattern.to_string(), how))
}

impl ServerSettings {
    /// The server a mail goes through: this layer's settings (a client's or route's own
    /// server, or the global one itself), each unset value the global server's, else its
    /// default. `prefix` is the key prefix (`client.acme`), `source` the server's name
    /// (`client:acme`).
    pub fn resolve(&self, global: &ServerSettings, prefix: &str, source: &str) -> Server {
        let s = self.inherit(global);
        let mailbox = |m: &crate::model::MailboxSettings| m.address.clone().map(|address| Mailbox { address, name: m.name.clone() });
        Server {
            source: source.into(),
            prefix: prefix.into(),
            email_type: s.email_type(),
            sendmail_path: s.sendmail_path().to_string(),
            host: s.host.clone().unwrap_or_default(),
            port: s.port(),
            security: s.security(),
            auth: s.auth(),
            username: s.username.clone().unwrap_or_default(),
            sender: mailbox(&s.sender),
            reply_to: mailbox(&s.reply_to),
            utf8_headers: s.utf8_headers(),
            timeout: Duration::from_secs(s.timeout_secs().into()),
            data_timeout: Duration::from_secs(s.data_timeout_secs().into()),
            ca_file: s.ca_file.clone(),
            tls_verify: s.tls_verify(),
            settings: s,
        }
    }
}

impl Server {
    pub fn summary(&self) -> crate::diagnosis::ServerSummary {
        let word = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        crate::diagnosis::ServerSummary {
            host: if self.email_type == EmailType::Sendmail { self.sendmail_path.clone() } else { self.host.clone() },
            port: self.port,
            security: word(serde_json::to_value(self.security).expect("enum")),
            auth: word(serde_json::to_value(self.auth).expect("enum")),
            source: self.source.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::test_config as config;
    use crate::keys::Key;

    #[test]
    fn global_off_means_no_mail_even_with_client_server() {
        let c = config(&[("client.acme.enabled", "true"), ("client.acme.host", "smtp.acme.test")]);
        assert_eq!(resolve_route(&c, Some("acme"), None).unwrap().0, Route::NoMail);
        assert_eq!(resolve_route(&c, None, None).unwrap().0, Route::NoMail);
    }

    #[test]
    fn client_own_server_inherits_unset_keys_from_global() {
        let c = config(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.test"),
            ("global.port", "587"),
            ("client.acme.enabled", "true"),
            ("client.acme.host", "smtp.acme.test"),
            ("client.beta.name", "Beta"),
        ]);
        let Route::Send(s) = resolve_route(&c, Some("acme"), None).unwrap().0 else { panic!() };
        assert_eq!((s.host.as_str(), s.port, s.source.as_str()), ("smtp.acme.test", 587, "client:acme"));
        let Route::Send(s) = resolve_route(&c, Some("beta"), None).unwrap().0 else { panic!() };
        assert_eq!((s.host.as_str(), s.source.as_str()), ("smtp.example.test", "global"));
        assert_eq!(resolve_route(&c, Some("nope"), None).unwrap_err(), UnknownClient("nope".into()));
    }

    fn source(c: &Config, client: Option<&str>, from: &str) -> String {
        match resolve_route(c, client, Some(from)).unwrap().0 {
            Route::Send(s) => s.source,
            Route::NoMail => "nothing".into(),
        }
    }

    fn routed() -> Config {
        config(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.test"),
            ("client.acme.enabled", "true"),
            ("client.acme.host", "smtp.acme.test"),
            ("route.ceo.enabled", "true"),
            ("route.ceo.from", "ceo@example.com"),
            ("route.ceo.host", "vip.example.test"),
            ("route.corp.enabled", "true"),
            ("route.corp.from", "*@example.com"),
            ("route.corp.host", "corp.example.test"),
            ("route.subs.enabled", "true"),
            ("route.subs.from", "*@*.example.com"),
            ("route.subs2.enabled", "true"),
            ("route.subs2.from", "*@*.example.com"),
            ("route.subs2.order", "5"),
            ("route.off.from", "*@off.test"),
            ("route.off.host", "off.example.test"),
        ])
    }

    #[test]
    fn the_most_specific_route_wins_then_order_then_name() {
        let c = routed();
        for (client, from, expected) in [
            (None, "ceo@example.com", "route:ceo"),
            (None, "CEO@Example.COM", "route:ceo"),
            (None, "alice@example.com", "route:corp"),
            (Some("acme"), "alice@example.com", "route:corp"),
            (None, "bob@eu.example.com", "route:subs2"),
            (None, "bob@example.org", "global"),
            (Some("acme"), "bob@example.org", "client:acme"),
            (None, "x@off.test", "global"),
            (None, "x@notexample.com", "global"),
        ] {
            assert_eq!(source(&c, client, from), expected, "{client:?} {from}");
        }
        let (_, reason) = resolve_route(&c, None, Some("alice@example.com")).unwrap();
        assert!(reason.contains("route corp (*@example.com, domain)"), "{reason}");
        let Route::Send(s) = resolve_route(&c, None, Some("bob@eu.example.com")).unwrap().0 else { panic!() };
        assert_eq!(s.host, "smtp.example.test", "a route's unset host is inherited from global");
    }

    #[test]
    fn global_off_means_nothing_whatever_the_routes() {
        let mut c = routed();
        c = crate::edits::apply_edits(&c, &[("global.enabled".to_string(), "false".to_string())].into_iter().collect()).0;
        for from in ["ceo@example.com", "alice@example.com", "bob@eu.example.com", "x@y.test"] {
            for client in [None, Some("acme")] {
                assert_eq!(source(&c, client, from), "nothing");
            }
        }
    }

    #[test]
    fn patterns_match_case_insensitively_and_only_real_subdomains() {
        assert_eq!(pattern_match("*@*.Example.com", "a@EU.example.COM"), Some((1, "any subdomain")));
        assert_eq!(pattern_match("*@*.example.com", "a@example.com"), None);
        assert_eq!(pattern_match("*@*.example.com", "a@badexample.com"), None);
        assert_eq!(pattern_match("*@*.bücher.example", "a@x.BÜCHER.example"), Some((1, "any subdomain")));
        assert_eq!(pattern_match("*@example.com", "a@Example.Com"), Some((2, "domain")));
        assert_eq!(pattern_match("Ceo@example.com", "ceo@EXAMPLE.com"), Some((3, "exact address")));
        assert_eq!(pattern_match("ceo@example.com", "no-at-sign"), None);
    }

    #[test]
    fn an_unset_client_key_always_equals_the_global_one() {
        let c = routed();
        for key in crate::keys::SERVER_FIELDS.iter().filter(|f| f.name != "enabled" && f.name != "host") {
            let client = Key::parse(&format!("client.acme.{}", key.name)).unwrap();
            let global = Key::parse(&format!("global.{}", key.name)).unwrap();
            assert_eq!(client.effective(&c), global.effective(&c), "{}", key.name);
        }
    }

    #[test]
    fn the_resolved_server_holds_every_key_in_force() {
        let mut pairs = vec![("global.port", "587"), ("global.sender.address", "it@example.test"), ("global.m365.cloud", "china"), ("client.acme.timeout_secs", "30")];
        pairs.extend([("client.acme.security", "tls"), ("route.corp.reply_to.name", "Corp"), ("route.corp.utf8_headers", "true"), ("global.tls_verify", "false")]);
        let mut c = routed();
        for (k, v) in pairs {
            let key = Key::parse(k).unwrap();
            c = key.write(&c, crate::keys::parse_raw(key.field, v).unwrap());
        }
        for (client, from, prefix) in [(Some("acme"), None, "client.acme"), (None, Some("x@example.com"), "route.corp"), (None, None, "global")] {
            let (Route::Send(server), _) = resolve_route(&c, client, from).unwrap() else { panic!("mail is on") };
            assert_eq!(server.prefix, prefix);
            for field in crate::keys::SERVER_FIELDS.iter().filter(|f| f.kind != crate::keys::Kind::Secret) {
                let key = Key::parse(&format!("{prefix}.{}", field.name)).unwrap();
                let in_force = server.settings.get(field.name).map(|v| v.into_owned()).or(field.default.map(String::from));
                assert_eq!(in_force, key.effective(&c), "{}", key.name());
            }
        }
    }
}
