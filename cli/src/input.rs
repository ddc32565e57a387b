//! What commands read besides their arguments: secrets and passphrases (wiped after use),
//! sendmail's raw arguments, and the errors about them.

use std::io::{IsTerminal, Read, Write};

use postdesk_core::{Error, Problem, Secret};

/// The passphrase: the first line of the file, which must not be empty. The file's text is
/// wiped from memory once the line is taken.
pub fn read_passphrase(path: &std::path::Path) -> Result<Secret, Error> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| invalid_arg("--passphrase-file", &format!("{}: {e}", path.display())))?);
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(invalid_arg("--passphrase-file", "the passphrase is empty"));
    }
    Ok(Secret::new(line))
}

pub(crate) fn invalid_arg(key: &str, message: &str) -> Error {
    Error::Invalid(vec![Problem { key: key.into(), severity: postdesk_core::Severity::Error, message: message.into() }])
}

/// The secret from stdin: without echo on a terminal, else the whole input less one newline.
pub(crate) fn read_secret(key: &str) -> Result<Secret, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{key}: ");
        let _ = std::io::stderr().flush();
        return Ok(Secret::new(rpassword::read_password().unwrap_or_default()));
    }
    secret_from_input(stdin.lock(), key)
}

/// A secret piped in: the whole input less one line end. The bytes read are wiped once the
/// secret is made (reserved up front, so reading never reallocates and leaves a copy behind).
pub fn secret_from_input(input: impl Read, key: &str) -> Result<Secret, Error> {
    /// More than any password or token; a larger input is refused, not truncated.
    const MAX_SECRET: usize = 64 * 1024;
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(MAX_SECRET + 1));
    input.take(MAX_SECRET as u64 + 1).read_to_end(&mut bytes).map_err(|e| invalid_arg(key, &format!("cannot read stdin: {e}")))?;
    if bytes.len() > MAX_SECRET {
        return Err(invalid_arg(key, &format!("the secret on stdin is longer than {MAX_SECRET} bytes")));
    }
    let text = bytes.strip_suffix(b"\n").map(|t| t.strip_suffix(b"\r").unwrap_or(t)).unwrap_or(&bytes);
    let text = std::str::from_utf8(text).map_err(|_| invalid_arg(key, "the secret on stdin is not UTF-8 text"))?;
    Ok(Secret::new(text))
}

pub(crate) fn utf8_args(args: &[std::ffi::OsString]) -> Result<Vec<String>, String> {
    args.iter().map(|a| a.clone().into_string().map_err(|bad| format!("{}: not UTF-8", bad.to_string_lossy()))).collect()
}
