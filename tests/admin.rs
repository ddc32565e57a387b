//! The admin features of the command line (../shared/CLI.md, "Admin features"): invitation
//! templates, the Do-Not-Email list and the `limits.` keys. Runs the real binary against a
//! throwaway data directory; sending through them is in `limits.rs` (real Postfix).

use postdesk_tests::postdesk;

fn data() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn template_render_fills_vars_and_samples_the_rest() {
    let d = data();
    let r = postdesk(d.path(), &["template", "render", "standard", "--var", "name=Dana Lee", "--var", "company=ACME", "--var", "inviter=Kim"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("Subject: Kim invited you to ACME\n\nHello Dana Lee,\n"), "{}", r.stdout);
    assert!(r.stdout.contains("https://example.com/invite/"), "{}", r.stdout);
    assert!(r.stderr.contains("sample values used for: email, link"), "{}", r.stderr);
    // Power users get their own text.
    let p = postdesk(d.path(), &["template", "render", "power"], None);
    assert_eq!(p.code, 0);
    assert!(p.stdout.contains("as a power user") && !r.stdout.contains("power user"));
}

#[test]
fn template_keys_set_show_and_reset() {
    let d = data();
    let body = "Hi {{name}},\n\n  join {{company}}: {{link}}\n";
    assert_eq!(postdesk(d.path(), &["config", "set", "templates.contractor.body", body], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "set", "templates.contractor.subject", "Welcome, {{ name }}"], None).code, 0);
    let r = postdesk(d.path(), &["template", "render", "contractor", "--var", "name=Ola", "--var", "company=C", "--var", "link=https://x.test/1"], None);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Subject: Welcome, Ola\n\nHi Ola,\n\n  join C: https://x.test/1\n"), "{r:?}");
    // A built-in type's key shows its default until set; unset is "reset to default".
    let default = postdesk(d.path(), &["config", "get", "templates.power.subject"], None).stdout;
    assert!(default.contains("{{inviter}}"), "{default}");
    assert_eq!(postdesk(d.path(), &["config", "set", "templates.power.subject", "Join {{company}}"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "templates.power.subject"], None).stdout, "Join {{company}}\n");
    assert_eq!(postdesk(d.path(), &["config", "unset", "templates.power.subject"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "templates.power.subject"], None).stdout, default);
    // `config show` keeps one line per key.
    assert_eq!(postdesk(d.path(), &["dne", "add", "*@x.test"], None).code, 0);
    let show = postdesk(d.path(), &["config", "show"], None);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(show.stdout.lines().any(|l| l == "templates.contractor.body = Hi {{name}},\\n\\n  join {{company}}: {{link}}"), "{}", show.stdout);
    assert!(show.stdout.lines().all(|l| l.contains(" = ")), "{}", show.stdout);
    assert!(show.stdout.contains("\ndne = 1 entry (postdesk dne list)\n"), "{}", show.stdout);
}

#[test]
fn unknown_placeholder_exits_2_naming_it_and_its_position() {
    let d = data();
    let before = postdesk(d.path(), &["config", "set", "templates.power.body", "fine {{name}}"], None);
    assert_eq!(before.code, 0);
    let saved = std::fs::read(d.path().join("config.json")).unwrap();
    let r = postdesk(d.path(), &["config", "set", "templates.power.body", "Hello\n  {{nmae}}"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("templates.power.body: line 2, column 3: unknown placeholder {{nmae}}"), "{}", r.stderr);
    assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), saved, "nothing saved");
    let r = postdesk(d.path(), &["config", "set", "templates.power.subject", "Hi\r\nBcc: all@example.com"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("templates.power.subject: must be one line"), "{}", r.stderr);
    // A file edited by hand still gets its placeholder named on render.
    std::fs::write(d.path().join("config.json"), r#"{"version":1,"templates":{"power":{"subject":"Hi {{title}}"}}}"#).unwrap();
    let r = postdesk(d.path(), &["template", "render", "power"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("templates.power.subject: line 1, column 4: unknown placeholder {{title}}"), "{}", r.stderr);
    for (args, says) in [
        (&["template", "render", "standard", "--var", "nmae=x"][..], "--var nmae: unknown placeholder {{nmae}}"),
        (&["template", "render", "standard", "--var", "name"], "must be KEY=VALUE"),
        (&["template", "render", "standard", "--var", "company=A\nBcc: x@y.test"], "--var company: is used in the subject and must be one line"),
        (&["template", "render", "nobody"], "nobody: no such user type (types: power, standard)"),
    ] {
        let r = postdesk(data().path(), args, None);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn dne_add_list_search_remove() {
    let d = data();
    let r = postdesk(d.path(), &["dne", "add", "Bob@Example.COM", "*@Blocked.test", "bob@example.com"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(postdesk(d.path(), &["dne", "list"], None).stdout, "*@blocked.test\nbob@example.com\n");
    assert_eq!(postdesk(d.path(), &["dne", "list", "BLOCK"], None).stdout, "*@blocked.test\n");
    // Invalid entries: exit 2, each named, nothing saved (not even the valid one).
    let saved = std::fs::read(d.path().join("config.json")).unwrap();
    let r = postdesk(d.path(), &["dne", "add", "ok@x.test", "no-at-sign", "a*b@x.test", "*@bad_domain"], None);
    assert_eq!(r.code, 2, "{r:?}");
    for bad in ["no-at-sign", "a*b@x.test", "*@bad_domain"] {
        assert!(r.stderr.contains(&format!("dne: {bad}")), "{bad}: {}", r.stderr);
    }
    assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), saved);
    let r = postdesk(d.path(), &["dne", "remove", "BOB@example.com", "nobody@x.test"], None);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("nobody@x.test: not on the Do-Not-Email list"));
    assert_eq!(postdesk(d.path(), &["dne", "list"], None).stdout, "*@blocked.test\n");
}

#[test]
fn dne_csv_import_export() {
    let d = data();
    let dir = data();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "\u{feff}\"Email\",\"Note\"\r\n\"carol@example.com\",\"asked, twice\"\r\n*@Spam.test\r\n\r\n").unwrap();
    let r = postdesk(d.path(), &["dne", "import", good.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("2 new entries"), "{}", r.stderr);
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "dave@example.com\nnot an address\n\"two words@x.test\",x\n").unwrap();
    let before = std::fs::read(d.path().join("config.json")).unwrap();
    let r = postdesk(d.path(), &["dne", "import", bad.to_str().unwrap()], None);
    assert_eq!(r.code, 1, "{r:?}");
    // Named by line only: a bad line's text is not echoed (the file may be anything).
    assert!(r.stderr.contains("line 2: is not an address") && !r.stderr.contains("line 2: not an address"), "{}", r.stderr);
    assert!(r.stderr.contains("line 3:"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was changed"));
    assert_eq!(std::fs::read(d.path().join("config.json")).unwrap(), before, "dave@ was not added either");
    let out = dir.path().join("out.csv");
    assert_eq!(postdesk(d.path(), &["dne", "export", out.to_str().unwrap()], None).code, 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "address\n*@spam.test\ncarol@example.com\n");
    // What was exported imports again into another installation.
    let other = data();
    assert_eq!(postdesk(other.path(), &["dne", "import", out.to_str().unwrap()], None).code, 0);
    assert_eq!(postdesk(other.path(), &["dne", "list"], None).stdout, "*@spam.test\ncarol@example.com\n");
}

#[test]
fn limits_keys_are_validated() {
    let d = data();
    assert_eq!(postdesk(d.path(), &["config", "get", "limits.max_per_day"], None).stdout, "0\n");
    assert_eq!(postdesk(d.path(), &["config", "get", "limits.ignore_dne_for"], None).stdout, "none\n");
    assert_eq!(postdesk(d.path(), &["config", "set", "limits.max_per_day", "500"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "set", "limits.ignore_dne_for", "Priority"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "get", "limits.ignore_dne_for"], None).stdout, "priority\n");
    for (key, value, says) in [
        ("limits.max_per_day", "1000001", "0 to 1000000"),
        ("limits.max_per_day", "many", "0 to 1000000"),
        ("limits.ignore_dne_for", "sometimes", "none, priority, all"),
        ("limits.max_per_dya", "1", "unknown key"),
    ] {
        let r = postdesk(d.path(), &["config", "set", key, value], None);
        assert_eq!(r.code, 2, "{key}={value}: {r:?}");
        assert!(r.stderr.contains(key) && r.stderr.contains(says), "{}", r.stderr);
    }
    assert_eq!(postdesk(d.path(), &["config", "get", "limits.max_per_day"], None).stdout, "500\n");
}

#[test]
fn list_limits_and_templates_are_exported_and_imported() {
    let d = data();
    assert_eq!(postdesk(d.path(), &["dne", "add", "*@blocked.test"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "set", "limits.max_per_day", "42"], None).code, 0);
    assert_eq!(postdesk(d.path(), &["config", "set", "templates.power.subject", "Hi {{name}}"], None).code, 0);
    let file = data();
    let path = file.path().join("export.json");
    let r = postdesk(d.path(), &["export", path.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    let other = data();
    let r = postdesk(other.path(), &["import", path.to_str().unwrap()], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("+ dne = *@blocked.test"), "{}", r.stdout);
    assert!(r.stdout.contains("+ limits.max_per_day = 42"), "{}", r.stdout);
    assert!(r.stdout.contains("+ templates.power.subject = Hi {{name}}"), "{}", r.stdout);
    assert_eq!(postdesk(other.path(), &["dne", "list"], None).stdout, "*@blocked.test\n");
    assert!(postdesk(other.path(), &["template", "render", "power", "--var", "name=Z"], None).stdout.starts_with("Subject: Hi Z\n"));
    // The schema describes the new sections.
    let schema = postdesk(d.path(), &["schema"], None).stdout;
    for word in ["TemplateSettings", "LimitSettings", "max_per_day", "ignore_dne_for", "\"dne\""] {
        assert!(schema.contains(word), "schema lacks {word}");
    }
}

#[test]
fn template_render_for_a_client_uses_its_override_then_the_global_text() {
    let d = data();
    let set = |k: &str, v: &str| assert_eq!(postdesk(d.path(), &["config", "set", k, v], None).code, 0, "{k}");
    set("client.acme.name", "ACME Ltd");
    set("client.bolt.name", "Bolt");
    set("templates.standard.subject", "Global: join {{company}}");
    set("client.acme.templates.standard.body", "ACME welcomes {{name}}: {{link}}");
    let r = postdesk(d.path(), &["template", "render", "standard", "--client", "acme", "--var", "name=Dana", "--var", "company=ACME"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("Subject: Global: join ACME\n\nACME welcomes Dana: https://example.com/invite/"), "{}", r.stdout);
    // Another client, and no client, get the global subject and the default body.
    for args in [&["template", "render", "standard", "--client", "bolt"][..], &["template", "render", "standard"][..]] {
        let r = postdesk(d.path(), args, None);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.starts_with("Subject: Global: join Example Corp\n\nHello Alex Example,"), "{}", r.stdout);
    }
    // Unknown client: a usage error naming it.
    let r = postdesk(d.path(), &["template", "render", "standard", "--client", "nope"], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("nope: no such client"), "{}", r.stderr);
    // A bad override is refused with its key named, and unset falls back again.
    let r = postdesk(d.path(), &["config", "set", "client.acme.templates.standard.subject", "Hi {{nmae}}"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("client.acme.templates.standard.subject: line 1, column 4: unknown placeholder {{nmae}}"), "{}", r.stderr);
    assert_eq!(postdesk(d.path(), &["config", "unset", "client.acme.templates.standard.body"], None).code, 0);
    let r = postdesk(d.path(), &["template", "render", "standard", "--client", "acme"], None);
    assert!(r.stdout.contains("Hello Alex Example,"), "{}", r.stdout);
}
