//! Clients and From-address routes as the admin manages them: add, rename, remove, list and
//! search (fast with 10,000 clients), edit one client's or route's keys with inheritance
//! shown, reorder routes. Every change goes through `apply_edits` + `validate` and one atomic
//! save, like any other setting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::app::{apply_edits, invalid, keyed, today, Error, Postdesk, SecretChange};
use crate::keys::{Field, Key, Scope, CLIENT_FIELDS, ROUTE_FIELDS, SERVER_FIELDS};
use crate::model::{ClientSettings, Config, RouteSettings};
use crate::validate::{validate, Context, Problem};

/// One line of the Clients list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    /// Its own server is enabled.
    pub own_server: bool,
    /// Its own host, when set.
    pub host: String,
}

/// One line of the Routes list, in the order routes are tried among equally specific ones.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct RouteRow {
    pub name: String,
    pub from: String,
    pub order: u32,
    pub enabled: bool,
    /// The host in force (own or inherited).
    pub host: String,
}

/// The editor of one client or route: each key's own value and what it inherits.
#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct ScopeForm {
    /// `client.<ID>` or `route.<NAME>`.
    pub prefix: String,
    /// Own (stored) values as text, `""` when unset (inherited), by full key.
    pub values: BTreeMap<String, String>,
    /// What an unset key means: the global value in force, or the default.
    pub inherited: BTreeMap<String, String>,
    /// Where each inherited value comes from: `global` or `default`.
    pub inherited_from: BTreeMap<String, String>,
    /// Whether each secret key holds its own value; `global_secrets`: the global one.
    pub secrets: BTreeMap<String, bool>,
    pub global_secrets: BTreeMap<String, bool>,
    pub problems: Vec<Problem>,
    /// This scope's keys the organization's policy locks: shown, not editable (the core refuses
    /// a change anyway); `lock_reason` says by which policy.
    pub locked: Vec<String>,
    pub lock_reason: String,
}

/// Rows whose ID or name contains `query` (case-insensitive), in ID order. (The window filters
/// its own list; this is the rule its tests hold it to.)
#[cfg(test)]
pub fn filter_clients<'a>(rows: &'a [ClientRow], query: &str) -> Vec<&'a ClientRow> {
    let q = query.trim().to_lowercase();
    rows.iter().filter(|r| q.is_empty() || r.id.to_lowercase().contains(&q) || r.name.to_lowercase().contains(&q)).collect()
}

pub fn client_rows(config: &Config) -> Vec<ClientRow> {
    let on = |c: &ClientSettings| c.server.enabled == Some(true);
    config
        .clients
        .iter()
        .map(|(id, c)| ClientRow { id: id.clone(), name: c.name.clone().unwrap_or_default(), own_server: on(c), host: c.server.host.clone().unwrap_or_default() })
        .collect()
}

pub fn route_rows(config: &Config) -> Vec<RouteRow> {
    let global_host = config.global.host.clone().unwrap_or_default();
    let mut rows: Vec<RouteRow> = config
        .routes
        .iter()
        .map(|(name, r): (&String, &RouteSettings)| RouteRow {
            name: name.clone(),
            from: r.from.clone().unwrap_or_default(),
            order: r.order.unwrap_or(100),
            enabled: r.server.enabled == Some(true),
            host: r.server.host.clone().unwrap_or_else(|| global_host.clone()),
        })
        .collect();
    rows.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn scope_keys(scope: &Scope) -> Vec<Key> {
    let extra: &'static [Field] = match scope {
        Scope::Client(_) => &CLIENT_FIELDS,
        Scope::Route(_) => &ROUTE_FIELDS,
        _ => &[],
    };
    extra.iter().chain(SERVER_FIELDS.iter()).map(|field| Key { scope: scope.clone(), field }).collect()
}

fn scope_of(prefix: &str) -> Result<Scope, Error> {
    // Parsing a key of the scope checks the ID the same way as everywhere else.
    let probe = Key::parse(&format!("{prefix}.host"))?;
    match probe.scope {
        s @ (Scope::Client(_) | Scope::Route(_)) => Ok(s),
        _ => Err(invalid(prefix, "is not a client or route")),
    }
}

/// The client or route `prefix` names still exists even when every key of it was reset.
fn keep_scope(mut config: Config, prefix: &str) -> Config {
    match scope_of(prefix) {
        Ok(Scope::Client(id)) => {
            config.clients.entry(id).or_default();
        }
        Ok(Scope::Route(name)) => {
            config.routes.entry(name).or_default();
        }
        _ => {}
    }
    config
}

impl Postdesk {
    /// Every client, in ID order (the window filters them itself, as the admin types).
    pub fn clients(&self) -> Result<Vec<ClientRow>, Error> {
        Ok(client_rows(&self.load()?))
    }

    pub fn add_client(&self, id: &str, name: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let mut config = self.load()?;
        scope_of(&format!("client.{id}"))?;
        if config.clients.contains_key(id) {
            return Err(invalid(&format!("client.{id}"), "already exists"));
        }
        let before = config.clone();
        config.clients.insert(id.to_string(), ClientSettings::default());
        self.save_validated(&before, &config, &BTreeMap::from([(format!("client.{id}.name"), name.to_string())]), &format!("client.{id}"), &lock)
    }

    /// Changes the client's display name (its ID, which keys and secrets use, stays).
    pub fn rename_client(&self, id: &str, name: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let config = self.existing(&format!("client.{id}"))?;
        self.save_validated(&config, &config, &BTreeMap::from([(format!("client.{id}.name"), name.to_string())]), &format!("client.{id}"), &lock)
    }

    /// Removes a client and every secret it has (password, client secret, refresh token,
    /// account: [`Postdesk::save_config`] clears them first).
    pub fn remove_client(&self, id: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let before = self.existing(&format!("client.{id}"))?;
        let mut config = before.clone();
        config.clients.remove(id);
        self.save_config(&before, &config, &lock)
    }

    pub fn routes(&self) -> Result<Vec<RouteRow>, Error> {
        Ok(route_rows(&self.load()?))
    }

    /// A new route for `from`, switched on, tried after the existing ones of equal specificity;
    /// its server keys inherit from global until set.
    pub fn add_route(&self, name: &str, from: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let mut config = self.load()?;
        scope_of(&format!("route.{name}"))?;
        if config.routes.contains_key(name) {
            return Err(invalid(&format!("route.{name}"), "already exists"));
        }
        let last = config.routes.values().map(|r| r.order.unwrap_or(100)).max().unwrap_or(0);
        let before = config.clone();
        config.routes.insert(name.to_string(), RouteSettings::default());
        let edits = BTreeMap::from([
            (format!("route.{name}.from"), from.to_string()),
            (format!("route.{name}.enabled"), "true".to_string()),
            (format!("route.{name}.order"), (last.max(90) + 10).min(100_000).to_string()),
        ]);
        self.save_validated(&before, &config, &edits, &format!("route.{name}"), &lock)
    }

    /// Removes a route and every secret it has.
    pub fn remove_route(&self, name: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let before = self.existing(&format!("route.{name}"))?;
        let mut config = before.clone();
        config.routes.remove(name);
        self.save_config(&before, &config, &lock)
    }

    /// Gives the routes `names` (all of them, in the wanted order) orders 10, 20, 30, …
    pub fn reorder_routes(&self, names: &[String]) -> Result<(), Error> {
        let lock = self.lock()?;
        let config = self.load()?;
        let mut wanted: Vec<&String> = names.iter().collect();
        wanted.sort();
        wanted.dedup();
        if wanted.len() != names.len() || !wanted.iter().copied().eq(config.routes.keys()) {
            return Err(invalid("route", "the new order must name every route exactly once"));
        }
        let edits = names.iter().enumerate().map(|(i, n)| (format!("route.{n}.order"), ((i + 1) * 10).to_string())).collect();
        self.save_validated(&config, &config, &edits, "route.", &lock)
    }

    /// The editor's view of one client or route.
    pub fn scope_form(&self, prefix: &str) -> Result<ScopeForm, Error> {
        let config = self.existing(prefix)?;
        let scope = scope_of(prefix)?;
        let (mut values, mut inherited, mut inherited_from) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        let mut secret_names = Vec::new();
        let policy = self.policy();
        let mut locked = Vec::new();
        for key in scope_keys(&scope) {
            let name = key.name();
            if key.is_secret() {
                secret_names.push(name.clone());
                secret_names.push(format!("global.{}", key.field.name));
                continue;
            }
            if policy.is_locked(&name) {
                locked.push(name.clone());
            }
            values.insert(name.clone(), key.get(&config).map(|v| v.into_owned()).unwrap_or_default());
            let (from, value) = match key.parent().filter(|_| key.field.inherited) {
                Some(parent) => match parent.get(&config) {
                    Some(v) => ("global", Some(v.into_owned())),
                    None => ("default", key.field.default.map(String::from)),
                },
                None => ("default", key.field.default.map(String::from)),
            };
            inherited.insert(name.clone(), value.unwrap_or_default());
            inherited_from.insert(name, from.to_string());
        }
        // Without a keychain the form still opens; secrets then show as not set.
        let set = self.keychain.which_set(secret_names.iter().map(String::as_str)).ok();
        let set_or_empty = set.clone().unwrap_or_default();
        let (mut secrets, mut global_secrets) = (BTreeMap::new(), BTreeMap::new());
        for name in &secret_names {
            let target = if name.starts_with("global.") { &mut global_secrets } else { &mut secrets };
            target.insert(name.clone(), set_or_empty.contains(name));
        }
        let problems = validate(&config, &Context { today: today(), secrets_set: set })
            .into_iter()
            .filter(|p| p.key.starts_with(&format!("{prefix}.")))
            .collect();
        let lock_reason = if locked.is_empty() { String::new() } else { policy.reason() };
        Ok(ScopeForm { prefix: prefix.into(), values, inherited, inherited_from, secrets, global_secrets, problems, locked, lock_reason })
    }

    /// Saves edits (full keys, `""` resets to inherited) and secret changes of one client or
    /// route. Nothing is written when a value of that scope is invalid.
    pub fn save_scope(&self, prefix: &str, edits: &BTreeMap<String, String>, secrets: &[SecretChange]) -> Result<ScopeForm, Error> {
        let lock = self.lock()?;
        let config = self.existing(prefix)?;
        let outside: Vec<&String> = edits.keys().chain(secrets.iter().map(|s| &s.key)).filter(|k| !k.starts_with(&format!("{prefix}."))).collect();
        if let Some(k) = outside.first() {
            return Err(invalid(k, &format!("is not a key of {prefix}")));
        }
        let (after, problems) = apply_edits(&config, edits);
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let blocking: Vec<Problem> = validate(&after, &Context { today: today(), secrets_set: None })
            .into_iter()
            .filter(|p| p.severity == crate::Severity::Error && p.key.starts_with(&format!("{prefix}.")))
            .collect();
        if !blocking.is_empty() {
            return Err(Error::Invalid(blocking));
        }
        for change in secrets {
            match &change.value {
                Some(v) => self.set_secret(&change.key, &crate::Secret::new(v.clone()))?,
                None => {
                    self.clear_secret(&change.key)?;
                }
            }
        }
        let after = keep_scope(after, prefix);
        // Where a stored secret now goes differently (or which program runs) is said under
        // the key that did it, as the main form's preview does.
        let replaced: Vec<String> = secrets.iter().map(|c| c.key.clone()).collect();
        let redirects = self.redirects(&config, &after, &replaced);
        self.save_config(&config, &after, &lock)?;
        drop(lock);
        let mut form = self.scope_form(prefix)?;
        form.problems.extend(redirects.iter().map(crate::redirect::Redirect::as_problem));
        Ok(form)
    }

    /// Who sends a mail of `client` from `from`, and why.
    pub fn explain(&self, client: Option<&str>, from: Option<&str>) -> Result<crate::explain::Explanation, Error> {
        let config = self.load()?;
        crate::explain::explain(&config, client, from).map_err(|e| keyed(&e))
    }

    fn existing(&self, prefix: &str) -> Result<Config, Error> {
        let config = self.load()?;
        let exists = match scope_of(prefix)? {
            Scope::Client(id) => config.clients.contains_key(&id),
            Scope::Route(name) => config.routes.contains_key(&name),
            _ => false,
        };
        if !exists {
            return Err(invalid(prefix, "no such client or route"));
        }
        Ok(config)
    }

    /// Applies `edits` to `config` (made from `before`, loaded under `lock`) and saves,
    /// refusing errors on keys under `prefix`.
    fn save_validated(&self, before: &Config, config: &Config, edits: &BTreeMap<String, String>, prefix: &str, lock: &crate::store::EditLock) -> Result<(), Error> {
        let (after, problems) = apply_edits(config, edits);
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        let errors: Vec<Problem> = validate(&after, &Context { today: today(), secrets_set: None })
            .into_iter()
            .filter(|p| p.severity == crate::Severity::Error && p.key.starts_with(prefix))
            .collect();
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        self.save_config(before, &keep_scope(after, prefix), lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> (tempfile::TempDir, Postdesk) {
        let dir = tempfile::tempdir().unwrap();
        let app = Postdesk::open(dir.path());
        (dir, app)
    }

    #[test]
    fn clients_are_added_renamed_searched_and_removed() {
        let (_d, app) = app();
        app.add_client("acme", "Acme Corp").unwrap();
        app.add_client("beta", "").unwrap();
        assert!(app.add_client("acme", "again").unwrap_err().to_string().contains("client.acme: already exists"));
        assert!(app.add_client("bad id", "x").is_err());
        app.rename_client("beta", "Beta Industries").unwrap();
        let rows = app.clients().unwrap();
        assert_eq!(rows.iter().map(|r| (r.id.as_str(), r.name.as_str())).collect::<Vec<_>>(), [("acme", "Acme Corp"), ("beta", "Beta Industries")]);
        assert_eq!(filter_clients(&rows, "INDUS").len(), 1);
        assert_eq!(filter_clients(&rows, "").len(), 2);
        // Removing (which clears the client's secrets) is tested with the real keychain in tests/clients.rs.
        assert!(app.remove_client("nobody").is_err());
    }

    #[test]
    fn a_client_form_shows_inherited_values_and_resets() {
        let (_d, app) = app();
        app.set("global.host", "smtp.example.test").unwrap();
        app.add_client("acme", "Acme").unwrap();
        let f = app.scope_form("client.acme").unwrap();
        assert_eq!(f.values["client.acme.host"], "");
        assert_eq!((f.inherited["client.acme.host"].as_str(), f.inherited_from["client.acme.host"].as_str()), ("smtp.example.test", "global"));
        assert_eq!((f.inherited["client.acme.port"].as_str(), f.inherited_from["client.acme.port"].as_str()), ("25", "default"));
        let edits = BTreeMap::from([("client.acme.host".to_string(), "smtp.acme.test".to_string())]);
        let f = app.save_scope("client.acme", &edits, &[]).unwrap();
        assert_eq!(f.values["client.acme.host"], "smtp.acme.test");
        let bad = BTreeMap::from([("client.acme.port".to_string(), "70000".to_string())]);
        assert!(app.save_scope("client.acme", &bad, &[]).unwrap_err().to_string().contains("client.acme.port"));
        let outside = BTreeMap::from([("global.port".to_string(), "587".to_string())]);
        assert!(app.save_scope("client.acme", &outside, &[]).is_err());
        let reset = BTreeMap::from([("client.acme.host".to_string(), String::new()), ("client.acme.name".to_string(), String::new())]);
        let f = app.save_scope("client.acme", &reset, &[]).unwrap();
        assert_eq!(f.values["client.acme.host"], "");
        assert_eq!(app.clients().unwrap().len(), 1, "resetting every key keeps the client");
    }

    #[test]
    fn routes_are_added_in_order_reordered_and_removed() {
        let (_d, app) = app();
        app.add_route("corp", "*@example.com").unwrap();
        app.add_route("ceo", "ceo@example.com").unwrap();
        assert!(app.add_route("x", "not a pattern").unwrap_err().to_string().contains("route.x.from"));
        let names = |app: &Postdesk| app.routes().unwrap().into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(names(&app), ["corp", "ceo"]);
        app.reorder_routes(&["ceo".into(), "corp".into()]).unwrap();
        assert_eq!(names(&app), ["ceo", "corp"]);
        assert!(app.reorder_routes(&["ceo".into()]).is_err());
        assert!(app.reorder_routes(&["ceo".into(), "ceo".into()]).is_err());
        assert!(app.remove_route("nobody").is_err());
    }
}
