//! The import path on arbitrary bytes: it must answer with problems, never panic or hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // No passphrase: the scrypt work of decryption is deliberately slow and is limited by
    // the work-factor cap, not something to explore here.
    let _ = postdesk_core::transfer::parse(data, None, time::macros::date!(2026 - 01 - 01));
});
