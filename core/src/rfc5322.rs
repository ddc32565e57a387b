//! RFC 5322 on bytes, for messages handed to `postdesk send`: where the header block ends,
//! its fields, and the addresses of an address-list field. Nothing here decodes text
//! lossily: a body in Latin-1 or any other 8-bit encoding passes through byte for byte.
//!
//! Where the header block ends: at the first empty line, whether it ends in CRLF or LF, or
//! at the first line that is neither a header field nor a continuation line (as Postfix and
//! sendmail read a message: such a line starts the body). A header block whose line ends
//! would make other readers put its end, or the ends of its fields, elsewhere is refused
//! instead of guessed at:
//! - CRLF and bare LF line ends mixed in the header block, the empty line after it included
//!   (a CRLF-only reader joins lines at a bare LF; an LF-only reader sees a line holding a CR
//!   where the others see an empty line);
//! - a CR that does not end a line (some readers break lines there, others do not).
//!
//! The body is not looked at: its line ends are its own.

use std::ops::Range;

/// The line ends of a header block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eol {
    Crlf,
    Lf,
}

impl Eol {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Eol::Crlf => b"\r\n",
            Eol::Lf => b"\n",
        }
    }
}

/// One header field: `name` as written, its bytes in the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The whole field: first line, continuation lines, and the final line end.
    pub range: Range<usize>,
    /// The value: after the colon, up to (not including) the final line end; folded lines
    /// keep their line ends inside.
    pub value: Range<usize>,
}

impl Field {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// The header block of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub fields: Vec<Field>,
    /// Where the header block ends: the start of the empty line, or of the body when there is
    /// no empty line.
    pub end: usize,
    /// Where the body starts (after the empty line, if there is one).
    pub body: usize,
    /// The line ends of the header block (those of its first line; LF when it has none).
    pub eol: Eol,
}

impl Head {
    /// Whether an empty line separates the header block from the body.
    pub fn has_separator(&self) -> bool {
        self.body > self.end
    }
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.is(name))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("line {line} of the header ends in {found} while the header's first line ends in {expected}: programs disagree where the fields and the header of such a message end; use one kind of line end (LF or CRLF) throughout the header and the empty line after it")]
    MixedLineEnds { line: usize, found: &'static str, expected: &'static str },
    #[error("line {line} of the header holds a carriage return (CR) that does not end the line: programs disagree whether it starts a new header line")]
    BareCr { line: usize },
}

/// Why an address field's value is no list of addresses; `text` is the value (or the item)
/// as shown: one line, at most 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{text}: a comment '(' without its ')'")]
    OpenComment { text: String },
    /// A quoted string, domain literal or angle bracket left open.
    #[error("{text}: a '{open}' without its '{close}'")]
    Unclosed { text: String, open: char, close: char },
    #[error("{text}: text after the address in angle brackets")]
    TextAfterAngle { text: String },
    #[error("{text}: not an e-mail address")]
    NotAddress { text: String },
    #[error("{text}: the address is not UTF-8")]
    NotUtf8 { text: String },
}

fn eol_name(crlf: bool) -> &'static str {
    if crlf {
        "CRLF"
    } else {
        "LF"
    }
}

/// A header field's name: printable ASCII but the colon (RFC 5322 ftext), then optional
/// white space (obsolete syntax) and the colon. Returns the name and the colon's index.
fn field_name(line: &[u8]) -> Option<(&str, usize)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    let trimmed = name.iter().rposition(|&b| b != b' ' && b != b'\t').map(|i| &name[..=i])?;
    if trimmed.iter().all(|&b| (33..=126).contains(&b) && b != b':') {
        Some((std::str::from_utf8(trimmed).expect("ascii"), colon))
    } else {
        None
    }
}

/// `msg` without a leading mbox `From ` line (`From user@host date`), which sendmail takes
/// as the envelope and drops. Only what a program hands over is stripped, once: to [`parse`]
/// such a line is no header field, so the body starts there.
pub fn strip_mbox_from(msg: &[u8]) -> &[u8] {
    let first = msg.split(|&b| b == b'\n').next().unwrap_or_default();
    if msg.starts_with(b"From ") && field_name(first).is_none() {
        return &msg[(first.len() + 1).min(msg.len())..];
    }
    msg
}

/// Reads the header block of `msg`.
pub fn parse(msg: &[u8]) -> Result<Head, HeadError> {
    let mut pos = 0;
    let mut fields: Vec<Field> = Vec::new();
    let mut first_crlf: Option<bool> = None;
    let mut line_no = 0;
    loop {
        if pos >= msg.len() {
            return Ok(Head { fields, end: msg.len(), body: msg.len(), eol: eol_of(first_crlf) });
        }
        line_no += 1;
        let rest = &msg[pos..];
        let (content_len, next, eol) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => (i - 1, pos + i + 1, Some(true)),
            Some(i) => (i, pos + i + 1, Some(false)),
            None => (rest.len(), msg.len(), None),
        };
        let content = &rest[..content_len];
        let first = first_crlf.is_none();
        if first {
            first_crlf = eol;
        }
        let mixed = |found: bool| HeadError::MixedLineEnds { line: line_no, found: eol_name(found), expected: eol_name(!found) };
        if content.is_empty() {
            // The empty line: in the header's own line ends.
            if !first && eol.is_some() && first_crlf != eol {
                return Err(mixed(eol == Some(true)));
            }
            return Ok(Head { fields, end: pos, body: next, eol: eol_of(first_crlf) });
        }
        let continuation = matches!(content[0], b' ' | b'\t');
        let name = if continuation { None } else { field_name(content) };
        if (continuation && fields.is_empty()) || (!continuation && name.is_none()) {
            // Not a header line: the body starts here (no empty line between).
            return Ok(Head { fields, end: pos, body: pos, eol: eol_of(first_crlf) });
        }
        if content.contains(&b'\r') {
            return Err(HeadError::BareCr { line: line_no });
        }
        if eol.is_some() && first_crlf != eol {
            return Err(mixed(eol == Some(true)));
        }
        let value_end = pos + content_len;
        match name {
            Some((name, colon)) => fields.push(Field { name: name.to_string(), range: pos..next, value: pos + colon + 1..value_end }),
            None => {
                let last = fields.last_mut().expect("checked above");
                last.range.end = next;
                last.value.end = value_end;
            }
        }
        pos = next;
    }
}

fn eol_of(first_crlf: Option<bool>) -> Eol {
    if first_crlf == Some(true) {
        Eol::Crlf
    } else {
        Eol::Lf
    }
}

/// One address of an address list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The addr-spec without comments or white space: `bob@example.com`, `"j doe"@example.com`,
    /// or a bare local name (`root`).
    pub addr: String,
    /// For a bare local name: the offset in the field value right after it, where `@domain`
    /// belongs.
    pub bare_end: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Atom,
    Quoted,
    Literal,
    Special(u8),
}

/// Whether an addr-spec has a domain: an '@' that is not inside its quoted local part.
pub fn has_domain(addr: &str) -> bool {
    addr.rsplit_once('@').is_some_and(|(_, d)| !d.contains('"'))
}

/// Splits a field value into tokens, dropping white space, line ends (folding) and comments.
/// A quoted string, domain literal or comment left open is an error.
fn tokens(v: &[u8]) -> Result<Vec<(Tok, Range<usize>)>, AddressError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let c = v[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                let mut depth = 0usize;
                loop {
                    if i >= v.len() {
                        return Err(AddressError::OpenComment { text: lossy(v) });
                    }
                    match v[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'"' | b'[' => {
                let close = if c == b'"' { b'"' } else { b']' };
                let start = i;
                i += 1;
                while i < v.len() && v[i] != close {
                    i += if v[i] == b'\\' { 2 } else { 1 };
                }
                if i >= v.len() {
                    return Err(AddressError::Unclosed { text: lossy(v), open: c as char, close: close as char });
                }
                i += 1;
                out.push((if c == b'"' { Tok::Quoted } else { Tok::Literal }, start..i));
            }
            b'<' | b'>' | b'@' | b',' | b';' | b':' | b'.' | b')' | b']' | b'\\' => {
                out.push((Tok::Special(c), i..i + 1));
                i += 1;
            }
            _ => {
                // At least this byte: every byte that starts no other token is atom text.
                let start = i;
                i += 1;
                while i < v.len() && !b" \t\r\n()\"[]<>@,;:.\\".contains(&v[i]) {
                    i += 1;
                }
                out.push((Tok::Atom, start..i));
            }
        }
    }
    Ok(out)
}

/// The addresses of an address-list field value (To, Cc, Bcc, From, Reply-To…): mailboxes
/// with or without display names, quoted strings, comments, groups (`team: a@x, b@y;`,
/// `undisclosed-recipients:;`), folded lines and encoded-word names. An item that is no
/// address is an error naming it.
pub fn addresses(v: &[u8]) -> Result<Vec<Address>, AddressError> {
    let toks = tokens(v)?;
    let mut out = Vec::new();
    let mut item: Vec<(Tok, Range<usize>)> = Vec::new();
    let mut angle: Option<Vec<(Tok, Range<usize>)>> = None;
    let mut in_angle = false;
    let mut flush = |item: &mut Vec<(Tok, Range<usize>)>, angle: &mut Option<Vec<(Tok, Range<usize>)>>| -> Result<(), AddressError> {
        let spec = match angle.take() {
            // `<@route,@route:addr>` (obsolete source route): the address follows the last colon.
            Some(a) => {
                let start = a.iter().rposition(|(t, _)| *t == Tok::Special(b':')).map(|i| i + 1).unwrap_or(0);
                let spec = a[start..].to_vec();
                if spec.is_empty() {
                    // `<>`: the null address; not a recipient.
                    item.clear();
                    return Ok(());
                }
                spec
            }
            None => std::mem::take(item),
        };
        item.clear();
        if spec.is_empty() {
            return Ok(());
        }
        out.push(addr_spec(v, &spec)?);
        Ok(())
    };
    for (tok, range) in toks {
        match (&tok, in_angle) {
            (Tok::Special(b'<'), false) => {
                in_angle = true;
                angle = Some(Vec::new());
            }
            (Tok::Special(b'>'), true) => in_angle = false,
            (_, true) => angle.as_mut().expect("in angle").push((tok, range)),
            (Tok::Special(b','), false) => flush(&mut item, &mut angle)?,
            // A group's name: what came before is its display name, not an address.
            (Tok::Special(b':'), false) if angle.is_none() => item.clear(),
            (Tok::Special(b';'), false) => flush(&mut item, &mut angle)?,
            _ if angle.is_some() => {
                // Text after `<addr>` before the next comma: not part of the address.
                return Err(AddressError::TextAfterAngle { text: lossy(v) });
            }
            _ => item.push((tok, range)),
        }
    }
    if in_angle {
        return Err(AddressError::Unclosed { text: lossy(v), open: '<', close: '>' });
    }
    flush(&mut item, &mut angle)?;
    Ok(out)
}

fn lossy(v: &[u8]) -> String {
    let text = String::from_utf8_lossy(v);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

/// `word *("." word) ["@" domain]` from tokens; anything else is not an address. A display
/// name without angle brackets (`Bob Smith`) is refused here.
fn addr_spec(v: &[u8], spec: &[(Tok, Range<usize>)]) -> Result<Address, AddressError> {
    let text = |r: &Range<usize>| &v[r.clone()];
    let shown = || lossy(&v[spec[0].1.start..spec[spec.len() - 1].1.end]);
    let not_address = || AddressError::NotAddress { text: shown() };
    let mut bytes = Vec::new();
    // Local part: words (atoms or quoted strings) joined by dots.
    let mut i = dotted(v, spec, 0, true, &mut bytes).ok_or_else(not_address)?;
    let bare_end = match spec.get(i) {
        None => Some(spec[i - 1].1.end),
        Some((Tok::Special(b'@'), _)) => {
            bytes.push(b'@');
            i += 1;
            match spec.get(i) {
                Some((Tok::Literal, r)) => {
                    bytes.extend_from_slice(text(r));
                    i += 1;
                }
                _ => i = dotted(v, spec, i, false, &mut bytes).ok_or_else(not_address)?,
            }
            if i != spec.len() {
                return Err(not_address());
            }
            None
        }
        Some(_) => return Err(not_address()),
    };
    let addr = String::from_utf8(bytes).map_err(|_| AddressError::NotUtf8 { text: shown() })?;
    Ok(Address { addr, bare_end })
}

/// `word *("." word)` from `spec[i..]` into `bytes` (a word is an atom, or also a quoted string
/// when `quoted` is allowed, as in a local part): the index after it, or `None` when a word is
/// missing.
fn dotted(v: &[u8], spec: &[(Tok, Range<usize>)], mut i: usize, quoted: bool, bytes: &mut Vec<u8>) -> Option<usize> {
    loop {
        match spec.get(i) {
            Some((Tok::Atom, r)) => bytes.extend_from_slice(&v[r.clone()]),
            Some((Tok::Quoted, r)) if quoted => bytes.extend_from_slice(&v[r.clone()]),
            _ => return None,
        }
        i += 1;
        match spec.get(i) {
            Some((Tok::Special(b'.'), _)) => {
                bytes.push(b'.');
                i += 1;
            }
            _ => return Some(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(h: &Head) -> Vec<&str> {
        h.fields.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn the_header_ends_at_the_first_empty_line_of_either_kind() {
        // LF header, a CRLF empty line later in the body: the body's is not the header's.
        let msg = b"From: a@x\nTo: b@x\nSubject: s\n\nhello\nBcc: c@x\r\n\r\nbye\n";
        let h = parse(msg).unwrap();
        assert_eq!(names(&h), ["From", "To", "Subject"]);
        assert_eq!(&msg[h.body..], b"hello\nBcc: c@x\r\n\r\nbye\n");
        assert_eq!(h.eol, Eol::Lf);
        // CRLF header, an LF empty line in the body.
        let msg = b"From: a@x\r\nTo: b@x\r\n\r\nhello\nBcc: c@x\n\nbye";
        let h = parse(msg).unwrap();
        assert_eq!(names(&h), ["From", "To"]);
        assert_eq!(&msg[h.body..], b"hello\nBcc: c@x\n\nbye");
        assert_eq!(h.eol, Eol::Crlf);
    }

    #[test]
    fn ambiguous_header_blocks_are_refused() {
        for (msg, line) in [
            (&b"From: a@x\r\nTo: b@x\nBcc: c@x\r\n\r\nbody"[..], 2),
            (b"From: a@x\r\nTo: b@x\r\n\nBcc: c@x\r\n\r\nbody", 3),
            (b"From: a@x\nTo: b@x\n\r\nBcc: c@x\n\nbody", 3),
            (b"From: a@x\nSubject: a\rBcc: c@x\n\nbody", 2),
            // CRLF lines among LF ones (as PHP before 8 wrote): LF and CRLF readers disagree.
            (b"To: a@x\nSubject: s\nFrom: b@x\r\nReply-To: c@x\r\n\nbody", 3),
        ] {
            let e = parse(msg).unwrap_err();
            let l = match e {
                HeadError::MixedLineEnds { line, .. } | HeadError::BareCr { line } => line,
            };
            assert_eq!(l, line, "{}", String::from_utf8_lossy(msg));
        }
        // A CRLF message with LF only in its body, and an LF message whose CR sits in the body.
        assert!(parse(b"From: a@x\r\n\r\nbody\nmore\n\n").is_ok());
        assert!(parse(b"From: a@x\n\nbody\r\rmore\r\n").is_ok());
    }

    #[test]
    fn a_line_that_is_no_header_starts_the_body() {
        let h = parse(b"Subject: s\nhello\nBcc: c@x\n\nbye\n").unwrap();
        assert_eq!(names(&h), ["Subject"]);
        assert_eq!((h.end, h.body), (11, 11));
        let h = parse(b"Disk full\n").unwrap();
        assert!(h.fields.is_empty() && h.end == 0 && !h.has_separator());
        let h = parse(b" indented\nTo: a@x\n\n").unwrap();
        assert!(h.fields.is_empty());
        let h = parse(b"").unwrap();
        assert!(h.fields.is_empty() && h.end == 0);
        // A leading mbox `From ` line: not a field (the body starts there), dropped by
        // strip_mbox_from as sendmail does.
        let mbox = b"From root@x Mon Jan  1 00:00:00 2026\nTo: a@x\n\nb";
        assert!(parse(mbox).unwrap().fields.is_empty());
        assert_eq!(strip_mbox_from(mbox), b"To: a@x\n\nb");
        assert_eq!(strip_mbox_from(b"From: a@x\n\nb"), b"From: a@x\n\nb");
        assert_eq!(strip_mbox_from(b"From x"), b"");
    }

    #[test]
    fn folded_fields_and_8bit_values() {
        let msg = b"To: a@x,\n\tb@x\nSubject: caf\xe9\nX-Empty:\n\nbody \xe9\n";
        let h = parse(msg).unwrap();
        assert_eq!(names(&h), ["To", "Subject", "X-Empty"]);
        assert_eq!(&msg[h.fields[0].value.clone()], b" a@x,\n\tb@x");
        assert_eq!(&msg[h.fields[0].range.clone()], b"To: a@x,\n\tb@x\n");
        assert_eq!(&msg[h.fields[1].value.clone()], b" caf\xe9");
    }

    fn addrs(v: &str) -> Vec<String> {
        addresses(v.as_bytes()).unwrap().into_iter().map(|a| a.addr).collect()
    }

    #[test]
    fn every_address_form() {
        assert_eq!(addrs(" \"Doe, J\" <j@x.test>, k@x.test"), ["j@x.test", "k@x.test"]);
        assert_eq!(addrs("bob@example.com (Bob, the (real) one)"), ["bob@example.com"]);
        assert_eq!(addrs("undisclosed-recipients:;"), Vec::<String>::new());
        assert_eq!(addrs("team: a@x.test, \"B\" <b@y.test>; c@z.test"), ["a@x.test", "b@y.test", "c@z.test"]);
        assert_eq!(addrs("=?UTF-8?B?SsO2cmc=?= <j@x.test>,\r\n =?ISO-8859-1?Q?Andr=E9?=\r\n <a@x.test>"), ["j@x.test", "a@x.test"]);
        assert_eq!(addrs("<@relay.test,@r2.test:u@x.test>"), ["u@x.test"]);
        assert_eq!(addrs("\"john doe\"@x.test, a@[127.0.0.1]"), ["\"john doe\"@x.test", "a@[127.0.0.1]"]);
        assert_eq!(addrs("first.last @ x.test"), ["first.last@x.test"]);
        assert_eq!(addrs(",, a@x.test ,"), ["a@x.test"]);
        assert_eq!(addrs("<>"), Vec::<String>::new());
        assert_eq!(addrs("jörg@bücher.example"), ["jörg@bücher.example"]);
    }

    #[test]
    fn bare_local_names_say_where_the_domain_goes() {
        let v = b" root (Cron Daemon), Ops <ops>, a@x.test";
        let a = addresses(v).unwrap();
        assert_eq!(a[0], Address { addr: "root".into(), bare_end: Some(5) });
        assert_eq!(a[1], Address { addr: "ops".into(), bare_end: Some(29) });
        assert_eq!(&v[..29], b" root (Cron Daemon), Ops <ops");
        assert_eq!(a[2].bare_end, None);
    }

    #[test]
    fn what_is_no_address_is_named() {
        for bad in ["Bob Smith", "a@", "@x.test", "<a@x.test> trailing", "<a@x.test", "a@x.test.", "a..b@x"] {
            let e = addresses(bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains("not an e-mail address") || e.contains("angle") || e.contains('<'), "{bad}: {e}");
        }
        assert!(addresses(b"caf\xe9@x.test").unwrap_err().to_string().contains("not UTF-8"));
        assert!(addresses(b"\"Doe, J\" <j@x.test>, \"team: a@x.test").unwrap_err().to_string().contains("'\"' without"));
        assert!(addresses(b"a@x.test (open").unwrap_err().to_string().contains("comment"));
        assert!(addresses(b"a@[1.2.3.4").unwrap_err().to_string().contains("'[' without"));
        // Found by the fuzzer (argv): a stray ']' looped forever.
        assert!(addresses(b"a]").unwrap_err().to_string().contains("not an e-mail address"));
    }
}
