//! A real Squid (Debian's `squid`) on loopback for the proxy tests: its own config directory,
//! a free port, a `hosts_file` that is the only place the test host names resolve, optional
//! Basic authentication (`basic_ncsa_auth` with an htpasswd file made here by `openssl
//! passwd`), an optional deny ACL, and its access log to check. Stopped (SIGTERM) on drop.
//!
//! Also the test CA: `openssl` makes a CA and a server certificate for the fake Entra's names.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SQUID: &str = "/usr/sbin/squid";
pub const NCSA_AUTH: &str = "/usr/lib/squid/basic_ncsa_auth";

/// What the Squid is set up with.
#[derive(Default)]
pub struct Options<'a> {
    /// `name → address` entries of the hosts file.
    pub hosts: &'a [(&'a str, &'a str)],
    /// Basic authentication: user and password.
    pub auth: Option<(&'a str, &'a str)>,
    /// Host names the proxy's policy refuses (403).
    pub deny: &'a [&'a str],
}

pub struct Squid {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.stderr(Stdio::piped()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A directory every user may enter (Squid started as root works as user `proxy`).
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

impl Squid {
    pub fn start(o: &Options) -> Squid {
        assert!(Path::new(SQUID).exists(), "{SQUID} is missing: scripts/install-deps.sh installs squid");
        for _ in 0..5 {
            if let Some(s) = Squid::try_start(o) {
                return s;
            }
        }
        panic!("Squid did not start");
    }

    fn try_start(o: &Options) -> Option<Squid> {
        use std::fmt::Write;
        let dir = open_dir();
        let d = dir.path();
        let port = free_port();
        let hosts: String = o.hosts.iter().map(|(n, a)| format!("{a} {n}\n")).collect();
        std::fs::write(d.join("hosts"), hosts).unwrap();
        let mut conf = String::new();
        let _ = writeln!(conf, "http_port 127.0.0.1:{port}");
        let _ = writeln!(conf, "visible_hostname postdesk-test-proxy");
        let _ = writeln!(conf, "pid_filename {}/squid.pid", d.display());
        let _ = writeln!(conf, "access_log stdio:{}/access.log", d.display());
        let _ = writeln!(conf, "cache_log {}/cache.log", d.display());
        let _ = writeln!(conf, "coredump_dir {}", d.display());
        let _ = writeln!(conf, "hosts_file {}/hosts", d.display());
        // No DNS server answers: a name outside the hosts file does not resolve, quickly.
        let _ = writeln!(conf, "dns_nameservers 127.0.0.1\ndns_timeout 2 seconds\ndns_retransmit_interval 1 seconds");
        let _ = writeln!(conf, "cache deny all\nshutdown_lifetime 0 seconds\nlogfile_rotate 0\nconnect_timeout 5 seconds\nforward_max_tries 1");
        let _ = writeln!(conf, "acl CONNECT method CONNECT");
        if !o.deny.is_empty() {
            let _ = writeln!(conf, "acl refused dstdomain {}\nhttp_access deny refused", o.deny.join(" "));
        }
        if let Some((user, password)) = o.auth {
            let hash = run(Command::new("openssl").args(["passwd", "-apr1", password]));
            std::fs::write(d.join("htpasswd"), format!("{user}:{}", String::from_utf8_lossy(&hash))).unwrap();
            let _ = writeln!(conf, "auth_param basic program {NCSA_AUTH} {}/htpasswd\nauth_param basic realm postdesk-test", d.display());
            let _ = writeln!(conf, "acl authed proxy_auth REQUIRED\nhttp_access allow authed");
        } else {
            let _ = writeln!(conf, "http_access allow all");
        }
        let _ = writeln!(conf, "http_access deny all");
        std::fs::write(d.join("squid.conf"), conf).unwrap();
        for f in ["hosts", "squid.conf", "htpasswd"] {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o644));
        }
        let child = Command::new(SQUID).args(["-N", "-f"]).arg(d.join("squid.conf")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("squid starts");
        let mut s = Squid { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(s);
            }
            if let Ok(Some(_)) = s.child.try_wait() {
                eprintln!("squid exited: {}", std::fs::read_to_string(s.dir.path().join("cache.log")).unwrap_or_default());
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The access log so far (Squid writes a line when a transaction ends).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Waits (at most 5 s) for an access-log line containing every needle; returns it.
    pub fn wait_for_log(&self, needles: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.access_log();
            if let Some(line) = log.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
                return line.to_string();
            }
            assert!(Instant::now() < deadline, "no access-log line with {needles:?}:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        // SIGTERM (Squid closes its helpers); then reap it.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA and a server certificate for `names`, made with `openssl`: the CA's PEM file (for
/// `SSL_CERT_FILE`), the server's chain and key (PEM).
pub struct TestCa {
    pub dir: tempfile::TempDir,
    pub ca_file: PathBuf,
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

pub fn test_ca(names: &[&str]) -> TestCa {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    // Each CA its own name: another test CA is then an unknown issuer, not a bad signature.
    let subject = format!("/CN=Postdesk proxy test CA {}", d.file_name().and_then(|n| n.to_str()).unwrap_or("x").trim_start_matches('.'));
    run(Command::new("openssl").args(["req", "-x509"]).args(ec).args(["-days", "2", "-subj", &subject, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout"]).arg(d.join("ca.key")).arg("-out").arg(d.join("ca.pem")));
    run(Command::new("openssl").args(["req"]).args(ec).args(["-subj", &format!("/CN={}", names[0]), "-keyout"]).arg(d.join("server.key")).arg("-out").arg(d.join("server.csr")));
    let sans = names.iter().map(|n| format!("DNS:{n}")).collect::<Vec<_>>().join(",");
    std::fs::write(d.join("ext.cnf"), format!("subjectAltName={sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n")).unwrap();
    run(Command::new("openssl").args(["x509", "-req", "-days", "2", "-in"]).arg(d.join("server.csr")).arg("-CA").arg(d.join("ca.pem")).arg("-CAkey").arg(d.join("ca.key")).arg("-CAcreateserial").arg("-extfile").arg(d.join("ext.cnf")).arg("-out").arg(d.join("server.pem")));
    TestCa { ca_file: d.join("ca.pem"), cert_pem: std::fs::read(d.join("server.pem")).unwrap(), key_pem: std::fs::read(d.join("server.key")).unwrap(), dir }
}
