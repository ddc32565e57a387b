//! The one TLS client setup of SMTP, IMAP/POP3 (receiver) and HTTP (token endpoint, Graph):
//! rustls with ring, the OS trust store (rustls-native-certs, loaded once and only when
//! needed), an optional extra CA file per server, and a switch that turns verification off
//! for one server when the admin asked for it.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;

use crate::diagnosis::{Failure, FailureKind, Stage};

/// A plain or TLS byte stream.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The rustls client settings: OS roots plus the certificates of `ca_file` when `verify`,
/// else no checks at all.
pub(crate) fn client_config(verify: bool, ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().map_err(|e| e.to_string())?;
    let verifier = if verify {
        let extra = match ca_file {
            None => Vec::new(),
            Some(path) => read_ca_file(path)?,
        };
        Verifier::roots(extra, provider).map_err(|e| format!("TLS setup: {e}"))?
    } else {
        Verifier::any(provider)
    };
    Ok(Arc::new(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()))
}

/// The settings for HTTPS (the token endpoint, Graph): the OS roots, verified; built once.
pub(crate) fn https_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| client_config(true, None)).clone()
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let bytes = crate::files::read_ca_file(path).map_err(|e| format!("the CA file {} {e}", path.display()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>().map_err(|e| format!("the CA file {} cannot be read: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("the CA file {} holds no certificate", path.display()));
    }
    Ok(certs)
}

/// TLS client settings for one server, and the name its certificate must carry.
pub(crate) struct TlsSetup {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    verify: bool,
}

impl TlsSetup {
    /// `host` as configured (an IPv6 literal may be bracketed).
    pub(crate) fn new(host: &str, verify: bool, ca_file: Option<&Path>) -> Result<TlsSetup, String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let name = ServerName::try_from(bare).map_err(|e| format!("{host} cannot be checked against a certificate: {e}"))?;
        Ok(TlsSetup { config: client_config(verify, ca_file)?, name, verify })
    }

    /// The handshake under `t`, as the work of a `tls` step: the stream and what was seen
    /// (version, cipher suite, the server's certificate).
    pub(crate) async fn handshake(&self, io: Box<dyn Io>, t: Duration) -> Result<(Box<dyn Io>, String), Failure> {
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let stream = match timeout(t, connector.connect(self.name.clone(), io)).await {
            Err(_) => return Err(Failure::new(Stage::Tls, FailureKind::Timeout, format!("TLS handshake timed out after {:.0} s", t.as_secs_f32()))),
            Ok(Err(e)) => return Err(handshake_failure(&e, &self.name)),
            Ok(Ok(s)) => s,
        };
        let conn = stream.get_ref().1;
        let mut detail = format!(
            "{:?}, {:?}",
            conn.protocol_version().map(|v| v.as_str().unwrap_or("TLS")).unwrap_or("TLS"),
            conn.negotiated_cipher_suite().map(|c| c.suite()).map(|s| s.as_str().unwrap_or("?")).unwrap_or("?")
        )
        .replace('"', "");
        if let Some(leaf) = conn.peer_certificates().and_then(|c| c.first()) {
            detail.push('\n');
            detail.push_str(&describe_certificate(leaf));
        }
        if !self.verify {
            detail.push_str("\ncertificate NOT verified (verification is off for this server)");
        }
        Ok((Box::new(stream), detail))
    }
}

/// Subject, issuer and validity of a DER certificate, one per line.
fn describe_certificate(der: &CertificateDer<'_>) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => format!("subject: {}\nissuer: {}\nexpires: {}", cert.subject(), cert.issuer(), cert.validity().not_after.to_datetime().date()),
        Err(_) => "certificate: (not parseable)".into(),
    }
}

/// A failed handshake as an admin reads it: a refused certificate says why; a connection
/// closed during the handshake keeps that kind.
fn handshake_failure(e: &std::io::Error, name: &ServerName<'_>) -> Failure {
    use rustls::CertificateError as C;
    let host = name.to_str();
    let tls = |error: String| Failure::new(Stage::Tls, FailureKind::Tls, error);
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(cert)) => tls(match cert {
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!("the server's certificate is not valid for {host}"),
            C::UnknownIssuer => "the server's certificate is from an unknown issuer (not trusted here)".into(),
            other => format!("the server's certificate was refused: {other:?}"),
        }),
        Some(other) => tls(format!("TLS handshake failed: {other}")),
        None => {
            let f = Failure::io(Stage::Tls, e);
            Failure::new(Stage::Tls, f.kind, format!("TLS handshake failed: {}", f.error))
        }
    }
}

fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// Checks the server's certificate: against the OS trust store plus the server's CA file, or
/// not at all when the admin turned verification off for this one server.
///
/// The OS store (~145 roots, a few ms to load) is read only when needed: a chain that the CA
/// file alone anchors is checked without it; only "unknown issuer" falls back to the OS roots
/// together with the CA file. The decision is the same as with one combined store.
#[derive(Debug)]
struct Verifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    /// `None`: accept any certificate (verification off).
    trust: Option<Roots>,
}

#[derive(Debug)]
struct Roots {
    ca_file: Vec<CertificateDer<'static>>,
    ca_only: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    with_os: OnceLock<Result<Arc<rustls::client::WebPkiServerVerifier>, String>>,
}

impl Verifier {
    fn any(provider: Arc<rustls::crypto::CryptoProvider>) -> Verifier {
        Verifier { provider, trust: None }
    }

    fn roots(ca_file: Vec<CertificateDer<'static>>, provider: Arc<rustls::crypto::CryptoProvider>) -> Result<Verifier, String> {
        let ca_only = if ca_file.is_empty() { None } else { Some(webpki(&ca_file, false, &provider)?) };
        Ok(Verifier { provider, trust: Some(Roots { ca_file, ca_only, with_os: OnceLock::new() }) })
    }
}

fn webpki(extra: &[CertificateDer<'static>], os: bool, provider: &Arc<rustls::crypto::CryptoProvider>) -> Result<Arc<rustls::client::WebPkiServerVerifier>, String> {
    let mut roots = rustls::RootCertStore::empty();
    if os {
        roots.add_parsable_certificates(native_roots().iter().cloned());
    }
    roots.add_parsable_certificates(extra.iter().cloned());
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().map_err(|e| e.to_string())
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.trust else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        if let Some(ca_only) = &roots.ca_only {
            match ca_only.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {}
                decided => return decided,
            }
        }
        let with_os = roots.with_os.get_or_init(|| webpki(&roots.ca_file, true, &self.provider));
        let with_os = with_os.as_ref().map_err(|e| rustls::Error::General(format!("no trusted roots: {e}")))?;
        with_os.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
