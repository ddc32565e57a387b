//! The admin's lists: `template render`, `dne add|remove|list|import|export`.

use std::collections::BTreeMap;
use std::path::Path;

use postdesk_core::{Error, Postdesk};

use crate::input::invalid_arg;
use crate::output::EXIT_FAILED;

pub(super) fn template_render(app: &Postdesk, kind: &str, client: Option<&str>, vars: &[String]) -> Result<u8, Error> {
    let mut values = BTreeMap::new();
    for var in vars {
        let Some((k, v)) = var.split_once('=') else {
            return Err(invalid_arg(&format!("--var {var}"), "must be KEY=VALUE"));
        };
        values.insert(k.trim().to_string(), v.to_string());
    }
    let r = app.render_template(kind, client, &values)?;
    if !r.sampled.is_empty() {
        eprintln!("postdesk: sample values used for: {}", r.sampled.join(", "));
    }
    println!("Subject: {}\n\n{}", r.subject, r.body);
    Ok(0)
}

pub(super) fn dne_add(app: &Postdesk, addrs: &[String]) -> Result<u8, Error> {
    let added = app.dne_add(addrs)?;
    eprintln!("postdesk: {added} added to the Do-Not-Email list ({} already on it)", addrs.len().saturating_sub(added));
    Ok(0)
}

pub(super) fn dne_remove(app: &Postdesk, addrs: &[String]) -> Result<u8, Error> {
    let missing = app.dne_remove(addrs)?;
    for m in &missing {
        eprintln!("postdesk: {m}: not on the Do-Not-Email list");
    }
    Ok(if missing.is_empty() { 0 } else { EXIT_FAILED })
}

pub(super) fn dne_list(app: &Postdesk, search: Option<&str>) -> Result<u8, Error> {
    for entry in app.dne_list(search)? {
        println!("{entry}");
    }
    Ok(0)
}

pub(super) fn dne_import(app: &Postdesk, file: &Path) -> Result<u8, Error> {
    match app.dne_import(file) {
        Ok(added) => eprintln!("postdesk: imported {}: {added} new entries", file.display()),
        Err(Error::Invalid(problems)) => {
            for p in problems {
                eprintln!("postdesk: {}: {p}", file.display());
            }
            eprintln!("postdesk: nothing was changed");
            return Ok(EXIT_FAILED);
        }
        Err(e) => return Err(e),
    }
    Ok(0)
}

pub(super) fn dne_export(app: &Postdesk, file: &Path) -> Result<u8, Error> {
    let n = app.dne_export(file)?;
    eprintln!("postdesk: exported {n} entries to {}", file.display());
    Ok(0)
}
