//! `config get|set|unset|show`, `check`, `secret set|clear`.

use postdesk_core::{all_keys, display, secret_keys, Error, Postdesk, Problem};
use serde_json::{json, Value};

use crate::input::read_secret;
use crate::output::{print_json, print_saved, EXIT_FAILED};

pub(super) fn get(app: &Postdesk, key: &str) -> Result<u8, Error> {
    println!("{}", app.get(key)?);
    Ok(0)
}

pub(super) fn set(app: &Postdesk, key: &str, value: &str) -> Result<u8, Error> {
    let saved = app.set(key, value)?;
    print_saved(&saved);
    Ok(0)
}

pub(super) fn unset(app: &Postdesk, key: &str) -> Result<u8, Error> {
    app.unset(key)?;
    Ok(0)
}

pub(super) fn show(app: &Postdesk, json: bool) -> Result<u8, Error> {
    let config = app.load()?;
    let secrets = secret_keys(&config);
    let mut status = Vec::new();
    for key in &secrets {
        status.push((key.clone(), app.get(key)?));
    }
    if json {
        // The document as saved, with each secret key present but masked.
        let mut doc = serde_json::to_value(&config).expect("config serializes");
        for (key, masked) in &status {
            insert_dotted(&mut doc, key, Value::from(masked.as_str()));
        }
        print_json(&doc);
        return Ok(0);
    }
    for key in all_keys(&config) {
        let name = key.name();
        let (value, origin) = if key.is_secret() {
            (status.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default(), "")
        } else if let Some(v) = key.stored(&config) {
            (display(&v), "")
        } else if let Some(v) = key.effective(&config) {
            (v, if key.parent().is_some() && key.field.name != "enabled" { "  (inherited)" } else { "  (default)" })
        } else {
            continue;
        };
        // One line per key: a template body's line breaks are shown as \n.
        println!("{name} = {}{origin}", value.replace('\r', "\\r").replace('\n', "\\n"));
    }
    if !config.dne.is_empty() {
        let n = config.dne.len();
        println!("dne = {n} {} (postdesk dne list)", if n == 1 { "entry" } else { "entries" });
    }
    Ok(0)
}

/// Puts a masked secret at its key's place in the JSON document (`client.x.password` → clients.x).
fn insert_dotted(doc: &mut Value, key: &str, value: Value) {
    let mut parts: Vec<String> = key.split('.').map(String::from).collect();
    match parts[0].as_str() {
        "client" => parts[0] = "clients".into(),
        "route" => parts[0] = "routes".into(),
        _ => {}
    }
    let mut node = doc;
    for part in &parts[..parts.len() - 1] {
        node = node.as_object_mut().expect("object").entry(part.clone()).or_insert_with(|| json!({}));
    }
    node.as_object_mut().expect("object").insert(parts[parts.len() - 1].clone(), value);
}

pub(super) fn check(app: &Postdesk, json: bool) -> Result<u8, Error> {
    let problems = app.check()?;
    let ok = !problems.iter().any(Problem::is_blocking);
    if json {
        print_json(&json!({"ok": ok, "problems": problems}));
    } else {
        for p in &problems {
            println!("{p}");
        }
        if problems.is_empty() {
            println!("no problems found");
        }
    }
    Ok(if ok { 0 } else { EXIT_FAILED })
}

pub(super) fn secret_set(app: &Postdesk, key: &str) -> Result<u8, Error> {
    let secret = read_secret(key)?;
    app.set_secret(key, &secret)?;
    eprintln!("postdesk: {key} stored in the OS keychain");
    Ok(0)
}

pub(super) fn secret_clear(app: &Postdesk, key: &str) -> Result<u8, Error> {
    let removed = app.clear_secret(key)?;
    eprintln!("postdesk: {key} {}", if removed { "removed from the OS keychain" } else { "was not set" });
    Ok(0)
}
