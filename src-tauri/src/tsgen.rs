//! Writes `ui/src/lib/bindings/commands.ts` from the commands declared in `command_list.rs`:
//! one typed function per command (argument and result types are the ts-rs bindings), so the
//! page never writes a command name or its arguments by hand. Run by `make bindings` (the test
//! `export_bindings_commands`); `make test` fails when the committed file differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::{Config, ExportError, TypeVisitor, TS};

/// A Rust type as TypeScript sees it: its name and the generated files it needs.
pub struct Ty {
    name: String,
    /// TypeScript name → file (relative to the bindings folder), with the function writing it.
    imports: BTreeMap<String, (PathBuf, fn(&Config) -> Result<(), ExportError>)>,
}

impl Ty {
    pub fn of<T: TS + 'static>() -> Ty {
        struct Collect<'a>(&'a Config, &'a mut BTreeMap<String, (PathBuf, fn(&Config) -> Result<(), ExportError>)>);
        impl TypeVisitor for Collect<'_> {
            fn visit<U: TS + 'static + ?Sized>(&mut self) {
                if let Some(path) = U::output_path() {
                    self.1.insert(U::ident(self.0), (path, U::export_all));
                }
            }
        }
        let cfg = Config::from_env();
        let mut imports = BTreeMap::new();
        let mut collect = Collect(&cfg, &mut imports);
        collect.visit::<T>();
        T::visit_generics(&mut collect);
        Ty { name: T::name(&cfg), imports }
    }
}

/// One argument the page passes.
pub struct Arg {
    name: &'static str,
    ty: Ty,
    /// A `Channel<T>`: the page passes a callback for the messages.
    channel: bool,
}

impl Arg {
    pub fn value<T: TS + 'static>(name: &'static str) -> Arg {
        Arg { name, ty: Ty::of::<T>(), channel: false }
    }

    pub fn channel<T: TS + 'static>(name: &'static str) -> Arg {
        Arg { name, ty: Ty::of::<T>(), channel: true }
    }
}

/// One command as the page sees it.
pub struct Command {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub args: Vec<Arg>,
    pub ret: Ty,
}

/// `snake_case` → `camelCase` (what Tauri expects for argument keys, and the functions' names).
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn import_path(path: &Path) -> String {
    let p = path.with_extension("");
    format!("./{}", p.display())
}

/// The TypeScript module for these commands.
pub fn typescript(commands: &[Command]) -> String {
    let mut imports = BTreeMap::new();
    for c in commands {
        imports.extend(c.ret.imports.iter().map(|(n, (p, _))| (n.clone(), p.clone())));
        for a in &c.args {
            imports.extend(a.ty.imports.iter().map(|(n, (p, _))| (n.clone(), p.clone())));
        }
    }
    let mut out = String::from(
        "// Generated from src-tauri/src/command_list.rs by `make bindings` (src-tauri/src/tsgen.rs): do not edit.\n\
         // One function per command of the window; each resolves with the command's answer or\n\
         // rejects with a `CommandError` ({ code, message, problems }; see errors.ts).\n\n",
    );
    out.push_str("import { Channel } from '@tauri-apps/api/core';\nimport { invoke } from '../ipc';\n");
    for (name, path) in &imports {
        out.push_str(&format!("import type {{ {name} }} from '{}';\n", import_path(path)));
    }
    out.push_str(
        "\nfunction channel<T>(onMessage: (message: T) => void): Channel<T> {\n  const c = new Channel<T>();\n  c.onmessage = onMessage;\n  return c;\n}\n",
    );
    out.push_str("\n/** Every command, by name: what capabilities/default.json grants (one `allow-<command>` each). */\n");
    out.push_str(&format!("export const COMMANDS = [{}] as const;\n", commands.iter().map(|c| format!("'{}'", c.name)).collect::<Vec<_>>().join(", ")));
    for c in commands {
        out.push('\n');
        let docs: Vec<&str> = c.docs.iter().map(|d| d.strip_prefix(' ').unwrap_or(d)).collect();
        if !docs.is_empty() {
            out.push_str("/**\n");
            for d in docs {
                out.push_str(&format!(" *{}{}\n", if d.is_empty() { "" } else { " " }, d.replace("*/", "* /")));
            }
            out.push_str(" */\n");
        }
        let params: Vec<String> = c
            .args
            .iter()
            .map(|a| if a.channel { format!("{}: (message: {}) => void", camel(a.name), a.ty.name) } else { format!("{}: {}", camel(a.name), a.ty.name) })
            .collect();
        let keys: Vec<String> = c.args.iter().map(|a| if a.channel { format!("{0}: channel({0})", camel(a.name)) } else { camel(a.name) }).collect();
        let ret = if c.ret.name == "null" { "void".to_string() } else { c.ret.name.clone() };
        let call = if keys.is_empty() { format!("invoke<{ret}>('{}')", c.name) } else { format!("invoke<{ret}>('{}', {{ {} }})", c.name, keys.join(", ")) };
        out.push_str(&format!("export function {}({}): Promise<{ret}> {{\n  return {call};\n}}\n", camel(c.name), params.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `make bindings`: writes commands.ts (and the types it names) into TS_RS_EXPORT_DIR.
    #[test]
    fn export_bindings_commands() {
        let commands = crate::commands::specs();
        let cfg = Config::from_env();
        for c in &commands {
            for (_, export) in c.ret.imports.values().chain(c.args.iter().flat_map(|a| a.ty.imports.values())) {
                export(&cfg).expect("export a type the commands use");
            }
        }
        let dir = PathBuf::from(std::env::var("TS_RS_EXPORT_DIR").expect("TS_RS_EXPORT_DIR (set in .cargo/config.toml)"));
        std::fs::write(dir.join("commands.ts"), typescript(&commands)).expect("write commands.ts");
    }

    #[test]
    fn the_module_has_one_typed_function_per_command() {
        let ts = typescript(&crate::commands::specs());
        for name in crate::commands::COMMANDS {
            assert_eq!(ts.matches(&format!(">('{name}'")).count(), 1, "{name}");
        }
        assert!(ts.contains("export function loadForm(): Promise<Form> {\n  return invoke<Form>('load_form');\n}"), "{ts}");
        assert!(ts.contains("export function testMail(edits: { [key in string]: string }, secrets: Array<SecretChange>, to: string, onProgress: (message: Progress) => void): Promise<Report> {\n  return invoke<Report>('test_mail', { edits, secrets, to, onProgress: channel(onProgress) });"), "{ts}");
        assert!(ts.contains("export function applyImport(token: string, passphrase: string | null, allowRedirect: boolean): Promise<Form>"), "{ts}");
        assert!(ts.contains("export function templates(client: string | null): Promise<Array<TemplateView>> {\n  return invoke<Array<TemplateView>>('templates', { client });"), "{ts}");
        assert!(ts.contains("export function cancelTestMail(): Promise<void>"), "{ts}");
        assert!(ts.contains("import type { SecretChange } from './SecretChange';"), "{ts}");
        assert_eq!(camel("m365_sign_in"), "m365SignIn");
    }
}
