// The application ACL manifest: every command declared in src/command_list.rs (the one
// declaration the handler list and the UI's TypeScript functions also come from) gets an
// `allow-<command>` permission, which only the main window's capability
// (capabilities/default.json) grants; no other window or page can call any of them.
//
// A build script cannot call the crate, so it reads the declaration itself: the file is one
// `commands! { … }` invocation, and the `commands!` below keeps only the names (the bodies are
// tokens it never compiles).
macro_rules! commands {
    ($($(#[doc = $doc:literal])* $(async)? fn $name:ident $args:tt $(using $inj:tt)? -> $ret:ty $body:block)*) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

include!("src/command_list.rs");

fn main() {
    // The package's manifest is the root Cargo.toml (next to tauri.conf.json, which
    // tauri-build reads from there); the window's code and capabilities are in src-tauri/.
    println!("cargo:rerun-if-changed=src-tauri/src/command_list.rs");
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let commands = tauri_build::AppManifest::new().commands(COMMANDS);
    let attributes = tauri_build::Attributes::new().app_manifest(commands).capabilities_path_pattern("./src-tauri/capabilities/**/*");
    tauri_build::try_build(attributes).expect("tauri-build");
}
