fn main() {
    // Reads src-tauri/tauri.conf.json, a symlink to the root tauri.conf.json (see ARCHITECTURE.md).
    tauri_build::build()
}
