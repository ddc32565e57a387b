//! The window's first form, read while the window starts (issue 9, README "Performance").
//!
//! Reading the configuration and asking the keychain which secrets are set (one Secret
//! Service request per secret key, ~85 ms on a loaded machine) does not depend on the
//! webview, so the window starts it on a thread before it creates the webview, and the
//! page's first `load_form` takes the result instead of waiting for the keychain.

use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;

use crate::app::Form;
use crate::Postdesk;

/// A form being read on a thread; given out once.
pub struct FormPrefetch(Mutex<Option<JoinHandle<Form>>>);

impl FormPrefetch {
    /// Starts reading the form of the data in `data_dir` (what [`Postdesk::form`] returns).
    pub fn start(data_dir: &Path) -> FormPrefetch {
        let app = Postdesk::open(data_dir);
        let thread = std::thread::Builder::new().name("form-prefetch".into()).spawn(move || app.form());
        FormPrefetch(Mutex::new(thread.ok()))
    }

    /// Nothing read at start (the sign-in window of `postdesk login` shows no form).
    pub fn idle() -> FormPrefetch {
        FormPrefetch(Mutex::new(None))
    }

    /// The form read at start, the first time only (waiting for it if it is still being
    /// read); afterwards, or if the thread failed, the form read now from `app`. A reload of
    /// the page therefore always sees the current files and keychain.
    pub fn take_or_read(&self, app: &Postdesk) -> Form {
        let thread = self.0.lock().map(|mut t| t.take()).unwrap_or(None);
        thread.and_then(|t| t.join().ok()).unwrap_or_else(|| app.form())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefetched_form_is_given_once_then_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        let app = Postdesk::open(dir.path());
        app.set("global.host", "first.example.com").unwrap();
        let prefetch = FormPrefetch::start(dir.path());
        let first = prefetch.take_or_read(&app);
        assert_eq!(first.values["global.host"], "first.example.com");
        app.set("global.host", "second.example.com").unwrap();
        let again = prefetch.take_or_read(&app);
        assert_eq!(again.values["global.host"], "second.example.com");
    }
}
