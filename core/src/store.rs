//! Saving and loading the configuration document in the data directory.
//!
//! Saves are atomic (temp file in the same directory, fsync, rename, fsync of the directory):
//! a crash leaves either the old or the new file, never a torn one. A file that cannot be
//! parsed is moved aside as `<name>.corrupt-<timestamp>` and reported, never overwritten or
//! silently reset.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::{Config, CURRENT_VERSION};

pub const CONFIG_FILE: &str = "config.json";
/// The Tauri identifier: the default data directory is `<OS data dir>/<identifier>`.
pub const APP_IDENTIFIER: &str = "com.postdesk.desktop";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the configuration file {path} could not be read ({reason}); it was kept as {kept_as} and Postdesk started from empty settings")]
    Corrupt { path: PathBuf, kept_as: PathBuf, reason: String },
    #[error("the configuration file {path} was written by a newer Postdesk (format version {found}, this one reads up to {CURRENT_VERSION}); it was left untouched: update Postdesk")]
    TooNew { path: PathBuf, found: u64 },
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { action, path: path.to_path_buf(), source }
}

/// Where the configuration of one installation lives.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// The default data directory: `--data-dir`, else `POSTDESK_DATA_DIR`, else the OS app-data dir.
pub fn data_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit
        .or_else(|| std::env::var_os("POSTDESK_DATA_DIR").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| {
            directories::BaseDirs::new()
                .map(|d| d.data_dir().join(APP_IDENTIFIER))
                .unwrap_or_else(|| PathBuf::from(".postdesk"))
        })
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    /// Loads the saved document; no file yet means the defaults.
    pub fn load(&self) -> Result<Config, StoreError> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(io_err("cannot read", &path)(e)),
        };
        match parse(&bytes) {
            Ok(config) => Ok(config),
            Err(Unreadable::TooNew(found)) => Err(StoreError::TooNew { path, found }),
            Err(Unreadable::Invalid(reason)) => {
                let kept_as = self.keep_aside(&path)?;
                Err(StoreError::Corrupt { path, kept_as, reason })
            }
        }
    }

    /// Moves an unreadable file out of the way under a name that says what happened.
    fn keep_aside(&self, path: &Path) -> Result<PathBuf, StoreError> {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
            .expect("timestamp formats");
        let mut kept = path.with_file_name(format!("{CONFIG_FILE}.corrupt-{stamp}"));
        let mut n = 1;
        while kept.exists() {
            kept = path.with_file_name(format!("{CONFIG_FILE}.corrupt-{stamp}-{n}"));
            n += 1;
        }
        fs::rename(path, &kept).map_err(io_err("cannot move aside", path))?;
        sync_dir(&self.dir).map_err(io_err("cannot sync", &self.dir))?;
        Ok(kept)
    }

    /// Writes the document atomically.
    pub fn save(&self, config: &Config) -> Result<(), StoreError> {
        let mut text = serde_json::to_string_pretty(config).expect("config serializes");
        text.push('\n');
        write_atomic(&self.dir, CONFIG_FILE, text.as_bytes())
    }
}

/// Temp file in the same directory, fsync, rename over the target, fsync the directory.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    create_private_dir(dir).map_err(io_err("cannot create", dir))?;
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // The temp name is per process: two saves of one process at once take turns.
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let result = (|| {
        let mut file = private_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, &target)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err("cannot save", &target))
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(()) // Windows has no directory handle to flush; MoveFileEx replaces atomically.
}

enum Unreadable {
    Invalid(String),
    TooNew(u64),
}

/// Parses a saved document of any known version into the current model.
fn parse(bytes: &[u8]) -> Result<Config, Unreadable> {
    // A current document (the usual case) goes straight into the model, without building the
    // whole JSON tree first (10,000 clients: about half of the load time). Anything else —
    // an older or newer version, or a document that does not fit — takes the path below,
    // which decides and words the outcome exactly as before.
    if let Ok(config) = serde_json::from_slice::<Config>(bytes) {
        if config.version == CURRENT_VERSION {
            return Ok(config);
        }
    }
    let mut doc: Value = serde_json::from_slice(bytes).map_err(|e| Unreadable::Invalid(e.to_string()))?;
    let version = doc
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| Unreadable::Invalid("no \"version\" number at the top".into()))?;
    if version > u64::from(CURRENT_VERSION) {
        return Err(Unreadable::TooNew(version));
    }
    migrate(&mut doc, version).map_err(Unreadable::Invalid)?;
    serde_json::from_value(doc).map_err(|e| Unreadable::Invalid(e.to_string()))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;

    fn sample() -> Config {
        let key = Key::parse("global.host").unwrap();
        key.write(&Config::default(), Some("smtp.example.com".into()))
    }

    #[test]
    fn missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Store::new(dir.path().join("new")).load().unwrap(), Config::default());
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("data"));
        store.save(&sample()).unwrap();
        assert_eq!(store.load().unwrap(), sample());
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [CONFIG_FILE]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "config file is private");
        }
    }

    #[test]
    fn corrupt_file_is_kept_aside_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        fs::write(store.path(), b"{\"version\": 1, \"global\": {\"port\": \"oops\"").unwrap();
        let err = store.load().unwrap_err();
        let StoreError::Corrupt { kept_as, .. } = &err else { panic!("{err}") };
        assert_eq!(fs::read(kept_as).unwrap(), b"{\"version\": 1, \"global\": {\"port\": \"oops\"");
        assert!(kept_as.file_name().unwrap().to_string_lossy().starts_with("config.json.corrupt-"));
        assert!(err.to_string().contains(&kept_as.display().to_string()));
        assert!(!store.path().exists());
        // A second corrupt file in the same second gets its own name.
        fs::write(store.path(), b"\0\0\0").unwrap();
        let StoreError::Corrupt { kept_as: second, .. } = store.load().unwrap_err() else { panic!() };
        assert_ne!(&second, kept_as);
        assert!(kept_as.exists() && second.exists());
    }

    #[test]
    fn wrong_types_and_missing_version_count_as_corrupt() {
        for text in [r#"{"version":1,"global":{"port":70000}}"#, r#"{"global":{}}"#, "[]", "", r#"{"version":0}"#] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::new(dir.path());
            fs::write(store.path(), text).unwrap();
            assert!(matches!(store.load(), Err(StoreError::Corrupt { .. })), "{text}");
        }
    }

    #[test]
    fn newer_version_is_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        fs::write(store.path(), r#"{"version": 99}"#).unwrap();
        assert!(matches!(store.load(), Err(StoreError::TooNew { found: 99, .. })));
        assert_eq!(fs::read_to_string(store.path()).unwrap(), r#"{"version": 99}"#);
    }

    #[test]
    fn a_failed_save_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.save(&sample()).unwrap();
        // A directory where the temp file would go makes the write fail before the rename.
        fs::create_dir(dir.path().join(format!(".{CONFIG_FILE}.tmp-{}", std::process::id()))).unwrap();
        assert!(store.save(&Config::default()).is_err());
        assert_eq!(store.load().unwrap(), sample());
    }
}
