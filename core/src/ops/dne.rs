//! The Do-Not-Email list and the daily limit as `Postdesk` operations (the list's rules are
//! in [`crate::dne`]), each a load-change-save under the edit lock.

use crate::app::{invalid, Error, Postdesk};
use crate::dne::{merged, normalize, normalize_all, parse_csv, to_csv, DneView, MAX_ENTRIES};
use crate::edits::{apply_edits, today};
use crate::validate::{Problem, Severity};

impl Postdesk {
    /// Adds entries (all validated first; nothing is saved when one is invalid). Returns how
    /// many were new.
    pub fn dne_add(&self, entries: &[String]) -> Result<usize, Error> {
        let new = normalize_all(entries.iter().map(String::as_str)).map_err(Error::Invalid)?;
        let lock = self.lock()?;
        let before = self.load()?;
        let mut config = before.clone();
        let (list, added) = merged(&config.dne, &new);
        if list.len() > MAX_ENTRIES {
            return Err(Error::Invalid(vec![Problem { key: "dne".into(), severity: Severity::Error, message: format!("would have more than {MAX_ENTRIES} entries") }]));
        }
        if added > 0 {
            config.dne = list;
            self.save_config(&before, &config, &lock)?;
        }
        Ok(added)
    }

    /// Removes entries; returns those that were not on the list.
    pub fn dne_remove(&self, entries: &[String]) -> Result<Vec<String>, Error> {
        let lock = self.lock()?;
        let before = self.load()?;
        let mut config = before.clone();
        let mut missing = Vec::new();
        for e in entries {
            let n = normalize(e).unwrap_or_else(|_| e.trim().to_string());
            match config.dne.iter().position(|x| *x == n) {
                Some(i) => {
                    config.dne.remove(i);
                }
                None => missing.push(e.clone()),
            }
        }
        if missing.len() < entries.len() {
            self.save_config(&before, &config, &lock)?;
        }
        Ok(missing)
    }

    /// The entries containing `search` (case-insensitive), or all.
    pub fn dne_list(&self, search: Option<&str>) -> Result<Vec<String>, Error> {
        let config = self.load()?;
        let needle = search.map(str::to_lowercase).unwrap_or_default();
        Ok(config.dne.into_iter().filter(|e| e.to_lowercase().contains(&needle)).collect())
    }

    /// Adds the entries of a CSV file; nothing is changed when a line is bad.
    pub fn dne_import(&self, path: &std::path::Path) -> Result<usize, Error> {
        let bytes = Postdesk::read_import_file(path)?;
        let entries = parse_csv(&bytes).map_err(Error::Invalid)?;
        self.dne_add(&entries)
    }

    /// Writes the list to a CSV file (atomically).
    pub fn dne_export(&self, path: &std::path::Path) -> Result<usize, Error> {
        let config = self.load()?;
        Postdesk::write_export_file(path, &to_csv(&config.dne))?;
        Ok(config.dne.len())
    }

    /// The list, the limit and the current count, for the window.
    pub fn dne_view(&self) -> Result<DneView, Error> {
        let config = self.load()?;
        let sent = crate::limits::SentLog::new(self.data_dir()).count().map_err(|e| invalid("limits", &e.to_string()))?;
        Ok(DneView {
            entries: config.dne.clone(),
            max_per_day: config.limits.max_per_day.unwrap_or(0),
            ignore_dne_for: crate::settings::default_text(&config.limits.ignore_dne_for()),
            sent_last_24h: sent,
        })
    }
}

impl Postdesk {
    /// Saves `limits.max_per_day` and `limits.ignore_dne_for` together (the window's Save);
    /// nothing is saved when either is invalid.
    pub fn save_limits(&self, max_per_day: &str, ignore_dne_for: &str) -> Result<DneView, Error> {
        let edits = std::collections::BTreeMap::from([
            ("limits.max_per_day".to_string(), max_per_day.to_string()),
            ("limits.ignore_dne_for".to_string(), ignore_dne_for.to_string()),
        ]);
        let lock = self.lock()?;
        let before = self.load()?;
        let (config, mut problems) = apply_edits(&before, &edits);
        problems.extend(
            crate::validate::validate(&config, &crate::validate::Context { today: today(), secrets_set: None })
                .into_iter()
                .filter(|p| p.is_blocking() && p.key.starts_with("limits.")),
        );
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        self.save_config(&before, &config, &lock)?;
        drop(lock);
        self.dne_view()
    }
}
