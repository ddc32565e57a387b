//! Which server sends what: `route`, `route remove`, `client remove`, `preset list|apply`.

use postdesk_core::{Error, Postdesk};
use serde_json::json;

use crate::output::{print_json, print_saved, EXIT_CONFIG};

pub(super) fn route(app: &Postdesk, client: Option<String>, from: &str, json: bool) -> Result<u8, Error> {
    if let Err(e) = postdesk_core::check_email(from, true) {
        eprintln!("postdesk: --from {from}: {e}");
        return Ok(EXIT_CONFIG);
    }
    let e = app.explain(client.as_deref(), Some(from))?;
    let value = match &e.server {
        Some(server) => json!({"source": e.source, "server": server, "reason": e.reason, "from": e.from, "chain": e.chain}),
        None => json!({"source": null, "reason": e.reason, "chain": e.chain}),
    };
    if json {
        print_json(&value);
    } else {
        match &e.server {
            Some(s) => println!("{} via {}:{} ({})", s.source, s.host, s.port, e.reason),
            None => println!("no mail would be sent: {}", e.reason),
        }
        for line in &e.chain {
            println!("  {line}");
        }
    }
    Ok(0)
}

pub(super) fn route_remove(app: &Postdesk, name: &str) -> Result<u8, Error> {
    app.remove_route(name)?;
    eprintln!("postdesk: route {name} and its secrets removed");
    Ok(0)
}

pub(super) fn client_remove(app: &Postdesk, id: &str) -> Result<u8, Error> {
    app.remove_client(id)?;
    eprintln!("postdesk: client {id} and its secrets removed");
    Ok(0)
}

pub(super) fn preset_list(json: bool) -> Result<u8, Error> {
    let presets = Postdesk::presets();
    if json {
        print_json(&presets);
        return Ok(0);
    }
    for p in presets {
        let variants: Vec<&str> = p.variants.iter().map(|v| v.id.as_str()).collect();
        let host = p.settings.get("global.host").filter(|h| !h.is_empty()).map(|h| format!(" ({h})")).unwrap_or_default();
        if variants.is_empty() {
            println!("{:<13} {}{host}", p.id, p.name);
        } else {
            println!("{:<13} {}{host}; --variant {}", p.id, p.name, variants.join("|"));
        }
    }
    Ok(0)
}

pub(super) fn preset_apply(app: &Postdesk, name: &str, variant: Option<&str>) -> Result<u8, Error> {
    let (preset, saved) = app.apply_preset(name, variant)?;
    println!("Applied {}.", preset.name);
    print_saved(&saved);
    println!("\nStill to do at {}:", preset.name);
    for item in &preset.todo {
        println!("  - {item}");
    }
    for item in &preset.advice {
        println!("  Note: {item}");
    }
    Ok(0)
}
