//! The programs hold passwords and tokens in memory: they must leave no core dump and, on
//! Linux, not be dumpable (no ptrace or /proc/PID/mem by other processes of the same user).
//! Checked from outside on a running `postdesk send` (blocked reading its message on stdin)
//! and on the settings window.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use postdesk_tests::postdesk_bin;

const NOBODY: u32 = 65534;

/// Root runs the program as nobody: only then can "owned by root" (what Linux makes a
/// non-dumpable process's /proc files) be told apart from "owned by its user".
fn as_unprivileged(cmd: &mut Command, dir: &Path) {
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY)).unwrap();
        cmd.uid(NOBODY).gid(NOBODY).env("HOME", dir);
    }
}

fn core_limit(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    limits.lines().find(|l| l.starts_with("Max core file size")).unwrap_or("").split_whitespace().skip(4).take(2).collect::<Vec<_>>().join(" ")
}

/// Owner of the process's /proc files: root when it is not dumpable, else its own user.
fn proc_owner(pid: u32) -> Option<u32> {
    std::fs::metadata(format!("/proc/{pid}/status")).ok().map(|m| m.uid())
}

/// Waits (at most 10 s) until the process has hardened itself, then checks both properties.
/// (`postdesk` hardens itself, then execs the window program, which makes the process dumpable
/// again until the window's own first line runs: so this waits for both, not just the limit.)
fn assert_hardened(child: &mut Child, what: &str, program: &str) {
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    let running = || std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p.file_name().is_some_and(|n| n == program));
    while !running() && Instant::now() < deadline {
        assert!(child.try_wait().unwrap().is_none(), "{what} ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(running(), "{what}: the process never ran {program}");
    while (core_limit(pid) != "0 0" || proc_owner(pid) != Some(0)) && Instant::now() < deadline {
        assert!(child.try_wait().unwrap().is_none(), "{what} ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(core_limit(pid), "0 0", "{what}: /proc/{pid}/limits should say Max core file size 0 (soft and hard)");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().next()).unwrap().parse().unwrap();
    assert_ne!(uid, 0, "{what} must run unprivileged for this check");
    assert_eq!(proc_owner(pid), Some(0), "{what} runs as uid {uid} and is dumpable (its /proc files belong to it, not to root): PR_SET_DUMPABLE 0 missing");
}

#[test]
fn the_command_line_leaves_no_core_dump_and_cannot_be_traced() {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(postdesk_bin());
    cmd.arg("--data-dir").arg(data.path()).args(["send", "someone@example.test"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    as_unprivileged(&mut cmd, data.path());
    let mut child = cmd.spawn().unwrap();
    assert_hardened(&mut child, "postdesk send", "postdesk");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_window_leaves_no_core_dump_and_cannot_be_traced() {
    assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: `make test` runs this under Xvfb");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(postdesk_bin());
    cmd.arg("--data-dir")
        .arg(home.path().join("data"))
        .env("XDG_DATA_HOME", home.path().join("xdg-data"))
        .env("XDG_CONFIG_HOME", home.path().join("xdg-config"))
        .env("XDG_CACHE_HOME", home.path().join("xdg-cache"))
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_unprivileged(&mut cmd, home.path());
    let mut child = cmd.spawn().unwrap();
    assert_hardened(&mut child, "the settings window", "postdesk-window");
    let _ = child.kill();
    let _ = child.wait();
}
