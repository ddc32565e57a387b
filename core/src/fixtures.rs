//! Test fixtures shared by the core's test modules (low in the layers, so a pure module's
//! tests need not import the operations).

use crate::edits::apply_edits;
use crate::model::Config;

/// For tests: a configuration made of `key → text` edits on the defaults, which must all be
/// valid edits (the one way tests across the core build a configuration).
pub(crate) fn test_config(pairs: &[(&str, &str)]) -> Config {
    let edits = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let (config, problems) = apply_edits(&Config::default(), &edits);
    assert!(problems.is_empty(), "{problems:?}");
    config
}
