//! The export file: `schema`, `export`, `import` (with `--dry-run`, `--allow-redirect`), `import --undo`.

use std::path::Path;

use postdesk_core::{Error, ImportReport, Postdesk};

use crate::input::read_passphrase;
use crate::output::{print_changes, print_json, EXIT_FAILED};

pub(super) fn schema() -> Result<u8, Error> {
    print_json(&Postdesk::export_schema());
    Ok(0)
}

pub(super) fn export(app: &Postdesk, file: &Path, with_secrets: bool, passphrase_file: Option<&Path>) -> Result<u8, Error> {
    let passphrase = match (with_secrets, passphrase_file) {
        (true, Some(f)) => Some(read_passphrase(f)?),
        _ => None,
    };
    let (text, needed) = app.export(passphrase.as_ref())?;
    Postdesk::write_export_file(file, &text)?;
    eprintln!("postdesk: exported to {}{}", file.display(), if with_secrets { " (secrets encrypted)" } else { "" });
    if !with_secrets && !needed.is_empty() {
        eprintln!("postdesk: secrets are not in the file; the target machine needs: {}", needed.join(", "));
    }
    Ok(0)
}

pub(super) fn undo_import(app: &Postdesk) -> Result<u8, Error> {
    let undone = app.undo_import()?;
    eprintln!("postdesk: {}", if undone { "the last import was undone" } else { "there is no import to undo" });
    Ok(if undone { 0 } else { EXIT_FAILED })
}

pub(super) fn import(app: &Postdesk, file: &Path, dry_run: bool, passphrase_file: Option<&Path>, allow_redirect: bool, json: bool) -> Result<u8, Error> {
    let passphrase = passphrase_file.map(read_passphrase).transpose()?;
    let bytes = match Postdesk::read_import_file(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("postdesk: {e}");
            return Ok(EXIT_FAILED);
        }
    };
    let plan = match app.plan_import(&bytes, passphrase.as_ref()) {
        Ok(plan) => plan,
        Err(Error::Invalid(problems)) => {
            for p in problems {
                eprintln!("postdesk: {p}");
            }
            eprintln!("postdesk: nothing was changed");
            return Ok(EXIT_FAILED);
        }
        Err(e) => return Err(e),
    };
    // `--json`: one object on stdout, printed once the outcome is known (nothing on a refusal).
    let report = ImportReport::of(&plan.changes);
    let print_report = || {
        let mut value = serde_json::to_value(&report).expect("json");
        value["secrets_missing"] = serde_json::json!(plan.secrets_missing);
        value["redirects"] = serde_json::json!(plan.redirects.iter().map(ToString::to_string).collect::<Vec<_>>());
        print_json(&value);
    };
    if !json {
        print_changes(&plan);
    }
    let refused = |redirects: &[postdesk_core::Redirect]| {
        for r in redirects {
            eprintln!("postdesk: {r}");
        }
        eprintln!("postdesk: nothing was changed; to apply it anyway: postdesk import {} --allow-redirect", file.display());
        EXIT_FAILED
    };
    if dry_run {
        if json {
            print_report();
        }
        eprintln!("postdesk: dry run: nothing was changed");
    } else if !plan.redirects.is_empty() && !allow_redirect {
        eprintln!("postdesk: the file changes where stored secrets are sent or which program runs:");
        return Ok(refused(&plan.redirects));
    } else if json && !report.changed {
        // Nothing to apply: a fleet tool's periodic run keeps the undo of the last real import.
        print_report();
        eprintln!("postdesk: {} changes nothing: nothing was applied", file.display());
    } else {
        // The plan made from the bytes read once above: exactly what was shown is applied.
        match app.apply_import(&plan, allow_redirect) {
            // The saved settings changed since the plan was made.
            Err(Error::Redirected(redirects)) => return Ok(refused(&redirects)),
            other => other?,
        }
        if json {
            print_report();
        }
        eprintln!("postdesk: imported {} ({} changes); undo with `postdesk import --undo`", file.display(), plan.changes.len());
    }
    Ok(0)
}
