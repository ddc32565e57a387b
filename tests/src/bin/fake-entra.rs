//! The fake Entra ID + Graph as a long-lived process, for Dovecot's token introspection and
//! for the CLI's sign-in tests: `fake-entra [--port N] [--port-file FILE]`.
//! It serves the tenant of `postdesk_tests::fake_entra::stack_tenant()` and runs until killed.

use postdesk_tests::fake_entra::{stack_tenant, FakeEntra};

fn main() {
    let mut port = 0u16;
    let mut port_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port N"),
            "--port-file" => port_file = args.next(),
            _ => {
                eprintln!("usage: fake-entra [--port N] [--port-file FILE]");
                std::process::exit(2);
            }
        }
    }
    let fake = FakeEntra::start_on(port);
    fake.add_tenant(stack_tenant());
    if let Some(f) = port_file {
        let tmp = format!("{f}.tmp");
        std::fs::write(&tmp, fake.addr.port().to_string()).expect("write port file");
        std::fs::rename(&tmp, &f).expect("port file");
    }
    println!("fake Entra ID + Graph on {}", fake.url());
    loop {
        std::thread::park();
    }
}
