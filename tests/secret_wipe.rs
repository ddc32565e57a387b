//! Secrets are wiped from memory when dropped: an allocator that looks at every block as it is
//! freed counts the blocks that still hold the canary. A plain `String` is caught (the check
//! works); a `Secret`, its clones, a window's `SecretChange`, what `secret set` reads from
//! stdin and a passphrase file's text never are.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const CANARY: &[u8] = b"canary-W1pe-8d1f0c";

struct Watching;

static ON: AtomicBool = AtomicBool::new(false);
static FREED_WITH_CANARY: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Ordering::Relaxed) && layout.size() >= CANARY.len() {
            // SAFETY: the block is still ours until System.dealloc below.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(CANARY.len()).any(|w| w == CANARY) {
                FREED_WITH_CANARY.fetch_add(1, Ordering::Relaxed);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// How many blocks freed while `f` ran still held the canary.
fn freed_with_canary(f: impl FnOnce()) -> usize {
    FREED_WITH_CANARY.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
    f();
    ON.store(false, Ordering::Relaxed);
    FREED_WITH_CANARY.load(Ordering::Relaxed)
}

fn canary() -> String {
    String::from_utf8(CANARY.to_vec()).unwrap()
}

// One test function: the counter is global, and tests of one binary run in parallel threads.
#[test]
fn secrets_leave_no_copy_in_freed_memory() {
    use postdesk_core::Secret;
    assert_eq!(freed_with_canary(|| drop(std::hint::black_box(canary()))), 1, "the check sees a plain String");

    assert_eq!(freed_with_canary(|| drop(std::hint::black_box(Secret::new(canary())))), 0, "Secret from a String");
    assert_eq!(freed_with_canary(|| drop(std::hint::black_box(Secret::new(canary().as_str())))), 1, "only the plain String, not the Secret");
    let n = freed_with_canary(|| {
        let s = Secret::new(canary());
        let copies = vec![s.clone(), s.clone()];
        assert_eq!(copies[1].expose().as_bytes(), CANARY);
        drop(std::hint::black_box(copies));
        drop(s);
    });
    assert_eq!(n, 0, "clones of a Secret");
    // A secret typed in the window, as the IPC hands it over.
    let n = freed_with_canary(|| {
        let change: postdesk_core::app::SecretChange = serde_json::from_value(serde_json::json!({"key": "global.password", "value": canary()})).unwrap();
        drop(std::hint::black_box(change));
    });
    // The json! value's own String is freed unwiped (1); the SecretChange's copy must not be.
    assert_eq!(n, 1, "SecretChange from the window");
    // `postdesk secret set KEY` with the secret piped in (the input itself is the caller's).
    let piped = format!("{}\r\n", canary()).into_bytes();
    let n = freed_with_canary(|| {
        let s = postdesk_cli::secret_from_input(&piped[..], "global.password").unwrap();
        assert_eq!(s.expose().as_bytes(), CANARY);
    });
    assert_eq!(n, 0, "secret set reading stdin");
    let big = vec![b'x'; 70_000];
    assert!(postdesk_cli::secret_from_input(&big[..], "global.password").is_err(), "a secret over 64 KiB is refused");
    // `--passphrase-file`.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passphrase.txt");
    std::fs::write(&file, format!("{}\nsecond line\n", canary())).unwrap();
    let n = freed_with_canary(|| {
        let p = postdesk_cli::read_passphrase(&file).unwrap();
        assert_eq!(p.expose().as_bytes(), CANARY);
    });
    assert_eq!(n, 0, "the passphrase file's text");
}
