//! The saved configuration's health for the monitoring that already runs (`check --format
//! nagios|prometheus`): the problems `check` finds, plus when each scope's Microsoft 365
//! client secret expires. The status rules stay with the CLI's formats; this only gathers.

use serde::Serialize;
use time::Date;

use crate::app::{Error, Postdesk};
use crate::checks::parse_date;
use crate::edits::today;
use crate::model::{Config, EmailType, ServerSettings};
use crate::settings::Settings;
use crate::validate::Problem;

/// When one scope's client secret expires (`<scope>.m365.secret_expires`).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct SecretExpiry {
    /// `global`, `client:<ID>` or `route:<NAME>`, as a test mail's `source`.
    pub scope: String,
    /// The key the date is read from (a client or route may inherit the global date).
    pub key: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    /// Whole days from today (UTC) to that date; negative once it has passed.
    pub days_left: i64,
    /// 00:00 UTC of that date, as a Unix time.
    pub timestamp: i64,
}

/// What `check` finds, and the client secrets' expiry dates.
#[derive(Serialize, Clone, Debug)]
pub struct Health {
    pub problems: Vec<Problem>,
    pub secrets: Vec<SecretExpiry>,
}

impl Postdesk {
    /// `check`'s problems and each scope's client secret expiry, from one reading of the
    /// settings as saved.
    pub fn health(&self) -> Result<Health, Error> {
        let problems = self.check()?;
        let config = self.load()?;
        Ok(Health { problems, secrets: secret_expiries(&config, today()) })
    }
}

/// The expiry date of each server in use that signs in to Microsoft 365 with a date set: the
/// same servers `validate` warns about (global when on, a client's or route's own server when
/// enabled, with the global values it inherits). Unparsable dates are `validate`'s to report.
pub(crate) fn secret_expiries(config: &Config, today: Date) -> Vec<SecretExpiry> {
    let mut out = Vec::new();
    let mut add = |scope: String, prefix: String, s: &ServerSettings, own: &ServerSettings| {
        if !s.enabled() || s.email_type() == EmailType::Sendmail || !s.auth().is_m365() {
            return;
        }
        let Some(text) = s.m365.secret_expires.as_deref() else { return };
        let Ok(date) = parse_date(text) else { return };
        // Named where the date is stored: the scope's own key, else the global one it inherits.
        let key = if own.m365.secret_expires.is_some() { format!("{prefix}.m365.secret_expires") } else { "global.m365.secret_expires".into() };
        out.push(SecretExpiry {
            scope,
            key,
            expires: text.to_string(),
            days_left: (date - today).whole_days(),
            timestamp: date.midnight().assume_utc().unix_timestamp(),
        });
    };
    add("global".into(), "global".into(), &config.global, &config.global);
    for (id, client) in &config.clients {
        if client.server.enabled == Some(true) {
            add(format!("client:{id}"), format!("client.{id}"), &client.server.inherit(&config.global), &client.server);
        }
    }
    for (name, route) in &config.routes {
        if route.server.enabled == Some(true) {
            add(format!("route:{name}"), format!("route.{name}"), &route.server.inherit(&config.global), &route.server);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::test_config;

    #[test]
    fn expiry_per_scope_in_use_with_inherited_dates_named_where_stored() {
        let today = time::macros::date!(2026 - 12 - 06);
        let config = test_config(&[
            ("global.enabled", "true"),
            ("global.auth", "m365-graph"),
            ("global.m365.secret_expires", "2026-12-16"),
            // Enabled, inherits Microsoft 365 and the date.
            ("client.acme.enabled", "true"),
            ("client.acme.host", "smtp.acme.test"),
            // Enabled with its own, expired date.
            ("client.beta.enabled", "true"),
            ("client.beta.m365.secret_expires", "2026-12-01"),
            // Not enabled: sends through global, no own secret in use.
            ("client.idle.m365.secret_expires", "2027-01-01"),
            // Enabled, but password auth: no client secret.
            ("route.pw.from", "*@pw.test"),
            ("route.pw.enabled", "true"),
            ("route.pw.auth", "password"),
        ]);
        let got = secret_expiries(&config, today);
        let summary: Vec<(&str, &str, i64)> = got.iter().map(|e| (e.scope.as_str(), e.key.as_str(), e.days_left)).collect();
        assert_eq!(
            summary,
            [("global", "global.m365.secret_expires", 10), ("client:acme", "global.m365.secret_expires", 10), ("client:beta", "client.beta.m365.secret_expires", -5)]
        );
        assert_eq!(got[0].timestamp, 1_797_379_200, "2026-12-16T00:00:00Z");
        assert_eq!(got[0].expires, "2026-12-16");
    }

    #[test]
    fn nothing_when_global_is_off_or_not_microsoft_365() {
        let today = time::macros::date!(2026 - 12 - 06);
        let off = test_config(&[("global.enabled", "false"), ("global.auth", "m365-smtp"), ("global.m365.secret_expires", "2027-01-01")]);
        assert!(secret_expiries(&off, today).is_empty());
        let password = test_config(&[("global.enabled", "true"), ("global.auth", "password"), ("global.m365.secret_expires", "2027-01-01")]);
        assert!(secret_expiries(&password, today).is_empty());
    }
}
