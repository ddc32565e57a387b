//! The daily limit: how many mails were sent in the last 24 hours (rolling), kept in the
//! data directory so it survives restarts and is shared by every process.
//!
//! `sent-log` holds one line per mail, `<unix milliseconds> <id>`. Every read-modify-write
//! happens under an exclusive `flock` on `sent-log.lock` (std's `File::lock`), and the new
//! file replaces the old one atomically, so concurrent `postdesk send` processes neither lose
//! nor double-count a mail. A slot is reserved *before* anything is sent (so two processes
//! cannot both take the last one) and released again when the mail failed before its data
//! was handed over. A [`Reservation`] is a guard: dropped without [`Reservation::keep`] (an
//! early return, a cancelled future, a panic unwinding through the send path) it gives its slot
//! back, so no path can leave a slot taken for a mail that never left.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::store::StoreError;

pub const LOG_FILE: &str = "sent-log";
pub const LOCK_FILE: &str = "sent-log.lock";
pub const WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

/// Why the sent-mail count could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    /// A line of `sent-log` is not `<milliseconds> <id>` (`line` counts from 1).
    #[error("{} line {line} is damaged: {text:?} (fix or remove the file to reset the count)", path.display())]
    Damaged { path: PathBuf, line: usize, text: String },
    #[error(transparent)]
    Write(#[from] StoreError),
}

/// The sent-mail count of one data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentLog {
    dir: PathBuf,
}

/// A slot taken for one mail: kept with [`Reservation::keep`] once the mail was handed over,
/// given back when dropped otherwise.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "dropping a reservation gives its slot back"]
pub struct Reservation {
    log: SentLog,
    id: String,
    /// Mails in the window including this one.
    pub count: u32,
    settled: bool,
}

impl Reservation {
    /// The mail was handed over: the slot stays taken.
    pub fn keep(mut self) {
        self.settled = true;
    }

    /// Gives the slot back now (the mail was not handed over), reporting a failure to do so.
    pub fn release(mut self) -> Result<(), LimitsError> {
        self.settled = true;
        self.log.release_id(&self.id)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            let _ = self.log.release_id(&self.id);
        }
    }
}

/// The answer of [`SentLog::reserve`].
#[derive(Debug, PartialEq, Eq)]
pub enum Reserve {
    Taken(Reservation),
    /// The limit is reached: `count` mails in the last 24 hours.
    Full { count: u32, oldest_ends_in_ms: u64 },
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl SentLog {
    pub fn new(dir: &Path) -> SentLog {
        SentLog { dir: dir.to_path_buf() }
    }

    fn lock(&self) -> Result<File, LimitsError> {
        crate::store::create_private_dir(&self.dir).map_err(|source| LimitsError::Io { action: "create", path: self.dir.clone(), source })?;
        let path = self.dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = match options.open(&path) {
            Ok(file) => file,
            Err(source) => return Err(LimitsError::Io { action: "open", path, source }),
        };
        if let Err(source) = file.lock() {
            return Err(LimitsError::Io { action: "lock", path, source });
        }
        Ok(file)
    }

    /// The entries still inside the window, oldest first. A damaged line is an error, not
    /// silently dropped: the count must not be reset by a bad file.
    fn read(&self, now: u64) -> Result<Vec<(u64, String)>, LimitsError> {
        let path = self.dir.join(LOG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(LimitsError::Io { action: "read", path, source }),
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let parsed = line.split_once(' ').and_then(|(t, id)| Some((t.parse::<u64>().ok()?, id.to_string())));
            let Some((at, id)) = parsed else {
                return Err(LimitsError::Damaged { path, line: i + 1, text: line.into() });
            };
            // saturating: a hand-edited time near u64::MAX must not overflow (a panic in debug).
            if at.saturating_add(WINDOW_MS) > now {
                out.push((at, id));
            }
        }
        out.sort();
        Ok(out)
    }

    fn write(&self, entries: &[(u64, String)]) -> Result<(), LimitsError> {
        let text: String = entries.iter().map(|(at, id)| format!("{at} {id}\n")).collect();
        Ok(crate::store::write_atomic(&self.dir, LOG_FILE, text.as_bytes())?)
    }

    /// Mails sent in the last 24 hours.
    pub fn count(&self) -> Result<u32, LimitsError> {
        let _lock = self.lock()?;
        Ok(self.read(now_ms())?.len() as u32)
    }

    /// Takes a slot for one mail unless `max` (0 = no limit) mails were sent in the last 24
    /// hours. Always counted, so the window can show the count even without a limit.
    pub fn reserve(&self, max: u32) -> Result<Reserve, LimitsError> {
        self.reserve_at(max, now_ms())
    }

    pub fn reserve_at(&self, max: u32, now: u64) -> Result<Reserve, LimitsError> {
        let _lock = self.lock()?;
        let mut entries = self.read(now)?;
        if max > 0 && entries.len() as u64 >= u64::from(max) {
            let oldest = entries.first().map_or(0, |(at, _)| *at);
            return Ok(Reserve::Full { count: entries.len() as u32, oldest_ends_in_ms: oldest.saturating_add(WINDOW_MS).saturating_sub(now) });
        }
        let id = format!("{}-{}-{}", std::process::id(), now, unique());
        entries.push((now, id.clone()));
        self.write(&entries)?;
        Ok(Reserve::Taken(Reservation { log: self.clone(), id, count: entries.len() as u32, settled: false }))
    }

    /// Removes the entry `id` (its mail was not handed over).
    fn release_id(&self, id: &str) -> Result<(), LimitsError> {
        let _lock = self.lock()?;
        let mut entries = self.read(now_ms())?;
        let before = entries.len();
        entries.retain(|(_, e)| e != id);
        if entries.len() != before {
            self.write(&entries)?;
        }
        Ok(())
    }
}

/// A number unique within this process (threads of one process share the pid).
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// "3 h 20 min" for the refusal message.
pub fn duration_text(ms: u64) -> String {
    let minutes = ms.div_ceil(60_000);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_rolling_day_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentLog::new(dir.path());
        let t0 = 1_000_000_000_000;
        let taken = |r: Reserve| match r {
            Reserve::Taken(r) => {
                let count = r.count;
                r.keep();
                count
            }
            full => panic!("{full:?}"),
        };
        for i in 0..3 {
            assert_eq!(taken(log.reserve_at(3, t0 + i).unwrap()), i as u32 + 1);
        }
        let full = SentLog::new(dir.path()).reserve_at(3, t0 + 10).unwrap();
        assert_eq!(full, Reserve::Full { count: 3, oldest_ends_in_ms: WINDOW_MS - 10 });
        // The first mail leaves the window exactly 24 hours after it was sent.
        assert_eq!(taken(log.reserve_at(3, t0 + WINDOW_MS).unwrap()), 3);
        assert_eq!(taken(log.reserve_at(0, t0 + WINDOW_MS).unwrap()), 4, "0 = no limit");
    }

    #[test]
    fn release_gives_the_slot_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentLog::new(dir.path());
        let Reserve::Taken(r) = log.reserve(1).unwrap() else { panic!() };
        assert!(matches!(log.reserve(1).unwrap(), Reserve::Full { count: 1, .. }));
        r.release().unwrap();
        assert_eq!(log.count().unwrap(), 0);
        let Reserve::Taken(r) = log.reserve(1).unwrap() else { panic!() };
        r.keep();
        assert_eq!(log.count().unwrap(), 1);
    }

    #[test]
    fn a_reservation_dropped_unsettled_gives_its_slot_back_even_in_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let log = SentLog::new(dir.path());
        {
            let _r = log.reserve(1).unwrap();
        }
        assert_eq!(log.count().unwrap(), 0, "dropped without keep");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _r = log.reserve(1).unwrap();
            panic!("a bug in the send path");
        }));
        assert!(panicked.is_err());
        assert_eq!(log.count().unwrap(), 0, "the panic unwound through the reservation");
    }

    #[test]
    fn extreme_times_in_the_log_do_not_overflow() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOG_FILE), format!("{} x\n", u64::MAX)).unwrap();
        let log = SentLog::new(dir.path());
        assert_eq!(log.count().unwrap(), 1);
        assert!(matches!(log.reserve(1).unwrap(), Reserve::Full { count: 1, .. }));
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let taken: u32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        (0..5)
                            .filter(|_| match SentLog::new(dir.path()).reserve(50).unwrap() {
                                Reserve::Taken(r) => {
                                    r.keep();
                                    true
                                }
                                Reserve::Full { .. } => false,
                            })
                            .count() as u32
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(taken, 50);
        assert_eq!(SentLog::new(dir.path()).count().unwrap(), 50);
    }

    #[test]
    fn a_damaged_log_is_reported_not_reset() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOG_FILE), "garbage\n").unwrap();
        assert!(SentLog::new(dir.path()).count().unwrap_err().to_string().contains("damaged"));
        assert_eq!(std::fs::read_to_string(dir.path().join(LOG_FILE)).unwrap(), "garbage\n");
        assert_eq!(duration_text(3 * 3_600_000 + 20 * 60_000), "3 h 20 min");
    }
}
