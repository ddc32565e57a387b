//! The message side of `postdesk send -t` on arbitrary bytes: reading the header block, the
//! addresses of its fields, removing Bcc, adding From/Date/Message-ID, replacing the sender
//! and completing bare names. None may panic; each keeps the body byte for byte and writes a
//! message that reads back the same way.
#![no_main]

use postdesk_core::message::{self, Mailbox};
use postdesk_core::rfc5322;
use time::OffsetDateTime;

/// Reads back, and keeps `body` as the message's end.
fn check(out: &[u8], body: &[u8]) -> rfc5322::Head {
    let head = rfc5322::parse(out).unwrap_or_else(|e| panic!("output does not read back: {e}"));
    assert!(out.ends_with(body), "the body changed");
    head
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let head = match rfc5322::parse(data) {
        Ok(h) => h,
        Err(_) => {
            // Refused once, refused everywhere.
            assert!(message::recipients_from_headers(data).is_err());
            assert!(message::without_bcc(data).is_err());
            return;
        }
    };
    let body = &data[head.body..];
    assert!(head.end <= head.body && head.body <= data.len());
    for f in &head.fields {
        assert!(f.range.start < f.range.end && f.value.end <= f.range.end);
        if let Ok(found) = rfc5322::addresses(&data[f.value.clone()]) {
            for a in found {
                assert!(!a.addr.is_empty());
                if let Some(end) = a.bare_end {
                    assert!(end <= f.value.len() && !rfc5322::has_domain(&a.addr));
                }
            }
        }
    }
    // Recipients: refused only for a field that names no address (`To: Bob Smith`).
    let out = match message::recipients_from_headers(data) {
        Ok((to, out)) => {
            // Read again without Bcc: no recipient that was not there (a resent message whose
            // only Resent- field was Resent-Bcc reads as not resent any more: skipped).
            let resent = head.fields.iter().any(|f| f.name.to_ascii_lowercase().starts_with("resent-"));
            if !resent {
                let (again, _) = message::recipients_from_headers(&out).expect("reads back");
                assert!(again.iter().all(|a| to.contains(a)));
            }
            for (i, a) in to.iter().enumerate() {
                assert!(!to[..i].iter().any(|b| message::same_address(a, b)), "{a} twice");
            }
            out
        }
        Err(e) => {
            // The header read above, so only a recipient field can be refused.
            assert!(matches!(e, message::MessageError::Address { .. }) && e.to_string().starts_with("message: "), "{e}");
            message::without_bcc(data).expect("a header that reads")
        }
    };
    let h = check(&out, body);
    assert!(!h.has("bcc") && !h.has("resent-bcc"), "Bcc left in");
    let from = Mailbox { name: Some("Fuzz, Daemon".into()), address: "fuzz@host.test".into() };
    let done = message::complete_headers(&out, &from, false, OffsetDateTime::UNIX_EPOCH).expect("reads");
    let h = check(&done, body);
    assert!(h.has("from") && h.has("date") && h.has("message-id"));
    let replaced = message::replace_sender(&done, &from, Some(&from), true).expect("reads");
    let h = check(&replaced, body);
    assert_eq!(h.fields.iter().filter(|f| f.is("from")).count(), 1);
    let qualified = message::qualify_addresses(&done, "host.test").expect("reads");
    check(&qualified, body);
});
