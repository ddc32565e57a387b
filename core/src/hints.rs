//! What a failure means and what to do: the table of ERRORS.md, matched on the stage plus
//! reply codes or stable substrings of what was seen (never on whole messages).

use crate::diagnosis::Stage;

/// `(stage, needles, hint)`: the first row whose stage matches and one of whose needles occurs
/// (case-insensitively) in the error text wins, so specific rows come before general ones.
const HINTS: &[(Stage, &[&str], &str)] = &[
    (Stage::Config, &["global mail server is off"], "No mail is sent at all while the global mail server is off, client servers and routes included: turn on “Use mail server” under Base, or run `postdesk config set global.enabled true`."),
    (Stage::Config, &["port 25"], "Many networks block port 25 outbound: prefer 587 (STARTTLS) or 465 (TLS)."),
    (Stage::Config, &["no password is saved", "not set in the keychain"], "Enter the secret (the password) in the Security section, or run `postdesk secret set` with the key named above (it asks for the value), then test again."),
    (Stage::Config, &["keychain is not available"], "Unlock or start the system's keychain (GNOME Keyring, KWallet), then test again."),
    (Stage::Limits, &["do-not-email list"], "Remove the address from the Do-Not-Email list (its page in the window, or `postdesk dne remove ADDRESS`) if it may get mail again; to let priority mails through anyway, set limits.ignore_dne_for (`postdesk config set limits.ignore_dne_for …`)."),
    (Stage::Limits, &["daily limit reached"], "Wait until older mails leave the 24-hour window, or raise limits.max_per_day (`postdesk config set limits.max_per_day N`; 0 means no limit)."),
    (Stage::Dns, &["does not resolve", "no address"], "The host name is wrong or not resolvable from this machine: check the host in the server settings, and this machine's DNS."),
    (Stage::Dns, &["timed out"], "No answer from the DNS server: check this machine's network and DNS settings, or use the server's IP address."),
    (Stage::Connect, &["refused"], "Nothing listens on that port: check host and port; 587 for STARTTLS, 465 for TLS."),
    (Stage::Connect, &["timed out"], "A firewall drops the traffic, or the host is wrong. Many providers block port 25 outbound: use 587 or 465."),
    (Stage::Connect, &["reset", "closed the connection"], "The server or a middlebox closed the connection: check the port, and add this machine's outgoing IP address to the server's allowlist."),
    (Stage::Connect, &["unreachable"], "No route to that address from this machine: check the host, VPN and firewall."),
    (Stage::Banner, &["no greeting"], "The port answers but does not speak SMTP, or expects implicit TLS (try TLS on 465)."),
    (Stage::Banner, &["not an smtp reply"], "This port is not an SMTP server."),
    (Stage::Banner, &["421 "], "The server refuses service now: test again later, or check the server's connection limits."),
    (Stage::Banner, &["554 "], "The server refuses this client: check the server's IP allowlist or blocklists."),
    (Stage::Tls, &["does not offer starttls"], "Set Security to TLS (port 465) or none, or enable STARTTLS on the server."),
    (Stage::Tls, &["expired"], "The server's certificate has expired: renew it on the server. Do not turn verification off."),
    (Stage::Tls, &["not valid for"], "The certificate is for another name: use the host name on the certificate."),
    (Stage::Tls, &["unknown issuer behind a proxy"], "A TLS-inspecting proxy signs with the organization's CA: add that CA to the operating system's certificate store."),
    (Stage::Tls, &["unknown issuer", "unknownissuer"], "Signed by a certificate authority this machine does not trust: add the CA file (PEM) in this server's Security settings, or `postdesk config set global.ca_file PATH` for the global server."),
    (Stage::Tls, &["no greeting", "timed out", "handshake"], "The TLS handshake did not complete: the port may not speak TLS (465 is TLS, 587 is STARTTLS)."),
    (Stage::Ehlo, &["smtputf8"], "The server cannot take internationalized addresses: turn UTF-8 headers off (`postdesk config set global.utf8_headers false`) or use another server."),
    (Stage::Auth, &["token rejected", "does not expect a challenge"], "The access token was refused: wrong scope, wrong account, or SMTP.Send not consented."),
    (Stage::Auth, &["5.7.139"], "SMTP AUTH is disabled for the tenant or mailbox: enable Authenticated SMTP in Microsoft 365 admin, or use Graph."),
    (Stage::Auth, &["5.7.3 "], "Wrong user name or password, or basic auth is blocked (Microsoft's security defaults): sign in with Microsoft 365 (OAuth) instead."),
    (Stage::Auth, &["5.7.8 ", "5.7.0 ", "535 "], "Username or password not accepted: check the user name under Base and enter the password again under Security."),
    (Stage::Auth, &["no auth", "offers no login"], "The server offers no login here: TLS may be required first, or auth is not enabled on this port."),
    (Stage::MailFrom, &["5.7.60", "5.2.252", "sendasdenied"], "This account may not send as that From address: grant Send As, or make From equal to the authenticated user (XOAUTH2 requires it)."),
    (Stage::MailFrom, &["552 ", "5.3.4"], "The message exceeds the server's size limit."),
    (Stage::RcptTo, &["5.1.1"], "The recipient does not exist."),
    (Stage::RcptTo, &["5.7.1 ", "relay"], "The server does not relay for this sender: authenticate, or allowlist this IP."),
    (Stage::Data, &["552 ", "5.3.4", "too large"], "The message exceeds the server's size limit."),
    (Stage::Data, &["no reply to the end of the message"], "The server has the whole message but did not confirm it in time (a slow content filter?): it may still be delivered, so check the recipient's mailbox or the server's log before sending it again; for a server that is always this slow raise its data timeout (`postdesk config set global.data_timeout_secs 600`, or the client's or route's own key)."),
    (Stage::Proxy, &["answered 407"], "The proxy wants credentials: set `proxy.username` and the proxy password (`postdesk secret set proxy.password`)."),
    (Stage::Proxy, &["answered 403"], "The proxy's policy denies this host: ask for `login.microsoftonline.com` and `graph.microsoft.com` (or your cloud's hosts) on port 443 to be allowed, or add them to `proxy.no_proxy` if they are reachable directly."),
    (Stage::Proxy, &["answered 502", "answered 503", "answered 504"], "The proxy cannot reach the host: check the host name and the proxy's own internet access."),
    (Stage::Proxy, &["cannot connect to the proxy", "no answer from the proxy", "closed the connection before answering"], "The proxy cannot be reached: check `proxy.url` (or `HTTPS_PROXY`) and whether you are on the organization's network."),
    (Stage::Token, &["aadsts7000215"], "Invalid client secret: paste the secret's Value, not its ID."),
    (Stage::Token, &["aadsts7000222"], "The client secret has expired: create a new one and update the expiry date here."),
    (Stage::Token, &["aadsts700016"], "Application (client) ID not found in this tenant."),
    (Stage::Token, &["aadsts90002"], "Tenant not found: check the tenant ID or domain, and the cloud (global / US Gov / China)."),
    (Stage::Token, &["aadsts50011"], "Redirect URI mismatch: register exactly the URI shown here."),
    (Stage::Token, &["aadsts65001"], "Consent missing: an admin must grant consent for the permissions."),
    // Specific codes before the generic invalid_grant row: most of them come as invalid_grant.
    (Stage::Token, &["aadsts53003", "aadsts530035"], "Blocked by Conditional Access: sign in with the system browser, or ask for a policy exception."),
    (Stage::Token, &["aadsts50173", "aadsts54005"], "The grant or code was already used or revoked: sign in again."),
    (Stage::Token, &["aadsts501481", "code_verifier"], "The sign-in was not completed by this app (PKCE check failed): sign in again from Postdesk."),
    (Stage::Token, &["state mismatch"], "The sign-in answer did not belong to this sign-in and was refused: sign in again."),
    (Stage::Token, &["aadsts65004", "consent refused", "access_denied"], "Sign-in was cancelled or consent refused: sign in again and accept the requested permissions."),
    (Stage::Token, &["aadsts700082", "invalid_grant"], "Refresh token expired or revoked: sign in again."),
    (Stage::Token, &["not signed in"], "Sign in with Microsoft in the Security section (or run `postdesk login`), then test again."),
    (Stage::Token, &["not set in the keychain"], "Enter the client secret in the Security section (or `postdesk secret set`), then test again."),
    (Stage::Token, &["keychain is not available"], "Unlock or start the OS keychain (GNOME Keyring, KWallet), then test again."),
    (Stage::Graph, &["401"], "Token not valid for Graph: check the cloud and the scope `https://graph.microsoft.com/.default`."),
    (Stage::Graph, &["403"], "Mail.Send application permission missing, or an application access policy blocks this mailbox."),
    (Stage::Graph, &["404"], "The From mailbox does not exist in this tenant."),
];

/// Logging in to an IMAP or POP3 mailbox (`receiver-check`, receive-before-send): rows that
/// differ from SMTP's; the rest (dns, certificates) falls through to [`HINTS`].
const RECEIVER_HINTS: &[(Stage, &[&str], &str)] = &[
    (Stage::Connect, &["refused"], "Nothing listens on that port: check host, protocol and port (IMAP 143 with STARTTLS, IMAPS 993, POP3 110 with STLS, POP3S 995)."),
    (Stage::Connect, &["timed out"], "A firewall drops the traffic, or the host is wrong."),
    (Stage::Connect, &["reset", "closed the connection"], "The server closed the connection right after connect: check the port, and ask for this machine's outgoing IP address to be added to the server's allowlist."),
    (Stage::Banner, &["no greeting"], "The port answers but does not greet: it may expect implicit TLS (IMAPS 993, POP3S 995), or speak another protocol."),
    (Stage::Banner, &["not an imap", "not a pop3"], "This port does not speak the chosen protocol: check the protocol and the port."),
    (Stage::Banner, &["bye", "-err"], "The server refuses this client now: retry later, or check the server's IP allowlist."),
    (Stage::Tls, &["does not offer starttls", "does not offer stls"], "The server does not offer STARTTLS/STLS on this port: choose IMAPS or POP3S (implicit TLS), or enable STARTTLS on the server."),
    (Stage::Tls, &["no greeting", "timed out", "handshake"], "The TLS handshake did not complete: the port may not speak TLS (993 is IMAPS, 995 is POP3S; 143 and 110 use STARTTLS/STLS)."),
    (Stage::Auth, &["logindisabled", "plaintext", "cleartext"], "The server refuses a password without encryption: choose IMAP with STARTTLS, IMAPS, POP3 with STLS or POP3S."),
    (Stage::Auth, &["authenticationfailed", "authentication failed", "[auth]", "invalid", "no response", "-err"], "Username or password not accepted by the mailbox server."),
];

/// The hint for a receiver (IMAP/POP3) login that failed at `stage`.
pub fn receiver_hint_for(stage: Stage, error: &str) -> Option<&'static str> {
    let text = error.to_lowercase();
    RECEIVER_HINTS
        .iter()
        .find(|(s, needles, _)| *s == stage && needles.iter().any(|n| text.contains(n)))
        .map(|(_, _, hint)| *hint)
        .or_else(|| if matches!(stage, Stage::Dns | Stage::Tls) { hint_for(stage, error) } else { None })
}

pub fn hint_for(stage: Stage, error: &str) -> Option<&'static str> {
    // A failed receive-before-send login reads `<stage>: <error>`.
    if stage == Stage::Receiver {
        let (inner, rest) = error.split_once(": ")?;
        let inner = [Stage::Dns, Stage::Connect, Stage::Banner, Stage::Tls, Stage::Auth].into_iter().find(|s| s.as_str() == inner)?;
        return receiver_hint_for(inner, rest);
    }
    let text = error.to_lowercase();
    // A token or Graph request carried by a proxy: the proxy's answer, or a certificate signed
    // by a TLS-inspecting proxy.
    if matches!(stage, Stage::Token | Stage::Graph) && text.contains("through the proxy") {
        if text.contains("unknownissuer") || text.contains("unknown issuer") {
            return hint_for(Stage::Tls, "unknown issuer behind a proxy");
        }
        if let Some(hint) = hint_for(Stage::Proxy, error) {
            return Some(hint);
        }
    }
    HINTS
        .iter()
        .find(|(s, needles, _)| *s == stage && needles.iter().any(|n| text.contains(n)))
        .map(|(_, _, hint)| *hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_codes_win_over_general_ones() {
        let m365 = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.";
        assert!(hint_for(Stage::Auth, m365).unwrap().contains("Authenticated SMTP"));
        assert!(hint_for(Stage::Auth, "535 5.7.3 Authentication unsuccessful").unwrap().contains("security defaults"));
        assert!(hint_for(Stage::Auth, "535 5.7.8 Error: authentication failed").unwrap().contains("not accepted"));
        assert!(hint_for(Stage::RcptTo, "550 5.1.1 <nobody@example.test>: Recipient address rejected").unwrap().contains("does not exist"));
        assert!(hint_for(Stage::RcptTo, "554 5.7.1 <x@other.example>: Relay access denied").unwrap().contains("relay"));
    }

    #[test]
    fn a_refused_token_is_not_a_wrong_password() {
        let seen = "token rejected: 535 5.7.3 Authentication unsuccessful {\"status\":\"401\"}";
        assert!(hint_for(Stage::Auth, seen).unwrap().contains("access token was refused"));
    }

    #[test]
    fn receiver_failures_get_receiver_hints() {
        assert!(receiver_hint_for(Stage::Connect, "connection refused by 127.0.0.1:993").unwrap().contains("IMAPS 993"));
        assert!(receiver_hint_for(Stage::Connect, "127.0.0.1:993 closed the connection right after connect (reset)").unwrap().contains("allowlist"));
        assert!(receiver_hint_for(Stage::Auth, "NO [AUTHENTICATIONFAILED] Authentication failed.").unwrap().contains("not accepted"));
        assert!(receiver_hint_for(Stage::Auth, "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.").unwrap().contains("without encryption"));
        assert!(receiver_hint_for(Stage::Tls, "the server does not offer STLS").unwrap().contains("POP3S"));
        assert!(receiver_hint_for(Stage::Tls, "the server's certificate has expired").unwrap().contains("renew"));
        // Inside a send, the receiver step carries the inner stage.
        assert!(hint_for(Stage::Receiver, "auth: -ERR [AUTH] Authentication failed.").unwrap().contains("mailbox server"));
        assert_eq!(hint_for(Stage::Receiver, "nonsense"), None);
    }

    #[test]
    fn proxy_answers_get_their_own_hints() {
        let h = |e: &str| hint_for(Stage::Proxy, e).unwrap_or_else(|| panic!("no hint for {e}"));
        assert!(h("the proxy 127.0.0.1:3128 answered 407 to CONNECT login.entra.test:4403 (no credentials sent): HTTP/1.1 407 Proxy Authentication Required").contains("proxy.username"));
        assert!(h("the proxy 127.0.0.1:3128 answered 403 to CONNECT login.entra.test:443: HTTP/1.1 403 Forbidden").contains("policy denies"));
        for code in ["502", "503", "504"] {
            assert!(h(&format!("the proxy p:1 answered {code} to CONNECT h:443: HTTP/1.1 {code} x")).contains("cannot reach the host"));
        }
        assert!(h("cannot connect to the proxy 127.0.0.1:9 (from proxy.url): Connection refused (os error 111)").contains("cannot be reached"));
        assert!(h("no answer from the proxy 10.0.0.1:3128 within 20 s").contains("cannot be reached"));
        // A port number is not a status: only the proxy's answer counts.
        assert!(hint_for(Stage::Proxy, "the proxy p:1 answered 407 to CONNECT h:403").unwrap().contains("credentials"));
        // Behind a TLS-inspecting proxy, an unknown issuer names the organization's CA.
        assert!(hint_for(Stage::Token, "TLS with login.microsoftonline.com through the proxy p:1 failed: invalid peer certificate: UnknownIssuer").unwrap().contains("TLS-inspecting"));
        assert!(hint_for(Stage::Graph, "the proxy p:1 answered 403 to CONNECT graph.microsoft.com:443 through the proxy").unwrap().contains("policy"));
    }

    #[test]
    fn hints_that_need_an_action_name_it() {
        let off = hint_for(Stage::Config, "the global mail server is off: no mail is sent at all, client servers included").unwrap();
        assert!(off.contains("“Use mail server” under Base") && off.contains("`postdesk config set global.enabled true`"), "{off}");
        let password = hint_for(Stage::Config, "global.password: no password is saved for this server").unwrap();
        assert!(password.contains("Security section") && password.contains("`postdesk secret set`"), "{password}");
        assert!(hint_for(Stage::Limits, "daily limit reached (100 mails in 24 hours)").unwrap().contains("`postdesk config set limits.max_per_day N`"));
        assert!(hint_for(Stage::Limits, "x@example.com is on the Do-Not-Email list").unwrap().contains("`postdesk dne remove ADDRESS`"));
        assert!(hint_for(Stage::Data, "no reply to the end of the message within 10 s").unwrap().contains("`postdesk config set global.data_timeout_secs"));
        assert!(hint_for(Stage::Tls, "invalid peer certificate: UnknownIssuer").unwrap().contains("CA file"));
        // The keys a hint names are real keys.
        for row in HINTS.iter().chain(RECEIVER_HINTS) {
            for word in row.2.split(['`', ' ', '(', ')', ',', ':']) {
                if ["global.", "limits.", "proxy."].iter().any(|p| word.starts_with(p)) && word.len() > 7 {
                    assert!(crate::keys::Key::parse(word.trim_end_matches('.')).is_ok(), "{word} in {:?}", row.2);
                }
            }
        }
    }

    #[test]
    fn the_stage_matters() {
        assert_eq!(hint_for(Stage::Data, "550 5.1.1 whatever"), None);
        assert!(hint_for(Stage::Banner, "421 4.3.2 Service shutting down").is_some());
        assert_eq!(hint_for(Stage::Banner, "250 fine"), None);
    }
}
