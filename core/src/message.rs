//! RFC 5322 messages: From/Reply-To with display names, Date, Message-ID, a plain-text body.
//! UTF-8 headers off: non-ASCII names and subjects are RFC 2047 encoded-words. UTF-8 headers
//! on (RFC 6532): they are written as raw UTF-8, and the mail needs SMTPUTF8.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use time::OffsetDateTime;

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
    let date = now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"))
        .expect("date formats");
    h.push_str(&format!("Date: {date}\r\n"));
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

/// Recipients named in the To, Cc and Bcc headers (for `sendmail -t`), and the message
/// without its Bcc header.
pub fn recipients_from_headers(message: &[u8]) -> (Vec<String>, Vec<u8>) {
    let text = String::from_utf8_lossy(message);
    let (head, body) = match text.find("\r\n\r\n").map(|i| (i, 4)).or_else(|| text.find("\n\n").map(|i| (i, 2))) {
        Some((i, n)) => (&text[..i], &text[i..i + n + (text.len() - i - n)]),
        None => (&text[..], ""),
    };
    // Unfold: a line starting with white space continues the previous header.
    let mut fields: Vec<String> = Vec::new();
    for line in head.lines() {
        match (line.starts_with([' ', '\t']), fields.last_mut()) {
            (true, Some(last)) => {
                last.push_str("\r\n");
                last.push_str(line);
            }
            _ => fields.push(line.to_string()),
        }
    }
    let mut to = Vec::new();
    let mut kept = Vec::new();
    for field in fields {
        let (name, value) = field.split_once(':').unwrap_or((&field, ""));
        let name = name.trim().to_ascii_lowercase();
        if matches!(name.as_str(), "to" | "cc" | "bcc") {
            to.extend(addresses(value));
        }
        if name != "bcc" {
            kept.push(field);
        }
    }
    let mut out = kept.join("\r\n");
    out.push_str(body);
    (to, out.into_bytes())
}

/// The addresses of an address-list header value: `<addr>` where given, else the bare words.
fn addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut part = String::new();
    for c in value.chars().chain(std::iter::once(',')) {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                part.push(c);
            }
            ',' if !in_quotes => {
                let p = std::mem::take(&mut part);
                let addr = match (p.find('<'), p.rfind('>')) {
                    (Some(a), Some(b)) if a < b => p[a + 1..b].trim().to_string(),
                    _ => p.trim().to_string(),
                };
                if addr.contains('@') {
                    out.push(addr);
                }
            }
            _ => part.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sendmail_t_takes_to_cc_bcc_and_drops_bcc() {
        let msg = b"From: a@example.test\r\nTo: \"Doe, J\" <j@example.test>, k@example.test\r\nCc: <c@example.test>\r\nBcc: hidden@example.test,\r\n more@example.test\r\nSubject: x\r\n\r\nbody\r\n";
        let (to, out) = recipients_from_headers(msg);
        assert_eq!(to, ["j@example.test", "k@example.test", "c@example.test", "hidden@example.test", "more@example.test"]);
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("hidden") && !out.contains("Bcc"), "{out}");
        assert!(out.ends_with("Subject: x\r\n\r\nbody\r\n"), "{out}");
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
