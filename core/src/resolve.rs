//! Which server sends a mail, and why: client × From → server. Pure.
//!
//! The global server switched off means no mail at all. A client with its own server enabled
//! uses it (unset keys inherited from global); otherwise the global server. From-address
//! routes come with the routing issue.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::keys::Key;
use crate::message::Mailbox;
use crate::model::{AuthMethod, Config, EmailType, Security};

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
    pub ca_file: Option<String>,
    pub tls_verify: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Send(Box<Server>),
    NoMail,
}

#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct RouteSummary {
    pub source: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client.{0}: no such client")]
pub struct UnknownClient(pub String);

/// Picks the server for a mail of `client` (none: the organization itself).
pub fn resolve_route(config: &Config, client: Option<&str>) -> Result<(Route, String), UnknownClient> {
    if let Some(id) = client {
        if !config.clients.contains_key(id) {
            return Err(UnknownClient(id.to_string()));
        }
    }
    if get(config, "global", "enabled").as_deref() != Some("true") {
        return Ok((Route::NoMail, "the global mail server is off: no mail is sent at all, client servers included".into()));
    }
    let (prefix, source, reason) = match client {
        Some(id) if get(config, &format!("client.{id}"), "enabled").as_deref() == Some("true") => {
            (format!("client.{id}"), format!("client:{id}"), format!("client {id} has its own server enabled"))
        }
        Some(id) => ("global".into(), "global".into(), format!("client {id} has no own server enabled: the global server is used")),
        None => ("global".into(), "global".into(), "no client given: the global server is used".into()),
    };
    Ok((Route::Send(Box::new(server(config, &prefix, &source))), reason))
}

fn get(config: &Config, prefix: &str, name: &str) -> Option<String> {
    Key::parse(&format!("{prefix}.{name}")).expect("known key").effective(config)
}

fn parse<T: serde::de::DeserializeOwned + Default>(v: Option<String>) -> T {
    v.and_then(|s| serde_json::from_value(serde_json::Value::String(s)).ok()).unwrap_or_default()
}

fn server(config: &Config, prefix: &str, source: &str) -> Server {
    let g = |name: &str| get(config, prefix, name);
    let mailbox = |which: &str| {
        g(&format!("{which}.address")).map(|address| Mailbox { address, name: g(&format!("{which}.name")) })
    };
    Server {
        source: source.into(),
        prefix: prefix.into(),
        email_type: parse(g("email_type")),
        sendmail_path: g("sendmail_path").unwrap_or_default(),
        host: g("host").unwrap_or_default(),
        port: g("port").and_then(|p| p.parse().ok()).unwrap_or(25),
        security: parse(g("security")),
        auth: parse(g("auth")),
        username: g("username").unwrap_or_default(),
        sender: mailbox("sender"),
        reply_to: mailbox("reply_to"),
        utf8_headers: g("utf8_headers").as_deref() == Some("true"),
        timeout: Duration::from_secs(g("timeout_secs").and_then(|t| t.parse().ok()).unwrap_or(10)),
        ca_file: g("ca_file"),
        tls_verify: g("tls_verify").as_deref() != Some("false"),
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

    fn config(pairs: &[(&str, &str)]) -> Config {
        let (config, problems) = crate::app::apply_edits(&Config::default(), &pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert!(problems.is_empty(), "{problems:?}");
        config
    }

    #[test]
    fn global_off_means_no_mail_even_with_client_server() {
        let c = config(&[("client.acme.enabled", "true"), ("client.acme.host", "smtp.acme.test")]);
        assert_eq!(resolve_route(&c, Some("acme")).unwrap().0, Route::NoMail);
        assert_eq!(resolve_route(&c, None).unwrap().0, Route::NoMail);
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
        let Route::Send(s) = resolve_route(&c, Some("acme")).unwrap().0 else { panic!() };
        assert_eq!((s.host.as_str(), s.port, s.source.as_str()), ("smtp.acme.test", 587, "client:acme"));
        let Route::Send(s) = resolve_route(&c, Some("beta")).unwrap().0 else { panic!() };
        assert_eq!((s.host.as_str(), s.source.as_str()), ("smtp.example.test", "global"));
        assert_eq!(resolve_route(&c, Some("nope")).unwrap_err(), UnknownClient("nope".into()));
    }
}
