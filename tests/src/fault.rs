//! Small misbehaving servers on loopback, for the failures a real Postfix cannot be made to
//! show (Microsoft 365's replies, silence, resets, HTTP on an SMTP port). Each runs on its
//! own thread and port until the test process ends.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Accepts and never says anything.
    Silent,
    /// Accepts and resets the connection at once.
    Reset,
    /// Greets only after this long.
    SlowBanner(Duration),
    /// Answers like a web server.
    Http,
    /// Greets with this reply (e.g. a 421) and closes.
    Banner(&'static str),
    /// A normal SMTP dialogue, except for the given replies.
    Smtp(Script),
}

/// Replies that replace the normal ones; `None` keeps the normal reply.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub auth: Option<&'static str>,
    pub mail_from: Option<&'static str>,
    pub rcpt_to: Option<&'static str>,
    /// Do not advertise AUTH.
    pub no_auth: bool,
    /// Answer XOAUTH2 with a JSON challenge and then this reply (Microsoft's and Gmail's way).
    pub xoauth2_challenge: Option<&'static str>,
    /// Keeps the exact bytes received after `354`, up to and including the `<CRLF>.<CRLF>`
    /// that ends them (a raw recorder: a real MTA would repair what it got).
    pub data: Option<Arc<Mutex<Vec<u8>>>>,
    /// Reads the message slowly (64 KiB every 50 ms), so that writing a large one takes long.
    pub slow_data: bool,
    /// Waits this long before answering the end of the message (a slow content filter).
    pub data_reply_after: Option<Duration>,
}

/// Starts a fault server; returns its port.
pub fn start(fault: Fault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let fault = fault.clone();
            std::thread::spawn(move || serve(stream, fault));
        }
    });
    port
}

/// A port whose SYNs are dropped: a listener that never accepts, with its one-slot accept
/// queue already full. A connect to it hangs like one to a black-holed host, without leaving
/// loopback. The returned guard keeps it so.
pub fn black_hole() -> (u16, Vec<TcpStream>, socket2::Socket) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    socket.listen(0).unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    // Fill the queue; later SYNs are dropped (net.ipv4.tcp_abort_on_overflow = 0).
    let mut fillers = Vec::new();
    for _ in 0..3 {
        if let Ok(s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)) {
            fillers.push(s);
        }
    }
    (port, fillers, socket)
}

/// A port on which nothing listens.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn serve(mut stream: TcpStream, fault: Fault) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    match fault {
        Fault::Silent => std::thread::sleep(Duration::from_secs(60)),
        Fault::Reset => {
            // SO_LINGER 0 turns close() into a TCP reset.
            let _ = socket2_linger_zero(&stream);
        }
        Fault::SlowBanner(d) => {
            std::thread::sleep(d);
            let _ = stream.write_all(b"220 slow.example.test ESMTP\r\n");
            std::thread::sleep(Duration::from_secs(5));
        }
        Fault::Http => {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            std::thread::sleep(Duration::from_millis(200));
        }
        Fault::Banner(line) => {
            let _ = stream.write_all(format!("{line}\r\n").as_bytes());
            std::thread::sleep(Duration::from_millis(200));
        }
        Fault::Smtp(script) => {
            let _ = dialogue(stream, &script);
        }
    }
}

fn socket2_linger_zero(stream: &TcpStream) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let linger = libc_linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: a valid socket descriptor and a correctly sized `struct linger`.
        let rc = unsafe {
            setsockopt(stream.as_raw_fd(), 1 /* SOL_SOCKET */, 13 /* SO_LINGER */, &linger as *const _ as *const std::ffi::c_void, std::mem::size_of::<libc_linger>() as u32)
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(unix)]
#[repr(C)]
struct libc_linger {
    l_onoff: i32,
    l_linger: i32,
}

#[cfg(unix)]
extern "C" {
    fn setsockopt(fd: i32, level: i32, name: i32, value: *const std::ffi::c_void, len: u32) -> i32;
}

/// The message bytes up to and including the first `<CRLF>.<CRLF>` (or a `.<CRLF>` at the very
/// start): only that ends the data (RFC 5321 §4.1.1.4), whatever bare CR or LF came before.
fn read_data(reader: &mut BufReader<TcpStream>, slow: bool) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut since_pause = 0;
    loop {
        let n = reader.read_until(b'\n', &mut data)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if data == b".\r\n" || data.ends_with(b"\r\n.\r\n") {
            return Ok(data);
        }
        since_pause += n;
        if slow && since_pause >= 64 * 1024 {
            since_pause = 0;
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn dialogue(stream: TcpStream, script: &Script) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut say = |line: &str| out.write_all(format!("{line}\r\n").as_bytes());
    say("220 fault.example.test ESMTP ready")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            say("250-fault.example.test")?;
            say("250-PIPELINING")?;
            say("250-8BITMIME")?;
            if !script.no_auth {
                say("250-AUTH PLAIN LOGIN XOAUTH2")?;
            }
            say("250 SMTPUTF8")?;
        } else if cmd.starts_with("AUTH") {
            if let (true, Some(last)) = (cmd.starts_with("AUTH XOAUTH2"), script.xoauth2_challenge) {
                // base64 of {"status":"401","schemes":"bearer","scope":"https://outlook.office.com/SMTP.Send"}
                say("334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbS9TTVRQLlNlbmQifQ==")?;
                line.clear();
                reader.read_line(&mut line)?;
                say(last)?;
            } else {
                say(script.auth.unwrap_or("235 2.7.0 Authentication successful"))?;
            }
        } else if cmd.starts_with("MAIL FROM") {
            say(script.mail_from.unwrap_or("250 2.1.0 Ok"))?;
        } else if cmd.starts_with("RCPT TO") {
            say(script.rcpt_to.unwrap_or("250 2.1.5 Ok"))?;
        } else if cmd == "DATA" {
            say("354 End data with <CR><LF>.<CR><LF>")?;
            let data = read_data(&mut reader, script.slow_data)?;
            if let Some(keep) = &script.data {
                keep.lock().unwrap().extend_from_slice(&data);
            }
            if let Some(wait) = script.data_reply_after {
                std::thread::sleep(wait);
            }
            say("250 2.0.0 Ok: queued as FAULT1")?;
        } else if cmd == "QUIT" {
            say("221 2.0.0 Bye")?;
            return Ok(());
        } else {
            say("250 2.0.0 Ok")?;
        }
    }
}
