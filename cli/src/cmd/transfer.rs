//! The export file: `schema`, `export`, `import` (with `--dry-run`, `--allow-redirect`), `import --undo`.

use std::path::Path;

use postdesk_core::{Error, Postdesk};

use crate::input::read_passphrase;
use crate::output::{print_changes, print_json, EXIT_CONFIG, EXIT_FAILED};

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

pub(super) fn import(app: &Postdesk, file: &Path, dry_run: bool, passphrase_file: Option<&Path>, allow_redirect: bool) -> Result<u8, Error> {
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
    print_changes(&plan);
    let reason = if plan.locked.is_empty() { String::new() } else { app.policy().reason() };
    for key in &plan.locked {
        println!("# {key}: locked: {reason}");
    }
    if dry_run {
        eprintln!("postdesk: dry run: nothing was changed");
    } else if !plan.locked.is_empty() {
        // Exit 2 like `config set` of a locked key: the organization's policy, not the file's form.
        eprintln!("postdesk: the file changes settings the organization's policy locks: {}", plan.locked.join(", "));
        eprintln!("postdesk: nothing was changed ({reason})");
        return Ok(EXIT_CONFIG);
    } else if !plan.redirects.is_empty() && !allow_redirect {
        eprintln!("postdesk: the file changes where stored secrets are sent or which program runs:");
        for r in &plan.redirects {
            eprintln!("postdesk: {r}");
        }
        eprintln!("postdesk: nothing was changed; to apply it anyway: postdesk import {} --allow-redirect", file.display());
        return Ok(EXIT_FAILED);
    } else {
        // The plan made from the bytes read once above: exactly what was shown is applied.
        match app.apply_import(&plan, allow_redirect) {
            Err(Error::Redirected(redirects)) => {
                // The saved settings changed since the plan was made.
                for r in &redirects {
                    eprintln!("postdesk: {r}");
                }
                eprintln!("postdesk: nothing was changed; to apply it anyway: postdesk import {} --allow-redirect", file.display());
                return Ok(EXIT_FAILED);
            }
            other => other?,
        }
        eprintln!("postdesk: imported {} ({} changes); undo with `postdesk import --undo`", file.display(), plan.changes.len());
    }
    Ok(0)
}
