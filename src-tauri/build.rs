fn main() {
    // Reads src-tauri/tauri.conf.json, a symlink to the root tauri.conf.json (see ARCHITECTURE.md).
    // The application ACL manifest: every command below needs its `allow-<command>`
    // permission, which only the main window's capability (capabilities/default.json)
    // grants; no other window or page can call any of them. Keep the list in step with
    // `generate_handler!` in src/gui.rs (a command missing here cannot be called at all).
    let commands = tauri_build::AppManifest::new().commands(&[
        "load_form",
        "preview",
        "save",
        "test_mail",
        "cancel_test_mail",
        "export_config",
        "choose_import",
        "open_dropped",
        "preview_import",
        "apply_import",
        "undo_import",
        "list_clients",
        "add_client",
        "rename_client",
        "remove_client",
        "list_routes",
        "add_route",
        "remove_route",
        "reorder_routes",
        "scope_form",
        "save_scope",
        "explain",
        "support_preview",
        "send_support",
        "receiver_check",
        "cancel_receiver_check",
        "templates",
        "preview_template",
        "save_template",
        "reset_template",
        "remove_template",
        "send_template_preview",
        "dne_view",
        "dne_add",
        "dne_remove",
        "dne_import",
        "dne_export",
        "save_limits",
        "list_presets",
        "m365_sign_in",
        "m365_status",
        "m365_sign_out",
        "get_pref",
        "set_pref",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands)).expect("tauri-build");
}
