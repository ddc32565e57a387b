//! Saving and loading the configuration document in the data directory.
//!
//! Saves are atomic (temp file in the same directory, fsync, rename, fsync of the directory):
//! a crash leaves either the old or the new file, never a torn one. The temp file has a random
//! name and is created with `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600, so a symlink planted at
//! any name never redirects a write. Every load-modify-save runs under [`EditLock`], one
//! cross-process `flock` on `<data dir>/config.lock`; [`Store::save`] takes the guard, so a
//! save outside the lock does not compile. A file that cannot be
//! parsed is moved aside as `<name>.corrupt-<timestamp>` and reported, never overwritten or
//! silently reset.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::model::{Config, CURRENT_VERSION};

pub const CONFIG_FILE: &str = "config.json";
/// The lock every load-modify-save of the data directory holds (see [`EditLock`]).
pub const LOCK_FILE: &str = "config.lock";
/// How long a change waits for another process's change to finish before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// The Tauri identifier: the default data directory is `<OS data dir>/<identifier>`.
pub const APP_IDENTIFIER: &str = "com.postdesk.desktop";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the configuration file {path} could not be read ({reason}); it was kept as {kept_as} and Postdesk started from empty settings")]
    Corrupt { path: PathBuf, kept_as: PathBuf, reason: String },
    #[error("the configuration file {path} was written by a newer Postdesk (format version {found}, this one reads up to {CURRENT_VERSION}); it was left untouched: update Postdesk")]
    TooNew { path: PathBuf, found: u64 },
    #[error("another Postdesk process is changing the settings in {dir} and did not finish within {} s (lock file {}); nothing was changed: try again, and if it persists find the process holding the lock (e.g. `fuser {}`)", waited.as_secs(), dir.join(LOCK_FILE).display(), dir.join(LOCK_FILE).display())]
    Locked { dir: PathBuf, waited: Duration },
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

    /// The damaged file kept aside last, while no settings file has been saved since: until
    /// then the defaults are in force, and `check` keeps saying so (a corrupt file is reported,
    /// not silently replaced by defaults on the next run).
    pub fn kept_aside(&self) -> Option<PathBuf> {
        if self.path().exists() {
            return None;
        }
        let prefix = format!("{CONFIG_FILE}.corrupt-");
        fs::read_dir(&self.dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
            // The names carry a UTC timestamp: the greatest is the latest.
            .max()
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

    /// Takes the data directory's edit lock (waits at most [`LOCK_WAIT`]).
    pub fn lock(&self) -> Result<EditLock, StoreError> {
        EditLock::acquire(&self.dir, LOCK_WAIT)
    }

    /// Writes the document atomically. The caller holds the edit lock from its load on.
    pub fn save(&self, config: &Config, lock: &EditLock) -> Result<(), StoreError> {
        debug_assert_eq!(lock.dir, self.dir, "the lock of another data directory");
        let mut text = serde_json::to_string_pretty(config).expect("config serializes");
        text.push('\n');
        write_atomic(&self.dir, CONFIG_FILE, text.as_bytes())?;
        self.remove_stale_temp_files();
        Ok(())
    }

    /// Temp files of saves that were killed before their rename: with the lock held, no other
    /// save of this file is under way, so every `.config.json.tmp-*` is stale.
    fn remove_stale_temp_files(&self) {
        let prefix = format!(".{CONFIG_FILE}.tmp-");
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path()); // a symlink itself, never its target
            }
        }
    }
}

/// The cross-process lock of one data directory: an exclusive `flock` (std's `File::lock`) on
/// `<dir>/config.lock`, held from the load to the save of every change, by every process and
/// every window command. Re-entrant within a thread (an operation built on another one takes
/// it once); other threads and processes wait, at most the given time.
#[derive(Debug)]
pub struct EditLock {
    dir: PathBuf,
    /// `None` when this thread already held the lock (the outer guard releases it).
    _file: Option<File>,
}

thread_local! {
    static HELD: std::cell::RefCell<Vec<PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl EditLock {
    pub fn acquire(dir: &Path, wait: Duration) -> Result<EditLock, StoreError> {
        if HELD.with(|h| h.borrow().iter().any(|d| d == dir)) {
            return Ok(EditLock { dir: dir.to_path_buf(), _file: None });
        }
        create_private_dir(dir).map_err(io_err("cannot create", dir))?;
        let path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(&path).map_err(io_err("cannot open the lock file", &path))?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => std::thread::sleep(Duration::from_millis(5)),
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked { dir: dir.to_path_buf(), waited: wait }),
                Err(std::fs::TryLockError::Error(e)) => return Err(io_err("cannot lock", &path)(e)),
            }
        }
        HELD.with(|h| h.borrow_mut().push(dir.to_path_buf()));
        Ok(EditLock { dir: dir.to_path_buf(), _file: Some(file) })
    }
}

impl Drop for EditLock {
    fn drop(&mut self) {
        if self._file.is_some() {
            HELD.with(|h| h.borrow_mut().retain(|d| *d != self.dir));
        }
    }
}

/// Temp file in the same directory (random name, created exclusively, never through a
/// symlink), fsync, rename over the target, fsync the directory.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    create_private_dir(dir).map_err(io_err("cannot create", dir))?;
    let target = dir.join(name);
    let (tmp, mut file) = new_temp_file(dir, name).map_err(io_err("cannot create a temp file in", dir))?;
    let result = (|| {
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

/// `.<name>.tmp-<random>` in `dir`, created with `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600:
/// whatever is planted under a guessable name, the write goes only to a new file of ours.
fn new_temp_file(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(".{name}.tmp-{}", random_hex()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temp name")))
}

fn random_hex() -> String {
    let mut bytes = [0u8; 12];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        // No OS random source: still unique, and O_EXCL keeps it safe if guessed.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        bytes[..8].copy_from_slice(&(nanos ^ u64::from(std::process::id()) << 32).to_le_bytes());
        bytes[8..].copy_from_slice(&(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u32).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    let mut doc: Value = serde_json::from_slice(bytes).map_err(|e| Unreadable::Invalid(crate::wording::plain(&e.to_string())))?;
    let version = doc
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| Unreadable::Invalid("no \"version\" number at the top".into()))?;
    if version > u64::from(CURRENT_VERSION) {
        return Err(Unreadable::TooNew(version));
    }
    migrate(&mut doc, version).map_err(Unreadable::Invalid)?;
    serde_json::from_value(doc).map_err(|e| Unreadable::Invalid(crate::wording::plain(&e.to_string())))
}

// Pure, so the import path (a pure rule) shares it without reaching up to the disk layer.
pub(crate) use crate::migrate::migrate;

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
        store.save(&sample(), &store.lock().unwrap()).unwrap();
        assert_eq!(store.load().unwrap(), sample());
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&CONFIG_FILE.into()) && names.contains(&LOCK_FILE.into()));
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
    fn a_file_kept_aside_is_named_until_settings_are_saved_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.kept_aside(), None);
        fs::write(store.path(), "{ not json").unwrap();
        assert_eq!(store.kept_aside(), None, "the file is still in place");
        let Err(StoreError::Corrupt { kept_as, .. }) = store.load() else { panic!("not reported") };
        assert_eq!(store.kept_aside(), Some(kept_as.clone()));
        assert!(matches!(store.load(), Ok(_)), "the next load runs on the defaults");
        assert_eq!(store.kept_aside(), Some(kept_as), "and the damaged file is still named");
        let lock = store.lock().unwrap();
        store.save(&Config::default(), &lock).unwrap();
        assert_eq!(store.kept_aside(), None, "saved settings replace it");
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
    fn a_failed_save_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory where the file goes makes the rename fail.
        fs::create_dir_all(dir.path().join("out/x")).unwrap();
        assert!(write_atomic(dir.path(), "out", b"new").is_err());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["out"]);
    }

    #[cfg(unix)]
    #[test]
    fn temp_names_are_random_and_a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        // The names the old code used (per process id) point at the victim.
        std::os::unix::fs::symlink(&victim, data.join(format!(".{CONFIG_FILE}.tmp-{}", std::process::id()))).unwrap();
        let store = Store::new(&data);
        store.save(&sample(), &store.lock().unwrap()).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(store.load().unwrap(), sample());
        let (a, _) = new_temp_file(&data, "x").unwrap();
        let (b, _) = new_temp_file(&data, "x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn the_lock_is_reentrant_in_a_thread_and_times_out_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let outer = EditLock::acquire(dir.path(), LOCK_WAIT).unwrap();
        let inner = EditLock::acquire(dir.path(), LOCK_WAIT).unwrap();
        drop(inner);
        let other = std::thread::scope(|s| s.spawn(|| EditLock::acquire(dir.path(), Duration::from_millis(100)).map(|_| ())).join().unwrap());
        let err = other.unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
        drop(outer);
        std::thread::scope(|s| s.spawn(|| EditLock::acquire(dir.path(), Duration::from_millis(100)).map(|_| ())).join().unwrap()).unwrap();
    }
}
