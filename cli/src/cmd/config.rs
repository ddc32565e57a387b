//! `config get|set|unset|show`, `check`, `secret set|clear`.

use std::time::SystemTime;

use postdesk_core::{Error, Origin, Postdesk, Problem};
use serde_json::json;

use crate::args::Format;
use crate::monitoring;

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
    if json {
        print_json(&app.show_document()?);
        return Ok(0);
    }
    let shown = app.show()?;
    for key in &shown.keys {
        let origin = match key.origin {
            Origin::Stored => "",
            Origin::Inherited => "  (inherited)",
            Origin::Default => "  (default)",
        };
        // One line per key: a template body's line breaks are shown as \n.
        println!("{} = {}{origin}", key.name, key.value.replace('\r', "\\r").replace('\n', "\\n"));
    }
    if shown.dne_entries > 0 {
        let n = shown.dne_entries;
        println!("dne = {n} {} (postdesk dne list)", if n == 1 { "entry" } else { "entries" });
    }
    Ok(0)
}

pub(super) fn check(app: &Postdesk, format: Format) -> Result<u8, Error> {
    let json = match format {
        Format::Nagios => return Ok(monitoring::check_nagios(app.health())),
        Format::Prometheus => return Ok(monitoring::check_prometheus(app.health(), SystemTime::now())),
        Format::Json => true,
        Format::Text => false,
    };
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

pub(super) fn secret_set(app: &Postdesk, key: &str, json: bool, dry_run: bool) -> Result<u8, Error> {
    let secret = read_secret(key)?;
    if !json {
        app.set_secret(key, &secret)?;
        eprintln!("postdesk: {key} stored in the OS keychain");
        return Ok(0);
    }
    // `--json`: whether the keychain held another value, compared in this process.
    let changed = if dry_run { app.secret_differs(key, &secret)? } else { app.set_secret_if_changed(key, &secret)? };
    print_json(&json!({"changed": changed}));
    let what = match (changed, dry_run) {
        (true, true) => "would be stored in the OS keychain (dry run: nothing stored)",
        (true, false) => "stored in the OS keychain",
        (false, _) => "already holds this value in the OS keychain",
    };
    eprintln!("postdesk: {key} {what}");
    Ok(0)
}

pub(super) fn secret_clear(app: &Postdesk, key: &str) -> Result<u8, Error> {
    let removed = app.clear_secret(key)?;
    eprintln!("postdesk: {key} {}", if removed { "removed from the OS keychain" } else { "was not set" });
    Ok(0)
}
