//! Validation of a configuration: pure, no I/O. One function used by the CLI, the window and
//! import. Every problem names its key.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use time::Date;

pub use crate::checks::{address_lines, check_email, check_host, has_control_in_text, parse_date, Problem, Severity, MAX_NAME, MAX_PATH, MAX_TEXT};
use crate::checks::{check_address_list, check_domain, check_guid, check_url};
use crate::keys::{Key, Kind, Scope};
use crate::model::{AuthMethod, Config, EmailType, M365Flow, ReceiverProtocol, Security, ServerSettings};
use crate::keys::{CLIENT_FIELDS, LIMIT_FIELDS, RECEIVER_FIELDS, ROUTE_FIELDS, PROXY_FIELDS, SEND_FIELDS, SERVER_FIELDS, SUPPORT_FIELDS, TEMPLATE_FIELDS};
use crate::settings::Settings;

/// What validation needs from outside the document.
pub struct Context {
    pub today: Date,
    /// Secret keys that are set in the keychain; `None` when not known (then not checked).
    pub secrets_set: Option<BTreeSet<String>>,
}

pub fn validate(config: &Config, ctx: &Context) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Only the values actually stored, scope by scope, read from the typed model.
    let global_utf8 = config.global.utf8_headers();
    let small = [(Scope::Global, &SERVER_FIELDS), (Scope::Support, &SUPPORT_FIELDS), (Scope::Receiver, &RECEIVER_FIELDS), (Scope::Limits, &LIMIT_FIELDS), (Scope::Send, &SEND_FIELDS), (Scope::Proxy, &PROXY_FIELDS)];
    let templates = config.templates.keys().map(|kind| (Scope::Template(kind.clone()), &TEMPLATE_FIELDS));
    for (scope, table) in small.into_iter().chain(templates) {
        for field in table.iter() {
            let key = Key { scope: scope.clone(), field };
            let Some(text) = key.get(config) else { continue };
            // Support, receiver, templates, limits and send follow the global server's setting.
            if let Err(message) = check_value(field.kind, &text, global_utf8) {
                problems.push(Problem::new(key.name(), Severity::Error, message));
            }
        }
    }
    check_server(&config.global, "global", true, ctx, &mut problems);
    for (head, id, own_fields, values, server) in config
        .clients
        .iter()
        .map(|(id, c)| ("client", id, &CLIENT_FIELDS, c as &dyn Stored, &c.server))
        .chain(config.routes.iter().map(|(n, r)| ("route", n, &ROUTE_FIELDS, r as &dyn Stored, &r.server)))
    {
        let utf8 = server.utf8_headers.unwrap_or(global_utf8);
        for field in own_fields.iter().chain(SERVER_FIELDS.iter()) {
            let Some(text) = values.stored(field.name) else { continue };
            if let Err(message) = check_value(field.kind, &text, utf8) {
                problems.push(Problem::new(format!("{head}.{id}.{}", field.name), Severity::Error, message));
            }
        }
        // A client's or route's `enabled` is never inherited: the others have nothing to check.
        if server.enabled == Some(true) {
            check_server(&server.inherit(&config.global), &format!("{head}.{id}"), false, ctx, &mut problems);
        }
    }
    // A client's own invitation texts, checked like the global ones.
    for (id, client) in &config.clients {
        let utf8 = client.server.utf8_headers.unwrap_or(global_utf8);
        for (kind, t) in &client.templates {
            for (name, text, field_kind) in [("subject", &t.subject, Kind::TemplateSubject), ("body", &t.body, Kind::TemplateBody)] {
                let Some(text) = text else { continue };
                if let Err(message) = check_value(field_kind, text, utf8) {
                    problems.push(Problem::new(format!("client.{id}.templates.{kind}.{name}"), Severity::Error, message));
                }
            }
        }
    }
    check_ids(config, &mut problems);
    for (name, route) in &config.routes {
        if route.from.is_none() {
            problems.push(Problem::new(format!("route.{name}.from"), Severity::Missing, "a route needs a From address pattern"));
        }
    }
    check_receiver(config, ctx, &mut problems);
    check_m365_endpoints(config, &mut problems);
    if config.support.allow_client_address != Some(true) {
        for (id, client) in &config.clients {
            if client.support.address.is_some() {
                problems.push(Problem::new(
                    format!("client.{id}.support.address"),
                    Severity::Warning,
                    "ignored while support.allow_client_address is off",
                ));
            }
        }
    }
    problems.extend(crate::dne::problems(config));
    // A client's text for a user type that does not exist is never used: say so.
    let types = crate::templates::types(config);
    for (id, client) in &config.clients {
        for kind in client.templates.keys().filter(|k| !types.contains(k)) {
            problems.push(Problem::new(
                format!("client.{id}.templates.{kind}"),
                Severity::Warning,
                format!("there is no user type {kind}: this text is never used (user types: {})", types.join(", ")),
            ));
        }
    }
    problems.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.key.cmp(&b.key)));
    problems.dedup();
    problems
}

/// A client's or route's stored values by key name (its own keys and its server's).
trait Stored {
    fn stored(&self, name: &str) -> Option<std::borrow::Cow<'_, str>>;
}

impl<T: Settings> Stored for T {
    fn stored(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.get(name)
    }
}

/// Cross-field checks of one server, on its effective values (a client's or route's own
/// server with the global server's values inherited); `is_global` tells the global server
/// from a client's or route's own.
fn check_server(s: &ServerSettings, prefix: &str, is_global: bool, ctx: &Context, out: &mut Vec<Problem>) {
    if !s.enabled() {
        return;
    }
    let k = |name: &str| format!("{prefix}.{name}");
    let missing = |out: &mut Vec<Problem>, name: &str, why: &str| {
        if s.get(name).is_none() {
            out.push(Problem::new(k(name), Severity::Missing, why));
        }
    };
    let secret_missing = |out: &mut Vec<Problem>, name: &str, why: &str| {
        let Some(set) = &ctx.secrets_set else { return };
        // A client or route without its own secret uses the global one.
        let own = set.contains(&k(name));
        let inherited = !is_global && set.contains(&format!("global.{name}"));
        if !own && !inherited {
            out.push(Problem::new(k(name), Severity::Missing, why));
        }
    };
    if s.email_type() == EmailType::Sendmail {
        missing(out, "sender.address", "required when the mail server is used");
        return; // The sendmail program does the rest; host, port and login do not apply.
    }
    let (auth, security, port) = (s.auth(), s.security(), s.port());

    if auth != AuthMethod::M365Graph {
        missing(out, "host", "required when the mail server is used");
    }
    missing(out, "sender.address", "required when the mail server is used");
    match auth {
        AuthMethod::None => {}
        AuthMethod::Password => {
            missing(out, "username", "required for password authentication");
            secret_missing(out, "password", &format!("no password is saved: enter it under Security (or run `postdesk secret set {}`)", k("password")));
            if security == Security::None {
                out.push(Problem::new(k("security"), Severity::Warning, "the password is sent unencrypted: choose STARTTLS or TLS"));
            }
        }
        AuthMethod::M365Smtp | AuthMethod::M365Graph => {
            missing(out, "m365.tenant", "required for Microsoft 365");
            missing(out, "m365.client_id", "required for Microsoft 365");
            if s.m365.flow() == M365Flow::App {
                secret_missing(out, "m365.client_secret", &format!("required for the app-only flow and not saved: enter it under Security (or run `postdesk secret set {}`)", k("m365.client_secret")));
            }
            if auth == AuthMethod::M365Smtp && security == Security::None {
                out.push(Problem::new(k("security"), Severity::Error, "Microsoft 365 SMTP needs STARTTLS (smtp.office365.com, port 587)"));
            }
        }
    }
    if auth != AuthMethod::M365Graph {
        if port == 25 {
            out.push(Problem::new(k("port"), Severity::Warning, "port 25 is often blocked outbound: prefer 587 (STARTTLS) or 465 (TLS)"));
        }
        match (security, port) {
            (Security::Tls, 587) => out.push(Problem::new(k("port"), Severity::Warning, "587 usually expects STARTTLS; TLS is usually on 465")),
            (Security::Starttls, 465) => out.push(Problem::new(k("port"), Severity::Warning, "465 usually expects TLS; STARTTLS is usually on 587")),
            _ => {}
        }
        if !s.tls_verify() && security != Security::None {
            out.push(Problem::new(k("tls_verify"), Severity::Warning, "TLS certificates are not verified: anyone on the path can read the mail and the password"));
        }
    }
    if let Some(expires) = s.m365.secret_expires.as_deref().and_then(|d| parse_date(d).ok()) {
        if auth.is_m365() {
            let days = (expires - ctx.today).whole_days();
            if days < 0 {
                out.push(Problem::new(k("m365.secret_expires"), Severity::Warning, format!("the client secret expired on {expires}: create a new one in Entra")));
            } else if days <= 30 {
                out.push(Problem::new(k("m365.secret_expires"), Severity::Warning, format!("the client secret expires in {days} days ({expires}): create a new one in Entra")));
            }
        }
    }
}

/// Client IDs, route names and template types of a loaded or imported document follow the
/// same grammar as typed keys (`keys::valid_id`): each becomes part of a key, a header
/// context or a terminal line.
fn check_ids(config: &Config, out: &mut Vec<Problem>) {
    let mut bad = |key: String, what: &str, id: &str| {
        if !crate::keys::valid_id(id) {
            let shown = crate::keys::shown(id);
            out.push(Problem::new(key, Severity::Error, format!("the {what} \"{shown}\" is not allowed: {}", crate::keys::ID_GRAMMAR)));
        }
    };
    let shown = crate::keys::shown;
    for (id, client) in &config.clients {
        bad(format!("client.{}", shown(id)), "client ID", id);
        for kind in client.templates.keys() {
            bad(format!("client.{}.templates.{}", shown(id), shown(kind)), "template type", kind);
        }
    }
    for name in config.routes.keys() {
        bad(format!("route.{}", shown(name)), "route name", name);
    }
    for kind in config.templates.keys() {
        bad(format!("templates.{}", shown(kind)), "template type", kind);
    }
}

/// The hosts `m365.authority` and `m365.graph_url` may name without
/// `m365.allow_custom_endpoints`: Microsoft's clouds (the client secret, refresh token and
/// access tokens go there), and loopback (test peers).
pub const MICROSOFT_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
];

/// Whether an authority or Graph URL names a Microsoft cloud host or loopback. Anything that
/// is not a parsable URL is left to [`check_url`].
pub fn is_known_m365_endpoint(v: &str) -> bool {
    let Ok(url) = url::Url::parse(v) else { return true };
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || MICROSOFT_HOSTS.contains(&d.as_str())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => true,
    }
}

/// `m365.authority`/`m365.graph_url` outside Microsoft's clouds need the admin's opt-in
/// (`m365.allow_custom_endpoints`, inherited from global like every server key).
fn check_m365_endpoints(config: &Config, out: &mut Vec<Problem>) {
    let global_allows = config.global.m365.allow_custom_endpoints == Some(true);
    let mut check = |prefix: &str, server: &crate::model::ServerSettings, allows: bool| {
        if allows {
            return;
        }
        for name in ["m365.authority", "m365.graph_url"] {
            let Some(v) = server.get(name) else { continue };
            if !is_known_m365_endpoint(&v) {
                out.push(Problem::new(
                    format!("{prefix}.{name}"),
                    Severity::Error,
                    format!(
                        "is not a Microsoft cloud host ({}) nor loopback: the client secret and tokens would go there; set {prefix}.m365.allow_custom_endpoints to true to allow it",
                        MICROSOFT_HOSTS.join(", ")
                    ),
                ));
            }
        }
    };
    check("global", &config.global, global_allows);
    for (id, c) in &config.clients {
        check(&format!("client.{id}"), &c.server, c.server.m365.allow_custom_endpoints.unwrap_or(global_allows));
    }
    for (name, r) in &config.routes {
        check(&format!("route.{name}"), &r.server, r.server.m365.allow_custom_endpoints.unwrap_or(global_allows));
    }
}

/// Receive-before-send: what logging in to the mailbox needs.
fn check_receiver(config: &Config, ctx: &Context, out: &mut Vec<Problem>) {
    let r = &config.receiver;
    if r.enabled != Some(true) {
        if r.before_send == Some(true) {
            out.push(Problem::new("receiver.before_send", Severity::Warning, "has no effect while receiver.enabled is off"));
        }
        return;
    }
    if r.host.is_none() {
        out.push(Problem::new("receiver.host", Severity::Missing, "required when the receiver is used"));
    }
    if r.username.is_none() {
        out.push(Problem::new("receiver.username", Severity::Missing, "required when the receiver is used"));
    }
    if let Some(set) = &ctx.secrets_set {
        if !set.contains("receiver.password") {
            out.push(Problem::new("receiver.password", Severity::Missing, "no password is saved for the mailbox: enter it under Security (or run `postdesk secret set receiver.password`)"));
        }
    }
    if matches!(r.protocol, Some(ReceiverProtocol::Imap | ReceiverProtocol::Pop3)) {
        out.push(Problem::new("receiver.protocol", Severity::Warning, "the password is sent unencrypted: choose a protocol with TLS or STARTTLS/STLS"));
    }
}

/// Checks one value by its kind. `utf8` allows internationalized addresses (RFC 6531/6532).
pub fn check_value(kind: Kind, v: &str, utf8: bool) -> Result<(), String> {
    match kind {
        Kind::AddressList => return check_address_list(v, utf8),
        Kind::TemplateSubject => return crate::templates::check(v, true),
        Kind::TemplateBody => return crate::templates::check(v, false),
        _ => {}
    }
    if v.contains(['\r', '\n']) {
        return Err("must not contain line breaks (CR or LF)".into());
    }
    if v.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters".into());
    }
    match kind {
        Kind::Host => check_host(v),
        Kind::Domain if v.parse::<Ipv4Addr>().is_ok() || v.contains(':') => Err("must be a domain such as example.com, not an IP address".into()),
        Kind::Domain => check_domain(v).map_err(|e| format!("is not a valid domain: {e}")),
        Kind::Email => check_email(v, utf8),
        Kind::DisplayName => {
            // Non-ASCII names are fine either way: RFC 2047-encoded when UTF-8 headers are off.
            if v.chars().count() > MAX_NAME {
                return Err(format!("is too long (at most {MAX_NAME} characters)"));
            }
            Ok(())
        }
        Kind::CommandText | Kind::Label => {
            if v.chars().count() > MAX_TEXT {
                return Err(format!("is too long (at most {MAX_TEXT} characters)"));
            }
            Ok(())
        }
        Kind::Guid => check_guid(v).then_some(()).ok_or_else(|| "must be a GUID like 00000000-0000-0000-0000-000000000000 (Application (client) ID in Entra)".into()),
        Kind::Tenant => {
            if check_guid(v) || (v.contains('.') && check_host(v).is_ok()) {
                Ok(())
            } else {
                Err("must be the Directory (tenant) ID, a GUID, or a domain such as contoso.onmicrosoft.com".into())
            }
        }
        Kind::Url => check_url(v),
        Kind::ProxyUrl => crate::proxy::parse(v, false).map(|_| ()),
        Kind::NoProxy => crate::proxy::NoProxy::parse(v, true).map(|_| ()),
        Kind::Date => parse_date(v).map(|_| ()),
        Kind::Path => {
            if v.len() > MAX_PATH {
                Err(format!("is too long (at most {MAX_PATH} bytes)"))
            } else if !std::path::Path::new(v).is_absolute() {
                Err("must be an absolute path to a PEM file".into())
            } else {
                Ok(())
            }
        }
        Kind::FromPattern => match v.strip_prefix("*@") {
            Some(domain) => check_domain(domain.strip_prefix("*.").unwrap_or(domain)).map_err(|e| format!("domain {e}")),
            None => check_email(v, utf8).map_err(|e| format!("{e}, or *@domain, or *@*.domain")),
        },
        Kind::Count => match v.parse::<u32>() {
            Ok(n) if n <= 1_000_000 => Ok(()),
            _ => Err("must be a whole number from 0 to 1000000 (0 = no limit)".into()),
        },
        Kind::Bool | Kind::Port | Kind::Seconds | Kind::Order | Kind::Enum(_) | Kind::Secret => Ok(()),
        Kind::AddressList | Kind::TemplateSubject | Kind::TemplateBody => unreachable!("checked above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context { today: time::macros::date!(2026 - 11 - 23), secrets_set: Some(BTreeSet::new()) }
    }

    #[test]
    fn a_missing_secret_says_where_to_enter_it_and_the_command_with_its_key() {
        let config = config_with(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.com"),
            ("global.sender.address", "it@example.com"),
            ("global.auth", "password"),
            ("global.username", "it"),
            ("client.acme.enabled", "true"),
            ("client.acme.auth", "m365-graph"),
            ("client.acme.m365.tenant", "contoso.onmicrosoft.com"),
            ("client.acme.m365.client_id", "00000000-0000-0000-0000-000000000001"),
            ("client.acme.m365.flow", "app"),
        ]);
        let said = |key: &str| validate(&config, &ctx()).into_iter().find(|p| p.key == key).map(|p| p.message).unwrap_or_default();
        assert_eq!(said("global.password"), "no password is saved: enter it under Security (or run `postdesk secret set global.password`)");
        assert_eq!(
            said("client.acme.m365.client_secret"),
            "required for the app-only flow and not saved: enter it under Security (or run `postdesk secret set client.acme.m365.client_secret`)"
        );
    }

    fn config_with(pairs: &[(&str, &str)]) -> Config {
        let mut config = Config::default();
        for (k, v) in pairs {
            let key = Key::parse(k).unwrap();
            let value = crate::keys::parse_raw(key.field, v).unwrap();
            config = key.write(&config, value);
        }
        config
    }

    fn keys_of(problems: &[Problem], severity: Severity) -> Vec<&str> {
        problems.iter().filter(|p| p.severity == severity).map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn a_client_text_for_a_user_type_that_does_not_exist_is_a_warning() {
        let config = config_with(&[("client.acme.templates.contractor.body", "Hi {{name}}"), ("client.acme.templates.power.body", "Hi")]);
        let problems = validate(&config, &ctx());
        assert_eq!(keys_of(&problems, Severity::Warning), ["client.acme.templates.contractor"], "{problems:?}");
        // Once the type exists globally, the client's text is used and nothing is said.
        let config = config_with(&[("client.acme.templates.contractor.body", "Hi {{name}}"), ("templates.contractor.body", "Hello {{name}}")]);
        assert!(keys_of(&validate(&config, &ctx()), Severity::Warning).is_empty());
    }

    #[test]
    fn m365_urls_outside_microsoft_need_the_opt_in() {
        for ok in ["https://login.microsoftonline.com", "https://login.microsoftonline.us/", "https://graph.microsoft.com", "https://dod-graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn", "http://127.0.0.1:8080", "http://localhost:1/x", "http://[::1]:9"] {
            let config = config_with(&[("global.m365.authority", ok), ("client.acme.m365.graph_url", ok)]);
            assert!(keys_of(&validate(&config, &ctx()), Severity::Error).is_empty(), "{ok}");
        }
        for bad in ["https://login.evil.example", "https://graph.microsoft.com.evil.example", "https://10.0.0.1", "https://microsoftonline.com"] {
            let config = config_with(&[("global.m365.authority", bad), ("client.acme.m365.graph_url", bad), ("route.r.m365.authority", bad)]);
            let problems = validate(&config, &ctx());
            assert_eq!(keys_of(&problems, Severity::Error), ["client.acme.m365.graph_url", "global.m365.authority", "route.r.m365.authority"], "{bad}: {problems:?}");
            assert!(problems.iter().any(|p| p.message.contains("global.m365.allow_custom_endpoints")), "{problems:?}");
            // The opt-in, global (inherited by clients and routes) or per scope.
            let config = config_with(&[("global.m365.authority", bad), ("client.acme.m365.graph_url", bad), ("global.m365.allow_custom_endpoints", "true")]);
            assert!(keys_of(&validate(&config, &ctx()), Severity::Error).is_empty(), "{bad}");
            let config = config_with(&[("client.acme.m365.graph_url", bad), ("client.acme.m365.allow_custom_endpoints", "true")]);
            assert!(keys_of(&validate(&config, &ctx()), Severity::Error).is_empty(), "{bad}");
            let config = config_with(&[("client.acme.m365.graph_url", bad), ("global.m365.allow_custom_endpoints", "true"), ("client.acme.m365.allow_custom_endpoints", "false")]);
            assert_eq!(keys_of(&validate(&config, &ctx()), Severity::Error), ["client.acme.m365.graph_url"]);
        }
    }

    #[test]
    fn hosts_names_ipv4_ipv6() {
        for ok in ["smtp.example.com", "localhost", "127.0.0.1", "::1", "[2001:db8::1]", "mail-1.example", "bücher.example"] {
            assert!(check_host(ok).is_ok(), "{ok}");
        }
        for bad in ["smtp..example.com", "-smtp.example.com", "smtp_relay.example.com", "256.1.1.1", "smtp.example.com:587", "a b", &"a".repeat(64)] {
            assert!(check_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_ascii_unless_utf8_headers() {
        for ok in ["it@example.com", "first.last+tag@sub.example.co", "x@[127.0.0.1]"] {
            assert!(check_email(ok, false).is_ok(), "{ok}");
        }
        for bad in ["it", "@example.com", "it@", "a..b@example.com", "Name <it@example.com>", "it@exa mple.com"] {
            assert!(check_email(bad, false).is_err(), "{bad}");
        }
        assert!(check_email("jörg@bücher.example", false).unwrap_err().contains("UTF-8 headers"));
        assert!(check_email("jörg@bücher.example", true).is_ok());
    }

    #[test]
    fn header_injection_is_rejected_everywhere() {
        for kind in [Kind::DisplayName, Kind::CommandText, Kind::Email, Kind::Host, Kind::Label] {
            let err = check_value(kind, "IT\r\nBcc: victim@example.com", true).unwrap_err();
            assert!(err.contains("line breaks"), "{kind:?}: {err}");
        }
    }

    #[test]
    fn control_characters_are_refused_in_addresses_even_with_utf8_headers() {
        for bad in ["a\u{85}b@example.com", "a\u{1b}b@example.com", "ab@exa\u{7f}mple.com"] {
            assert!(check_email(bad, true).unwrap_err().contains("control characters"), "{bad:?}");
        }
        let err = check_value(Kind::AddressList, "ok@example.com\na\u{9b}b@example.com", true).unwrap_err();
        assert!(err.contains("line 2") && err.contains("\\u{9b}") && !err.contains('\u{9b}'), "{err}");
    }

    #[test]
    fn ids_of_a_loaded_document_follow_the_key_grammar() {
        let mut config = Config::default();
        for id in ["ok-1", "a.b", "a#b", "", "a\u{0}", &"c".repeat(65)] {
            config.clients.insert(id.to_string(), Default::default());
        }
        config.routes.insert("r 1".into(), Default::default());
        config.templates.insert("p.q".into(), Default::default());
        config.clients.get_mut("ok-1").unwrap().templates.insert("t\u{1b}".into(), Default::default());
        let problems = validate(&config, &ctx());
        let bad: Vec<&str> = problems.iter().filter(|p| p.message.contains("is not allowed")).map(|p| p.key.as_str()).collect();
        let long = format!("client.{}", "c".repeat(65));
        let mut expected = vec!["client.", "client.a#b", "client.a.b", "client.a\\u{0}", &long, "client.ok-1.templates.t\\u{1b}", "route.r 1", "templates.p.q"];
        expected.sort();
        let mut got = bad.clone();
        got.sort();
        assert_eq!(got, expected, "{problems:?}");
        assert!(problems.iter().all(|p| !p.to_string().chars().any(char::is_control)), "{problems:?}");
    }

    #[test]
    fn tenant_and_client_id() {
        assert!(check_value(Kind::Tenant, "contoso.onmicrosoft.com", false).is_ok());
        assert!(check_value(Kind::Tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47", false).is_ok());
        assert!(check_value(Kind::Tenant, "contoso", false).is_err());
        assert!(check_value(Kind::Guid, "72f988bf-86f1-41af-91ab-2d7cd011db4", false).is_err());
    }

    #[test]
    fn urls_https_or_loopback_http() {
        assert!(check_url("https://login.microsoftonline.us").is_ok());
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://localhost:9/x").is_ok());
        assert!(check_url("http://login.example.com").is_err());
        assert!(check_url("ftp://x.example").is_err());
    }

    #[test]
    fn enabled_server_needs_host_and_sender() {
        let problems = validate(&config_with(&[("global.enabled", "true")]), &ctx());
        assert_eq!(keys_of(&problems, Severity::Missing), ["global.host", "global.sender.address"]);
        // Switched off: nothing is required.
        assert!(validate(&config_with(&[("global.port", "587")]), &ctx()).is_empty());
    }

    #[test]
    fn warnings_port_25_tls_verify_off_secret_expiring() {
        let config = config_with(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.com"),
            ("global.sender.address", "it@example.com"),
            ("global.security", "starttls"),
            ("global.tls_verify", "false"),
        ]);
        let problems = validate(&config, &ctx());
        assert_eq!(keys_of(&problems, Severity::Warning), ["global.port", "global.tls_verify"]);
        assert!(keys_of(&problems, Severity::Error).is_empty());

        let config = config_with(&[
            ("global.enabled", "true"),
            ("global.auth", "m365-graph"),
            ("global.sender.address", "it@example.com"),
            ("global.m365.tenant", "contoso.onmicrosoft.com"),
            ("global.m365.client_id", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("global.m365.secret_expires", "2026-12-10"),
        ]);
        let problems = validate(&config, &ctx());
        let expiring: Vec<_> = problems.iter().filter(|p| p.key == "global.m365.secret_expires").collect();
        assert_eq!(expiring.len(), 1);
        assert!(expiring[0].message.contains("17 days"), "{}", expiring[0].message);
    }

    #[test]
    fn password_auth_needs_username_and_keychain_secret() {
        let config = config_with(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.com"),
            ("global.port", "587"),
            ("global.security", "starttls"),
            ("global.sender.address", "it@example.com"),
            ("global.auth", "password"),
        ]);
        let problems = validate(&config, &ctx());
        assert_eq!(keys_of(&problems, Severity::Missing), ["global.password", "global.username"]);
        let with_secret = Context { secrets_set: Some(["global.password".to_string()].into()), ..ctx() };
        assert_eq!(keys_of(&validate(&config, &with_secret), Severity::Missing), ["global.username"]);
    }

    #[test]
    fn receiver_needs_host_username_and_password_when_enabled() {
        let config = config_with(&[("receiver.enabled", "true")]);
        let problems = validate(&config, &ctx());
        assert_eq!(keys_of(&problems, Severity::Missing), ["receiver.host", "receiver.password", "receiver.username"]);
        let config = config_with(&[
            ("receiver.enabled", "true"),
            ("receiver.protocol", "pop3"),
            ("receiver.host", "pop.example.com"),
            ("receiver.username", "it@example.com"),
        ]);
        let with_secret = Context { secrets_set: Some(["receiver.password".to_string()].into()), ..ctx() };
        let problems = validate(&config, &with_secret);
        assert!(keys_of(&problems, Severity::Missing).is_empty(), "{problems:?}");
        assert_eq!(keys_of(&problems, Severity::Warning), ["receiver.protocol"]);
        // Off: nothing is required, but "before each send" would silently do nothing.
        let problems = validate(&config_with(&[("receiver.before_send", "true")]), &ctx());
        assert_eq!(keys_of(&problems, Severity::Warning), ["receiver.before_send"]);
        assert!(keys_of(&problems, Severity::Missing).is_empty());
    }

    #[test]
    fn receiver_values_are_checked_by_kind_and_named() {
        let config = config_with(&[("receiver.host", "bad..host"), ("receiver.ca_file", "relative.pem"), ("receiver.username", "a\u{7}b")]);
        let problems = validate(&config, &ctx());
        assert_eq!(keys_of(&problems, Severity::Error), ["receiver.ca_file", "receiver.host", "receiver.username"]);
    }

    #[test]
    fn stored_values_are_checked_with_the_scope_utf8_setting() {
        let config = config_with(&[("global.sender.address", "jörg@bücher.example")]);
        assert_eq!(keys_of(&validate(&config, &ctx()), Severity::Error), ["global.sender.address"]);
        let config = config_with(&[("global.utf8_headers", "true"), ("global.sender.address", "jörg@bücher.example")]);
        assert!(validate(&config, &ctx()).is_empty());
    }

    #[test]
    fn client_templates_inherit_override_and_name_their_keys() {
        use crate::templates::{default_text, effective_for, preview, render, view, TemplateDraft};
        use std::collections::BTreeMap;
        let vars = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<String, String>>();
        let mut config = Config::default();
        config.templates.entry("power".into()).or_default().subject = Some("Global {{name}}".into());
        config.clients.insert("acme".into(), Default::default());
        // Unset: the global subject, then the default body.
        let (subject, body) = effective_for(&config, Some("acme"), "power").unwrap();
        assert_eq!((subject.as_str(), body.as_str()), ("Global {{name}}", default_text("power", "body")));
        let v = view(&config, Some("acme"), "power").unwrap();
        assert_eq!((v.subject_from.as_str(), v.body_from.as_str()), ("global", "default"));
        assert_eq!(v.inherited_subject, "Global {{name}}");
        // An override of the body only.
        let key = Key::parse("client.acme.templates.power.body").unwrap();
        assert_eq!(key.name(), "client.acme.templates.power.body");
        assert_eq!(key.effective(&config).as_deref(), Some(default_text("power", "body")));
        config = key.write(&config, Some("ACME says hi {{name}}".into()));
        assert_eq!(config.clients["acme"].templates["power"].body.as_deref(), Some("ACME says hi {{name}}"));
        let r = render(&config, "power", Some("acme"), &vars(&[("name", "Dana")])).unwrap();
        assert_eq!((r.subject.as_str(), r.body.as_str()), ("Global Dana", "ACME says hi Dana"));
        // Other clients and the global template are untouched.
        assert!(render(&config, "power", None, &BTreeMap::new()).unwrap().body.starts_with("Hello Alex Example"));
        assert_eq!(view(&config, Some("acme"), "power").unwrap().body_from, "client");
        // Unknown client, unknown type.
        let err = render(&config, "power", Some("nope"), &BTreeMap::new()).unwrap_err();
        assert_eq!((err[0].key.as_str(), err[0].message.as_str()), ("--client", "nope: no such client"));
        assert!(effective_for(&config, Some("acme"), "contractor").is_none());
        // Validation names the client key, with line and column; subjects stay one line.
        let bad = Key::parse("client.acme.templates.power.body").unwrap().write(&config, Some("ok\n  {{nmae}}".into()));
        let bad = Key::parse("client.acme.templates.power.subject").unwrap().write(&bad, Some("a\nb".into()));
        let problems = validate(&bad, &Context { today: ctx().today, secrets_set: None });
        let body = problems.iter().find(|p| p.key == "client.acme.templates.power.body").expect("body problem");
        assert!(body.message.contains("line 2, column 3") && body.message.contains("{{nmae}}"), "{body:?}");
        assert!(problems.iter().any(|p| p.key == "client.acme.templates.power.subject" && p.message.contains("one line")));
        // Every key is listed, and a wrong field is an unknown key.
        assert!(crate::keys::all_keys(&config).iter().any(|k| k.name() == "client.acme.templates.power.subject"));
        assert!(Key::parse("client.acme.templates.power.footer").is_err());
        assert!(Key::parse("route.x.templates.power.body").is_err());
        // The preview names the client's keys.
        let p = preview(&TemplateDraft { kind: "power".into(), subject: "{{x}}".into(), body: String::new(), client: Some("acme".into()) });
        assert_eq!(p.errors[0].key, "client.acme.templates.power.subject");
    }
}
