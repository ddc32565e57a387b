//! sendmail's command line as `postdesk send` reads it, on arbitrary arguments (NUL-separated
//! in the input): it must answer with arguments or a usage error, never panic; and then the
//! recipients and sender it names must be read or refused the same way.
#![no_main]

use postdesk_core::rfc5322::has_domain;
use postdesk_core::sendmail_args::{input, parse, Sender};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (argv, message) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"Subject: x\n\nbody\n"[..]),
    };
    let args: Vec<String> = argv.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let Ok(parsed) = parse(&args) else { return };
    if let Some(name) = &parsed.full_name {
        assert!(!name.chars().any(char::is_control), "-F lets a line break into the From field");
    }
    if let Some(Sender::Address(a)) = &parsed.sender {
        assert!(!a.is_empty() && !a.chars().any(|c| c.is_control() || c.is_whitespace()));
    }
    match input(&parsed, message, Some("host.test")) {
        Ok(got) => {
            for to in &got.to {
                assert!(has_domain(to), "{to} left without a domain");
            }
            assert!(got.from.as_deref().is_none_or(has_domain));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
