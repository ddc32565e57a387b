//! Files and preferences for the page, without handing it the file system: the paths of
//! export, import and the Do-Not-Email CSV come from a native dialog opened here, or from a
//! file the admin dropped on the window (recorded here from the window's own drag-and-drop
//! event, named to the page by an opaque id). An import file is read once, when chosen; its
//! bytes are kept under a token, so what is previewed is exactly what is applied. The page
//! reaches the UI preferences only through `get_pref`/`set_pref` and a fixed list of keys.
//!
//! Test hook (debug builds only): with `POSTDESK_E2E_FILE_DIALOG=<file>` in the environment
//! no native dialog opens; the dialog's answer is the first line of that file (empty: the
//! admin cancelled), and a `tauri://drag-drop` event emitted by the page counts as a drop.
//! WebDriver cannot drive native dialogs nor drag files from outside; `tests/e2e.rs` sets it.
//! A release build has neither.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use postdesk_core::Postdesk;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, WebviewWindow};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_store::StoreExt;
use ts_rs::TS;

use crate::commands::{CommandError, ErrorCode};

/// UI preferences (not the mail configuration): window geometry, last section, ….
pub const PREFS: &str = "ui-prefs.json";
/// The preferences the page may read and write; everything else is the Rust side's own.
const PAGE_PREFS: &[&str] = &["lastSection", "lastTestRecipient"];
/// The folder of the last file chosen (the Rust side's own preference).
const LAST_FOLDER: &str = "lastFolder";
/// The test hook's variable (see the module documentation).
const TEST_DIALOG_ENV: &str = "POSTDESK_E2E_FILE_DIALOG";

/// Files the admin dropped on the window, by id; and import files read, by token.
#[derive(Default)]
pub struct Files {
    dropped: Mutex<HashMap<String, PathBuf>>,
    imports: Mutex<HashMap<String, Vec<u8>>>,
}

/// A file dropped on the window, as the page knows it.
#[derive(Serialize, Clone)]
pub struct Dropped {
    pub id: String,
    /// The file's name (not its folder), to show and to tell a .json file.
    pub name: String,
}

/// An import file read and kept: the page refers to it by `token`.
#[derive(Serialize, Clone, TS)]
#[ts(export)]
pub struct ChosenFile {
    pub token: String,
    pub name: String,
    pub needs_passphrase: bool,
}

fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Two independently seeded SipHash states plus the time: unguessable enough for an id
    // that names a file only to the page of this process.
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Files {
    /// A real drop on the window (or, with the test hook, the page's event): remembered under
    /// a new id, which the page hears in a `dropped` event.
    pub fn record_drop(&self, app: &AppHandle, paths: &[PathBuf]) {
        let Some(path) = paths.first() else { return };
        let id = random_id();
        self.dropped.lock().expect("lock").insert(id.clone(), path.clone());
        let _ = app.emit_to("main", "dropped", Dropped { id, name: file_name(path) });
    }

    fn keep(&self, bytes: Vec<u8>, name: String) -> ChosenFile {
        let needs_passphrase = Postdesk::file_has_encrypted_secrets(&bytes);
        let token = random_id();
        let mut imports = self.imports.lock().expect("lock");
        // One import at a time in this window: an older file is forgotten.
        imports.clear();
        imports.insert(token.clone(), bytes);
        ChosenFile { token, name, needs_passphrase }
    }

    /// The bytes read when the file was chosen.
    pub fn import_bytes(&self, token: &str) -> Result<Vec<u8>, CommandError> {
        self.imports.lock().expect("lock").get(token).cloned().ok_or_else(|| CommandError::new(ErrorCode::Gone, "this import is no longer open: choose the file again"))
    }

    /// Reads a dropped file for import (once).
    pub fn open_dropped(&self, id: &str) -> Result<ChosenFile, CommandError> {
        let path = self.dropped.lock().expect("lock").remove(id).ok_or_else(|| CommandError::new(ErrorCode::Gone, "this dropped file is not known: drop it again"))?;
        let bytes = Postdesk::read_import_file(&path)?;
        Ok(self.keep(bytes, file_name(&path)))
    }

    pub fn forget_import(&self, token: &str) {
        self.imports.lock().expect("lock").remove(token);
    }
}

/// Listens for files dropped on the main window (the window's own event, not the page's).
pub fn watch_drops(window: &WebviewWindow) {
    let app = window.app_handle().clone();
    window.on_window_event(move |event| {
        if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
            app.state::<Files>().record_drop(&app, paths);
        }
    });
    #[cfg(debug_assertions)]
    if std::env::var_os(TEST_DIALOG_ENV).is_some() {
        use tauri::Listener;
        let app = window.app_handle().clone();
        window.app_handle().listen_any("tauri://drag-drop", move |event| {
            #[derive(serde::Deserialize)]
            struct Payload {
                paths: Vec<PathBuf>,
            }
            if let Ok(p) = serde_json::from_str::<Payload>(event.payload()) {
                app.state::<Files>().record_drop(&app, &p.paths);
            }
        });
    }
}

/// The dialog's answer under the test hook: `None` without the hook, `Some(None)` cancelled.
fn test_answer() -> Option<Option<PathBuf>> {
    #[cfg(debug_assertions)]
    if let Some(file) = std::env::var_os(TEST_DIALOG_ENV) {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let line = text.lines().next().unwrap_or("").trim().to_string();
        return Some((!line.is_empty()).then(|| PathBuf::from(line)));
    }
    None
}

fn last_folder(app: &AppHandle) -> Option<PathBuf> {
    let store = app.store(PREFS).ok()?;
    store.get(LAST_FOLDER).and_then(|v| v.as_str().map(PathBuf::from)).filter(|p| p.is_dir())
}

fn remember_folder(app: &AppHandle, path: &std::path::Path) {
    if let (Some(dir), Ok(store)) = (path.parent().filter(|d| !d.as_os_str().is_empty()), app.store(PREFS)) {
        store.set(LAST_FOLDER, serde_json::Value::from(dir.display().to_string()));
    }
}

/// A native "open" or "save" dialog over the window; `None` when the admin cancels.
fn dialog(app: &AppHandle, window: &WebviewWindow, save: Option<&str>, filter: (&str, &[&str])) -> Option<PathBuf> {
    if let Some(answer) = test_answer() {
        return answer;
    }
    let mut d = app.dialog().file().set_parent(window).add_filter(filter.0, filter.1);
    if let Some(dir) = last_folder(app) {
        d = d.set_directory(dir);
    }
    let chosen = match save {
        Some(name) => d.set_file_name(name).blocking_save_file(),
        None => d.blocking_pick_file(),
    }?;
    let path = chosen.into_path().ok()?;
    remember_folder(app, &path);
    Some(path)
}

const CONFIG_FILTER: (&str, &[&str]) = ("Postdesk configuration", &["json"]);
const CSV_FILTER: (&str, &[&str]) = ("CSV", &["csv"]);

/// Asks where to export, then writes the settings there; the path written, or `None` when
/// the admin cancelled.
pub fn export_config(app: &AppHandle, window: &WebviewWindow, postdesk: &Postdesk, passphrase: Option<String>) -> Result<Option<String>, CommandError> {
    let (text, _) = postdesk.export(crate::commands::passphrase(passphrase).as_ref())?;
    let Some(path) = dialog(app, window, Some("postdesk-config.json"), CONFIG_FILTER) else { return Ok(None) };
    Postdesk::write_export_file(&path, &text)?;
    Ok(Some(path.display().to_string()))
}

/// Asks which file to import and reads it (once); `None` when the admin cancelled.
pub fn choose_import(app: &AppHandle, window: &WebviewWindow, files: &Files) -> Result<Option<ChosenFile>, CommandError> {
    let Some(path) = dialog(app, window, None, CONFIG_FILTER) else { return Ok(None) };
    let bytes = Postdesk::read_import_file(&path)?;
    Ok(Some(files.keep(bytes, file_name(&path))))
}

/// Asks for a CSV file and adds its entries to the Do-Not-Email list; `None` when cancelled.
pub fn dne_import(app: &AppHandle, window: &WebviewWindow, postdesk: &Postdesk) -> Result<Option<DneImported>, CommandError> {
    let Some(path) = dialog(app, window, None, CSV_FILTER) else { return Ok(None) };
    let added = postdesk.dne_import(&path)?;
    Ok(Some(DneImported { added, file: path.display().to_string(), view: postdesk.dne_view()? }))
}

#[derive(Serialize, TS)]
#[ts(export)]
pub struct DneImported {
    pub added: usize,
    pub file: String,
    pub view: postdesk_core::DneView,
}

/// Asks where to write the Do-Not-Email list as CSV; `None` when cancelled.
pub fn dne_export(app: &AppHandle, window: &WebviewWindow, postdesk: &Postdesk) -> Result<Option<DneExported>, CommandError> {
    let Some(path) = dialog(app, window, Some("do-not-email.csv"), CSV_FILTER) else { return Ok(None) };
    let count = postdesk.dne_export(&path)?;
    Ok(Some(DneExported { count, file: path.display().to_string() }))
}

#[derive(Serialize, TS)]
#[ts(export)]
pub struct DneExported {
    pub count: usize,
    pub file: String,
}

fn page_pref(key: &str) -> Result<(), CommandError> {
    if PAGE_PREFS.contains(&key) {
        Ok(())
    } else {
        Err(CommandError::message(&format!("{key}: not a preference of the window")))
    }
}

/// A remembered UI preference (one of [`PAGE_PREFS`]).
pub fn get_pref(app: &AppHandle, key: &str) -> Result<Option<serde_json::Value>, CommandError> {
    page_pref(key)?;
    Ok(app.store(PREFS).ok().and_then(|s| s.get(key)))
}

/// Remembers a UI preference: a short text (one of [`PAGE_PREFS`]).
pub fn set_pref(app: &AppHandle, key: String, value: String) -> Result<(), CommandError> {
    page_pref(&key)?;
    if value.len() > 1000 {
        return Err(CommandError::message(&format!("{key}: too long")));
    }
    let store = app.store(PREFS).map_err(|e| CommandError::message(&e.to_string()))?;
    store.set(key, serde_json::Value::from(value));
    Ok(())
}
