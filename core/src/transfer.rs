//! Configuration files to move settings between machines: export, import with a preview of
//! the differences, undo. The file is the configuration document plus `$schema`, `format`
//! and a `secrets` section: which secrets the target needs, and (only on request) the secret
//! values encrypted with a passphrase (age, scrypt). Never a secret in clear.
//!
//! Import is hostile-input safe: size limit, UTF-8 check, duplicate keys and nesting depth
//! refused while parsing, unknown keys named, then the same validation as everywhere else.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use schemars::JsonSchema;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::keys::{self, all_keys, Key};
use crate::model::{Config, CURRENT_VERSION};
use crate::secrets::Secret;
use crate::validate::{validate, Context, Problem, Severity};

pub const FORMAT: &str = "postdesk-config";
pub const SCHEMA_ID: &str = "https://postdesk.app/schema/postdesk-config.schema.json";
/// Larger files are refused before parsing (10,000 clients take about 3 MiB).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// The document is at most 5 levels deep; anything much deeper is not ours.
pub const MAX_DEPTH: usize = 16;
/// The scrypt work factor (log2 N) exports use and the most an import accepts. scrypt needs
/// 128 * r * N bytes (age: r = 8), so 2^18 is 256 MiB and about a second per attempt; a file
/// asking for more (2^22: 4 GiB) is refused before scrypt runs.
pub const WORK_FACTOR: u8 = 18;

/// An exported configuration file.
#[derive(Serialize, Deserialize, Clone, Debug, JsonSchema)]
#[schemars(title = "Postdesk configuration file", description = "Outgoing mail settings exported by Postdesk (`postdesk export`).")]
pub struct ExportFile {
    #[serde(rename = "$schema", default)]
    pub schema: String,
    /// Always `postdesk-config`.
    pub format: String,
    #[serde(flatten)]
    pub config: Config,
    #[serde(default)]
    pub secrets: ExportedSecrets,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportedSecrets {
    /// Secret keys that were set where this file was made: the target needs them too.
    pub needed: Vec<String>,
    /// The secret values as a JSON object `{key: value}`, age-encrypted with a passphrase
    /// (scrypt) and ASCII-armored; absent unless the export asked for secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<String>,
}

/// One difference an import would make.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Change {
    pub key: String,
    pub kind: ChangeKind,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
    /// A secret that will be stored in this machine's keychain (its value is never shown).
    SecretSet,
}

/// What an import would do, checked and ready to apply.
pub struct ImportPlan {
    pub config: Config,
    pub secrets: Vec<(String, Secret)>,
    /// Secrets the file says are needed but does not carry.
    pub secrets_missing: Vec<String>,
    pub changes: Vec<Change>,
    /// Where stored secrets would go differently, or which program would run ([`crate::redirect`]).
    pub redirects: Vec<crate::redirect::Redirect>,
    /// Settings the organization's policy locks that the file would change (then it is
    /// refused: [`crate::Error::Locked`]).
    pub locked: Vec<String>,
}

/// What an import changes, for a configuration-management tool (`import --json`): keys
/// added, changed and removed, secrets to store (names only), and whether anything changes at
/// all. The Do-Not-Email list counts as the one key `dne`.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub changed: bool,
    pub added: Vec<String>,
    pub changed_keys: Vec<String>,
    pub removed: Vec<String>,
    pub secrets: Vec<String>,
}

impl ImportReport {
    /// The report of a plan's changes: each key once, sorted; `changed` is whether there is any.
    pub fn of(changes: &[Change]) -> ImportReport {
        let mut sets: [BTreeSet<&str>; 4] = Default::default();
        for c in changes {
            let i = match c.kind {
                _ if c.key == "dne" => 1,
                ChangeKind::Added => 0,
                ChangeKind::Changed => 1,
                ChangeKind::Removed => 2,
                ChangeKind::SecretSet => 3,
            };
            sets[i].insert(c.key.as_str());
        }
        let [added, changed_keys, removed, secrets] = sets.map(|s| s.into_iter().map(String::from).collect::<Vec<_>>());
        ImportReport { changed: !changes.is_empty(), added, changed_keys, removed, secrets }
    }
}

/// The JSON Schema of the file format, generated from the Rust types.
pub fn schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(ExportFile)).expect("schema serializes");
    schema["$id"] = Value::from(SCHEMA_ID);
    schema
}

/// Writes the export document; `secrets` (already read from the keychain) are encrypted with
/// `passphrase` when given, else only named.
pub fn export(config: &Config, set_secrets: &BTreeMap<String, Secret>, with: Option<&Secret>) -> Result<String, String> {
    let needed: Vec<String> = set_secrets.keys().cloned().collect();
    let encrypted = match with {
        None => None,
        Some(passphrase) if passphrase.expose().is_empty() => return Err("the passphrase is empty".into()),
        Some(passphrase) => {
            let plain: BTreeMap<&str, &str> = set_secrets.iter().map(|(k, v)| (k.as_str(), v.expose())).collect();
            Some(encrypt(zeroize::Zeroizing::new(serde_json::to_string(&plain).expect("json")).as_bytes(), passphrase)?)
        }
    };
    let mut config = config.clone();
    config.version = CURRENT_VERSION;
    let file = ExportFile { schema: SCHEMA_ID.into(), format: FORMAT.into(), config, secrets: ExportedSecrets { needed, encrypted } };
    let mut text = serde_json::to_string_pretty(&file).expect("json");
    text.push('\n');
    Ok(text)
}

fn encrypt(plain: &[u8], passphrase: &Secret) -> Result<String, String> {
    use age::armor::{ArmoredWriter, Format};
    // A fixed work factor rather than age's "about a second here": a fast machine would pick
    // more than any import (here or elsewhere) accepts.
    let mut recipient = age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.expose()));
    recipient.set_work_factor(WORK_FACTOR);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let armored = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| e.to_string())?;
    let mut writer = encryptor.wrap_output(armored).map_err(|e| e.to_string())?;
    writer.write_all(plain).map_err(|e| e.to_string())?;
    writer.finish().and_then(|armor| armor.finish()).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(out).expect("armor is ASCII"))
}

fn decrypt(armored: &str, passphrase: &Secret) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    use age::armor::ArmoredReader;
    use age::DecryptError as D;
    let damaged = |e: &dyn std::fmt::Display| format!("secrets.encrypted: the encrypted secrets are damaged or truncated ({e})");
    let decryptor = age::Decryptor::new(ArmoredReader::new(armored.as_bytes())).map_err(|e| damaged(&e))?;
    let mut identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.expose()));
    identity.set_max_work_factor(WORK_FACTOR);
    let reader = decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)).map_err(|e| match e {
        D::DecryptionFailed | D::KeyDecryptionFailed | D::NoMatchingKeys => "secrets.encrypted: wrong passphrase".to_string(),
        D::ExcessiveWork { required, .. } => format!(
            "secrets.encrypted: the file asks for a passphrase work factor of 2^{required} ({} MiB of memory per attempt); Postdesk accepts at most 2^{WORK_FACTOR} ({} MiB): refused. Export it again with this Postdesk",
            scrypt_mib(required),
            scrypt_mib(WORK_FACTOR)
        ),
        other => damaged(&other),
    })?;
    // Reserved up front: growing the buffer would leave copies of the secrets behind.
    let mut plain = zeroize::Zeroizing::new(Vec::with_capacity(armored.len()));
    reader.take(MAX_BYTES as u64).read_to_end(&mut plain).map_err(|e| damaged(&e))?;
    Ok(plain)
}

/// Memory scrypt needs for work factor 2^log_n with age's r = 8: 128 * r * N bytes.
fn scrypt_mib(log_n: u8) -> u64 {
    (1024u64 << log_n.min(50)) >> 20
}

fn problem(key: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { key: key.into(), severity: Severity::Error, message: message.into() }
}

/// Reads and checks a configuration file. Every problem is returned with its key; nothing
/// is changed anywhere. `passphrase` decrypts the secrets the file carries, if any.
pub fn parse(bytes: &[u8], passphrase: Option<&Secret>, today: time::Date) -> Result<(Config, Vec<(String, Secret)>, Vec<String>), Vec<Problem>> {
    let one = |key: &str, message: String| vec![problem(key, message)];
    if bytes.len() > MAX_BYTES {
        return Err(one("file", format!("is {} bytes, more than the {MAX_BYTES} a configuration file may have", bytes.len())));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| one("file", format!("is not UTF-8 text (invalid byte at offset {})", e.valid_up_to())))?;
    let value = strict_json(text).map_err(|e| one("file", crate::wording::plain(&e)))?;
    let Value::Object(top) = &value else { return Err(one("file", "is not a JSON object".into())) };
    if top.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(one("format", format!("this is not a Postdesk configuration file (\"format\" must be \"{FORMAT}\")")));
    }
    let version = top.get("version").and_then(Value::as_u64).ok_or_else(|| one("version", "missing or not a number".into()))?;
    if version > u64::from(CURRENT_VERSION) {
        return Err(one("version", format!("the file is from a newer Postdesk (format version {version}; this one reads up to {CURRENT_VERSION}): update Postdesk")));
    }
    let mut value = value;
    crate::migrate::migrate(&mut value, version).map_err(|e| one("version", e))?;
    // The settings and the secrets section are read apart: through `#[serde(flatten)]` serde
    // would lose the path of a wrong value, and the key must be named.
    let typed = |e: serde_path_to_error::Error<serde_json::Error>, prefix: &str| {
        let path = e.path().to_string();
        let path = if path == "." { prefix.trim_end_matches('.').to_string() } else { format!("{prefix}{path}") };
        let (key, inner) = (key_of_path(&path), e.inner().to_string());
        // A section that refuses unknown fields (`sender`) says so through serde: the same
        // words as every other unknown key.
        let message = if inner.starts_with("unknown field ") { unknown_in_file(&key) } else { crate::wording::plain(&inner) };
        one(&key, message)
    };
    let mut settings = value.clone();
    let extras = settings.as_object_mut().expect("checked above");
    let schema_ref = extras.remove("$schema");
    extras.remove("format");
    let secrets_value = extras.remove("secrets");
    let config: Config = serde_path_to_error::deserialize(&settings).map_err(|e| typed(e, ""))?;
    let secrets_section: ExportedSecrets = match &secrets_value {
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| typed(e, "secrets."))?,
        None => ExportedSecrets::default(),
    };
    let schema_ref = match schema_ref {
        None => String::new(),
        Some(Value::String(s)) => s,
        Some(_) => return Err(one("$schema", "must be a string".into())),
    };
    let file = ExportFile { schema: schema_ref, format: FORMAT.into(), config, secrets: secrets_section };
    let unknown = unknown_keys(&value, &serde_json::to_value(&file).expect("json"), "");
    if !unknown.is_empty() {
        // A nearest key for the first few only: a hostile file may hold thousands.
        return Err(unknown
            .into_iter()
            .enumerate()
            .map(|(n, k)| {
                let key = key_of_path(&k);
                let message = if n < 50 { unknown_in_file(&key) } else { "unknown key (not a Postdesk setting)".to_string() };
                problem(key, message)
            })
            .collect());
    }
    let mut problems: Vec<Problem> = validate(&file.config, &Context { today, secrets_set: None }).into_iter().filter(Problem::is_blocking).collect();
    let known_secrets: BTreeSet<String> = crate::edits::secret_keys(&file.config).into_iter().collect();
    for k in &file.secrets.needed {
        if !known_secrets.contains(k) {
            problems.push(problem("secrets.needed", format!("{k} is not a secret of this configuration")));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut secrets = Vec::new();
    if let Some(armored) = &file.secrets.encrypted {
        let passphrase = passphrase.ok_or_else(|| one("secrets.encrypted", "the file carries encrypted secrets: give the passphrase".into()))?;
        let plain = decrypt(armored, passphrase).map_err(|e| one("secrets.encrypted", e.trim_start_matches("secrets.encrypted: ").to_string()))?;
        let map: BTreeMap<String, String> = serde_json::from_slice(&plain).map_err(|_| one("secrets.encrypted", "the decrypted secrets are not a JSON object of strings".into()))?;
        for (k, v) in map {
            if !known_secrets.contains(&k) {
                return Err(one("secrets.encrypted", format!("{k} is not a secret of this configuration")));
            }
            if v.is_empty() || v.contains(['\r', '\n', '\0']) {
                return Err(one(&k, "the secret in the file is empty or has line breaks".into()));
            }
            secrets.push((k, Secret::new(v)));
        }
    }
    let carried: BTreeSet<&str> = secrets.iter().map(|(k, _)| k.as_str()).collect();
    let missing = file.secrets.needed.iter().filter(|k| !carried.contains(k.as_str())).cloned().collect();
    Ok((file.config, secrets, missing))
}

/// The differences between the current and the imported configuration, by key.
pub fn diff(old: &Config, new: &Config, secrets: &[(String, Secret)]) -> Vec<Change> {
    let mut names: BTreeMap<String, Key> = BTreeMap::new();
    for key in all_keys(old).into_iter().chain(all_keys(new)) {
        if !key.is_secret() {
            names.insert(key.name(), key);
        }
    }
    let mut changes: Vec<Change> = names
        .into_iter()
        .filter_map(|(name, key)| {
            let (a, b) = (key.get(old).map(|v| v.into_owned()), key.get(new).map(|v| v.into_owned()));
            let kind = match (&a, &b) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(x), Some(y)) if x != y => ChangeKind::Changed,
                _ => return None,
            };
            Some(Change { key: name, kind, old: a, new: b })
        })
        .collect();
    // The Do-Not-Email list is a list, not keys: one change per entry.
    let (old_dne, new_dne): (BTreeSet<&String>, BTreeSet<&String>) = (old.dne.iter().collect(), new.dne.iter().collect());
    changes.extend(new_dne.difference(&old_dne).map(|e| Change { key: "dne".into(), kind: ChangeKind::Added, old: None, new: Some(e.to_string()) }));
    changes.extend(old_dne.difference(&new_dne).map(|e| Change { key: "dne".into(), kind: ChangeKind::Removed, old: Some(e.to_string()), new: None }));
    changes.extend(secrets.iter().map(|(k, _)| Change { key: k.clone(), kind: ChangeKind::SecretSet, old: None, new: Some("will be set".into()) }));
    changes
}

/// An unknown key of an imported file, with the nearest known key when one is close.
fn unknown_in_file(key: &str) -> String {
    match keys::suggest(key) {
        Some(near) => format!("unknown key (not a Postdesk setting); did you mean {near}?"),
        None => "unknown key (not a Postdesk setting)".to_string(),
    }
}

/// `clients.acme.host` → `client.acme.host`, like the CLI keys.
fn key_of_path(path: &str) -> String {
    let path = path.trim_start_matches('.');
    if let Some(rest) = path.strip_prefix("clients.") {
        format!("client.{rest}")
    } else if let Some(rest) = path.strip_prefix("routes.") {
        format!("route.{rest}")
    } else if path.is_empty() {
        "file".into()
    } else {
        path.to_string()
    }
}

/// Paths present in `input` but absent after a round trip through the model: unknown keys.
fn unknown_keys(input: &Value, known: &Value, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let (Value::Object(a), Value::Object(b)) = (input, known) {
        for (k, v) in a {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match (b.get(k), v) {
                // A section left empty once its unknown keys are dropped is not serialized:
                // look inside it, so the deepest unknown key is the one named.
                (None, Value::Object(_)) => out.extend(unknown_keys(v, &Value::Object(Map::new()), &path)),
                (None, _) => out.push(path),
                (Some(kb), _) => out.extend(unknown_keys(v, kb, &path)),
            }
        }
    }
    out
}

/// JSON with duplicate keys and excessive nesting refused (serde_json keeps the last
/// duplicate silently, which would hide an attempt to smuggle a value past a review).
pub fn strict_json(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictSeed { depth: 0 }.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// A name of the document's own shape (a section or a field), never a value or an ID.
fn is_known_name(key: &str) -> bool {
    const SECTIONS: &[&str] = &["$schema", "format", "version", "global", "support", "clients", "routes", "receiver", "templates", "limits", "dne", "secrets", "needed", "encrypted", "subject", "body"];
    let tables: [&[keys::Field]; 7] = [&keys::SERVER_FIELDS, &keys::SUPPORT_FIELDS, &keys::RECEIVER_FIELDS, &keys::CLIENT_FIELDS, &keys::ROUTE_FIELDS, &keys::TEMPLATE_FIELDS, &keys::LIMIT_FIELDS];
    SECTIONS.contains(&key) || tables.iter().flat_map(|t| t.iter()).any(|f| f.name.split('.').any(|part| part == key))
}

struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor { depth: self.depth })
    }
}

struct StrictVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde::de::Error::custom(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictSeed { depth: self.depth + 1 })? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde::de::Error::custom(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                // Named only when it is one of ours: the file may be anything, and an error
                // never shows what it holds (serde_json adds the line and column).
                return Err(serde::de::Error::custom(if is_known_name(&key) { format!("duplicate key \"{key}\"") } else { "duplicate key".to_string() }));
            }
            let v = map.next_value_seed(StrictSeed { depth: self.depth + 1 })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> time::Date {
        time::macros::date!(2026 - 11 - 23)
    }

    fn sample() -> Config {
        let pairs = [("global.enabled", "true"), ("global.host", "smtp.example.com"), ("global.port", "587"), ("global.sender.address", "it@example.com"), ("client.acme.host", "smtp.acme.test")];
        crate::edits::apply_edits(&Config::default(), &pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).0
    }

    #[test]
    fn export_then_parse_round_trips_without_secrets() {
        let secrets = BTreeMap::from([("global.password".to_string(), Secret::new("canary-Secret-42"))]);
        let text = export(&sample(), &secrets, None).unwrap();
        assert!(!text.contains("canary-Secret-42"));
        assert!(text.contains("\"needed\": [\n      \"global.password\"\n    ]"), "{text}");
        let (config, carried, missing) = parse(text.as_bytes(), None, today()).unwrap();
        assert_eq!(config, sample());
        assert!(carried.is_empty());
        assert_eq!(missing, ["global.password"]);
        // Stable output: exporting twice gives the same bytes.
        assert_eq!(export(&config, &secrets, None).unwrap(), text);
    }

    #[test]
    fn receiver_section_round_trips_and_its_password_travels_only_encrypted() {
        let pairs = [("receiver.enabled", "true"), ("receiver.protocol", "pop3s"), ("receiver.host", "pop.example.com"), ("receiver.username", "it@example.com"), ("receiver.before_send", "true")];
        let config = crate::edits::apply_edits(&sample(), &pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).0;
        let secrets = BTreeMap::from([("receiver.password".to_string(), Secret::new("canary-Receiver-7"))]);
        let text = export(&config, &secrets, None).unwrap();
        assert!(text.contains("\"receiver\": {") && !text.contains("canary-Receiver-7"), "{text}");
        let (parsed, _, missing) = parse(text.as_bytes(), None, today()).unwrap();
        assert_eq!(parsed, config);
        assert_eq!(missing, ["receiver.password"]);
        let pass = Secret::new("a long passphrase");
        let text = export(&config, &secrets, Some(&pass)).unwrap();
        assert!(!text.contains("canary-Receiver-7"));
        let (_, carried, _) = parse(text.as_bytes(), Some(&pass), today()).unwrap();
        assert_eq!(carried, [("receiver.password".to_string(), Secret::new("canary-Receiver-7"))]);
        // Unknown and invalid receiver keys are named like any other.
        let unknown = br#"{"format":"postdesk-config","version":1,"receiver":{"hots":"x"},"secrets":{"needed":[]}}"#;
        assert_eq!(parse(unknown, None, today()).unwrap_err()[0].key, "receiver.hots");
        let bad = br#"{"format":"postdesk-config","version":1,"receiver":{"protocol":"smtp"},"secrets":{"needed":[]}}"#;
        assert_eq!(parse(bad, None, today()).unwrap_err()[0].key, "receiver.protocol");
    }

    #[test]
    fn hostile_inputs_get_clear_errors() {
        let key_of = |bytes: &[u8]| parse(bytes, None, today()).unwrap_err()[0].clone();
        let dup = br#"{"format":"postdesk-config","version":1,"global":{"host":"a.example","host":"b.example"},"secrets":{"needed":[]}}"#;
        assert!(key_of(dup).message.contains("duplicate key \"host\""));
        // A key that is not one of ours is not echoed (the file may be anything).
        let other = br#"{"canary": 1, "canary": 2}"#;
        assert!(key_of(other).message.starts_with("duplicate key at line 1"), "{:?}", key_of(other));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(key_of(deep.as_bytes()).message.contains("nested more than"));
        assert!(key_of(b"\xff\xfe{}").message.contains("not UTF-8"));
        assert!(key_of(&vec![b' '; MAX_BYTES + 1]).message.contains("more than"));
        let unknown = br#"{"format":"postdesk-config","version":1,"global":{"hots":"x"},"secrets":{"needed":[]}}"#;
        assert_eq!(key_of(unknown).key, "global.hots", "{:?}", key_of(unknown));
        assert_eq!(key_of(unknown).message, "unknown key (not a Postdesk setting); did you mean global.host?");
        let client_unknown = br#"{"format":"postdesk-config","version":1,"clients":{"acme":{"colour":"red"}},"secrets":{"needed":[]}}"#;
        assert_eq!(key_of(client_unknown).key, "client.acme.colour");
        assert_eq!(key_of(client_unknown).message, "unknown key (not a Postdesk setting)", "nothing near: no guess");
        let client_typo = br#"{"format":"postdesk-config","version":1,"clients":{"acme":{"hots":"x"}},"secrets":{"needed":[]}}"#;
        assert_eq!(key_of(client_typo).message, "unknown key (not a Postdesk setting); did you mean client.acme.host?");
        // In a section that refuses unknown fields itself (serde's "unknown field"), the same words.
        let sender_typo = br#"{"format":"postdesk-config","version":1,"clients":{"acme":{"sender":{"adress":"a@acme.test"}}}}"#;
        assert_eq!((key_of(sender_typo).key.as_str(), key_of(sender_typo).message.as_str()), ("client.acme.sender.adress", "unknown key (not a Postdesk setting); did you mean client.acme.sender.address?"));
        let wrong_type = br#"{"format":"postdesk-config","version":1,"global":{"port":"587"},"secrets":{"needed":[]}}"#;
        assert_eq!(key_of(wrong_type).key, "global.port");
        let newer = br#"{"format":"postdesk-config","version":99,"secrets":{"needed":[]}}"#;
        assert!(key_of(newer).message.contains("newer Postdesk"));
        assert_eq!(key_of(br#"{"version":1}"#).key, "format");
        // Found by the fuzzer: a version that never existed must not reach a migration step.
        let zero = br#"{"format":"postdesk-config","version":0}"#;
        assert_eq!(key_of(zero).key, "version");
        let invalid = br#"{"format":"postdesk-config","version":1,"global":{"host":"bad..host"},"secrets":{"needed":[]}}"#;
        assert_eq!(key_of(invalid).key, "global.host");
        assert!(key_of(b"{\"format\": \"postdesk-config\", ").message.starts_with("the file ends too early (line 1, column 30)"), "{:?}", key_of(b"{\"format\": \"postdesk-config\", "));
        // A value of the wrong type is said in words, not in Rust types.
        assert_eq!(key_of(wrong_type).message, r#"must be a whole number from 0 to 65535, not the text "587""#);
        let wrong_choice = br#"{"format":"postdesk-config","version":1,"global":{"security":"ssl"}}"#;
        assert_eq!((key_of(wrong_choice).key.as_str(), key_of(wrong_choice).message.as_str()), ("global.security", r#""ssl" is not one of the choices: none, starttls, tls"#));
    }

    #[test]
    fn diff_names_added_changed_removed_and_secrets() {
        let old = sample();
        let (new, _) = crate::edits::apply_edits(&old, &[("global.port".to_string(), "465".to_string()), ("global.host".to_string(), String::new()), ("support.address".to_string(), "help@example.com".to_string())].into_iter().collect());
        let changes = diff(&old, &new, &[("global.password".into(), Secret::new("x"))]);
        let summary: Vec<(&str, ChangeKind)> = changes.iter().map(|c| (c.key.as_str(), c.kind)).collect();
        assert_eq!(summary, [("global.host", ChangeKind::Removed), ("global.port", ChangeKind::Changed), ("support.address", ChangeKind::Added), ("global.password", ChangeKind::SecretSet)]);
        assert!(changes.iter().all(|c| c.new.as_deref() != Some("x")));
    }

    #[test]
    fn import_report_sorts_each_key_once_by_kind_and_never_carries_values() {
        let old = sample();
        let mut new = crate::edits::apply_edits(&old, &[("global.port".to_string(), "465".to_string()), ("global.host".to_string(), String::new()), ("support.address".to_string(), "help@example.com".to_string())].into_iter().collect()).0;
        new.dne = vec!["*@a.test".into(), "b@b.test".into()];
        let changes = diff(&old, &new, &[("global.password".into(), Secret::new("canary-report-1"))]);
        let report = ImportReport::of(&changes);
        assert!(report.changed);
        assert_eq!(report.added, ["support.address"]);
        assert_eq!(report.changed_keys, ["dne", "global.port"]);
        assert_eq!(report.removed, ["global.host"]);
        assert_eq!(report.secrets, ["global.password"]);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("canary-report-1") && !json.contains("465") && !json.contains("help@example.com"), "{json}");
        assert_eq!(ImportReport::of(&diff(&new, &new, &[])), ImportReport::default(), "the same document: nothing changed");
        assert!(!ImportReport::of(&[]).changed);
    }

    #[test]
    fn schema_describes_the_format() {
        let s = schema();
        assert_eq!(s["$id"], SCHEMA_ID);
        let props = &s["properties"];
        for key in ["$schema", "format", "version", "global", "support", "clients", "routes", "receiver", "secrets"] {
            assert!(props.get(key).is_some(), "schema lacks {key}: {s}");
        }
    }

    #[test]
    fn client_templates_travel_and_are_checked_on_import() {
        let edits = [("client.acme.name", "ACME"), ("client.acme.templates.power.subject", "Welcome to ACME, {{name}}")];
        let config = crate::edits::apply_edits(&sample(), &edits.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).0;
        let text = export(&config, &BTreeMap::new(), None).unwrap();
        assert!(text.contains("\"templates\": {\n        \"power\": {\n          \"subject\": \"Welcome to ACME, {{name}}\""), "{text}");
        let (back, _, _) = parse(text.as_bytes(), None, today()).unwrap();
        assert_eq!(back, config);
        let change = diff(&sample(), &back, &[]);
        assert!(change.iter().any(|c| c.key == "client.acme.templates.power.subject"), "{change:?}");
        let key_of = |bytes: &[u8]| parse(bytes, None, today()).unwrap_err()[0].clone();
        let bad = br#"{"format":"postdesk-config","version":1,"clients":{"acme":{"templates":{"power":{"body":"Hi {{nmae}}"}}}},"secrets":{"needed":[]}}"#;
        let p = key_of(bad);
        assert_eq!(p.key, "client.acme.templates.power.body");
        assert!(p.message.contains("line 1, column 4"), "{p:?}");
        let unknown = br#"{"format":"postdesk-config","version":1,"clients":{"acme":{"templates":{"power":{"footer":"x"}}}},"secrets":{"needed":[]}}"#;
        assert_eq!(key_of(unknown).key, "client.acme.templates.power.footer");
        let s = schema().to_string();
        assert!(s.contains("This client's own invitation templates"), "{s}");
    }

    #[test]
    fn list_limits_and_templates_travel_through_export_and_import() {
        let today = crate::edits::today();
        let mut c = Config::default();
        c.dne = vec!["*@blocked.test".into(), "bob@example.com".into()];
        c.limits.max_per_day = Some(250);
        c.limits.ignore_dne_for = Some(crate::model::IgnoreDne::Priority);
        c.templates.insert("contractor".into(), crate::model::TemplateSettings { subject: Some("Hi {{name}}".into()), body: Some("Go: {{link}}\nBye".into()) });
        let text = export(&c, &Default::default(), None).unwrap();
        let (back, _, _) = parse(text.as_bytes(), None, today).unwrap();
        assert_eq!(back, c);
        let changes = diff(&Config::default(), &back, &[]);
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        for k in ["dne", "limits.max_per_day", "limits.ignore_dne_for", "templates.contractor.subject", "templates.contractor.body"] {
            assert!(keys.contains(&k), "{k} in {keys:?}");
        }
        assert_eq!(changes.iter().filter(|c| c.key == "dne").count(), 2);
        // The same validation as everywhere: a bad entry, a bad limit and an unknown placeholder are named.
        let bad = text.replace("bob@example.com", "bob").replace("250", "2000000").replace("{{link}}", "{{lnk}}");
        let problems = parse(bad.as_bytes(), None, today).unwrap_err();
        let named: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(named.iter().any(|p| p.starts_with("dne: bob:")), "{named:?}");
        assert!(named.iter().any(|p| p.starts_with("limits.max_per_day:")), "{named:?}");
        assert!(named.iter().any(|p| p.starts_with("templates.contractor.body: line 1, column 5: unknown placeholder {{lnk}}")), "{named:?}");
        let unknown = text.replace("\"max_per_day\"", "\"max_per_dya\"");
        assert_eq!(parse(unknown.as_bytes(), None, today).unwrap_err()[0].key, "limits.max_per_dya");
    }
}
