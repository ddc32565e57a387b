//! `make bench` (scripts/bench.sh): a large installation — 10,000 clients and 200 routes —
//! loaded and validated, saved, and resolved per mail. Release build, plain timing (median of
//! repeated runs; resolution: mean over 100,000 mails). Targets in bench/README.md.
//! Prints one JSON object; with BENCH_STRICT=1 exits 4 when a target is missed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use postdesk_core::model::{ClientSettings, Config, RouteSettings};
use postdesk_core::resolve::{resolve_route, Route};
use postdesk_core::store::Store;
use postdesk_core::validate::{validate, Context};

const CLIENTS: usize = 10_000;
const ROUTES: usize = 200;

fn large() -> Config {
    let mut c = Config::default();
    c.global.enabled = Some(true);
    c.global.host = Some("smtp.example.com".into());
    c.global.port = Some(587);
    c.global.sender.address = Some("it@example.com".into());
    for i in 0..CLIENTS {
        let mut client = ClientSettings { name: Some(format!("Client number {i}")), ..Default::default() };
        if i % 3 == 0 {
            client.server.enabled = Some(true);
            client.server.host = Some(format!("smtp.client{i}.example.net"));
            client.server.sender.address = Some(format!("office@client{i}.example.net"));
        }
        c.clients.insert(format!("client-{i:05}"), client);
    }
    for i in 0..ROUTES {
        let mut route = RouteSettings { order: Some((i % 7) as u32 * 10), ..Default::default() };
        route.from = Some(match i % 3 {
            0 => format!("*@d{i}.example.org"),
            1 => format!("*@*.d{i}.example.org"),
            _ => format!("boss{i}@example.org"),
        });
        route.server.enabled = Some(i % 10 != 0);
        route.server.host = Some(format!("relay{i}.example.org"));
        c.routes.insert(format!("route-{i:03}"), route);
    }
    c
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let config = large();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    store.save(&config).unwrap();
    let bytes = std::fs::metadata(store.path()).unwrap().len();
    let ctx = || Context { today: postdesk_core::app::today(), secrets_set: None };

    let save = median((0..15).map(|_| {
        let t = Instant::now();
        store.save(black_box(&config)).unwrap();
        t.elapsed()
    }).collect());

    let mut problems = 0;
    let load_validate = median((0..15).map(|_| {
        let t = Instant::now();
        let loaded = store.load().unwrap();
        problems = validate(black_box(&loaded), &ctx()).len();
        t.elapsed()
    }).collect());
    assert_eq!(problems, 0, "the benchmark configuration is valid");

    // Mails of every kind: own server, global, exact/domain/subdomain routes, no match.
    let mails: Vec<(Option<String>, String)> = (0..1000)
        .map(|i| {
            let client = (i % 4 != 0).then(|| format!("client-{:05}", (i * 37) % CLIENTS));
            let from = match i % 5 {
                0 => format!("a@d{}.example.org", (i * 3) % ROUTES),
                1 => format!("b@x.d{}.example.org", (i * 3 + 1) % ROUTES),
                2 => format!("boss{}@example.org", (i * 3 + 2) % ROUTES),
                _ => format!("user{i}@elsewhere.example"),
            };
            (client, from)
        })
        .collect();
    let mut routed = 0usize;
    let n = 100_000;
    let t = Instant::now();
    for i in 0..n {
        let (client, from) = &mails[i % mails.len()];
        let (route, _) = resolve_route(black_box(&config), client.as_deref(), Some(from)).unwrap();
        if let Route::Send(s) = route {
            routed += s.source.starts_with("route:") as usize;
        }
    }
    let per_mail = t.elapsed() / n as u32;
    assert!(routed > 0);

    let targets = [("load_validate", load_validate, Duration::from_millis(50)), ("save", save, Duration::from_millis(100)), ("resolve_per_mail", per_mail, Duration::from_micros(10))];
    let mut missed = Vec::new();
    println!("{{\n  \"clients\": {CLIENTS}, \"routes\": {ROUTES}, \"file_bytes\": {bytes},");
    for (i, (name, took, target)) in targets.iter().enumerate() {
        let ok = took <= target;
        if !ok {
            missed.push(*name);
        }
        let comma = if i + 1 < targets.len() { "," } else { "" };
        println!("  \"{name}\": {{\"us\": {:.1}, \"target_us\": {}, \"ok\": {ok}}}{comma}", took.as_secs_f64() * 1e6, target.as_micros());
    }
    println!("}}");
    if !missed.is_empty() {
        eprintln!("bench: missed: {}", missed.join(", "));
        if std::env::var("BENCH_STRICT").as_deref() == Ok("1") {
            std::process::exit(4);
        }
    }
}
