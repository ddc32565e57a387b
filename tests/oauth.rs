//! Microsoft 365 sign-in and transports against the fake Entra ID + Graph (tests/src/fake_entra.rs)
//! and real Postfix/Dovecot (XOAUTH2 checked by Dovecot's oauth2 passdb through token
//! introspection at the long-lived fake that `make test` starts).
//!
//! In-process fakes (one per test, own tenants) issue the tokens; all fakes sign with the one
//! fixed test key, so the long-lived fake Dovecot asks accepts them like Exchange would.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use postdesk_core::diagnosis::Stage;
use postdesk_core::hints::hint_for;
use postdesk_core::model::{M365Cloud, M365Flow};
use postdesk_core::oauth::{self, SignIn, TokenError, Transport, Vault, M365};
use postdesk_core::{Postdesk, Secret};
use postdesk_tests::fake_entra::{self as fake, fill_sign_in_form, http, standard_tenant, FakeEntra};
use postdesk_tests::{configure, mailstack, postdesk, require_keychain, unique_local, wait_for_mail, Run};
use serde_json::Value;

const TENANT: &str = "9a1c0d2e-3f40-4b5c-8d6e-7f8091a2b3c4";
const DOMAIN: &str = "fabrikam.example";
const CLIENT: &str = "0b1c2d3e-4f50-4a6b-9c7d-8e9fa0b1c2d3";
const SECRET: &str = "fabrikam~app~secret";
const REDIRECT: &str = "http://localhost/postdesk/callback";
const PASSWORD: &str = "correct horse";

fn stack() -> HashMap<String, String> {
    mailstack()
}

/// The mail stack's account: Dovecot's introspection must answer for it.
fn user() -> String {
    stack().get("MAIL_USER").cloned().expect("MAIL_USER")
}

fn fake_with_tenant() -> FakeEntra {
    let f = FakeEntra::start();
    f.add_tenant(standard_tenant(TENANT, DOMAIN, CLIENT, SECRET, REDIRECT, &user(), PASSWORD));
    f
}

fn m365(f: &FakeEntra, flow: M365Flow, transport: Transport) -> M365 {
    M365 {
        prefix: "global".into(),
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        flow,
        cloud: M365Cloud::Global,
        authority: f.url(),
        graph_url: f.url(),
        transport,
        proxy: Default::default(),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn token_hint(error: &str) -> String {
    hint_for(Stage::Token, error).unwrap_or_else(|| panic!("no token hint for {error:?}")).to_string()
}

/// A vault in memory, for flows that do not need the keychain.
#[derive(Default)]
struct Mem(std::sync::Mutex<HashMap<String, String>>);

impl Vault for Mem {
    fn get(&self, key: &str) -> Result<Option<Secret>, postdesk_core::Error> {
        Ok(self.0.lock().unwrap().get(key).map(|v| Secret::new(v.clone())))
    }
    fn set(&self, key: &str, value: &Secret) -> Result<(), postdesk_core::Error> {
        self.0.lock().unwrap().insert(key.into(), value.expose().into());
        Ok(())
    }
    fn clear(&self, key: &str) -> Result<(), postdesk_core::Error> {
        self.0.lock().unwrap().remove(key);
        Ok(())
    }
}

/// Signs in through the fake's form; returns the redirect URL.
fn sign_in(s: &SignIn, password: &str, accept: bool) -> String {
    fill_sign_in_form(&s.url, &user(), password, accept).unwrap_or_else(|e| panic!("sign-in page: {e:?}"))
}

// --- the fake's own protocol ------------------------------------------------------------------

#[test]
fn fake_errors_have_entras_json_shape() {
    let f = fake_with_tenant();
    let post = |tenant: &str, pairs: &[(&str, &str)]| {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let (status, _, b) = http("POST", &format!("{}/{tenant}/oauth2/v2.0/token", f.url()), &[], Some(("application/x-www-form-urlencoded", body.as_bytes())));
        (status, serde_json::from_slice::<Value>(&b).unwrap())
    };
    fn cc<'a>(client: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![("grant_type", "client_credentials"), ("client_id", client), ("client_secret", secret), ("scope", "https://outlook.office365.com/.default")]
    }
    let cases: Vec<(u16, Value, u64)> = vec![
        { let (s, v) = post("nope.example", &cc(CLIENT, SECRET)); (s, v, 90002) },
        { let (s, v) = post(TENANT, &cc("00000000-0000-4000-8000-000000000000", SECRET)); (s, v, 700016) },
        { let (s, v) = post(DOMAIN, &cc(CLIENT, "wrong")); (s, v, 7000215) },
    ];
    for (status, v, code) in cases {
        assert!(status == 400 || status == 401, "{status} {v}");
        for field in ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"] {
            assert!(!v[field].is_null(), "{field} missing in {v}");
        }
        assert_eq!(v["error_codes"][0], code);
        assert!(v["error_description"].as_str().unwrap().starts_with(&format!("AADSTS{code}: ")));
    }
    // A good secret gets an RS256 token whose signature the JWKS verifies.
    let (status, v) = post(DOMAIN, &cc(CLIENT, SECRET));
    assert_eq!(status, 200, "{v}");
    let token = v["access_token"].as_str().unwrap();
    let (_, _, jwks) = http("GET", &format!("{}/{TENANT}/discovery/v2.0/keys", f.url()), &[], None);
    let jwks: Value = serde_json::from_slice(&jwks).unwrap();
    let key = &jwks["keys"][0];
    assert_eq!((key["kty"].as_str(), key["alg"].as_str()), (Some("RSA"), Some("RS256")));
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let n = b64.decode(key["n"].as_str().unwrap()).unwrap();
    let e = b64.decode(key["e"].as_str().unwrap()).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let public = ring::signature::RsaPublicKeyComponents { n: &n, e: &e };
    public.verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &b64.decode(sig).unwrap()).expect("JWKS verifies the token");
    let mut tampered = b64.decode(sig).unwrap();
    tampered[10] ^= 1;
    assert!(public.verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &tampered).is_err());
    let claims = fake::claims_of(token);
    assert_eq!(claims["aud"], "https://outlook.office365.com");
    assert_eq!(claims["roles"][0], "SMTP.SendAsApp");
}

#[test]
fn introspection_answers_for_valid_exchange_tokens_only() {
    let f = fake_with_tenant();
    let introspect = |token: &str| {
        let body = format!("token={token}");
        let (_, _, b) = http("POST", &format!("{}/introspect", f.url()), &[], Some(("application/x-www-form-urlencoded", body.as_bytes())));
        serde_json::from_slice::<Value>(&b).unwrap()
    };
    let t = rt().block_on(oauth::app_token(&m365(&f, M365Flow::App, Transport::Smtp), &Secret::new(SECRET))).unwrap();
    let v = introspect(t.access.expose());
    assert_eq!(v["active"], true);
    assert_eq!(v["email"].as_str(), Some(user().as_str()));
    assert_eq!(introspect("garbage")["active"], false);
    // A Graph token is no SMTP token; an expired one is inactive.
    let g = rt().block_on(oauth::app_token(&m365(&f, M365Flow::App, Transport::Graph), &Secret::new(SECRET))).unwrap();
    assert_eq!(introspect(g.access.expose())["active"], false);
    let mut claims = fake::claims_of(t.access.expose());
    claims["exp"] = serde_json::json!(1_600_000_000u64);
    assert_eq!(introspect(&f.sign(&claims))["active"], false);
}

// --- delegated sign-in: PKCE, state, single-use codes, rotation --------------------------------

#[test]
fn delegated_sign_in_then_refresh_rotates_and_the_old_token_stops_working() {
    let f = fake_with_tenant();
    let m = m365(&f, M365Flow::Delegated, Transport::Smtp);
    let s = SignIn::begin(&m, REDIRECT, None);
    let redirect = sign_in(&s, PASSWORD, true);
    assert!(s.is_redirect(&redirect), "{redirect}");
    let vault = Mem::default();
    let account = rt().block_on(s.finish(&redirect, &vault)).unwrap();
    assert_eq!(account, user());
    let rt1 = vault.get("global.m365.refresh_token").unwrap().unwrap();
    assert_eq!(vault.get("global.m365.account").unwrap().unwrap().expose(), user());
    // Scopes asked for are the cloud's, whatever the URLs say.
    let asked = f.requests().into_iter().find(|r| r.contains("/authorize?")).unwrap();
    assert!(asked.contains("scope=https%3A%2F%2Foutlook.office.com%2FSMTP.Send+offline_access+openid+email"), "{asked}");

    oauth::forget_cached_tokens();
    let (access, acct, detail) = rt().block_on(oauth::access_token(&m, &vault)).unwrap();
    assert_eq!(acct.as_deref(), Some(user().as_str()));
    assert!(detail.contains("rotated"), "{detail}");
    assert_eq!(fake::claims_of(access.expose())["aud"], "https://outlook.office.com");
    let rt2 = vault.get("global.m365.refresh_token").unwrap().unwrap();
    assert_ne!(rt1, rt2, "the rotated refresh token is stored");
    // The access token is reused from memory: no new token request.
    let before = f.requests().len();
    rt().block_on(oauth::access_token(&m, &vault)).unwrap();
    assert_eq!(f.requests().len(), before);
    // The old refresh token no longer works, and says so with the "sign in again" hint.
    let err = rt().block_on(oauth::refresh(&m, &rt1)).unwrap_err().to_string();
    assert!(err.contains("AADSTS700082") && err.contains("sign in again"), "{err}");
    assert!(token_hint(&err).contains("sign in again"));
    // The new one works (once).
    rt().block_on(oauth::refresh(&m, &rt2)).unwrap();
}

#[test]
fn pkce_mismatch_is_rejected() {
    let f = fake_with_tenant();
    let m = m365(&f, M365Flow::Delegated, Transport::Smtp);
    let a = SignIn::begin(&m, REDIRECT, None);
    let b = SignIn::begin(&m, REDIRECT, None);
    let code = a.code_from_redirect(&sign_in(&a, PASSWORD, true)).unwrap();
    // Redeemed with another sign-in's verifier (a stolen code).
    let err = rt().block_on(b.redeem(&code)).unwrap_err().to_string();
    assert!(err.contains("AADSTS501481"), "{err}");
    assert!(token_hint(&err).contains("PKCE"));
    // The code was spent by that attempt.
    let err = rt().block_on(a.redeem(&code)).unwrap_err().to_string();
    assert!(err.contains("AADSTS54005"), "{err}");
}

#[test]
fn state_mismatch_is_rejected() {
    let f = fake_with_tenant();
    let m = m365(&f, M365Flow::Delegated, Transport::Smtp);
    let a = SignIn::begin(&m, REDIRECT, None);
    let b = SignIn::begin(&m, REDIRECT, None);
    let redirect_for_a = sign_in(&a, PASSWORD, true);
    let vault = Mem::default();
    let err = rt().block_on(b.finish(&redirect_for_a, &vault)).unwrap_err().to_string();
    assert!(err.contains("state mismatch"), "{err}");
    assert!(token_hint(&err).contains("did not belong"));
    assert!(vault.get("global.m365.refresh_token").unwrap().is_none(), "nothing stored");
}

#[test]
fn code_reuse_is_rejected_and_codes_expire() {
    let f = fake_with_tenant();
    let m = m365(&f, M365Flow::Delegated, Transport::Smtp);
    let s = SignIn::begin(&m, REDIRECT, None);
    let code = s.code_from_redirect(&sign_in(&s, PASSWORD, true)).unwrap();
    rt().block_on(s.redeem(&code)).unwrap();
    let err = rt().block_on(s.redeem(&code)).unwrap_err().to_string();
    assert!(err.contains("AADSTS54005"), "{err}");
    assert!(token_hint(&err).contains("already used"));
    let s = SignIn::begin(&m, REDIRECT, None);
    let code = s.code_from_redirect(&sign_in(&s, PASSWORD, true)).unwrap();
    f.age_codes(fake::CODE_LIFETIME + Duration::from_secs(1));
    let err = rt().block_on(s.redeem(&code)).unwrap_err().to_string();
    assert!(err.contains("AADSTS70008"), "{err}");
}

#[test]
fn refused_consent_and_wrong_password() {
    let f = fake_with_tenant();
    let m = m365(&f, M365Flow::Delegated, Transport::Smtp);
    let s = SignIn::begin(&m, REDIRECT, None);
    let err = s.code_from_redirect(&sign_in(&s, PASSWORD, false)).unwrap_err().to_string();
    assert!(err.contains("consent refused") && err.contains("AADSTS65004"), "{err}");
    assert!(token_hint(&err).contains("accept the requested permissions"));
    let (status, page) = fill_sign_in_form(&s.url, &user(), "wrong", true).unwrap_err();
    assert_eq!(status, 200);
    assert!(page.contains("AADSTS50126"), "{page}");
}

#[test]
fn redirect_uri_mismatch_gives_aadsts50011() {
    let f = fake_with_tenant();
    let m = m365(&f, M365Flow::Delegated, Transport::Smtp);
    let s = SignIn::begin(&m, "http://localhost/other/callback", None);
    let (status, page) = fill_sign_in_form(&s.url, &user(), PASSWORD, true).unwrap_err();
    assert_eq!(status, 400);
    assert!(page.contains("AADSTS50011"), "{page}");
    // At the token endpoint: a code redeemed with another redirect URI.
    let good = SignIn::begin(&m, REDIRECT, None);
    let code = good.code_from_redirect(&sign_in(&good, PASSWORD, true)).unwrap();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("grant_type", "authorization_code"), ("client_id", CLIENT), ("code", &code), ("redirect_uri", "http://localhost/else"), ("code_verifier", "x")])
        .finish();
    let (status, _, b) = http("POST", &m.token_url(), &[], Some(("application/x-www-form-urlencoded", body.as_bytes())));
    let err = TokenError::parse(status, &b).to_string();
    assert!(err.contains("AADSTS50011"), "{err}");
    assert!(token_hint(&err).contains("Redirect URI mismatch"));
    // Loopback redirects match on any port (RFC 8252), as for the system-browser flow.
    let lo = SignIn::begin(&m, "http://localhost:43123/postdesk/callback", None);
    assert!(sign_in(&lo, PASSWORD, true).starts_with("http://localhost:43123/postdesk/callback?code="));
}

// --- through `postdesk test-mail`: keychain, diagnosis, real Postfix/Dovecot --------------------

fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

fn failed_at(run: &Run, stage: &str, hint: &str) -> Value {
    let r = report(run);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["failed_stage"], stage, "{r}");
    let got = r["hint"].as_str().unwrap_or_default();
    assert!(got.contains(hint), "hint {got:?} lacks {hint:?}: {r}");
    assert_eq!(run.code, 1, "{run:?}");
    r
}

/// A data dir sending through Microsoft 365 (the fake) with the given auth and flow.
fn m365_dir(f: &FakeEntra, auth: &str, flow: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    require_keychain();
    let env = stack();
    let d = tempfile::tempdir().unwrap();
    let url = f.url();
    let mut pairs = vec![
        ("global.enabled", "true"),
        ("global.host", env["MAIL_HOST"].as_str()),
        ("global.port", env["MAIL_SUBMISSION_PORT"].as_str()),
        ("global.security", "starttls"),
        ("global.ca_file", env["MAIL_CA_FILE"].as_str()),
        ("global.sender.address", env["MAIL_USER"].as_str()),
        ("global.timeout_secs", "10"),
        ("global.auth", auth),
        ("global.m365.tenant", TENANT),
        ("global.m365.client_id", CLIENT),
        ("global.m365.flow", flow),
        ("global.m365.authority", url.as_str()),
        ("global.m365.graph_url", url.as_str()),
    ];
    pairs.extend_from_slice(extra);
    configure(d.path(), &pairs);
    d
}

fn set_secret(d: &Path, value: &str) {
    let run = postdesk(d, &["secret", "set", "global.m365.client_secret"], Some(&format!("{value}\n")));
    assert_eq!(run.code, 0, "{run:?}");
}

fn test_mail(d: &Path, to: &str) -> Run {
    postdesk(d, &["test-mail", "--to", to, "--json"], None)
}

#[test]
fn app_only_smtp_xoauth2_is_delivered_through_dovecot_introspection() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "app", &[]);
    set_secret(d.path(), SECRET);
    let to = format!("{}@example.test", unique_local("xoauth2-app"));
    let run = test_mail(d.path(), &to);
    let r = report(&run);
    assert_eq!(r["ok"], true, "{r}");
    let stages: Vec<&str> = r["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert!(stages.contains(&"token") && stages.contains(&"auth"), "{stages:?}");
    let auth = r["steps"].as_array().unwrap().iter().find(|s| s["stage"] == "auth").unwrap();
    assert!(auth["detail"].as_str().unwrap().contains("XOAUTH2"), "{auth}");
    wait_for_mail(Path::new(&stack()["MAIL_SINK"]), &to);
    // The token went nowhere but the connection: not into the report or transcript.
    let token_requests = f.requests().iter().filter(|r| r.contains("/token")).count();
    assert_eq!(token_requests, 1);
    assert!(!run.stdout.contains("eyJ"), "a token leaked into the report");
    // Exchange (Dovecot here) refuses a From the app may not use: the token is for another mailbox.
    let d2 = m365_dir(&f, "m365-smtp", "app", &[("global.sender.address", "someone-else@example.test")]);
    set_secret(d2.path(), SECRET);
    failed_at(&test_mail(d2.path(), &to), "auth", "access token was refused");
}

#[test]
fn delegated_smtp_xoauth2_after_sign_in_is_delivered_and_rotates() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "delegated", &[]);
    let app = Postdesk::open(d.path());
    let m = M365::from_config(&app.load().unwrap(), "global").unwrap();
    let s = SignIn::begin(&m, REDIRECT, None);
    let redirect = sign_in(&s, PASSWORD, true);
    assert_eq!(rt().block_on(s.finish(&redirect, &app)).unwrap(), user());
    let rt1 = app.secret("global.m365.refresh_token").unwrap().unwrap();
    oauth::forget_cached_tokens();
    let to = format!("{}@example.test", unique_local("xoauth2-delegated"));
    let run = test_mail(d.path(), &to);
    assert_eq!(report(&run)["ok"], true, "{run:?}");
    wait_for_mail(Path::new(&stack()["MAIL_SINK"]), &to);
    let rt2 = app.secret("global.m365.refresh_token").unwrap().unwrap();
    assert_ne!(rt1, rt2, "the CLI stored the rotated refresh token in the keychain");
    // A From other than the signed-in account is named in the token step.
    let run = postdesk(d.path(), &["test-mail", "--to", &to, "--from", "boss@example.test", "--json"], None);
    let r = report(&run);
    let token = r["steps"].as_array().unwrap().iter().find(|s| s["stage"] == "token").unwrap();
    assert!(token["detail"].as_str().unwrap().contains("is not the signed-in account"), "{r}");
    // An admin revokes the sessions: "sign in again", and no retry loop (one token request).
    f.revoke_sessions(&user());
    let before = f.requests().iter().filter(|r| r.contains("/token")).count();
    let r = failed_at(&test_mail(d.path(), &to), "token", "sign in again");
    assert!(r["error"].as_str().unwrap().contains("AADSTS50173"), "{r}");
    assert_eq!(f.requests().iter().filter(|r| r.contains("/token")).count(), before + 1);
}

#[test]
fn not_signed_in_says_how_to_sign_in() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "delegated", &[]);
    failed_at(&test_mail(d.path(), "a@example.test"), "token", "postdesk login");
}

#[test]
fn each_aadsts_row_of_errors_md_gives_its_hint() {
    let f = fake_with_tenant();
    f.add_tenant(standard_tenant("c0c0c0c0-1111-4222-8333-444455556666", "blocked.example", CLIENT, SECRET, REDIRECT, &user(), PASSWORD));
    f.edit_app("c0c0c0c0-1111-4222-8333-444455556666", CLIENT, |a| a.consented = false);
    let cases: Vec<(&[(&str, &str)], &str, &str, &str)> = vec![
        (&[("global.m365.tenant", "unknown-tenant.example")], SECRET, "AADSTS90002", "Tenant not found"),
        (&[("global.m365.client_id", "12345678-1234-4234-8234-123456789abc")], SECRET, "AADSTS700016", "not found in this tenant"),
        (&[], "not-the-secret", "AADSTS7000215", "paste the secret's Value"),
        (&[("global.m365.tenant", "c0c0c0c0-1111-4222-8333-444455556666")], SECRET, "AADSTS65001", "grant consent"),
    ];
    for (extra, secret, code, hint) in cases {
        let d = m365_dir(&f, "m365-smtp", "app", extra);
        set_secret(d.path(), secret);
        let r = failed_at(&test_mail(d.path(), "a@example.test"), "token", hint);
        assert!(r["error"].as_str().unwrap().contains(code), "{r}");
        assert!(!r["error"].as_str().unwrap().contains(secret), "the secret leaked: {r}");
    }
}

#[test]
fn expired_client_secret_at_test_time_gives_aadsts7000222() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-graph", "app", &[("global.m365.secret_expires", "2026-01-01")]);
    set_secret(d.path(), SECRET);
    f.edit_app(TENANT, CLIENT, |a| a.secrets[0].expired = true);
    let r = failed_at(&test_mail(d.path(), "a@example.test"), "token", "client secret has expired");
    assert!(r["error"].as_str().unwrap().contains("AADSTS7000222"), "{r}");
    // `check` warns about the date the admin entered.
    let run = postdesk(d.path(), &["check"], None);
    assert!(run.stdout.contains("global.m365.secret_expires") || run.stderr.contains("global.m365.secret_expires"), "{run:?}");
}

#[test]
fn conditional_access_block_gives_its_hint() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "delegated", &[]);
    let app = Postdesk::open(d.path());
    let m = M365::from_config(&app.load().unwrap(), "global").unwrap();
    let s = SignIn::begin(&m, REDIRECT, None);
    rt().block_on(s.finish(&sign_in(&s, PASSWORD, true), &app)).unwrap();
    oauth::forget_cached_tokens();
    f.edit_user(TENANT, &user(), |u| u.blocked_by_conditional_access = true);
    let r = failed_at(&test_mail(d.path(), "a@example.test"), "token", "Conditional Access");
    assert!(r["error"].as_str().unwrap().contains("AADSTS53003"), "{r}");
}

#[test]
fn graph_send_mail_202_with_the_right_json() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-graph", "app", &[("global.sender.name", "IT Desk"), ("global.reply_to.address", "help@example.test")]);
    set_secret(d.path(), SECRET);
    let run = test_mail(d.path(), "bob@example.test");
    let r = report(&run);
    assert_eq!(r["ok"], true, "{r}");
    let graph = r["steps"].as_array().unwrap().iter().find(|s| s["stage"] == "graph").unwrap();
    assert!(graph["detail"].as_str().unwrap().contains("202"), "{graph}");
    let sent = f.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, user());
    let m = &sent[0].body["message"];
    assert_eq!(m["toRecipients"][0]["emailAddress"]["address"], "bob@example.test");
    assert_eq!(m["from"]["emailAddress"]["address"].as_str(), Some(user().as_str()));
    assert_eq!(m["from"]["emailAddress"]["name"], "IT Desk");
    assert_eq!(m["replyTo"][0]["emailAddress"]["address"], "help@example.test");
    assert_eq!(m["body"]["contentType"], "Text");
    assert!(m["subject"].as_str().unwrap().starts_with("Postdesk test mail"));
    assert!(m["body"]["content"].as_str().unwrap().contains("This is a test mail from Postdesk"));
    assert_eq!(sent[0].body["saveToSentItems"], false);
    // The token was asked for Graph's own scope.
    assert_eq!(sent[0].bearer_subject, CLIENT);
}

#[test]
fn graph_401_403_404_give_their_hints() {
    let f = fake_with_tenant();
    // 404: the From mailbox does not exist in the tenant.
    let d = m365_dir(&f, "m365-graph", "app", &[("global.sender.address", "ghost@example.test")]);
    set_secret(d.path(), SECRET);
    failed_at(&test_mail(d.path(), "bob@example.test"), "graph", "does not exist in this tenant");
    // 403: no Mail.Send application permission.
    let f2 = fake_with_tenant();
    f2.edit_app(TENANT, CLIENT, |a| a.graph_mail_send = false);
    let d = m365_dir(&f2, "m365-graph", "app", &[]);
    set_secret(d.path(), SECRET);
    failed_at(&test_mail(d.path(), "bob@example.test"), "graph", "Mail.Send application permission missing");
    // 401: a Graph that does not know the token's tenant (another cloud's Graph, say).
    let other_graph = FakeEntra::start();
    let d = m365_dir(&f, "m365-graph", "app", &[("global.m365.graph_url", other_graph.url().as_str())]);
    set_secret(d.path(), SECRET);
    failed_at(&test_mail(d.path(), "bob@example.test"), "graph", "Token not valid for Graph");
    assert!(other_graph.sent().is_empty() && f.sent().is_empty() && f2.sent().is_empty());
}

// --- `postdesk login --browser`: default browser + one-shot loopback redirect ---------------------

/// A `BROWSER` program that does what a person does in the browser, with curl: opens the
/// sign-in page, fills the fake's form (email, password, Accept or Cancel) and follows the
/// redirect to Postdesk's loopback listener. `mode`: accept, refuse, or tamper (changes the
/// state in the redirect). Writes the redirect it followed to `<dir>/redirect`.
fn browser_script(dir: &Path, mode: &str) -> String {
    let path = dir.join(format!("browser-{mode}.sh"));
    let script = format!(
        r#"#!/bin/sh
set -eu
url="$1"
page=$(curl -sf "$url")
echo "$page" | grep -q 'id="accept"' || {{ echo "no sign-in form" >&2; exit 1; }}
action="${{url%%\?*}}"
query="${{url#*\?}}"
consent=accept
[ "{mode}" = refuse ] && consent=refuse
location=$(curl -s -o /dev/null -w '%{{redirect_url}}' --data "$query" --data-urlencode "login={user}" \
  --data-urlencode "passwd={password}" --data "consent=$consent" "$action")
[ "{mode}" = tamper ] && location=$(echo "$location" | sed 's/state=[^&]*/state=forged/')
if [ "{mode}" = stray ]; then
  # What else may reach the listener first: a favicon, another path, a port scan, a wrong
  # state, and the same port on the other loopback family (the redirect says localhost).
  base="${{location%%/postdesk/*}}"
  port="${{base##*:}}"
  curl -s -o /dev/null -w '%{{http_code}}\n' "$base/favicon.ico" >>"{dir}/stray"
  curl -s -o /dev/null -w '%{{http_code}}\n' "$base/other?$(echo "$location" | sed 's/.*?//')" >>"{dir}/stray"
  curl -s -m 1 "telnet://127.0.0.1:$port" </dev/null >/dev/null 2>&1 || true
  curl -s -o /dev/null -w '%{{http_code}}\n' "$(echo "$location" | sed 's/state=[^&]*/state=forged/')" >>"{dir}/stray"
  curl -s -o /dev/null -w '%{{http_code}}\n' "http://[::1]:$port/favicon.ico" >>"{dir}/stray"
fi
echo "$location" >"{dir}/redirect"
curl -s "$location" >"{dir}/answer" || true
"#,
        user = user(),
        password = PASSWORD,
        dir = dir.display()
    );
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

fn login(d: &Path, browser: &str, extra: &[&str]) -> Run {
    let mut args = vec!["login", "--browser", "--timeout", "20"];
    args.extend_from_slice(extra);
    postdesk_tests::postdesk_env(d, &args, None, &[("BROWSER", browser)])
}

#[test]
fn login_browser_signs_in_through_the_loopback_redirect() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "delegated", &[]);
    let scratch = tempfile::tempdir().unwrap();
    let run = login(d.path(), &browser_script(scratch.path(), "accept"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.trim(), format!("Signed in as {}", user()));
    let app = Postdesk::open(d.path());
    assert!(app.secret("global.m365.refresh_token").unwrap().is_some(), "refresh token in the keychain");
    assert_eq!(app.secret("global.m365.account").unwrap().unwrap().expose(), user());
    let redirect = std::fs::read_to_string(scratch.path().join("redirect")).unwrap();
    assert!(redirect.starts_with("http://localhost:") && redirect.contains("/postdesk/callback?code="), "{redirect}");
    assert!(std::fs::read_to_string(scratch.path().join("answer")).unwrap().contains("Signed in"));
    // One request only: the listener is gone afterwards.
    let port: u16 = redirect["http://localhost:".len()..].split('/').next().unwrap().parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the loopback listener still accepts");
    // The refresh token works: a delegated XOAUTH2 test mail is delivered.
    oauth::forget_cached_tokens();
    let to = format!("{}@example.test", unique_local("login-browser"));
    assert_eq!(report(&test_mail(d.path(), &to))["ok"], true);
    wait_for_mail(Path::new(&stack()["MAIL_SINK"]), &to);
}

#[test]
fn login_browser_stray_requests_first_do_not_end_the_sign_in() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "delegated", &[]);
    let scratch = tempfile::tempdir().unwrap();
    let run = login(d.path(), &browser_script(scratch.path(), "stray"), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.trim(), format!("Signed in as {}", user()));
    // favicon 404, another path 404, wrong state 400, and ::1 on the same port is ours (404).
    let stray = std::fs::read_to_string(scratch.path().join("stray")).unwrap();
    assert_eq!(stray.lines().collect::<Vec<_>>(), ["404", "404", "400", "404"], "{stray}");
    assert!(std::fs::read_to_string(scratch.path().join("answer")).unwrap().contains("Signed in"));
    assert!(Postdesk::open(d.path()).secret("global.m365.refresh_token").unwrap().is_some());
}

#[test]
fn login_browser_refusal_state_mismatch_and_timeout_fail_clearly() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-smtp", "delegated", &[]);
    let scratch = tempfile::tempdir().unwrap();
    let run = login(d.path(), &browser_script(scratch.path(), "refuse"), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("consent refused") && run.stderr.contains("accept the requested permissions"), "{run:?}");
    // A redirect with the wrong state is refused (400) and the listener waits on for the
    // real one, until the timeout, which then says what was refused.
    let run = postdesk_tests::postdesk_env(d.path(), &["login", "--browser", "--timeout", "3"], None, &[("BROWSER", &browser_script(scratch.path(), "tamper"))]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no sign-in came back within 3 s") && run.stderr.contains("state mismatch"), "{run:?}");
    assert!(std::fs::read_to_string(scratch.path().join("answer")).unwrap().contains("Sign-in failed"));
    let run = postdesk_tests::postdesk_env(d.path(), &["login", "--browser", "--timeout", "1"], None, &[("BROWSER", "true")]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no sign-in came back within 1 s"), "{run:?}");
    assert!(Postdesk::open(d.path()).secret("global.m365.refresh_token").unwrap().is_none());
    // App-only settings have no user sign-in: a settings error naming the key (exit 2).
    let app_dir = m365_dir(&f, "m365-smtp", "app", &[]);
    let run = login(app_dir.path(), "true", &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("global.m365.flow"), "{run:?}");
}

#[test]
fn send_through_graph_hands_over_the_message_as_mime() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-graph", "app", &[]);
    set_secret(d.path(), SECRET);
    let message = format!("From: {}\r\nTo: carol@example.test\r\nSubject: Invoice 42\r\n\r\nPlease find it attached.\r\n", user());
    let run = postdesk(d.path(), &["send", "-t"], Some(&message));
    assert_eq!(run.code, 0, "{run:?}");
    let sent = f.sent();
    assert_eq!(sent.len(), 1);
    let mime = sent[0].body["mime"].as_str().unwrap();
    assert!(mime.contains("Subject: Invoice 42") && mime.contains("Please find it attached."), "{mime}");
}

// --- hostile token endpoint answers (issue 14) ---------------------------------------------------

/// Entries in the daily-limit log of a data dir.
fn sent_count(d: &Path) -> usize {
    std::fs::read_to_string(d.join("sent-log")).map(|t| t.lines().filter(|l| !l.trim().is_empty()).count()).unwrap_or(0)
}

#[test]
fn any_expires_in_from_the_token_endpoint_neither_panics_nor_keeps_the_limit_slot() {
    let f = fake_with_tenant();
    let to = format!("{}@example.test", unique_local("expires-in"));
    let extremes = [
        serde_json::json!(u64::MAX),
        serde_json::json!(u64::MAX.to_string()),
        serde_json::json!("99999999999999999999999999999"),
        serde_json::json!(-1),
        serde_json::json!(i64::MIN),
        serde_json::json!(1e300),
        serde_json::json!(-1e300),
        serde_json::json!("in an hour"),
        serde_json::json!({"seconds": 1}),
    ];
    for expires_in in extremes {
        f.edit_app(TENANT, CLIENT, |a| a.expires_in = Some(expires_in.clone()));
        // A send that fails after the token step (Dovecot refuses the token for this From),
        // before any data: the slot of the daily limit must be free again.
        let d = m365_dir(&f, "m365-smtp", "app", &[("global.sender.address", "someone-else@example.test"), ("limits.max_per_day", "1")]);
        set_secret(d.path(), SECRET);
        let run = test_mail(d.path(), &to);
        assert_ne!(run.code, 101, "expires_in {expires_in} made postdesk panic: {run:?}");
        assert!(!run.stderr.contains("panicked"), "expires_in {expires_in}: {run:?}");
        let r = failed_at(&run, "auth", "access token was refused");
        assert!(r["steps"].as_array().unwrap().iter().any(|s| s["stage"] == "token" && s["ok"] == true), "{r}");
        assert_eq!(sent_count(d.path()), 0, "expires_in {expires_in}: the failed mail still holds the daily-limit slot");
    }
    // The token works whatever lifetime came with it: delivered, and counted once.
    f.edit_app(TENANT, CLIENT, |a| a.expires_in = Some(serde_json::json!(u64::MAX)));
    let d = m365_dir(&f, "m365-smtp", "app", &[("limits.max_per_day", "1")]);
    set_secret(d.path(), SECRET);
    let run = test_mail(d.path(), &to);
    assert_eq!((run.code, report(&run)["ok"].clone()), (0, Value::Bool(true)), "{run:?}");
    wait_for_mail(Path::new(&stack()["MAIL_SINK"]), &to);
    assert_eq!(sent_count(d.path()), 1);
}

/// Graph mails a MIME message to its headers' recipients: a header recipient that is not a
/// recipient of the mail would get it unchecked by the Do-Not-Email list and the limit, so the
/// mail is refused and nothing reaches Graph.
#[test]
fn graph_mime_refuses_header_recipients_that_are_not_the_mails_recipients() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-graph", "app", &[]);
    set_secret(d.path(), SECRET);
    let run = postdesk(d.path(), &["dne", "add", "dave@example.test"], None);
    assert_eq!(run.code, 0, "{run:?}");
    let message = format!("From: {}\r\nTo: carol@example.test\r\nCc: Dave <dave@example.test>\r\nSubject: x\r\n\r\nbody\r\n", user());
    let run = postdesk(d.path(), &["send", "carol@example.test"], Some(&message));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("dave@example.test") && run.stderr.contains("not a recipient of this mail"), "{run:?}");
    assert!(f.sent().is_empty(), "{:?}", f.sent());
}

/// The Bcc recipients `send -t` took out of the message (and extra recipients given as
/// arguments) reach Graph as one Bcc header, which Graph turns into hidden recipients.
#[test]
fn graph_mime_carries_the_bcc_recipients_as_a_bcc_header() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-graph", "app", &[]);
    set_secret(d.path(), SECRET);
    let message = format!("From: {}\r\nTo: carol@example.test\r\nBcc: hidden@example.test\r\nSubject: x\r\n\r\nbody\r\n", user());
    let run = postdesk(d.path(), &["send", "-t", "extra@example.test"], Some(&message));
    assert_eq!(run.code, 0, "{run:?}");
    let sent = f.sent();
    assert_eq!(sent.len(), 1);
    let mime = sent[0].body["mime"].as_str().unwrap();
    let bcc: Vec<&str> = mime.lines().filter(|l| l.to_ascii_lowercase().starts_with("bcc:")).collect();
    assert_eq!(bcc.len(), 1, "{mime}");
    let (head, _) = mime.split_once("\r\n\r\n").unwrap();
    let unfolded = head.replace("\r\n ", " ");
    let bcc_line = unfolded.lines().find(|l| l.starts_with("Bcc:")).unwrap();
    assert!(bcc_line.contains("extra@example.test") && bcc_line.contains("hidden@example.test") && !bcc_line.contains("carol"), "{mime}");
    assert!(mime.contains("To: carol@example.test") && mime.ends_with("body\r\n"), "{mime}");
}

/// What one `postdesk send` through Graph costs with 10,000 clients configured (the Microsoft
/// 365 settings used to be read by serializing the whole configuration). A benchmark, not a
/// test: `scripts/test.sh cargo test --test oauth -- --ignored --nocapture bench_` prints the
/// median wall time of 15 sends of the binary `POSTDESK_BIN` names.
#[test]
#[ignore = "benchmark"]
fn bench_send_through_graph_with_10000_clients() {
    let f = fake_with_tenant();
    let d = m365_dir(&f, "m365-graph", "app", &[]);
    set_secret(d.path(), SECRET);
    let path = d.path().join("config.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let clients: serde_json::Map<String, Value> = (0..10_000)
        .map(|i| (format!("client-{i:05}"), serde_json::json!({"name": format!("Client number {i}"), "host": format!("smtp.client{i}.example.net")})))
        .collect();
    config["clients"] = Value::Object(clients);
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let message = format!("From: {}\r\nTo: carol@example.test\r\nSubject: Invoice 42\r\n\r\nPlease find it attached.\r\n", user());
    let mut times = Vec::new();
    for _ in 0..16 {
        let t = std::time::Instant::now();
        let run = postdesk(d.path(), &["send", "-t"], Some(&message));
        times.push(t.elapsed());
        assert_eq!(run.code, 0, "{run:?}");
    }
    times.remove(0); // the first send also signs in (a token request)
    times.sort();
    println!("bench: postdesk send through Graph, 10,000 clients: median {:?} (min {:?}, max {:?}) over {} sends", times[times.len() / 2], times[0], times[times.len() - 1], times.len());
}
