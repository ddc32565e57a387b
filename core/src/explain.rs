//! "Who sends this mail?": the resolver's answer for a client and a From address, with the
//! chain of reasons that led to it, for the window's explainer and the Routes view's test
//! box. The answer itself always comes from [`crate::resolve::resolve_route`]; this module
//! only adds the reasons around it. Pure.

use serde::Serialize;
use ts_rs::TS;

use crate::diagnosis::ServerSummary;
use crate::keys::Key;
use crate::model::Config;
use crate::resolve::{pattern_match, resolve_route, Route};

#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct RouteCandidate {
    pub name: String,
    pub pattern: String,
    /// `exact address`, `domain` or `any subdomain`.
    pub how: String,
    pub order: u32,
    pub enabled: bool,
    pub wins: bool,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Explanation {
    /// Whether any mail would be sent at all.
    pub sends: bool,
    /// `global`, `client:<ID>` or `route:<NAME>`; `None` when nothing is sent.
    pub source: Option<String>,
    pub server: Option<ServerSummary>,
    /// The From address that would leave (after the client's sender identity).
    pub from: Option<String>,
    /// The route that wins, if one does.
    pub route: Option<String>,
    /// Every route whose pattern matches the From address (enabled or not).
    pub candidates: Vec<RouteCandidate>,
    /// The resolver's own one-line reason (what `route --json` calls `reason`).
    pub reason: String,
    /// Why, in order: one sentence per decision.
    pub chain: Vec<String>,
}

pub const GLOBAL_OFF: &str = "The global mail server is off ⇒ nothing is sent (client servers and routes included). Turn on “Use mail server” under Base, or run `postdesk config set global.enabled true`.";

/// Explains which server sends a mail of `client` (none: the organization itself) from `from`
/// (none: the sender address in force). Errors: unknown client, a From the client may not use.
pub fn explain(config: &Config, client: Option<&str>, from: Option<&str>) -> Result<Explanation, String> {
    let get = |key: &str| Key::parse(key).expect("known key").effective(config);
    let mut chain = Vec::new();
    if let Some(id) = client {
        let c = config.clients.get(id).ok_or_else(|| format!("client.{id}: no such client"))?;
        let label = c.name.as_deref().map(|n| format!("client {id} ({n})")).unwrap_or_else(|| format!("client {id}"));
        if get(&format!("client.{id}.enabled")).as_deref() == Some("true") {
            chain.push(format!("The mail is for {label}, whose own server is enabled."));
        } else {
            chain.push(format!("The mail is for {label}, which has no own server enabled: it uses the global server unless a route matches."));
        }
    } else {
        chain.push("No client: the organization's own mail.".into());
    }
    if get("global.enabled").as_deref() != Some("true") {
        chain.push(GLOBAL_OFF.into());
        return Ok(Explanation { sends: false, source: None, server: None, from: None, route: None, candidates: vec![], reason: GLOBAL_OFF.into(), chain });
    }
    chain.push("The global mail server is on.".into());
    let identity = crate::identity::sender_identity(config, client, from)?;
    chain.extend(identity.reasons.iter().map(|r| format!("{}{}.", r[..1].to_uppercase(), &r[1..])));
    let sent_from = identity.from.clone();
    match (&sent_from, from) {
        (Some(f), Some(given)) if f.eq_ignore_ascii_case(given) => chain.push(format!("From {f}.")),
        (Some(f), _) => chain.push(format!("From {f} (the sender address in force).")),
        (None, _) => chain.push("No From address is known: routes are not considered.".into()),
    }
    let (route, reason) = resolve_route(config, client, sent_from.as_deref()).map_err(|e| e.to_string())?;
    let Route::Send(server) = route else {
        chain.push(format!("{}{}.", reason[..1].to_uppercase(), &reason[1..]));
        return Ok(Explanation { sends: false, source: None, server: None, from: sent_from, route: None, candidates: vec![], reason, chain });
    };
    let winner = server.source.strip_prefix("route:").map(String::from);
    let mut candidates = Vec::new();
    if let Some(f) = &sent_from {
        for (name, r) in &config.routes {
            let Some(pattern) = r.from.as_deref() else { continue };
            let Some((_, how)) = pattern_match(pattern, f) else { continue };
            let enabled = get(&format!("route.{name}.enabled")).as_deref() == Some("true");
            let order = r.order.unwrap_or(100);
            let wins = winner.as_deref() == Some(name.as_str());
            chain.push(format!(
                "Route {name} ({pattern}) matches: {how}, order {order}{}.",
                if !enabled { " — but it is disabled, so it is ignored" } else if wins { " — it wins" } else { " — a more specific or earlier route wins" }
            ));
            candidates.push(RouteCandidate { name: name.clone(), pattern: pattern.into(), how: how.into(), order, enabled, wins });
        }
        if candidates.is_empty() && !config.routes.is_empty() {
            chain.push(format!("No route matches {f}."));
        }
    }
    let summary = server.summary();
    let place = if server.email_type == crate::model::EmailType::Sendmail {
        format!("the sendmail program {}", server.sendmail_path)
    } else {
        format!("{}:{} ({}, auth {})", summary.host, summary.port, summary.security, summary.auth)
    };
    chain.push(format!("⇒ Sent through {} at {place}.", describe(&server.source)));
    Ok(Explanation {
        sends: true,
        source: Some(server.source.clone()),
        server: Some(summary),
        from: sent_from,
        route: winner,
        candidates,
        reason,
        chain,
    })
}

fn describe(source: &str) -> String {
    match source.split_once(':') {
        Some(("client", id)) => format!("client {id}'s own server"),
        Some(("route", name)) => format!("route {name}"),
        _ => "the global server".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::test_config as config;

    fn setup() -> Config {
        config(&[
            ("global.enabled", "true"),
            ("global.host", "smtp.example.test"),
            ("global.port", "587"),
            ("global.sender.address", "it@example.com"),
            ("client.acme.name", "Acme"),
            ("client.acme.enabled", "true"),
            ("client.acme.host", "smtp.acme.test"),
            ("client.beta.name", "Beta"),
            ("route.corp.enabled", "true"),
            ("route.corp.from", "*@example.com"),
            ("route.corp.host", "corp.example.test"),
            ("route.ceo.from", "ceo@example.com"),
        ])
    }

    #[test]
    fn global_off_is_said_and_nothing_is_sent() {
        let mut c = setup();
        c = crate::edits::apply_edits(&c, &[("global.enabled".to_string(), "false".to_string())].into()).0;
        let e = explain(&c, Some("acme"), Some("alice@example.com")).unwrap();
        assert!(!e.sends);
        assert_eq!(e.source, None);
        assert_eq!(e.chain.last().unwrap(), GLOBAL_OFF);
    }

    #[test]
    fn a_client_with_its_own_server_and_no_route() {
        let e = explain(&setup(), Some("acme"), Some("bob@acme.test")).unwrap();
        assert_eq!(e.source.as_deref(), Some("client:acme"));
        assert_eq!(e.server.as_ref().unwrap().host, "smtp.acme.test");
        assert_eq!(e.server.as_ref().unwrap().port, 587, "inherited from global");
        assert!(e.chain[0].contains("client acme (Acme), whose own server is enabled"), "{:?}", e.chain);
        assert!(e.chain.iter().any(|l| l == "No route matches bob@acme.test."), "{:?}", e.chain);
        assert!(e.chain.last().unwrap().starts_with("⇒ Sent through client acme's own server at smtp.acme.test:587"));
    }

    #[test]
    fn a_client_without_own_server_uses_global_and_routes_are_listed() {
        let e = explain(&setup(), Some("beta"), None).unwrap();
        assert_eq!(e.from.as_deref(), Some("it@example.com"));
        assert_eq!(e.source.as_deref(), Some("route:corp"), "the global sender matches route corp");
        let e = explain(&setup(), Some("beta"), Some("ceo@example.com")).unwrap();
        assert_eq!(e.route.as_deref(), Some("corp"));
        assert_eq!(e.candidates.len(), 2);
        let ceo = e.candidates.iter().find(|c| c.name == "ceo").unwrap();
        assert!(!ceo.enabled && !ceo.wins);
        assert!(e.chain.iter().any(|l| l.contains("Route ceo (ceo@example.com) matches: exact address, order 100 — but it is disabled")));
        let e = explain(&setup(), Some("beta"), Some("x@other.test")).unwrap();
        assert_eq!(e.source.as_deref(), Some("global"));
        assert!(e.chain[0].contains("no own server enabled"));
    }

    #[test]
    fn unknown_clients_and_refused_senders_are_errors() {
        assert_eq!(explain(&setup(), Some("nope"), None).unwrap_err(), "client.nope: no such client");
        let mut c = setup();
        c = crate::edits::apply_edits(&c, &[("client.beta.sender.alternatives".to_string(), "sales@beta.test".to_string())].into()).0;
        assert!(explain(&c, Some("beta"), Some("x@other.test")).unwrap_err().starts_with("client.beta.sender.alternatives"));
    }

    #[test]
    fn the_explainer_agrees_with_the_resolver() {
        let c = setup();
        for client in [None, Some("acme"), Some("beta")] {
            for from in ["alice@example.com", "ceo@example.com", "bob@acme.test", "x@y.test"] {
                let e = explain(&c, client, Some(from)).unwrap();
                let Route::Send(s) = resolve_route(&c, client, Some(from)).unwrap().0 else { panic!() };
                assert_eq!(e.source.as_deref(), Some(s.source.as_str()), "{client:?} {from}");
            }
        }
    }
}
