#!/usr/bin/env bash
# The repository builds from a checkout without symlinks (Windows with core.symlinks=false):
# no symlink is tracked, tauri.conf.json is at the top level next to the window's package (the
# root Cargo.toml), and the Tauri CLI finds that config from the top level on its own.
#
#   scripts/check-layout.sh     what `make test` runs (a second or two)
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "layout: $*" >&2; exit 1; }

links=$(git ls-files -s | awk '$1 == "120000" {print $4}')
[ -z "$links" ] || die "symlinks are tracked (a Windows checkout without symlink support gets text files instead): $links"

[ -f tauri.conf.json ] && [ ! -L tauri.conf.json ] || die "tauri.conf.json is not a plain file at the top level"
[ ! -e src-tauri/tauri.conf.json ] || die "src-tauri/tauri.conf.json exists: the one config is the top-level tauri.conf.json"
# The Tauri CLI reads the Cargo package of the folder its config is in ("No package info" on a
# virtual workspace): the root manifest must be the window's package.
pkg=$(cargo pkgid --offline 2>/dev/null || cargo pkgid)
case "$pkg" in
  *"#postdesk@"*) ;;
  *) die "the root Cargo.toml is not the window's package postdesk (cargo pkgid: $pkg)" ;;
esac
# The root package owns only the window (a bin) and its build script: without autotests = false
# and friends it would also take tests/*.rs, which belong to postdesk-tests.
targets=$(cargo metadata --no-deps --format-version 1 --offline 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
root = [p for p in d["packages"] if p["name"] == "postdesk"][0]
print(" ".join(sorted(k + ":" + t["name"] for t in root["targets"] for k in t["kind"])))')
[ "$targets" = "bin:postdesk-window custom-build:build-script-build" ] ||
  die "the root package has other targets than the window: $targets"
# Paths in the config are relative to the top level, and each one exists (frontendDist once built).
python3 - <<'PY' || die "a path in tauri.conf.json does not exist"
import json, os, sys
c = json.load(open("tauri.conf.json"))
b = c["bundle"]
paths = list(b["icon"]) + [b["linux"]["deb"]["desktopTemplate"]]
for files in (b["linux"]["deb"].get("files", {}), b.get("macOS", {}).get("files", {})):
    paths += [p for p in files.values() if not p.startswith("target/")]
missing = [p for p in paths if not os.path.isfile(p)]
if missing:
    print("missing:", missing, file=sys.stderr)
    sys.exit(1)
PY

tauri=packaging/tauri-cli/node_modules/.bin/tauri
if [ ! -x "$tauri" ]; then
  echo "layout: installing the Tauri CLI (npm, packaging/tauri-cli)"
  (cd packaging/tauri-cli && npm install --no-audit --no-fund --no-package-lock --loglevel=error) ||
    die "could not install @tauri-apps/cli from npm"
fi
# From the top level, without TAURI_APP_PATH: the CLI discovers the config and reads it
# (the WiX upgrade code is derived from productName; offline, no build).
out=$(cd "$PWD" && env -u TAURI_APP_PATH "$PWD/$tauri" inspect wix-upgrade-code 2>&1) ||
  die "the Tauri CLI does not find its config from the top level: $out"
grep -q "derived from Postdesk" <<<"$out" || die "the Tauri CLI read another config: $out"
echo "layout: no symlinks tracked; tauri.conf.json at the top level, found by the Tauri CLI"
