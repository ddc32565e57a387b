//! `login`: Microsoft 365 delegated sign-in, in the embedded window or the system browser.

use std::time::Duration;

use postdesk_core::{Error, Postdesk};

use crate::output::EXIT_FAILED;

/// `login` without `--browser`: the embedded sign-in window lives in the window program
/// (which handles this command itself); on Unix `open_window` only returns when it could
/// not start.
pub(super) fn window(app: &Postdesk, client: Option<&str>) -> Result<u8, Error> {
    app.sign_in_settings(client)?;
    let _ = crate::open_window();
    Ok(EXIT_FAILED)
}

/// `login --browser`: the system browser and a one-shot loopback redirect listener.
pub(super) fn browser(app: &Postdesk, client: Option<&str>, timeout: u64) -> Result<u8, Error> {
    use postdesk_core::{open_in_browser, LoginError};
    let m = app.sign_in_settings(client)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let opened = |url: &str| {
        eprintln!("postdesk: opening the Microsoft sign-in at {} in your browser", url.split('?').next().unwrap_or(url));
        open_in_browser(url)
    };
    match runtime.block_on(app.sign_in_with_browser(&m, opened, Duration::from_secs(timeout))) {
        Ok(account) => {
            println!("Signed in as {account}");
            Ok(0)
        }
        Err(LoginError::Settings(e)) => Err(e),
        Err(failed) => {
            let error = failed.to_string();
            eprintln!("postdesk: token: {error}");
            if let Some(hint) = postdesk_core::hint_for(postdesk_core::Stage::Token, &error) {
                eprintln!("postdesk: what to do: {hint}");
            }
            Ok(EXIT_FAILED)
        }
    }
}
