//! Where the proxy rules of `proxy.rs` get their inputs on this machine: the process
//! environment and the desktop's proxy setting — GNOME's `org.gnome.system.proxy` through
//! `gsettings` on Linux (skipped quietly when `gsettings` or the schema is missing), the
//! `Internet Settings` registry values through `reg query` on Windows, `scutil --proxy` on
//! macOS. The Windows and macOS paths are written but cannot be run on the Linux machine
//! this was built on; their parsers are tested in `proxy.rs`.

use std::process::{Command, Stdio};

use crate::proxy::{self, Choice, Desktop, Settings};

/// The proxy for a request to `scheme://host:port` (see [`proxy::choose`]).
pub fn choose(scheme: &str, host: &str, port: u16, settings: &Settings) -> Result<Option<Choice>, String> {
    let env = |name: &str| std::env::var(name).ok();
    proxy::choose(scheme, host, port, settings, &env, &mut desktop)
}

/// The output of a helper program, if it ran and succeeded (never waits on a terminal).
fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The desktop's proxy, if one is set.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn desktop() -> Option<Desktop> {
    let get = |schema: &str, key: &str| output("gsettings", &["get", schema, key]);
    let mode = get("org.gnome.system.proxy", "mode")?;
    if !mode.contains("manual") {
        return None;
    }
    let https = (get("org.gnome.system.proxy.https", "host").unwrap_or_default(), get("org.gnome.system.proxy.https", "port").unwrap_or_default());
    let http = (get("org.gnome.system.proxy.http", "host").unwrap_or_default(), get("org.gnome.system.proxy.http", "port").unwrap_or_default());
    let ignore = get("org.gnome.system.proxy", "ignore-hosts").unwrap_or_default();
    proxy::gnome(&mode, (&https.0, &https.1), (&http.0, &http.1), &ignore)
}

/// The desktop's proxy, if one is set: the user's `Internet Settings` (what WinINet and the
/// browsers use). Not run on the machine this was written on.
#[cfg(windows)]
pub fn desktop() -> Option<Desktop> {
    const KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings";
    let value = |name: &str| {
        let out = output("reg", &["query", KEY, "/v", name])?;
        // `    ProxyServer    REG_SZ    proxy:3128`
        out.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next()? == name).then(|| ())?;
            let _kind = parts.next()?;
            Some(parts.collect::<Vec<_>>().join(" "))
        })
    };
    let enable = value("ProxyEnable").is_some_and(|v| v.trim() == "0x1");
    proxy::windows(enable, &value("ProxyServer").unwrap_or_default(), &value("ProxyOverride").unwrap_or_default())
}

/// The desktop's proxy, if one is set: the system proxy of the current network service as
/// `scutil --proxy` prints it. Not run on the machine this was written on.
#[cfg(target_os = "macos")]
pub fn desktop() -> Option<Desktop> {
    proxy::macos(&output("scutil", &["--proxy"])?)
}

#[cfg(not(any(unix, windows)))]
pub fn desktop() -> Option<Desktop> {
    None
}
