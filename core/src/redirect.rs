//! Where stored secrets go and which program runs: the changes an admin must see named.
//!
//! A change of a server's host, port, security, certificate checks, Microsoft 365 endpoints
//! (or of anything else that decides where a stored password, client secret or refresh token
//! is sent), of the receiver's server while its password is stored, or of the sendmail program
//! (any scope, secret or not) is a [`Redirect`]. [`redirects`] compares two configurations;
//! `config set`, `preset apply` and the window's preview show them as notices, and an import
//! applies them only when the admin allows it (`import --allow-redirect`, the checkbox).
//!
//! Pure: which secrets are stored comes in through a function, asked only for the secrets of
//! layers whose destination changed (a keychain lookup each).

use serde::Serialize;
use ts_rs::TS;

use crate::keys::SERVER_FIELDS;
use crate::settings::Settings;
use crate::model::{Config, ServerSettings};

/// What goes somewhere new.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RedirectWhat {
    Password,
    ClientSecret,
    RefreshToken,
    /// Microsoft 365 access tokens made from the stored client secret or refresh token.
    AccessToken,
    /// The sendmail program run for each mail.
    Program,
    /// `m365.allow_custom_endpoints` turned on: the Microsoft 365 secrets may go to any host.
    CustomEndpoints,
}

/// One change of where a stored secret is sent, or of which program runs.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Redirect {
    /// The changed key (`global.host`, `client.acme.sendmail_path`, `receiver.host`).
    pub key: String,
    /// Whose stored secret (`global`, `client.acme`, `route.eu`, `receiver`), or which scope runs the program.
    pub scope: String,
    pub what: RedirectWhat,
    /// Where it goes now: `host:port (security…)`, a URL, or the program's path.
    pub to: String,
    /// The notice in words, e.g. "global.host: the stored password of global will now go to
    /// smtp.new.example:587 (starttls)".
    pub message: String,
}

impl Redirect {
    fn new(key: String, scope: String, what: RedirectWhat, to: String) -> Redirect {
        let word = match what {
            RedirectWhat::Password => "password",
            RedirectWhat::ClientSecret => "client secret",
            RedirectWhat::RefreshToken => "sign-in (refresh token)",
            RedirectWhat::AccessToken | RedirectWhat::Program | RedirectWhat::CustomEndpoints => "",
        };
        let text = match what {
            RedirectWhat::Program => format!("{scope} will now run the program {to}"),
            RedirectWhat::AccessToken => format!("the Microsoft 365 access tokens of {scope} will now go to {to}"),
            RedirectWhat::CustomEndpoints => format!("the Microsoft 365 secrets of {scope} may now go to {to}"),
            _ => format!("the stored {word} of {scope} will now go to {to}"),
        };
        let message = format!("{key}: {text}");
        Redirect { key, scope, what, to, message }
    }
}

impl Redirect {
    /// The notice as a warning on its key, for the window's list of problems under each field.
    pub fn as_problem(&self) -> crate::validate::Problem {
        let text = self.message.strip_prefix(&format!("{}: ", self.key)).unwrap_or(&self.message);
        crate::validate::Problem::new(self.key.clone(), crate::validate::Severity::Warning, text)
    }
}

impl std::fmt::Display for Redirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A server layer: `global`, `client.<ID>` or `route.<NAME>`.
#[derive(Clone, PartialEq, Eq)]
enum Layer<'a> {
    Global,
    Client(&'a str),
    Route(&'a str),
}

impl Layer<'_> {
    fn prefix(&self) -> String {
        match self {
            Layer::Global => "global".into(),
            Layer::Client(id) => format!("client.{id}"),
            Layer::Route(n) => format!("route.{n}"),
        }
    }

    fn server<'c>(&self, c: &'c Config) -> Option<&'c ServerSettings> {
        match self {
            Layer::Global => Some(&c.global),
            Layer::Client(id) => c.clients.get(*id).map(|x| &x.server),
            Layer::Route(n) => c.routes.get(*n).map(|x| &x.server),
        }
    }
}

fn stored(c: &Config, layer: &Layer, name: &str) -> Option<String> {
    layer.server(c).and_then(|s| s.get(name)).map(|v| v.into_owned())
}

/// The value in force: the layer's own, else global's (a client's or route's unset keys are
/// inherited), else the default.
fn effective(c: &Config, layer: &Layer, name: &str) -> Option<String> {
    stored(c, layer, name)
        .or_else(|| if *layer == Layer::Global { None } else { stored(c, &Layer::Global, name) })
        .or_else(|| SERVER_FIELDS.iter().find(|f| f.name == name).and_then(|f| f.default).map(String::from))
}

/// One secret a layer sends somewhere.
struct Use {
    what: RedirectWhat,
    /// The secret's field (`password`, `m365.client_secret`, `m365.refresh_token`).
    secret: &'static str,
    to: String,
    /// The keys that decide `to` (and whether the secret is used at all).
    fields: &'static [&'static str],
}

const SMTP_FIELDS: &[&str] = &["email_type", "auth", "host", "port", "security", "tls_verify", "ca_file"];
const TOKEN_FIELDS: &[&str] = &["email_type", "auth", "m365.flow", "m365.cloud", "m365.authority"];
const GRAPH_FIELDS: &[&str] = &["email_type", "auth", "m365.flow", "m365.cloud", "m365.graph_url"];
const XOAUTH_FIELDS: &[&str] = &["email_type", "auth", "m365.flow", "host", "port", "security", "tls_verify", "ca_file"];

fn smtp_endpoint(c: &Config, layer: &Layer) -> String {
    let e = |n: &str| effective(c, layer, n);
    let mut to = format!("{}:{} ({}", e("host").unwrap_or_else(|| "(no host)".into()), e("port").unwrap_or_else(|| "25".into()), e("security").unwrap_or_else(|| "none".into()));
    if e("tls_verify").as_deref() == Some("false") {
        to.push_str(", certificates not verified");
    }
    if let Some(ca) = e("ca_file") {
        to.push_str(&format!(", trusting the CA file {ca}"));
    }
    to.push(')');
    to
}

/// The secrets a layer sends, and where, in configuration `c`.
fn uses(c: &Config, layer: &Layer) -> Vec<Use> {
    if layer.server(c).is_none() {
        return Vec::new();
    }
    let e = |n: &str| effective(c, layer, n);
    if e("email_type").as_deref() == Some("sendmail") {
        return Vec::new();
    }
    match e("auth").as_deref() {
        Some("password") => vec![Use { what: RedirectWhat::Password, secret: "password", to: smtp_endpoint(c, layer), fields: SMTP_FIELDS }],
        Some(auth @ ("m365-smtp" | "m365-graph")) => {
            let cloud = crate::clouds::cloud(e("m365.cloud").and_then(|v| serde_json::from_value(v.into()).ok()).unwrap_or_default());
            let trim = |s: String| s.trim_end_matches('/').to_string();
            let (what, secret) = if e("m365.flow").as_deref() == Some("app") {
                (RedirectWhat::ClientSecret, "m365.client_secret")
            } else {
                (RedirectWhat::RefreshToken, "m365.refresh_token")
            };
            let authority = e("m365.authority").map(trim).unwrap_or_else(|| cloud.authority.into());
            let tokens = if auth == "m365-graph" {
                Use { what: RedirectWhat::AccessToken, secret, to: e("m365.graph_url").map(trim).unwrap_or_else(|| cloud.graph_url.into()), fields: GRAPH_FIELDS }
            } else {
                Use { what: RedirectWhat::AccessToken, secret, to: smtp_endpoint(c, layer), fields: XOAUTH_FIELDS }
            };
            vec![Use { what, secret, to: authority, fields: TOKEN_FIELDS }, tokens]
        }
        _ => Vec::new(),
    }
}

fn layers(c: &Config) -> impl Iterator<Item = Layer<'_>> {
    std::iter::once(Layer::Global).chain(c.clients.keys().map(|k| Layer::Client(k))).chain(c.routes.keys().map(|k| Layer::Route(k)))
}

/// The keys among `fields` whose change (from `old` to `new`) made the layer's destination
/// differ, named where they are stored (the layer's own key, else global's).
fn blame(old: &Config, new: &Config, layer: &Layer, fields: &[&str]) -> Vec<String> {
    let existed = layer.server(old).is_some();
    let mut keys = Vec::new();
    for f in fields {
        let own = stored(old, layer, f).is_some() || stored(new, layer, f).is_some();
        let changed = if existed { effective(old, layer, f) != effective(new, layer, f) } else { stored(new, layer, f).is_some() };
        if changed {
            keys.push(if own { format!("{}.{f}", layer.prefix()) } else { format!("global.{f}") });
        }
    }
    if keys.is_empty() {
        keys.push(layer.prefix());
    }
    keys
}

/// Every change from `old` to `new` of where a stored secret goes or which program runs.
/// `is_set(key)` tells whether a secret (`global.password`, `client.acme.m365.refresh_token`,
/// `receiver.password`) is stored; it is asked only about secrets whose destination changed.
pub fn redirects(old: &Config, new: &Config, is_set: &mut dyn FnMut(&str) -> bool) -> Vec<Redirect> {
    let mut out: Vec<Redirect> = Vec::new();
    let old_global_uses = uses(old, &Layer::Global);
    for layer in layers(new) {
        let prefix = layer.prefix();
        let before = uses(old, &layer);
        for u in uses(new, &layer) {
            if before.iter().any(|o| o.what == u.what && o.to == u.to) {
                continue;
            }
            // A client or route without its own secret uses the global one.
            let owner = if is_set(&format!("{prefix}.{}", u.secret)) {
                prefix.clone()
            } else if layer != Layer::Global && is_set(&format!("global.{}", u.secret)) {
                // Global's secret already went there through the global server.
                if old_global_uses.iter().any(|o| o.what == u.what && o.to == u.to) {
                    continue;
                }
                "global".into()
            } else {
                continue;
            };
            for key in blame(old, new, &layer, u.fields) {
                out.push(Redirect::new(key, owner.clone(), u.what, u.to.clone()));
            }
        }
        programs(old, new, &layer, &mut out);
        let opted_in = |c: &Config| stored(c, &layer, "m365.allow_custom_endpoints").as_deref() == Some("true");
        if opted_in(new) && !opted_in(old) {
            out.push(Redirect::new(format!("{prefix}.m365.allow_custom_endpoints"), prefix.clone(), RedirectWhat::CustomEndpoints, "hosts outside Microsoft's clouds".into()));
        }
    }
    receiver(old, new, is_set, &mut out);
    // The proxy password goes to the proxy `proxy.url` names.
    if let Some(to) = new.proxy.url.as_ref().filter(|u| old.proxy.url.as_ref() != Some(*u)) {
        if is_set("proxy.password") {
            out.push(Redirect::new("proxy.url".into(), "proxy".into(), RedirectWhat::Password, to.clone()));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|r| seen.insert((r.key.clone(), r.scope.clone(), r.what, r.to.clone())));
    out.sort_by(|a, b| a.key.cmp(&b.key).then(a.scope.cmp(&b.scope)).then(a.what.cmp(&b.what)));
    out
}

/// The sendmail program: any change of a stored `sendmail_path`, and a layer that starts
/// running one (`email_type` turned to `sendmail`).
fn programs(old: &Config, new: &Config, layer: &Layer, out: &mut Vec<Redirect>) {
    let prefix = layer.prefix();
    let path = effective(new, layer, "sendmail_path").unwrap_or_default();
    if stored(old, layer, "sendmail_path") != stored(new, layer, "sendmail_path") {
        out.push(Redirect::new(format!("{prefix}.sendmail_path"), prefix.clone(), RedirectWhat::Program, path.clone()));
    }
    let runs = |c: &Config| effective(c, layer, "email_type").as_deref() == Some("sendmail");
    if !runs(new) {
        return;
    }
    let ran_before = if layer.server(old).is_some() {
        runs(old)
    } else {
        // A new client or route running the program global already ran.
        runs_global(old) && effective(old, &Layer::Global, "sendmail_path").as_deref() == Some(path.as_str())
    };
    if !ran_before {
        let key = if stored(new, layer, "email_type").is_some() || stored(old, layer, "email_type").is_some() { prefix.clone() } else { "global".into() };
        out.push(Redirect::new(format!("{key}.email_type"), key, RedirectWhat::Program, path));
    }
}

fn runs_global(c: &Config) -> bool {
    effective(c, &Layer::Global, "email_type").as_deref() == Some("sendmail")
}

fn receiver_endpoint(c: &Config) -> String {
    let r = &c.receiver;
    let protocol = r.protocol.unwrap_or_default();
    let mut to = format!("{}:{} ({}", r.host.as_deref().unwrap_or("(no host)"), r.port.unwrap_or(protocol.default_port()), protocol.as_str());
    if let Some(ca) = &r.ca_file {
        to.push_str(&format!(", trusting the CA file {ca}"));
    }
    to.push(')');
    to
}

fn receiver(old: &Config, new: &Config, is_set: &mut dyn FnMut(&str) -> bool, out: &mut Vec<Redirect>) {
    let to = receiver_endpoint(new);
    if receiver_endpoint(old) == to || !is_set("receiver.password") {
        return;
    }
    let (a, b) = (&old.receiver, &new.receiver);
    let changed = [("protocol", a.protocol != b.protocol), ("host", a.host != b.host), ("port", a.port != b.port), ("ca_file", a.ca_file != b.ca_file)];
    for (name, _) in changed.iter().filter(|(_, c)| *c) {
        out.push(Redirect::new(format!("receiver.{name}"), "receiver".into(), RedirectWhat::Password, to.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    use crate::fixtures::test_config;

    fn with(base: &Config, pairs: &[(&str, &str)]) -> Config {
        let edits = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (c, problems) = crate::edits::apply_edits(base, &edits);
        assert!(problems.is_empty(), "{problems:?}");
        c
    }

    fn run(old: &Config, new: &Config, set: &[&str]) -> Vec<String> {
        let set: BTreeSet<String> = set.iter().map(|s| s.to_string()).collect();
        redirects(old, new, &mut |k| set.contains(k)).into_iter().map(|r| r.message).collect()
    }

    fn base() -> Config {
        test_config(&[("global.enabled", "true"), ("global.host", "smtp.old.example"), ("global.port", "587"), ("global.security", "starttls"), ("global.auth", "password"), ("global.username", "u")])
    }

    #[test]
    fn a_new_host_port_or_weaker_tls_names_the_stored_password() {
        let old = base();
        let new = with(&old, &[("global.host", "smtp.new.example")]);
        assert_eq!(run(&old, &new, &["global.password"]), ["global.host: the stored password of global will now go to smtp.new.example:587 (starttls)"]);
        // Without a stored password nothing goes anywhere.
        assert!(run(&old, &new, &[]).is_empty());
        let new = with(&old, &[("global.tls_verify", "false"), ("global.port", "25")]);
        assert_eq!(
            run(&old, &new, &["global.password"]),
            [
                "global.port: the stored password of global will now go to smtp.old.example:25 (starttls, certificates not verified)",
                "global.tls_verify: the stored password of global will now go to smtp.old.example:25 (starttls, certificates not verified)"
            ]
        );
        // Unrelated keys are no redirect.
        let new = with(&old, &[("global.sender.address", "it@example.com"), ("global.timeout_secs", "30")]);
        assert!(run(&old, &new, &["global.password"]).is_empty());
    }

    #[test]
    fn a_client_host_sends_the_inherited_global_password_or_its_own() {
        let old = with(&base(), &[("client.acme.name", "ACME")]);
        let new = with(&old, &[("client.acme.host", "smtp.acme.example")]);
        assert_eq!(run(&old, &new, &["global.password"]), ["client.acme.host: the stored password of global will now go to smtp.acme.example:587 (starttls)"]);
        assert_eq!(run(&old, &new, &["global.password", "client.acme.password"]), ["client.acme.host: the stored password of client.acme will now go to smtp.acme.example:587 (starttls)"]);
        // A new client (an import) with its own host.
        let new = with(&base(), &[("client.evil.host", "smtp.evil.example")]);
        assert_eq!(run(&base(), &new, &["global.password"]), ["client.evil.host: the stored password of global will now go to smtp.evil.example:587 (starttls)"]);
        // A new client that inherits everything sends where global already did.
        let new = with(&base(), &[("client.plain.name", "Plain")]);
        assert!(run(&base(), &new, &["global.password"]).is_empty());
        // Global's host changes: a client with its own password inheriting the host is named too.
        let new = with(&old, &[("global.host", "smtp.new.example")]);
        assert_eq!(
            run(&old, &new, &["global.password", "client.acme.password"]),
            ["global.host: the stored password of client.acme will now go to smtp.new.example:587 (starttls)", "global.host: the stored password of global will now go to smtp.new.example:587 (starttls)"]
        );
    }

    #[test]
    fn m365_authority_and_graph_url_name_the_client_secret_and_tokens() {
        let old = test_config(&[("global.auth", "m365-graph"), ("global.m365.flow", "app"), ("global.m365.tenant", "contoso.onmicrosoft.com")]);
        let new = with(&old, &[("global.m365.allow_custom_endpoints", "true"), ("global.m365.authority", "https://login.evil.example"), ("global.m365.graph_url", "https://graph.evil.example")]);
        assert_eq!(
            run(&old, &new, &["global.m365.client_secret"]),
            [
                "global.m365.allow_custom_endpoints: the Microsoft 365 secrets of global may now go to hosts outside Microsoft's clouds",
                "global.m365.authority: the stored client secret of global will now go to https://login.evil.example",
                "global.m365.graph_url: the Microsoft 365 access tokens of global will now go to https://graph.evil.example"
            ]
        );
        // The cloud moves the default endpoints too.
        let new = with(&old, &[("global.m365.cloud", "china")]);
        let r = run(&old, &new, &["global.m365.client_secret"]);
        assert_eq!(r[0], "global.m365.cloud: the stored client secret of global will now go to https://login.chinacloudapi.cn", "{r:?}");
        // Delegated: the refresh token.
        let old = test_config(&[("global.auth", "m365-smtp"), ("global.host", "smtp.office365.com"), ("global.security", "starttls")]);
        let new = with(&old, &[("global.m365.authority", "http://127.0.0.1:9")]);
        assert_eq!(run(&old, &new, &["global.m365.refresh_token"]), ["global.m365.authority: the stored sign-in (refresh token) of global will now go to http://127.0.0.1:9"]);
    }

    #[test]
    fn any_sendmail_program_change_is_named_secret_or_not() {
        let old = base();
        let new = with(&old, &[("global.sendmail_path", "/tmp/evil")]);
        assert_eq!(run(&old, &new, &[]), ["global.sendmail_path: global will now run the program /tmp/evil"]);
        let new = with(&old, &[("client.x.sendmail_path", "/tmp/evil")]);
        assert_eq!(run(&old, &new, &[]), ["client.x.sendmail_path: client.x will now run the program /tmp/evil"]);
        let new = with(&old, &[("global.email_type", "sendmail")]);
        assert_eq!(run(&old, &new, &[]), ["global.email_type: global will now run the program /usr/sbin/sendmail"]);
        // Back to SMTP runs no program.
        assert!(run(&new, &old, &[]).iter().all(|m| !m.contains("program")));
    }

    #[test]
    fn the_receiver_password_follows_its_server() {
        let old = test_config(&[("receiver.enabled", "true"), ("receiver.host", "imap.old.example"), ("receiver.username", "u")]);
        let new = with(&old, &[("receiver.host", "imap.evil.example"), ("receiver.protocol", "imap")]);
        assert_eq!(
            run(&old, &new, &["receiver.password"]),
            ["receiver.host: the stored password of receiver will now go to imap.evil.example:143 (imap)", "receiver.protocol: the stored password of receiver will now go to imap.evil.example:143 (imap)"]
        );
        assert!(run(&old, &new, &[]).is_empty());
    }

    #[test]
    fn the_proxy_password_follows_the_proxy() {
        let old = test_config(&[("proxy.url", "http://proxy.corp.example:3128"), ("proxy.username", "alice")]);
        let new = with(&old, &[("proxy.url", "http://proxy.evil.example:8080")]);
        assert_eq!(run(&old, &new, &["proxy.password"]), ["proxy.url: the stored password of proxy will now go to http://proxy.evil.example:8080"]);
        assert!(run(&old, &new, &[]).is_empty());
        assert!(run(&old, &with(&old, &[("proxy.no_proxy", "corp.example")]), &["proxy.password"]).is_empty());
    }

    #[test]
    fn secrets_are_looked_up_only_for_changed_destinations() {
        let mut old = base();
        for i in 0..50 {
            old = with(&old, &[(format!("client.c{i}.name").as_str(), "C")]);
        }
        let new = with(&old, &[("client.c7.host", "smtp.c7.example")]);
        let mut asked = Vec::new();
        let r = redirects(&old, &new, &mut |k| {
            asked.push(k.to_string());
            k == "global.password"
        });
        assert_eq!(r.len(), 1);
        assert_eq!(asked, ["client.c7.password", "global.password"]);
    }
}
