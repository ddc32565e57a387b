//! Invitation templates as `Postdesk` operations: list, render, save, reset, remove (each a
//! load-change-save under the edit lock) and "Send preview to…" through the normal send path.
//! The template language itself is [`crate::templates`].

use std::collections::BTreeMap;

use crate::app::{Error, Postdesk};
use crate::edits::{apply_edits, today};
use crate::keys::Key;
use crate::templates::{
    check, default_text, effective, key_prefix, no_such_client, render, render_texts, types, view, Rendered, TemplateDraft, TemplatePreview, TemplateView, BUILT_IN,
};
use crate::validate::{validate, Context, Problem, Severity};

/// A type name: letters, digits, '-' and '_' (like client IDs), checked through the key parser.
fn check_kind(kind: &str) -> Result<(), Error> {
    Key::parse(&format!("templates.{kind}.subject"))?;
    Ok(())
}

impl Postdesk {
    /// Every template, built-in types first; with a client, the texts in force for it.
    pub fn templates(&self, client: Option<&str>) -> Result<Vec<TemplateView>, Error> {
        let config = self.load()?;
        if let Some(p) = no_such_client(&config, client) {
            return Err(Error::Invalid(vec![p]));
        }
        Ok(types(&config).iter().filter_map(|k| view(&config, client, k)).collect())
    }

    /// `template render`: the saved template of `kind` (as `client` sends it) with `vars`
    /// (missing ones sampled).
    pub fn render_template(&self, kind: &str, client: Option<&str>, vars: &BTreeMap<String, String>) -> Result<Rendered, Error> {
        render(&self.load()?, kind, client, vars).map_err(Error::Invalid)
    }

    /// Saves a template's subject and body (a new type is created). Texts equal to the
    /// built-in ones are stored as unset, so later improvements to the defaults apply. A
    /// client's template is an override of an existing type; a text equal to the inherited
    /// one is stored as unset, so it keeps following the global template.
    pub fn save_template(&self, draft: &TemplateDraft) -> Result<TemplateView, Error> {
        check_kind(&draft.kind)?;
        let lock = self.lock()?;
        let base = self.load()?;
        let client = draft.client.as_deref();
        if let Some(p) = no_such_client(&base, client) {
            return Err(Error::Invalid(vec![p]));
        }
        let inherited = match client {
            Some(_) => Some(effective(&base, &draft.kind).ok_or_else(|| {
                Error::Invalid(vec![Problem { key: "TYPE".into(), severity: Severity::Error, message: format!("{}: no such user type", draft.kind) }])
            })?),
            None => BUILT_IN.contains(&draft.kind.as_str()).then(|| (default_text(&draft.kind, "subject").into(), default_text(&draft.kind, "body").into())),
        };
        let prefix = key_prefix(client, &draft.kind);
        let mut edits = BTreeMap::new();
        for (field, text) in [("subject", &draft.subject), ("body", &draft.body)] {
            let same = inherited.as_ref().is_some_and(|(s, b)| text.trim() == if field == "subject" { s.trim() } else { b.trim() });
            edits.insert(format!("{prefix}.{field}"), if same { String::new() } else { text.clone() });
        }
        let (config, mut problems) = apply_edits(&base, &edits);
        problems.extend(
            validate(&config, &Context { today: today(), secrets_set: None })
                .into_iter()
                .filter(|p| p.is_blocking() && p.key.starts_with(&format!("{prefix}."))),
        );
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        self.save_config(&base, &config, &lock)?;
        Ok(view(&config, client, &draft.kind).expect("just saved"))
    }

    /// Back to the built-in texts: a built-in type's keys are unset; another type gets the
    /// standard texts.
    /// With a client: "Reset to inherited", the client's override of the type is removed.
    pub fn reset_template(&self, kind: &str, client: Option<&str>) -> Result<TemplateView, Error> {
        check_kind(kind)?;
        let lock = self.lock()?;
        let before = self.load()?;
        let mut config = before.clone();
        if let Some(p) = no_such_client(&config, client) {
            return Err(Error::Invalid(vec![p]));
        }
        if effective(&config, kind).is_none() {
            return Err(Error::Invalid(vec![Problem { key: "TYPE".into(), severity: Severity::Error, message: format!("{kind}: no such user type") }]));
        }
        if let Some(id) = client {
            if config.clients.get_mut(id).expect("checked").templates.remove(kind).is_some() {
                self.save_config(&before, &config, &lock)?;
            }
            return Ok(view(&config, client, kind).expect("exists"));
        }
        if BUILT_IN.contains(&kind) {
            config.templates.remove(kind);
        } else {
            let t = config.templates.entry(kind.to_string()).or_default();
            t.subject = Some(default_text(kind, "subject").into());
            t.body = Some(default_text(kind, "body").into());
        }
        self.save_config(&before, &config, &lock)?;
        Ok(view(&config, None, kind).expect("exists"))
    }

    /// Removes a user type that is not built in.
    pub fn remove_template(&self, kind: &str) -> Result<bool, Error> {
        if BUILT_IN.contains(&kind) {
            return Err(Error::Invalid(vec![Problem { key: "TYPE".into(), severity: Severity::Error, message: format!("{kind} is built in: reset it instead") }]));
        }
        let lock = self.lock()?;
        let before = self.load()?;
        let mut config = before.clone();
        let removed = config.templates.remove(kind).is_some();
        if removed {
            self.save_config(&before, &config, &lock)?;
        }
        Ok(removed)
    }
}

impl Postdesk {
    /// The sample rendering of a draft and its errors with their positions, as the admin types
    /// (nothing is read or saved).
    pub fn template_preview(draft: &TemplateDraft) -> TemplatePreview {
        crate::templates::preview(draft)
    }

    /// "Send preview to…": the draft filled with the sample values, sent through the route the
    /// saved settings resolve to, with the same steps (and limits) as every other mail.
    pub async fn send_template_preview(
        &self,
        draft: &TemplateDraft,
        to: String,
        progress: &mut (dyn FnMut(crate::diagnosis::Progress) + Send),
        cancel: impl std::future::Future<Output = ()>,
    ) -> crate::diagnosis::Report {
        let prefix = key_prefix(draft.client.as_deref(), &draft.kind);
        let (sk, bk) = (format!("{prefix}.subject"), format!("{prefix}.body"));
        let rendered = render_texts(&sk, &draft.subject, &bk, &draft.body, &BTreeMap::new())
            .and_then(|r| check(&draft.subject, true).map(|_| r).map_err(|m| vec![Problem { key: sk.clone(), severity: Severity::Error, message: m }]));
        let rendered = match rendered {
            Ok(r) => r,
            Err(problems) => {
                let error = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                return crate::mail::config_failure(error, progress);
            }
        };
        let config = match self.load() {
            Ok(c) => c,
            Err(e) => return crate::mail::config_failure(e.to_string(), progress),
        };
        let request = crate::mail::Request {
            to: vec![to],
            client: draft.client.clone(),
            compose: Some(crate::mail::Compose { subject: rendered.subject, body: rendered.body }),
            sent_log: Some(self.sent_log()),
            ..Default::default()
        };
        crate::mail::send(&config, self, request, progress, cancel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TemplateSettings;

    #[test]
    fn client_templates_save_and_reset_to_inherited() {
        let dir = tempfile::tempdir().unwrap();
        let app = Postdesk::open(dir.path());
        app.add_client("acme", "ACME Ltd").unwrap();
        let global = app.templates(Some("acme")).unwrap().into_iter().find(|v| v.kind == "standard").unwrap();
        // Body changed, subject left as inherited: only the body is stored.
        let draft = TemplateDraft { kind: "standard".into(), subject: global.subject.clone(), body: "ACME: {{link}}".into(), client: Some("acme".into()) };
        let v = app.save_template(&draft).unwrap();
        assert_eq!((v.subject_from.as_str(), v.body_from.as_str(), v.body.as_str()), ("default", "client", "ACME: {{link}}"));
        let config = app.load().unwrap();
        assert_eq!(config.clients["acme"].templates["standard"], TemplateSettings { subject: None, body: Some("ACME: {{link}}".into()) });
        assert!(config.templates.is_empty());
        assert_eq!(app.render_template("standard", Some("acme"), &BTreeMap::new()).unwrap().body, "ACME: https://example.com/invite/3f9c2a");
        // Invalid text is refused with the client key named, and nothing is saved.
        let err = app.save_template(&TemplateDraft { body: "{{bogus}}".into(), ..draft.clone() }).unwrap_err();
        assert!(err.to_string().contains("client.acme.templates.standard.body"), "{err}");
        assert!(app.save_template(&TemplateDraft { client: Some("nope".into()), ..draft.clone() }).is_err());
        assert!(app.save_template(&TemplateDraft { kind: "contractor".into(), ..draft.clone() }).is_err());
        // Reset to inherited.
        let v = app.reset_template("standard", Some("acme")).unwrap();
        assert_eq!((v.body_from.as_str(), v.body.as_str()), ("default", default_text("standard", "body")));
        assert!(app.load().unwrap().clients["acme"].templates.is_empty());
    }
}
