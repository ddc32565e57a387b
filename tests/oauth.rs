//! Microsoft 365 sign-in and transports against the fake Entra ID + Graph (tests/src/fake_entra.rs)
//! and real Postfix/Dovecot (XOAUTH2 through Dovecot's oauth2 passdb and token introspection).
