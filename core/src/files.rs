//! Files named in settings (`*.ca_file`, `receiver.ca_file`, `*.sendmail_path`): looked at
//! before use so that nothing named there can hang or exhaust Postdesk. A CA file must be a
//! regular file of at most [`MAX_CA_BYTES`]; it is opened non-blocking (a FIFO swapped in
//! after the check cannot block the open), checked again on the open handle, and read through
//! a bounded reader. A sendmail program must be a regular, executable file; it is never read.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::Path;

/// A CA bundle is a few KiB to a few hundred KiB; Debian's whole bundle is ~220 KiB.
pub const MAX_CA_BYTES: u64 = 1024 * 1024;

/// Why a file named in a setting is refused; the message follows the key's name and path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("is {kind}, not a regular file")]
    NotRegular { kind: &'static str },
    #[error("is {size} bytes, more than a CA file can be ({} KiB at most)", max / 1024)]
    TooBig { size: u64, max: u64 },
    #[error("grew past {} KiB while being read", MAX_CA_BYTES / 1024)]
    Grew,
    #[error("cannot be read: {0}")]
    Unreadable(std::io::Error),
    #[error("cannot be used: {0}")]
    Unusable(std::io::Error),
    #[error("is not executable")]
    NotExecutable,
}

fn kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn regular(meta: &Metadata, max: Option<u64>) -> Result<(), FileError> {
    if !meta.is_file() {
        return Err(FileError::NotRegular { kind: kind(meta) });
    }
    if let Some(max) = max.filter(|m| meta.len() > *m) {
        return Err(FileError::TooBig { size: meta.len(), max });
    }
    Ok(())
}

/// Checks a CA file without opening it (type and size). The message follows the key's name,
/// e.g. `global.ca_file: is a FIFO (named pipe), not a regular file`.
pub fn check_ca_file(path: &Path) -> Result<(), FileError> {
    let meta = std::fs::metadata(path).map_err(FileError::Unreadable)?;
    regular(&meta, Some(MAX_CA_BYTES))
}

/// Reads a CA file: checked before and after opening, at most [`MAX_CA_BYTES`].
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, FileError> {
    check_ca_file(path)?;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK | libc::O_NOCTTY);
    let file: File = options.open(path).map_err(FileError::Unreadable)?;
    regular(&file.metadata().map_err(FileError::Unreadable)?, Some(MAX_CA_BYTES))?;
    let mut bytes = Vec::new();
    file.take(MAX_CA_BYTES + 1).read_to_end(&mut bytes).map_err(FileError::Unreadable)?;
    if bytes.len() as u64 > MAX_CA_BYTES {
        return Err(FileError::Grew);
    }
    Ok(bytes)
}

/// Checks a sendmail program: a regular file the system would run (never read).
pub fn check_program(path: &Path) -> Result<(), FileError> {
    let meta = std::fs::metadata(path).map_err(FileError::Unusable)?;
    regular(&meta, None)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(FileError::NotExecutable);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn devices_fifos_directories_and_big_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let started = std::time::Instant::now();
        assert!(read_ca_file(&fifo).unwrap_err().to_string().contains("FIFO"));
        assert!(read_ca_file(Path::new("/dev/zero")).unwrap_err().to_string().contains("device"));
        assert!(read_ca_file(dir.path()).unwrap_err().to_string().contains("directory"));
        let big = dir.path().join("big.pem");
        File::create(&big).unwrap().set_len(50 * 1024 * 1024).unwrap();
        assert!(read_ca_file(&big).unwrap_err().to_string().contains("more than a CA file"));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let ok = dir.path().join("ok.pem");
        std::fs::write(&ok, "-----BEGIN CERTIFICATE-----\n").unwrap();
        assert_eq!(read_ca_file(&ok).unwrap().len(), 28);
        assert!(check_program(&ok).unwrap_err().to_string().contains("not executable"));
        assert!(check_program(&fifo).unwrap_err().to_string().contains("FIFO"));
        assert!(check_program(Path::new("/bin/sh")).is_ok());
    }
}
