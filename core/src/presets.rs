//! Provider presets ("Start from a preset"): the settings a provider's SMTP service needs,
//! as ordinary `key → text` edits, and what the admin still has to do on the provider's side.
//! Pure data; the window applies a preset as unsaved edits, `postdesk preset apply` saves it
//! through the same validation as `config set`.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

/// A choice within a preset (a region, a port), overriding some of its settings.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct PresetVariant {
    pub id: String,
    pub label: String,
    pub settings: BTreeMap<String, String>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq, TS)]
#[ts(export)]
pub struct Preset {
    pub id: String,
    pub name: String,
    /// Keys this preset sets; `""` unsets a key (back to its default).
    pub settings: BTreeMap<String, String>,
    /// The first one is the default.
    pub variants: Vec<PresetVariant>,
    /// What the admin still has to do at the provider before mail goes out.
    pub todo: Vec<String>,
    /// Things worth knowing (blocked ports, allowlists, limits).
    pub advice: Vec<String>,
}

impl Preset {
    /// The edits for this preset and variant (the first variant when none is named).
    pub fn edits(&self, variant: Option<&str>) -> Result<BTreeMap<String, String>, String> {
        let mut edits = self.settings.clone();
        let chosen = match variant {
            Some(id) => Some(self.variants.iter().find(|v| v.id == id).ok_or_else(|| {
                let ids: Vec<&str> = self.variants.iter().map(|v| v.id.as_str()).collect();
                if ids.is_empty() {
                    format!("preset {} has no variants", self.id)
                } else {
                    format!("preset {} has no variant {id} (choose one of: {})", self.id, ids.join(", "))
                }
            })?),
            None => self.variants.first(),
        };
        if let Some(v) = chosen {
            edits.extend(v.settings.clone());
        }
        Ok(edits)
    }
}

const PORT_25: &str = "Port 25 is blocked outbound by many ISPs, clouds and company networks: this preset uses 587 (STARTTLS) or 465 (TLS).";
const ALLOWLIST: &str = "If the connection is reset or refused right after connecting, the provider may only accept listed IP addresses: add this machine's outgoing IP address to the allowlist there.";

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn variant(id: &str, label: &str, pairs: &[(&str, &str)]) -> PresetVariant {
    PresetVariant { id: id.into(), label: label.into(), settings: map(pairs) }
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Password login over STARTTLS on 587 to `host`.
fn smtp_587(host: &str) -> Vec<(&'static str, String)> {
    vec![
        ("global.email_type", "smtp".into()),
        ("global.host", host.into()),
        ("global.port", "587".into()),
        ("global.security", "starttls".into()),
        ("global.auth", "password".into()),
    ]
}

fn settings(base: Vec<(&'static str, String)>, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = base.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.extend(map(extra));
    out
}

/// Amazon SES SMTP endpoints (`email-smtp.<region>.amazonaws.com`).
pub const SES_REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-west-1", "US West (N. California)"),
    ("us-west-2", "US West (Oregon)"),
    ("ca-central-1", "Canada (Central)"),
    ("eu-west-1", "Europe (Ireland)"),
    ("eu-west-2", "Europe (London)"),
    ("eu-west-3", "Europe (Paris)"),
    ("eu-central-1", "Europe (Frankfurt)"),
    ("eu-north-1", "Europe (Stockholm)"),
    ("eu-south-1", "Europe (Milan)"),
    ("ap-south-1", "Asia Pacific (Mumbai)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
    ("ap-northeast-2", "Asia Pacific (Seoul)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-southeast-2", "Asia Pacific (Sydney)"),
    ("sa-east-1", "South America (São Paulo)"),
];

/// Every preset, in the order the window offers them ("Custom" last).
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            id: "microsoft365".into(),
            name: "Microsoft 365".into(),
            settings: settings(smtp_587("smtp.office365.com"), &[("global.auth", "m365-smtp"), ("global.username", "")]),
            variants: vec![],
            todo: lines(&[
                "Register an app in Microsoft Entra ID (App registrations) and enter its Application (client) ID and Directory (tenant) ID under Security.",
                "Delegated: add the API permission SMTP.Send (Office 365 Exchange Online) and the redirect URI shown under Security. App-only: add SMTP.SendAsApp, grant admin consent, and register the app's service principal in Exchange Online.",
                "Allow Authenticated SMTP (SMTP AUTH) for the sending mailbox in the Microsoft 365 admin center; tenants with security defaults block it unless it is turned on per mailbox.",
            ]),
            advice: lines(&[PORT_25, "Basic authentication (password) is being retired for Exchange Online: this preset signs in with OAuth."]),
        },
        Preset {
            id: "outlook".into(),
            name: "Outlook.com".into(),
            settings: settings(smtp_587("smtp-mail.outlook.com"), &[]),
            variants: vec![],
            todo: lines(&[
                "Use the full Outlook.com address as the username and as the sender address.",
                "Turn on two-step verification for the Microsoft account and create an app password for Postdesk; enter it as the password.",
            ]),
            advice: lines(&[PORT_25, "Outlook.com limits how many mails and recipients a personal account may send per day."]),
        },
        Preset {
            id: "gmail".into(),
            name: "Gmail / Google Workspace".into(),
            settings: settings(smtp_587("smtp.gmail.com"), &[]),
            variants: vec![
                variant("587", "Port 587 with STARTTLS", &[("global.port", "587"), ("global.security", "starttls")]),
                variant("465", "Port 465 with TLS", &[("global.port", "465"), ("global.security", "tls")]),
            ],
            todo: lines(&[
                "Turn on 2-Step Verification for the Google account and create an app password (Google Account › Security › App passwords); enter it as the password.",
                "Use the full address as the username; the sender address must be that address or an alias verified in Gmail (Send mail as).",
                "Google Workspace: an admin may have to allow less secure apps / SMTP access, or use the SMTP relay service (smtp-relay.gmail.com) with this machine's IP address allowed.",
            ]),
            advice: lines(&[PORT_25, ALLOWLIST]),
        },
        Preset {
            id: "ses".into(),
            name: "Amazon SES".into(),
            settings: settings(smtp_587("email-smtp.us-east-1.amazonaws.com"), &[]),
            variants: SES_REGIONS
                .iter()
                .map(|(id, label)| PresetVariant {
                    id: id.to_string(),
                    label: format!("{label} — {id}"),
                    settings: map(&[("global.host", &format!("email-smtp.{id}.amazonaws.com"))]),
                })
                .collect(),
            todo: lines(&[
                "Verify the sender's domain (or address) in the SES console of this region, with its DKIM records in DNS.",
                "Create SMTP credentials (SES › SMTP settings): enter the SMTP user name and password here (they are not your AWS access keys).",
                "New accounts are in the sandbox and can only send to verified addresses: request production access.",
            ]),
            advice: lines(&[PORT_25, "SES also answers on 2587 (STARTTLS) and 465/2465 (TLS) where 587 is blocked."]),
        },
        Preset {
            id: "sendgrid".into(),
            name: "SendGrid".into(),
            settings: settings(smtp_587("smtp.sendgrid.net"), &[("global.username", "apikey")]),
            variants: vec![],
            todo: lines(&[
                "Create an API key with the Mail Send permission (Settings › API Keys) and enter it as the password; the username stays \"apikey\".",
                "Authenticate the sender's domain (Settings › Sender Authentication) or verify a single sender address.",
            ]),
            advice: lines(&[PORT_25, ALLOWLIST]),
        },
        Preset {
            id: "mailgun".into(),
            name: "Mailgun".into(),
            settings: settings(smtp_587("smtp.mailgun.org"), &[]),
            variants: vec![
                variant("us", "US region", &[("global.host", "smtp.mailgun.org")]),
                variant("eu", "EU region", &[("global.host", "smtp.eu.mailgun.org")]),
            ],
            todo: lines(&[
                "Add the sending domain in Mailgun and publish its DNS records (SPF, DKIM, MX); wait until it shows as verified.",
                "Create SMTP credentials for that domain (Domain settings › SMTP credentials): the login (e.g. postmaster@your-domain) is the username.",
            ]),
            advice: lines(&[PORT_25, ALLOWLIST]),
        },
        Preset {
            id: "postmark".into(),
            name: "Postmark".into(),
            settings: settings(smtp_587("smtp.postmarkapp.com"), &[]),
            variants: vec![],
            todo: lines(&[
                "Copy the Server API token of the Postmark server (API Tokens tab): enter it as both the username and the password.",
                "Add and verify a Sender Signature or the sender's domain (DKIM and Return-Path DNS records).",
            ]),
            advice: lines(&[PORT_25, "Postmark also accepts SMTP on 2525 where 587 is blocked."]),
        },
        Preset {
            id: "custom".into(),
            name: "Custom".into(),
            settings: map(&[("global.email_type", "smtp"), ("global.host", ""), ("global.port", "587"), ("global.security", "starttls"), ("global.auth", "password"), ("global.username", "")]),
            variants: vec![],
            todo: lines(&[
                "Enter the mail server's host name, and the username and password the server's administrator gave you.",
                "Ask them which port and encryption to use: usually 587 with STARTTLS, or 465 with TLS.",
            ]),
            advice: lines(&[PORT_25, ALLOWLIST]),
        },
    ]
}

pub fn find(id: &str) -> Option<Preset> {
    presets().into_iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edits::apply_edits;
    use crate::model::Config;
    use crate::validate::{validate, Context, Severity};

    #[test]
    fn every_preset_and_variant_gives_valid_settings_with_something_to_do() {
        let ctx = Context { today: time::macros::date!(2026 - 11 - 23), secrets_set: None };
        for preset in presets() {
            assert!(!preset.todo.is_empty(), "{}", preset.id);
            let mut choices: Vec<Option<&str>> = preset.variants.iter().map(|v| Some(v.id.as_str())).collect();
            choices.push(None);
            for variant in choices {
                let edits = preset.edits(variant).unwrap();
                let (config, unparsed) = apply_edits(&Config::default(), &edits);
                assert!(unparsed.is_empty(), "{} {variant:?}: {unparsed:?}", preset.id);
                let errors: Vec<_> = validate(&config, &ctx).into_iter().filter(|p| p.severity == Severity::Error).collect();
                assert!(errors.is_empty(), "{} {variant:?}: {errors:?}", preset.id);
                assert_ne!(config.global.port, Some(25), "{}: no preset uses port 25", preset.id);
            }
        }
    }

    #[test]
    fn the_issue_s_providers_are_there() {
        let m365 = find("microsoft365").unwrap().edits(None).unwrap();
        assert_eq!(m365["global.host"], "smtp.office365.com");
        assert_eq!(m365["global.port"], "587");
        assert_eq!(m365["global.security"], "starttls");
        assert_eq!(m365["global.auth"], "m365-smtp");
        let gmail = find("gmail").unwrap();
        assert_eq!(gmail.edits(Some("465")).unwrap()["global.security"], "tls");
        assert_eq!(gmail.edits(None).unwrap()["global.port"], "587");
        let ses = find("ses").unwrap();
        assert_eq!(ses.edits(Some("eu-central-1")).unwrap()["global.host"], "email-smtp.eu-central-1.amazonaws.com");
        assert!(ses.edits(Some("mars-1")).unwrap_err().contains("us-east-1"));
        for id in ["outlook", "sendgrid", "mailgun", "postmark", "custom"] {
            assert!(find(id).is_some(), "{id}");
        }
        assert_eq!(find("sendgrid").unwrap().edits(None).unwrap()["global.username"], "apikey");
        assert_eq!(presets().last().unwrap().id, "custom");
    }
}
