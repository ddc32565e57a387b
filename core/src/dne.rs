//! The Do-Not-Email list: addresses (`user@domain`) and whole domains (`*@domain`) that must
//! never receive mail from this system, unless `limits.ignore_dne_for` says otherwise.
//!
//! Entries are kept normalized in the document (`dne`): trimmed, lower case, domain in ASCII
//! (punycode), sorted, no duplicates. Matching ignores case in the local part too (a list
//! that blocks must not be dodged by `Alice@` instead of `alice@`). Pure, except the
//! `Postdesk` operations and the CSV file helpers at the end.

use serde::Serialize;
use ts_rs::TS;

use crate::app::{Error, Postdesk};
use crate::model::{Config, IgnoreDne};
use crate::validate::{check_email, Problem, Severity};

/// The list holds at most this many entries.
pub const MAX_ENTRIES: usize = 100_000;

/// The normalized form of an entry, or why it is not one.
pub fn normalize(entry: &str) -> Result<String, String> {
    let v = entry.trim();
    if v.is_empty() {
        return Err("is empty".into());
    }
    if v.contains(['\r', '\n']) || v.chars().any(char::is_control) {
        return Err("must not contain line breaks or control characters".into());
    }
    let Some((local, domain)) = v.rsplit_once('@') else {
        return Err("is not an address: use user@domain or *@domain".into());
    };
    let domain = ascii_domain(domain).ok_or_else(|| format!("{v}: has an invalid domain"))?;
    if local == "*" {
        check_email(&format!("x@{domain}"), true).map_err(|e| format!("{v}: {}", e.replace("has an invalid domain", "invalid domain")))?;
        return Ok(format!("*@{domain}"));
    }
    if local.contains('*') {
        return Err(format!("{v}: a wildcard can only be the whole part before the @ (*@domain)"));
    }
    let normalized = format!("{}@{domain}", local.to_lowercase());
    check_email(&normalized, true).map_err(|e| format!("{v}: {e}"))?;
    Ok(normalized)
}

fn ascii_domain(domain: &str) -> Option<String> {
    if domain.starts_with('[') {
        return Some(domain.to_string());
    }
    let ascii = idna::domain_to_ascii(domain).ok()?;
    (!ascii.is_empty()).then(|| ascii.trim_end_matches('.').to_string())
}

/// The entry that blocks `address`, if any.
pub fn listed<'a>(list: &'a [String], address: &str) -> Option<&'a str> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    let domain = ascii_domain(domain)?;
    let exact = format!("{}@{domain}", local.to_lowercase());
    let wildcard = format!("*@{domain}");
    list.iter().map(String::as_str).find(|e| *e == exact || *e == wildcard)
}

/// Whether the list applies to a mail.
pub fn applies(config: &Config, priority: bool) -> bool {
    match config.limits.ignore_dne_for.unwrap_or_default() {
        IgnoreDne::None => true,
        IgnoreDne::Priority => !priority,
        IgnoreDne::All => false,
    }
}

/// Recipients on the list, with the entry that lists each.
pub fn listed_recipients(config: &Config, to: &[String]) -> Vec<(String, String)> {
    to.iter().filter_map(|t| listed(&config.dne, t).map(|e| (t.clone(), e.to_string()))).collect()
}

/// Validation of the stored list (for [`crate::validate::validate`]).
pub fn problems(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    if config.dne.len() > MAX_ENTRIES {
        out.push(Problem { key: "dne".into(), severity: Severity::Error, message: format!("has more than {MAX_ENTRIES} entries") });
    }
    for entry in &config.dne {
        match normalize(entry) {
            Ok(n) if n == *entry => {}
            Ok(n) => out.push(Problem { key: "dne".into(), severity: Severity::Error, message: format!("{entry}: must be written {n}") }),
            Err(e) => out.push(Problem { key: "dne".into(), severity: Severity::Error, message: prefixed(entry, &e) }),
        }
    }
    let mut sorted = config.dne.clone();
    sorted.sort();
    sorted.dedup();
    if sorted != config.dne {
        out.push(Problem { key: "dne".into(), severity: Severity::Error, message: "entries must be sorted and unique".into() });
    }
    out
}

fn prefixed(entry: &str, message: &str) -> String {
    if message.starts_with(entry.trim()) && !entry.trim().is_empty() {
        message.to_string()
    } else {
        format!("{}: {message}", entry.trim())
    }
}

/// Normalizes every entry; all errors, named by entry, or the normalized entries.
pub fn normalize_all<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, Vec<Problem>> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for e in entries {
        match normalize(e) {
            Ok(n) => ok.push(n),
            Err(m) => bad.push(Problem { key: "dne".into(), severity: Severity::Error, message: prefixed(e, &m) }),
        }
    }
    if bad.is_empty() { Ok(ok) } else { Err(bad) }
}

/// Reads a CSV file of entries: the address in the first column (other columns ignored),
/// fields may be quoted, a header row is optional. Every bad line is named with its number.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<String>, Vec<Problem>> {
    let bad = |line: u64, message: String| Problem { key: format!("line {line}"), severity: Severity::Error, message };
    let text = std::str::from_utf8(bytes).map_err(|e| vec![bad(1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64, "is not UTF-8 text".into())])?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(bad(line, format!("is not valid CSV ({})", e.kind_text())));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = record.get(0).unwrap_or("").trim();
        if field.is_empty() && record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        // A first row without an @ in its first field is a header ("address", "email", …).
        if i == 0 && !field.contains('@') {
            continue;
        }
        match normalize(field) {
            Ok(n) => entries.push(n),
            // Named by line only: the file may be anything (the page or an admin pointed at
            // the wrong file), and an error never shows what it holds.
            Err(m) => problems.push(bad(line, m.strip_prefix(&format!("{field}: ")).unwrap_or(&m).to_string())),
        }
    }
    if entries.len() > MAX_ENTRIES {
        problems.push(bad(0, format!("has more than {MAX_ENTRIES} entries")));
    }
    if problems.is_empty() { Ok(entries) } else { Err(problems) }
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
            other => format!("{other:?}").split_whitespace().next().unwrap_or("error").trim_end_matches(['{', '(']).to_string(),
        }
    }
}

/// The list as CSV with a header row; fields are quoted where needed.
pub fn to_csv(list: &[String]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["address"]).expect("in memory");
    for e in list {
        writer.write_record([e]).expect("in memory");
    }
    String::from_utf8(writer.into_inner().expect("in memory")).expect("UTF-8 in, UTF-8 out")
}

fn merged(list: &[String], add: &[String]) -> (Vec<String>, usize) {
    let mut out = list.to_vec();
    out.extend(add.iter().cloned());
    out.sort();
    out.dedup();
    let added = out.len() - list.len();
    (out, added)
}

/// What the window shows of the list and the limit.
#[derive(Serialize, Clone, Debug, TS)]
#[ts(export)]
pub struct DneView {
    pub entries: Vec<String>,
    /// `limits.max_per_day` in force (0 = no limit).
    pub max_per_day: u32,
    /// `none`, `priority` or `all`.
    pub ignore_dne_for: String,
    /// Mails sent in the last 24 hours.
    pub sent_last_24h: u32,
}

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
            ignore_dne_for: crate::keys::display(&serde_json::to_value(config.limits.ignore_dne_for.unwrap_or_default()).expect("enum")),
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
        let (config, mut problems) = crate::app::apply_edits(&before, &edits);
        problems.extend(
            crate::validate::validate(&config, &crate::validate::Context { today: crate::app::today(), secrets_set: None })
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

fn invalid(key: &str, message: &str) -> Error {
    Error::Invalid(vec![Problem { key: key.into(), severity: Severity::Error, message: message.into() }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_validated_and_normalized() {
        assert_eq!(normalize(" Alice@Example.COM ").unwrap(), "alice@example.com");
        assert_eq!(normalize("*@Example.com").unwrap(), "*@example.com");
        assert_eq!(normalize("*@bücher.de").unwrap(), "*@xn--bcher-kva.de");
        for bad in ["", "alice", "@example.com", "a*b@example.com", "*@", "*@exa mple.com", "a@b@", "x@-bad-.com", "a\n@b.com", "*@*.example.com"] {
            assert!(normalize(bad).is_err(), "{bad:?} accepted");
        }
        assert!(normalize("*@exa mple.com").unwrap_err().contains("*@exa mple.com"));
    }

    #[test]
    fn matching_ignores_case_and_wildcards_cover_a_domain_only() {
        let list = vec!["*@blocked.test".to_string(), "bob@example.com".to_string()];
        assert_eq!(listed(&list, "BOB@Example.Com"), Some("bob@example.com"));
        assert_eq!(listed(&list, "anyone@BLOCKED.test"), Some("*@blocked.test"));
        assert_eq!(listed(&list, "alice@example.com"), None);
        assert_eq!(listed(&list, "x@sub.blocked.test"), None, "*@domain is that domain, not subdomains");
        assert_eq!(listed(&list, "x@blocked.test.evil"), None);
    }

    #[test]
    fn ignore_setting_decides_when_the_list_applies() {
        let mut c = Config::default();
        assert!(applies(&c, false) && applies(&c, true));
        c.limits.ignore_dne_for = Some(IgnoreDne::Priority);
        assert!(applies(&c, false) && !applies(&c, true));
        c.limits.ignore_dne_for = Some(IgnoreDne::All);
        assert!(!applies(&c, false) && !applies(&c, true));
    }

    #[test]
    fn csv_with_quotes_header_and_extra_columns() {
        let csv = "address,comment\r\n\"Alice@Example.com\",\"asked, twice\"\n*@blocked.test\n\n\"bob@x.test\"\n";
        assert_eq!(parse_csv(csv.as_bytes()).unwrap(), ["alice@example.com", "*@blocked.test", "bob@x.test"]);
        assert_eq!(parse_csv(b"a@b.test\nc@d.test").unwrap(), ["a@b.test", "c@d.test"], "no header");
        assert_eq!(parse_csv("\u{feff}email\na@b.test".as_bytes()).unwrap(), ["a@b.test"], "BOM");
    }

    #[test]
    fn csv_bad_lines_are_named_by_number() {
        let csv = "address\ngood@x.test\nnot-an-address\n\"*@bad domain\"\nok@y.test\n";
        let err = parse_csv(csv.as_bytes()).unwrap_err();
        let lines: Vec<&str> = err.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(lines, ["line 3", "line 4"], "{err:?}");
        assert!(!err[0].message.contains("not-an-address") && err[0].message.contains("is not an address"), "{err:?}");
        assert!(!err[1].message.contains("bad domain"), "{err:?}");
        // Any file: its contents never show in the errors.
        let shadow = b"root:$6$canarysalt$canaryhash:19000:0:99999:7:::\nbin:*:canary:0:99999:7:::\n";
        let err = parse_csv(shadow).unwrap_err();
        assert!(err.iter().all(|p| !p.message.contains("canary") && !p.key.contains("canary")), "{err:?}");
        assert!(parse_csv(b"a@b.test\n\xff@c.test\n").unwrap_err()[0].key == "line 2");
    }

    #[test]
    fn csv_round_trip() {
        let list = vec!["a.b+c@x.test".to_string(), "*@y.test".to_string()];
        let text = to_csv(&list);
        assert!(text.starts_with("address\n"));
        let back = csv::ReaderBuilder::new().from_reader(text.as_bytes()).records().map(|r| r.unwrap()[0].to_string()).collect::<Vec<_>>();
        assert_eq!(back, list);
    }

    #[test]
    fn list_limits_and_templates_travel_through_export_and_import() {
        let today = crate::app::today();
        let mut c = Config::default();
        c.dne = vec!["*@blocked.test".into(), "bob@example.com".into()];
        c.limits.max_per_day = Some(250);
        c.limits.ignore_dne_for = Some(IgnoreDne::Priority);
        c.templates.insert("contractor".into(), crate::model::TemplateSettings { subject: Some("Hi {{name}}".into()), body: Some("Go: {{link}}\nBye".into()) });
        let text = crate::transfer::export(&c, &Default::default(), None).unwrap();
        let (back, _, _) = crate::transfer::parse(text.as_bytes(), None, today).unwrap();
        assert_eq!(back, c);
        let changes = crate::transfer::diff(&Config::default(), &back, &[]);
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        for k in ["dne", "limits.max_per_day", "limits.ignore_dne_for", "templates.contractor.subject", "templates.contractor.body"] {
            assert!(keys.contains(&k), "{k} in {keys:?}");
        }
        assert_eq!(changes.iter().filter(|c| c.key == "dne").count(), 2);
        // The same validation as everywhere: a bad entry, a bad limit and an unknown placeholder are named.
        let bad = text.replace("bob@example.com", "bob").replace("250", "2000000").replace("{{link}}", "{{lnk}}");
        let problems = crate::transfer::parse(bad.as_bytes(), None, today).unwrap_err();
        let named: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(named.iter().any(|p| p.starts_with("dne: bob:")), "{named:?}");
        assert!(named.iter().any(|p| p.starts_with("limits.max_per_day:")), "{named:?}");
        assert!(named.iter().any(|p| p.starts_with("templates.contractor.body: line 1, column 5: unknown placeholder {{lnk}}")), "{named:?}");
        let unknown = text.replace("\"max_per_day\"", "\"max_per_dya\"");
        assert_eq!(crate::transfer::parse(unknown.as_bytes(), None, today).unwrap_err()[0].key, "limits.max_per_dya");
    }

    #[test]
    fn stored_list_is_validated() {
        let mut c = Config::default();
        c.dne = vec!["b@x.test".into(), "A@X.TEST".into(), "junk".into()];
        let p = problems(&c);
        assert!(p.iter().all(|p| p.key == "dne"));
        assert!(p.iter().any(|p| p.message.contains("must be written a@x.test")));
        assert!(p.iter().any(|p| p.message.starts_with("junk:")));
        assert!(p.iter().any(|p| p.message.contains("sorted")));
    }
}
