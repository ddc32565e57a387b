//! `policy show`: what the organization's policy sets and locks, and where it comes from.

use postdesk_core::{Error, Postdesk};
use serde_json::json;

use crate::output::{print_json, EXIT_FAILED};

pub(super) fn show(app: &Postdesk, json: bool) -> Result<u8, Error> {
    let policy = app.policy();
    if json {
        print_json(&json!({
            "file": policy.source,
            "exists": policy.exists,
            "set": policy.set,
            "lock": policy.lock,
            "error": policy.error,
            "locks_everything": policy.error.is_some(),
        }));
    } else if let Some(error) = &policy.error {
        println!("policy: {}", policy.source);
        println!("invalid: {}", postdesk_core::shown(error));
        println!("every setting is locked and nothing is set until it is fixed");
    } else if !policy.exists {
        println!("no policy ({} does not exist)", policy.source);
    } else {
        println!("policy: {}", policy.source);
        if policy.set.is_empty() {
            println!("sets nothing");
        } else {
            println!("sets:");
            for (key, value) in &policy.set {
                println!("  {key} = {}", postdesk_core::shown(value));
            }
        }
        if policy.lock.is_empty() {
            println!("locks nothing");
        } else {
            println!("locks:");
            for key in &policy.lock {
                println!("  {key}");
            }
        }
    }
    Ok(if policy.error.is_some() { EXIT_FAILED } else { 0 })
}
