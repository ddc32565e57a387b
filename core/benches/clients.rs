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

/// Time this thread has spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`), so the figure does not
/// grow when other processes share the machine's cores; wall time is printed too. (The
/// thread's schedstat, read before, advances in scheduler ticks of 4 ms: too coarse.)
fn cpu_time() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to write into.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs `f` `n` times; the median of (CPU time, wall time).
fn measure(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let (c, t) = (cpu_time(), Instant::now());
        f();
        wall.push(t.elapsed());
        cpu.push(cpu_time() - c);
    }
    (median(cpu), median(wall))
}

fn main() {
    let config = large();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    store.save(&config, &store.lock().unwrap()).unwrap();
    let bytes = std::fs::metadata(store.path()).unwrap().len();
    let ctx = || Context { today: postdesk_core::app::today(), secrets_set: None };

    // Saving is mostly fsync (disk wait, not CPU): its wall time is the figure.
    let (_, save) = measure(15, || store.save(black_box(&config), &store.lock().unwrap()).unwrap());
    let (load_only, _) = measure(15, || drop(black_box(store.load().unwrap())));
    let mut problems = 0;
    let (load_validate, load_validate_wall) = measure(15, || {
        let loaded = store.load().unwrap();
        problems = validate(black_box(&loaded), &ctx()).len();
    });
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
    let (c0, t) = (cpu_time(), Instant::now());
    for i in 0..n {
        let (client, from) = &mails[i % mails.len()];
        let (route, _) = resolve_route(black_box(&config), client.as_deref(), Some(from)).unwrap();
        if let Route::Send(s) = route {
            routed += s.source.starts_with("route:") as usize;
        }
    }
    let per_mail = (cpu_time() - c0) / n as u32;
    let per_mail_wall = t.elapsed() / n as u32;
    assert!(routed > 0);

    // What a Microsoft 365 send reads of the configuration (the global server signs in with
    // Graph; 10,000 clients are configured besides), and one `config set` of a client key.
    let mut m365 = config.clone();
    for (k, v) in [("global.auth", "m365-graph"), ("global.m365.tenant", "contoso.onmicrosoft.com"), ("global.m365.client_id", "72f988bf-86f1-41af-91ab-2d7cd011db47")] {
        let key = postdesk_core::keys::Key::parse(k).unwrap();
        m365 = key.write(&m365, postdesk_core::keys::parse_raw(key.field, v).unwrap());
    }
    // Wall time (the thread's CPU time is counted in scheduler ticks, too coarse for these).
    let (_, m365_100) = measure(15, || {
        for _ in 0..100 {
            drop(black_box(postdesk_core::oauth::M365::from_config(black_box(&m365), "global").unwrap()));
        }
    });
    let m365_per_send = m365_100 / 100;
    let port_key = postdesk_core::keys::Key::parse("client.client-04242.port").unwrap();
    let (_, set_key) = measure(15, || drop(black_box(port_key.write(black_box(&config), Some(587.into())))));

    // load_validate and resolve: CPU time; save: wall time.
    let targets = [
        ("load_validate", load_validate, Duration::from_millis(50)),
        ("save", save, Duration::from_millis(100)),
        ("resolve_per_mail", per_mail, Duration::from_micros(10)),
        ("m365_settings_per_send", m365_per_send, Duration::from_micros(100)),
        ("set_key", set_key, Duration::from_millis(20)),
    ];
    let mut missed = Vec::new();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("{{\n  \"clients\": {CLIENTS}, \"routes\": {ROUTES}, \"file_bytes\": {bytes}, \"load_only_cpu_us\": {:.1},", us(load_only));
    println!("  \"wall_us\": {{\"load_validate\": {:.1}, \"resolve_per_mail\": {:.2}}},", us(load_validate_wall), us(per_mail_wall));
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
