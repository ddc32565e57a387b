//! Text typed anywhere becomes configuration here: `key → text` edits applied to a document
//! (the one path for the window, the CLI, presets and imports), the secret keys a document
//! refers to, and today's date for validation. Pure but for the clock.

use std::collections::BTreeMap;

use crate::keys::{self, Key};
use crate::model::Config;
use crate::validate::{Problem, Severity};

/// Every secret key the document refers to (global, each client, each route).
pub fn secret_keys(config: &Config) -> Vec<String> {
    keys::all_keys(config).into_iter().filter(Key::is_secret).map(|k| k.name()).collect()
}

pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Applies `key → text` edits (empty text unsets) to `base`. Edits that cannot be parsed are
/// reported on their key and leave the old value.
pub fn apply_edits(base: &Config, edits: &BTreeMap<String, String>) -> (Config, Vec<Problem>) {
    let mut config = base.clone();
    let mut problems = Vec::new();
    for (name, raw) in edits {
        let problem = |message: String| Problem { key: name.clone(), severity: Severity::Error, message };
        match Key::parse(name) {
            Err(e) => problems.push(problem(e.message())),
            Ok(key) if key.is_secret() => problems.push(problem("is a secret: set it with `postdesk secret set`".into())),
            Ok(key) => match keys::parse_raw(key.field, raw) {
                Ok(value) => config = key.write(&config, value),
                Err(message) => problems.push(problem(message)),
            },
        }
    }
    (config, problems)
}
