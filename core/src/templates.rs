//! Invitation templates, one per user type: a plain-text subject and body with the
//! placeholders `{{name}}`, `{{email}}`, `{{company}}`, `{{inviter}}` and `{{link}}`.
//!
//! The types `power` and `standard` always exist, with built-in texts used while their keys
//! are unset ("Reset to default" unsets them). More types are added by storing texts under
//! `templates.<TYPE>.subject|body`; a new type starts from the standard texts. Scanning,
//! checking and rendering are pure; the `Postdesk` operations that load, save and send are
//! in `ops/templates.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{Config, TemplateSettings};
use crate::checks::{Problem, Severity};

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["name", "email", "company", "inviter", "link"];
/// User types that exist without being configured.
pub const BUILT_IN: &[&str] = &["power", "standard"];
/// Longest subject template (characters); a header line must stay well under 998 octets.
pub const MAX_SUBJECT: usize = 500;
/// Longest body template (bytes).
pub const MAX_BODY: usize = 64 * 1024;

const POWER_SUBJECT: &str = "{{inviter}} invited you to {{company}} as a power user";
const POWER_BODY: &str = "Hello {{name}},

{{inviter}} has invited you to join {{company}} as a power user. As a power user you can
change the organization's settings, invite other people and see every project.

Accept the invitation and choose your password here:
{{link}}

You will sign in with {{email}}.

If you did not expect this invitation, you can ignore this mail: nothing happens until the
link is used.

{{inviter}}
{{company}}";

const STANDARD_SUBJECT: &str = "{{inviter}} invited you to {{company}}";
const STANDARD_BODY: &str = "Hello {{name}},

{{inviter}} has invited you to join {{company}}.

Accept the invitation and choose your password here:
{{link}}

You will sign in with {{email}}.

If you did not expect this invitation, you can ignore this mail: nothing happens until the
link is used.

{{inviter}}
{{company}}";

/// The built-in text of a field (`subject` or `body`) of a type: the type's own for the
/// built-in types, the standard texts for any other type.
pub fn default_text(kind: &str, field: &str) -> &'static str {
    match (kind, field) {
        ("power", "subject") => POWER_SUBJECT,
        ("power", _) => POWER_BODY,
        (_, "subject") => STANDARD_SUBJECT,
        _ => STANDARD_BODY,
    }
}

/// The values the live preview (and `template render` without `--var`) fills in.
pub fn sample_values() -> BTreeMap<String, String> {
    [
        ("name", "Alex Example"),
        ("email", "alex@example.com"),
        ("company", "Example Corp"),
        ("inviter", "Sam Admin"),
        ("link", "https://example.com/invite/3f9c2a"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Something wrong at a place in a template text. Line and column count from 1, in characters.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct TemplateError {
    /// `templates.<TYPE>.subject` or `.body` (or `subject`/`body` for a draft).
    pub key: String,
    pub line: u32,
    pub column: u32,
    /// What was written, e.g. `{{nmae}}`.
    pub text: String,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: line {}, column {}: {}", self.key, self.line, self.column, self.message)
    }
}

enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into text and known placeholders; every unknown or malformed
/// placeholder is an error at its position.
/// An error found by [`scan`]: line, column, what was written, message.
type ScanError = (u32, u32, String, String);

fn scan(text: &str) -> (Vec<Piece<'_>>, Vec<ScanError>) {
    let mut pieces = Vec::new();
    let mut errors = Vec::new();
    let mut rest = 0;
    let position = |offset: usize| {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line as u32, text[line_start..offset].chars().count() as u32 + 1)
    };
    while let Some(found) = text[rest..].find("{{") {
        let open = rest + found;
        pieces.push(Piece::Text(&text[rest..open]));
        let after = open + 2;
        let line_end = text[after..].find('\n').map_or(text.len(), |i| after + i);
        let (line, column) = position(open);
        match text[after..line_end].find("}}") {
            None => {
                let shown: String = text[open..line_end].chars().take(20).collect();
                errors.push((line, column, shown, "unclosed {{ (a placeholder ends with }} on the same line)".to_string()));
                pieces.push(Piece::Text(&text[open..line_end]));
                rest = line_end;
            }
            Some(len) => {
                let close = after + len + 2;
                let name = text[after..after + len].trim();
                if PLACEHOLDERS.contains(&name) {
                    pieces.push(Piece::Placeholder(name));
                } else {
                    let written = text[open..close].to_string();
                    let message = format!("unknown placeholder {written} (known: {})", known());
                    errors.push((line, column, written, message));
                    pieces.push(Piece::Text(&text[open..close]));
                }
                rest = close;
            }
        }
    }
    pieces.push(Piece::Text(&text[rest..]));
    (pieces, errors)
}

fn known() -> String {
    PLACEHOLDERS.iter().map(|p| format!("{{{{{p}}}}}")).collect::<Vec<_>>().join(", ")
}

/// The placeholder errors of one text, named by `key`.
pub fn errors(key: &str, text: &str) -> Vec<TemplateError> {
    scan(text)
        .1
        .into_iter()
        .map(|(line, column, text, message)| TemplateError { key: key.into(), line, column, text, message })
        .collect()
}

/// The validation message of a template text (all its placeholder errors), for `validate`.
pub fn check(text: &str, subject: bool) -> Result<(), String> {
    if subject {
        if text.contains(['\r', '\n']) {
            return Err("must be one line (no CR or LF)".into());
        }
        if text.chars().count() > MAX_SUBJECT {
            return Err(format!("is too long (at most {MAX_SUBJECT} characters)"));
        }
    } else if text.len() > MAX_BODY {
        return Err(format!("is too long (at most {MAX_BODY} bytes)"));
    }
    let controls = if subject { text.chars().any(char::is_control) } else { crate::checks::has_control_in_text(text) };
    if controls {
        return Err("must not contain control characters".into());
    }
    let found = errors("", text);
    if found.is_empty() {
        return Ok(());
    }
    Err(found.iter().map(|e| format!("line {}, column {}: {}", e.line, e.column, e.message)).collect::<Vec<_>>().join("; "))
}

/// A rendered invitation.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    /// Placeholders that had no value and were filled with the sample values.
    pub sampled: Vec<String>,
}

/// The subject and body in force for a type; `None` for a type that does not exist.
pub fn effective(config: &Config, kind: &str) -> Option<(String, String)> {
    let stored = config.templates.get(kind);
    if stored.is_none() && !BUILT_IN.contains(&kind) {
        return None;
    }
    let text = |field: &str, v: Option<&String>| v.cloned().unwrap_or_else(|| default_text(kind, field).to_string());
    Some((text("subject", stored.and_then(|t| t.subject.as_ref())), text("body", stored.and_then(|t| t.body.as_ref()))))
}

/// Where a text in force comes from: the client's override, the global template, or the
/// built-in default.
fn source(config: &Config, client: Option<&str>, kind: &str, field: &str) -> &'static str {
    let pick = |t: Option<&TemplateSettings>| own_field(t, field).is_some();
    if pick(client.and_then(|c| config.clients.get(c)).and_then(|c| c.templates.get(kind))) {
        "client"
    } else if pick(config.templates.get(kind)) {
        "global"
    } else {
        "default"
    }
}

/// The subject and body in force for a type and (optionally) a client: the client's own
/// texts, else the global template's, else the built-in default. `None` for a type that does
/// not exist globally.
pub fn effective_for(config: &Config, client: Option<&str>, kind: &str) -> Option<(String, String)> {
    let (subject, body) = effective(config, kind)?;
    let own = client.and_then(|c| config.clients.get(c)).and_then(|c| c.templates.get(kind));
    let pick = |field: &str, inherited: String| own_field(own, field).cloned().unwrap_or(inherited);
    Some((pick("subject", subject), pick("body", body)))
}

fn own_field<'a>(t: Option<&'a TemplateSettings>, field: &str) -> Option<&'a String> {
    t.and_then(|t| if field == "subject" { t.subject.as_ref() } else { t.body.as_ref() })
}

/// The key prefix of a template: `templates.<TYPE>` or `client.<ID>.templates.<TYPE>`.
pub fn key_prefix(client: Option<&str>, kind: &str) -> String {
    match client {
        Some(id) => format!("client.{id}.templates.{kind}"),
        None => format!("templates.{kind}"),
    }
}

/// A client that does not exist, as a problem naming it.
pub(crate) fn no_such_client(config: &Config, client: Option<&str>) -> Option<Problem> {
    let id = client?;
    (!config.clients.contains_key(id)).then(|| Problem { key: "--client".into(), severity: Severity::Error, message: format!("{id}: no such client") })
}

/// The types in the configuration, built-in ones first.
pub fn types(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = BUILT_IN.iter().map(|s| s.to_string()).collect();
    out.extend(config.templates.keys().filter(|k| !BUILT_IN.contains(&k.as_str())).cloned());
    out
}

/// Fills a subject and body. `vars` may only name known placeholders; a value used in the
/// subject must be one line (it becomes a header). Missing values are the sample values.
pub fn render_texts(subject_key: &str, subject: &str, body_key: &str, body: &str, vars: &BTreeMap<String, String>) -> Result<Rendered, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    let err = |key: String, message: String| Problem { key, severity: Severity::Error, message };
    for name in vars.keys() {
        if !PLACEHOLDERS.contains(&name.as_str()) {
            problems.push(err(format!("--var {name}"), format!("unknown placeholder {{{{{name}}}}} (known: {})", known())));
        }
    }
    let samples = sample_values();
    let mut sampled = Vec::new();
    let mut fill = |key: &str, text: &str, one_line: bool, problems: &mut Vec<Problem>| -> String {
        let (pieces, errors) = scan(text);
        for (line, column, _, message) in errors {
            problems.push(err(key.to_string(), format!("line {line}, column {column}: {message}")));
        }
        let mut out = String::new();
        for piece in pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Placeholder(name) => {
                    let value = match vars.get(name) {
                        Some(v) => v.clone(),
                        None => {
                            if !sampled.iter().any(|s| s == name) {
                                sampled.push(name.to_string());
                            }
                            samples[name].clone()
                        }
                    };
                    if one_line && value.contains(['\r', '\n']) {
                        problems.push(err(format!("--var {name}"), "is used in the subject and must be one line (no CR or LF)".into()));
                    } else if crate::checks::has_control_in_text(&value) {
                        problems.push(err(format!("--var {name}"), "must not contain control characters".into()));
                    }
                    out.push_str(&value);
                }
            }
        }
        out
    };
    let subject = fill(subject_key, subject, true, &mut problems);
    let body = fill(body_key, body, false, &mut problems);
    if !problems.is_empty() {
        problems.dedup();
        return Err(problems);
    }
    sampled.sort_by_key(|s| PLACEHOLDERS.iter().position(|p| p == s));
    Ok(Rendered { subject, body, sampled })
}

/// Renders the saved template of `kind`, as `client` (if given) sends it.
pub fn render(config: &Config, kind: &str, client: Option<&str>, vars: &BTreeMap<String, String>) -> Result<Rendered, Vec<Problem>> {
    if let Some(p) = no_such_client(config, client) {
        return Err(vec![p]);
    }
    let (subject, body) = effective_for(config, client, kind).ok_or_else(|| {
        vec![Problem {
            key: "TYPE".into(),
            severity: Severity::Error,
            message: format!("{kind}: no such user type (types: {})", types(config).join(", ")),
        }]
    })?;
    let prefix = key_prefix(client, kind);
    render_texts(&format!("{prefix}.subject"), &subject, &format!("{prefix}.body"), &body, vars)
}

/// One template as the window edits it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct TemplateView {
    /// The user type (`power`, `standard`, …).
    pub kind: String,
    pub built_in: bool,
    pub subject: String,
    pub body: String,
    pub default_subject: String,
    pub default_body: String,
    /// The client whose texts these are (`None`: the global template).
    #[ts(optional)]
    pub client: Option<String>,
    /// Where `subject` and `body` come from: `client`, `global` or `default`.
    pub subject_from: String,
    pub body_from: String,
    /// The texts without this client's override (the global template, else the default): what
    /// "Reset to inherited" brings back. Equal to the defaults for the global template.
    pub inherited_subject: String,
    pub inherited_body: String,
}

/// A draft rendered with the sample values, and what is wrong with it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct TemplatePreview {
    pub subject: String,
    pub body: String,
    pub errors: Vec<TemplateError>,
    /// Other problems (line breaks in the subject, length), by key.
    pub problems: Vec<Problem>,
}

/// A draft template (subject and body as typed) to preview, save or send.
#[derive(Deserialize, Clone, Debug, TS)]
#[ts(export)]
pub struct TemplateDraft {
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// A client's own template (`client.<ID>.templates.<TYPE>`); absent for the global one.
    #[serde(default)]
    #[ts(optional)]
    pub client: Option<String>,
}

pub(crate) fn view(config: &Config, client: Option<&str>, kind: &str) -> Option<TemplateView> {
    let (subject, body) = effective_for(config, client, kind)?;
    let (inherited_subject, inherited_body) = match client {
        Some(_) => effective(config, kind)?,
        None => (default_text(kind, "subject").into(), default_text(kind, "body").into()),
    };
    Some(TemplateView {
        kind: kind.to_string(),
        built_in: BUILT_IN.contains(&kind),
        subject,
        body,
        default_subject: default_text(kind, "subject").into(),
        default_body: default_text(kind, "body").into(),
        client: client.map(String::from),
        subject_from: source(config, client, kind, "subject").into(),
        body_from: source(config, client, kind, "body").into(),
        inherited_subject,
        inherited_body,
    })
}

/// The sample rendering and the problems of a draft, as the admin types.
pub fn preview(draft: &TemplateDraft) -> TemplatePreview {
    let prefix = key_prefix(draft.client.as_deref(), &draft.kind);
    let (sk, bk) = (format!("{prefix}.subject"), format!("{prefix}.body"));
    let mut errors = errors(&sk, &draft.subject);
    errors.extend(self::errors(&bk, &draft.body));
    let mut problems = Vec::new();
    for (key, text, subject) in [(&sk, &draft.subject, true), (&bk, &draft.body, false)] {
        if let Err(message) = check(text, subject) {
            // Placeholder errors are in `errors`, with their positions.
            if !message.starts_with("line ") {
                problems.push(Problem { key: key.clone(), severity: Severity::Error, message });
            }
        }
    }
    // Render what can be rendered: unknown placeholders stay as written.
    let fill = |text: &str| {
        let samples = sample_values();
        scan(text)
            .0
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_string(),
                Piece::Placeholder(n) => samples[n].clone(),
            })
            .collect::<String>()
    };
    TemplatePreview { subject: fill(&draft.subject).replace(['\r', '\n'], " "), body: fill(&draft.body), errors, problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn built_in_types_exist_with_every_placeholder_known() {
        let config = Config::default();
        assert_eq!(types(&config), ["power", "standard"]);
        for kind in BUILT_IN {
            let (subject, body) = effective(&config, kind).unwrap();
            assert!(check(&subject, true).is_ok() && check(&body, false).is_ok(), "{kind}");
            for p in PLACEHOLDERS {
                assert!(body.contains(&format!("{{{{{p}}}}}")), "{kind} body uses {p}");
            }
        }
        assert_ne!(effective(&config, "power"), effective(&config, "standard"));
        assert!(effective(&config, "contractor").is_none());
    }

    #[test]
    fn renders_values_and_samples_the_rest() {
        let config = Config::default();
        let r = render(&config, "standard", None, &vars(&[("name", "Dana"), ("company", "ACME"), ("inviter", "Lee")])).unwrap();
        assert_eq!(r.subject, "Lee invited you to ACME");
        assert!(r.body.starts_with("Hello Dana,\n\nLee has invited you to join ACME."));
        assert!(r.body.contains("https://example.com/invite/3f9c2a") && r.body.contains("alex@example.com"));
        assert_eq!(r.sampled, ["email", "link"]);
        assert!(!r.body.contains("{{"));
    }

    #[test]
    fn spaces_inside_braces_and_single_braces() {
        let r = render_texts("s", "Hi {{ name }} {x}", "b", "{ {{link}} }", &vars(&[("name", "N"), ("link", "L")])).unwrap();
        assert_eq!((r.subject.as_str(), r.body.as_str()), ("Hi N {x}", "{ L }"));
    }

    #[test]
    fn unknown_placeholders_are_named_with_line_and_column() {
        let e = errors("templates.power.body", "Hello {{name}},\n\nÄ {{nmae}} and {{ link}}\n  {{company");
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!((e[0].line, e[0].column, e[0].text.as_str()), (3, 3, "{{nmae}}"));
        assert!(e[0].message.contains("unknown placeholder {{nmae}}") && e[0].message.contains("{{name}}"));
        assert_eq!((e[1].line, e[1].column), (4, 3));
        assert!(e[1].message.contains("unclosed"));
        assert_eq!(e[0].to_string(), format!("templates.power.body: line 3, column 3: {}", e[0].message));
        let msg = check("x {{foo}}", true).unwrap_err();
        assert_eq!(msg, format!("line 1, column 3: unknown placeholder {{{{foo}}}} (known: {})", known()));
    }

    #[test]
    fn render_refuses_unknown_placeholders_and_vars() {
        let err = render_texts("templates.x.subject", "Hi {{nme}}", "templates.x.body", "ok", &BTreeMap::new()).unwrap_err();
        assert_eq!(err[0].key, "templates.x.subject");
        assert!(err[0].message.contains("{{nme}}") && err[0].message.contains("line 1, column 4"));
        let err = render(&Config::default(), "power", None, &vars(&[("title", "x")])).unwrap_err();
        assert_eq!(err[0].key, "--var title");
        assert!(render(&Config::default(), "nobody", None, &BTreeMap::new()).unwrap_err()[0].message.contains("no such user type"));
    }

    #[test]
    fn subject_must_stay_one_line() {
        assert!(check("a\r\nBcc: x@example.com", true).unwrap_err().contains("CR or LF"));
        assert!(check("line one\nline two\r\n\ttabbed", false).is_ok());
        assert!(check("bell\u{7}", false).is_err());
        assert!(check(&"x".repeat(MAX_SUBJECT + 1), true).is_err());
        // A value with a line break may go into the body but never into the subject.
        let err = render(&Config::default(), "power", None, &vars(&[("inviter", "Eve\r\nBcc: all@example.com")])).unwrap_err();
        assert!(err.iter().any(|p| p.key == "--var inviter" && p.message.contains("one line")), "{err:?}");
        let ok = render_texts("s", "{{name}}", "b", "{{inviter}}", &vars(&[("inviter", "a\nb")])).unwrap();
        assert_eq!(ok.body, "a\nb");
    }

    #[test]
    fn preview_marks_errors_and_fills_samples() {
        let p = preview(&TemplateDraft { kind: "power".into(), subject: "Welcome {{name}}".into(), body: "Hi\n{{naem}} {{link}}".into(), client: None });
        assert_eq!(p.subject, "Welcome Alex Example");
        assert_eq!(p.body, "Hi\n{{naem}} https://example.com/invite/3f9c2a");
        assert_eq!(p.errors.len(), 1);
        assert_eq!((p.errors[0].key.as_str(), p.errors[0].line, p.errors[0].column), ("templates.power.body", 2, 1));
        assert!(p.problems.is_empty());
        let p = preview(&TemplateDraft { kind: "power".into(), subject: "a\nb".into(), body: String::new(), client: None });
        assert_eq!(p.problems[0].key, "templates.power.subject");
    }
}
