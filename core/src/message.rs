//! RFC 5322 messages: From/Reply-To with display names, Date, Message-ID, a plain-text body.
//! UTF-8 headers off: non-ASCII names and subjects are RFC 2047 encoded-words. UTF-8 headers
//! on (RFC 6532): they are written as raw UTF-8, and the mail needs SMTPUTF8.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use time::OffsetDateTime;

use crate::rfc5322::{self, Field, Head};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    pub fn header(&self, utf8: bool) -> String {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => format!("{} <{}>", phrase(name, utf8), self.address),
            None => self.address.clone(),
        }
    }
}

pub struct Draft {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    /// Raw UTF-8 headers (RFC 6532) instead of RFC 2047 encoded-words.
    pub utf8_headers: bool,
}

pub fn render(d: &Draft, now: OffsetDateTime) -> Vec<u8> {
    let utf8 = d.utf8_headers;
    let mut h = String::new();
    h.push_str(&format!("Date: {}\r\n", date(now)));
    h.push_str(&format!("From: {}\r\n", d.from.header(utf8)));
    if let Some(r) = &d.reply_to {
        h.push_str(&format!("Reply-To: {}\r\n", r.header(utf8)));
    }
    h.push_str(&format!("To: {}\r\n", d.to.join(", ")));
    h.push_str(&format!("Subject: {}\r\n", unstructured(&d.subject, utf8)));
    h.push_str(&format!("Message-ID: {}\r\n", message_id(&d.from.address, now)));
    h.push_str("MIME-Version: 1.0\r\n");
    h.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    let body = d.body.replace("\r\n", "\n").replace('\n', "\r\n");
    let body = if body.is_ascii() {
        h.push_str("Content-Transfer-Encoding: 7bit\r\n");
        body
    } else if utf8 {
        // SMTPUTF8 servers also take 8BITMIME (RFC 6531 §3.1).
        h.push_str("Content-Transfer-Encoding: 8bit\r\n");
        body
    } else {
        h.push_str("Content-Transfer-Encoding: base64\r\n");
        let encoded = B64.encode(body.as_bytes());
        encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).expect("base64 is ascii")).collect::<Vec<_>>().join("\r\n")
    };
    h.push_str("\r\n");
    h.push_str(&body);
    if !h.ends_with("\r\n") {
        h.push_str("\r\n");
    }
    h.into_bytes()
}

/// An RFC 5322 date in UTC.
pub fn date(now: OffsetDateTime) -> String {
    now.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"))
        .expect("date formats")
}

/// `<unique@domain-of-from>`.
pub fn message_id(from: &str, now: OffsetDateTime) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("postdesk.invalid");
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("<{:x}.{:x}.{n}.postdesk@{domain}>", now.unix_timestamp_nanos(), std::process::id())
}

const SPECIALS: &[char] = &['(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"'];

/// A display name: an atom sequence, a quoted-string, or encoded-words.
fn phrase(name: &str, utf8: bool) -> String {
    if !name.is_ascii() && !utf8 {
        return encoded_words(name);
    }
    if name.contains(SPECIALS) || name.starts_with(' ') || name.ends_with(' ') {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_string()
    }
}

/// Unstructured header text (Subject).
fn unstructured(text: &str, utf8: bool) -> String {
    if text.is_ascii() || utf8 {
        text.to_string()
    } else {
        encoded_words(text)
    }
}

/// RFC 2047 B-encoded words of at most 75 characters, split on character boundaries and
/// folded onto continuation lines.
fn encoded_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words.iter().map(|w| format!("=?UTF-8?B?{}?=", B64.encode(w))).collect::<Vec<_>>().join("\r\n ")
}

/// Why a message given to `postdesk send` is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Where its header block ends is ambiguous.
    #[error("message: {0}")]
    Head(#[from] rfc5322::HeadError),
    /// A recipient field (`field`, as written) does not read as addresses.
    #[error("message: {field}: {source}")]
    Address { field: String, source: rfc5322::AddressError },
}

impl From<MessageError> for String {
    fn from(e: MessageError) -> String {
        e.to_string()
    }
}

fn head_of(message: &[u8]) -> Result<Head, MessageError> {
    Ok(rfc5322::parse(message)?)
}

/// Rebuilds a message from its header block: each field kept as it is, replaced
/// (`Some(bytes)`, the whole field with its line ends) or dropped (`None`); `prepend` and
/// `append` are header lines without line ends, written in the header's own line ends.
/// The empty line and the body
/// are the message's own bytes; when the message had no empty line but the result has
/// header fields, one is added, so the body can never be read as header fields.
fn rebuild(msg: &[u8], head: &Head, mut edit: impl FnMut(&Field) -> Option<Vec<u8>>, prepend: &[String], append: &[String]) -> Vec<u8> {
    let eol = head.eol.bytes();
    let mut out = Vec::with_capacity(msg.len() + 256);
    let line = |out: &mut Vec<u8>, text: &str| {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(eol);
    };
    for text in prepend {
        line(&mut out, text);
    }
    for field in &head.fields {
        if let Some(bytes) = edit(field) {
            out.extend_from_slice(&bytes);
        }
    }
    for text in append {
        line(&mut out, text);
    }
    if !out.is_empty() && !head.has_separator() {
        if !out.ends_with(b"\n") {
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(&msg[head.end..]);
    out
}

/// The message's header fields as they are.
fn keep(msg: &[u8]) -> impl FnMut(&Field) -> Option<Vec<u8>> + '_ {
    move |f: &Field| Some(msg[f.range.clone()].to_vec())
}

/// Fields that name recipients; with any `Resent-` field the message is being resent, and
/// only the `Resent-` ones count (as sendmail -t reads them).
fn recipient_fields(head: &Head) -> [&'static str; 3] {
    let resent = head.fields.iter().any(|f| f.name.len() > 7 && f.name[..7].eq_ignore_ascii_case("resent-"));
    if resent {
        ["resent-to", "resent-cc", "resent-bcc"]
    } else {
        ["to", "cc", "bcc"]
    }
}

/// Recipients named in the To, Cc and Bcc fields (for `sendmail -t`; Resent-To, -Cc and
/// -Bcc when the message is resent), in order, each once; bare local names (`root`) as they
/// are. The message comes back without its Bcc and Resent-Bcc fields.
pub fn recipients_from_headers(message: &[u8]) -> Result<(Vec<String>, Vec<u8>), MessageError> {
    let head = head_of(message)?;
    let names = recipient_fields(&head);
    let mut to: Vec<String> = Vec::new();
    for field in head.fields.iter().filter(|f| names.iter().any(|n| f.is(n))) {
        let found = rfc5322::addresses(&message[field.value.clone()]).map_err(|source| MessageError::Address { field: field.name.to_string(), source })?;
        for a in found {
            if !to.iter().any(|t| same_address(t, &a.addr)) {
                to.push(a.addr);
            }
        }
    }
    Ok((to, without_bcc_in(message, &head)))
}

/// The message without its Bcc and Resent-Bcc fields: they never leave the machine.
pub fn without_bcc(message: &[u8]) -> Result<Vec<u8>, MessageError> {
    let head = head_of(message)?;
    Ok(without_bcc_in(message, &head))
}

fn without_bcc_in(message: &[u8], head: &Head) -> Vec<u8> {
    if !head.fields.iter().any(|f| f.is("bcc") || f.is("resent-bcc")) {
        return message.to_vec();
    }
    rebuild(message, head, |f| (!(f.is("bcc") || f.is("resent-bcc"))).then(|| message[f.range.clone()].to_vec()), &[], &[])
}

/// Two addresses are the same recipient: the same local part, the domain in any case.
pub fn same_address(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((la, da)), Some((lb, db))) => la == lb && da.eq_ignore_ascii_case(db),
        _ => a == b,
    }
}

/// Fields whose addresses get the local domain when they are bare names (`root`), as
/// sendmail's masquerading and Postfix's `append_at_myorigin` do for mail submitted locally.
const ADDRESS_FIELDS: &[&str] =
    &["from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc"];

/// Appends `@domain` to every bare local name in the address fields (`From: root (Cron
/// Daemon)` → `From: root@domain (Cron Daemon)`). Fields that do not read as addresses are
/// left as they are. Nothing else changes.
pub fn qualify_addresses(message: &[u8], domain: &str) -> Result<Vec<u8>, MessageError> {
    let head = head_of(message)?;
    let mut changed = false;
    let mut edited: Vec<Option<Vec<u8>>> = Vec::new();
    for f in &head.fields {
        let mut bytes = message[f.range.clone()].to_vec();
        if ADDRESS_FIELDS.iter().any(|n| f.is(n)) {
            if let Ok(found) = rfc5322::addresses(&message[f.value.clone()]) {
                // From the end, so earlier offsets stay right.
                for end in found.iter().rev().filter_map(|a| a.bare_end) {
                    let at = f.value.start - f.range.start + end;
                    bytes.splice(at..at, format!("@{domain}").into_bytes());
                    changed = true;
                }
            }
        }
        edited.push(Some(bytes));
    }
    if !changed {
        return Ok(message.to_vec());
    }
    let mut next = edited.into_iter();
    Ok(rebuild(message, &head, |_| next.next().flatten(), &[], &[]))
}

/// Adds what sendmail adds to a message that lacks it: `From:` (`from`), `Date:` and
/// `Message-ID:`. A message that has all three comes back as it is.
pub fn complete_headers(message: &[u8], from: &Mailbox, utf8: bool, now: OffsetDateTime) -> Result<Vec<u8>, MessageError> {
    let head = head_of(message)?;
    let mut add = Vec::new();
    if !head.has("from") {
        add.push(format!("From: {}", from.header(utf8)));
    }
    if !head.has("date") {
        add.push(format!("Date: {}", date(now)));
    }
    if !head.has("message-id") {
        add.push(format!("Message-ID: {}", message_id(&from.address, now)));
    }
    if add.is_empty() {
        return Ok(message.to_vec());
    }
    Ok(rebuild(message, &head, keep(message), &[], &add))
}

/// Replaces the sender of a complete message: `From:` (and `Sender:`) go, `from` comes first;
/// with `reply_to`, `Reply-To:` is replaced too. The body and the other fields are kept byte
/// for byte, in the message's own line ends.
pub fn replace_sender(message: &[u8], from: &Mailbox, reply_to: Option<&Mailbox>, utf8: bool) -> Result<Vec<u8>, MessageError> {
    let head = head_of(message)?;
    let mut prepend = vec![format!("From: {}", from.header(utf8))];
    if let Some(r) = reply_to {
        prepend.push(format!("Reply-To: {}", r.header(utf8)));
    }
    let drop = |f: &Field| f.is("from") || f.is("sender") || (reply_to.is_some() && f.is("reply-to"));
    Ok(rebuild(message, &head, |f| (!drop(f)).then(|| message[f.range.clone()].to_vec()), &prepend, &[]))
}

/// Converts CRLF line ends to LF, for programs that take local line ends (sendmail). Only
/// CR LF pairs change; every other byte is kept.
pub fn crlf_to_lf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut i = 0;
    while i < message.len() {
        if message[i] == b'\r' && message.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(message[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sendmail_t_takes_to_cc_bcc_and_drops_bcc() {
        let msg = b"From: a@example.test\r\nTo: \"Doe, J\" <j@example.test>, k@example.test\r\nCc: <c@example.test>\r\nBcc: hidden@example.test,\r\n more@example.test\r\nSubject: x\r\n\r\nbody\r\n";
        let (to, out) = recipients_from_headers(msg).unwrap();
        assert_eq!(to, ["j@example.test", "k@example.test", "c@example.test", "hidden@example.test", "more@example.test"]);
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("hidden") && !out.contains("Bcc"), "{out}");
        assert!(out.ends_with("Subject: x\r\n\r\nbody\r\n"), "{out}");
    }

    /// The bug of issue 14: an LF message whose body holds `Bcc: x` and, later, a CRLF empty
    /// line was split at the CRLF one: the body line became a recipient.
    #[test]
    fn a_crlf_empty_line_in_the_body_of_an_lf_message_is_body() {
        let msg = b"From: a@example.test\nTo: b@example.test\nSubject: hi\n\nquoted:\nBcc: x@example.test\r\n\r\nbye\n";
        let (to, out) = recipients_from_headers(msg).unwrap();
        assert_eq!(to, ["b@example.test"]);
        assert_eq!(out, msg.to_vec(), "nothing to remove: the message is kept byte for byte");
    }

    #[test]
    fn ambiguous_headers_are_refused_with_the_line() {
        let e = recipients_from_headers(b"From: a@x.test\r\nTo: b@x.test\nBcc: c@x.test\r\n\r\nbody").unwrap_err().to_string();
        assert!(e.starts_with("message: line 2 of the header ends in LF") && e.contains("CRLF"), "{e}");
        assert!(without_bcc(b"To: a@x.test\n\r\nbody").unwrap_err().to_string().contains("line 2"));
    }

    #[test]
    fn resent_fields_win_and_each_recipient_comes_once() {
        let msg = b"To: old@x.test\nResent-To: new@x.test, new@X.TEST\nResent-Bcc: hid@x.test\nBcc: b@x.test\n\nbody\n";
        let (to, out) = recipients_from_headers(msg).unwrap();
        assert_eq!(to, ["new@x.test", "hid@x.test"]);
        assert_eq!(out, b"To: old@x.test\nResent-To: new@x.test, new@X.TEST\n\nbody\n");
    }

    #[test]
    fn bytes_stay_bytes() {
        // Latin-1 body and subject: no UTF-8 decoding anywhere.
        let msg = b"To: a@x.test\nBcc: b@x.test\nSubject: caf\xe9\n\nna\xefve \xff\xfe\r\n\x00end";
        let (to, out) = recipients_from_headers(msg).unwrap();
        assert_eq!(to, ["a@x.test", "b@x.test"]);
        assert_eq!(out, b"To: a@x.test\nSubject: caf\xe9\n\nna\xefve \xff\xfe\r\n\x00end");
        let from = Mailbox { name: Some("Cron Daemon".into()), address: "root@x.test".into() };
        let done = complete_headers(&out, &from, false, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert!(done.ends_with(b"\n\nna\xefve \xff\xfe\r\n\x00end"));
        let replaced = replace_sender(&done, &from, None, false).unwrap();
        assert!(replaced.ends_with(b"\n\nna\xefve \xff\xfe\r\n\x00end"));
        assert_eq!(crlf_to_lf(b"a\r\nb\rc\n\xe9\r\r\n"), b"a\nb\rc\n\xe9\r\n");
    }

    #[test]
    fn missing_from_date_and_message_id_are_added_in_the_messages_line_ends() {
        let from = Mailbox { name: Some("CronDaemon".into()), address: "root@x.test".into() };
        let out = complete_headers(b"To: a@x.test\r\nSubject: s\r\n\r\nbody\r\n", &from, false, OffsetDateTime::UNIX_EPOCH).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("To: a@x.test\r\nSubject: s\r\nFrom: CronDaemon <root@x.test>\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nMessage-ID: <"), "{text}");
        assert!(text.ends_with(">\r\n\r\nbody\r\n"), "{text}");
        // Only a body (`echo text | sendmail root`): the header and an empty line come first.
        let out = complete_headers(b"Disk full\n", &from, false, OffsetDateTime::UNIX_EPOCH).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("From: CronDaemon <root@x.test>\nDate: ") && text.ends_with(">\n\nDisk full\n"), "{text}");
        // Nothing missing: unchanged.
        let whole = b"From: a@x.test\nDate: Thu, 01 Jan 1970 00:00:00 +0000\nMessage-ID: <1@x>\n\nb";
        assert_eq!(complete_headers(whole, &from, false, OffsetDateTime::UNIX_EPOCH).unwrap(), whole);
        // A last header line without its line end.
        let out = complete_headers(b"From: a@x.test", &from, false, OffsetDateTime::UNIX_EPOCH).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("From: a@x.test\nDate: ") && text.ends_with(">\n\n"), "{text}");
    }

    #[test]
    fn bare_names_get_the_local_domain_in_address_fields_only() {
        let msg = b"From: root (Cron Daemon)\nTo: root, Ops <ops>, a@x.test\nSubject: root\nX-To: root\n\nroot\n";
        let out = qualify_addresses(msg, "host.example").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "From: root@host.example (Cron Daemon)\nTo: root@host.example, Ops <ops@host.example>, a@x.test\nSubject: root\nX-To: root\n\nroot\n"
        );
        assert_eq!(qualify_addresses(b"To: a@x.test\n\nb", "h.example").unwrap(), b"To: a@x.test\n\nb");
    }

    use super::*;

    fn draft(utf8: bool) -> Draft {
        Draft {
            from: Mailbox { name: Some("Jörg, IT".into()), address: "it@example.test".into() },
            reply_to: Some(Mailbox { name: Some("Help Desk".into()), address: "help@example.test".into() }),
            to: vec!["a@example.test".into()],
            subject: "Test ✓ über".into(),
            body: "line 1\nline 2\n".into(),
            utf8_headers: utf8,
        }
    }

    #[test]
    fn rfc2047_when_utf8_headers_off() {
        let text = String::from_utf8(render(&draft(false), OffsetDateTime::UNIX_EPOCH)).unwrap();
        assert!(text.is_ascii());
        assert!(text.contains("From: =?UTF-8?B?"), "{text}");
        assert!(text.contains("Reply-To: Help Desk <help@example.test>\r\n"));
        assert!(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
        assert!(text.contains("\r\n\r\nline 1\r\nline 2\r\n"));
        let subject = text.lines().find(|l| l.starts_with("Subject: ")).unwrap();
        let b64 = subject.trim_start_matches("Subject: =?UTF-8?B?").trim_end_matches("?=");
        assert_eq!(String::from_utf8(B64.decode(b64).unwrap()).unwrap(), "Test ✓ über");
    }

    #[test]
    fn raw_utf8_when_on() {
        let text = String::from_utf8(render(&draft(true), OffsetDateTime::UNIX_EPOCH)).unwrap();
        assert!(text.contains("From: \"Jörg, IT\" <it@example.test>\r\n"), "{text}");
        assert!(text.contains("Subject: Test ✓ über\r\n"));
    }

    #[test]
    fn long_names_fold_into_words_of_at_most_75() {
        let long = "Ü".repeat(80);
        let encoded = encoded_words(&long);
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
        }
        let decoded: String = encoded
            .split("\r\n ")
            .map(|w| String::from_utf8(B64.decode(w.trim_start_matches("=?UTF-8?B?").trim_end_matches("?=")).unwrap()).unwrap())
            .collect();
        assert_eq!(decoded, long);
    }
}
