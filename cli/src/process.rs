//! The process around the commands: hardening, and starting the window program.

use std::process::ExitCode;

use crate::output::EXIT_FAILED;

/// Called first by both programs: a process that holds passwords and tokens leaves no core
/// dump (RLIMIT_CORE 0, hard limit too, so neither it nor its children can raise it again),
/// and on Linux is not dumpable (PR_SET_DUMPABLE 0): no core through a `core_pattern` pipe
/// either, and other processes of the same user cannot ptrace it or read its memory
/// (`gdb -p`, /proc/PID/mem), as a password manager wants. Failures are ignored: a hardening
/// the system refuses must not stop the program.
pub fn harden_process() {
    #[cfg(unix)]
    {
        let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: plain system calls with a valid pointer to a local value.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// The window program's file name, beside `postdesk`.
pub const WINDOW_PROGRAM: &str = if cfg!(windows) { "postdesk-window.exe" } else { "postdesk-window" };

/// Starts the settings window with this process's arguments (and environment). On Unix the
/// window replaces this process, so a launcher or WebDriver sees one program.
pub fn open_window() -> ExitCode {
    let program = std::env::current_exe().ok().map(|exe| exe.with_file_name(WINDOW_PROGRAM));
    let Some(program) = program.filter(|p| p.exists()) else {
        eprintln!("postdesk: the window program {WINDOW_PROGRAM} is not installed next to postdesk; commands still work: postdesk --help");
        return ExitCode::from(EXIT_FAILED);
    };
    let mut command = std::process::Command::new(&program);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!("postdesk: cannot start {}: {error}", program.display());
        ExitCode::from(EXIT_FAILED)
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1) as u8),
        Err(error) => {
            eprintln!("postdesk: cannot start {}: {error}", program.display());
            ExitCode::from(EXIT_FAILED)
        }
    }
}
