//! Version migration of the configuration document's JSON form, shared by loading
//! ([`crate::store`]) and importing ([`crate::transfer`]). Pure.

use serde_json::Value;

use crate::model::CURRENT_VERSION;

/// Brings an older document up to [`CURRENT_VERSION`], one version step at a time. Each
/// future format change adds a step here and a test with a saved old document. Versions
/// that never existed (0) are refused, not guessed at.
pub(crate) fn migrate(doc: &mut Value, from: u64) -> Result<(), String> {
    if from == 0 {
        return Err("format version 0 does not exist (the first is 1)".into());
    }
    // Steps from..CURRENT_VERSION; none yet, as 1 is the first format.
    if from > u64::from(CURRENT_VERSION) {
        return Err(format!("format version {from} is newer than this Postdesk reads ({CURRENT_VERSION})"));
    }
    doc["version"] = Value::from(CURRENT_VERSION);
    Ok(())
}
