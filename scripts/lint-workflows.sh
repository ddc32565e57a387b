#!/usr/bin/env bash
# What can be checked here of the Windows and macOS builds, which cannot run on this machine:
# - .github/workflows/*.yml with actionlint (syntax, expressions, job and step references,
#   runner labels, shellcheck of `run:` scripts when shellcheck is installed);
# - tauri.conf.json, and that file merged with packaging/windows/bundle.conf.json as
#   `tauri build --config` merges it (JSON merge patch), against the Tauri CLI's own config
#   schema (@tauri-apps/cli's config.schema.json, the version of packaging/tauri-cli);
# - that the macOS and Windows bundles carry the command line beside the window.
# Tools come from target/test-venv (scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/test-venv
die() { echo "lint: $*" >&2; exit 1; }
[ -x "$venv/bin/actionlint" ] || die "actionlint is missing: run scripts/install-deps.sh test"
command -v shellcheck >/dev/null || die "shellcheck is missing (actionlint checks the run: scripts with it): run scripts/install-deps.sh test"

"$venv/bin/actionlint" -no-color .github/workflows/*.yml
echo "lint: actionlint found no problems in $(ls .github/workflows/*.yml | tr '\n' ' ')"

schema=packaging/tauri-cli/node_modules/@tauri-apps/cli/config.schema.json
if [ ! -f "$schema" ]; then
  (cd packaging/tauri-cli && npm install --no-audit --no-fund --no-package-lock --loglevel=error) ||
    die "could not install @tauri-apps/cli from npm"
fi
"$venv/bin/python" - "$schema" <<'PY'
import json, sys
import jsonschema

schema = json.load(open(sys.argv[1]))
base = json.load(open("tauri.conf.json"))
windows = json.load(open("packaging/windows/bundle.conf.json"))

def merge(target, patch):
    """RFC 7396 JSON merge patch, as the Tauri CLI applies --config."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out

merged = merge(base, windows)
validator = jsonschema.Draft7Validator(schema)
for name, conf in [("tauri.conf.json", base), ("tauri.conf.json + packaging/windows/bundle.conf.json", merged)]:
    errors = sorted(validator.iter_errors(conf), key=lambda e: list(e.path))
    for e in errors:
        print(f"lint: {name}: {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
    if errors:
        sys.exit(1)

b = base["bundle"]
# Linux: the .deb carries /usr/bin/postdesk (unchanged); macOS: Contents/MacOS/postdesk.
assert b["linux"]["deb"]["files"] == {"/usr/bin/postdesk": "target/release/postdesk"}, b["linux"]
assert b["macOS"]["files"].get("MacOS/postdesk") == "target/release/postdesk", b["macOS"]
assert "externalBin" not in b, "externalBin in tauri.conf.json would be checked by every build (and go into the .deb)"
# Windows: the installers carry postdesk.exe beside postdesk-window.exe (externalBin, staged by
# scripts/stage-cli.sh as target/sidecar/postdesk-<triple>.exe).
wb = merged["bundle"]
assert wb["externalBin"] == ["target/sidecar/postdesk"], wb.get("externalBin")
assert set(wb["targets"]) == {"msi", "nsis"}, wb["targets"]
print("lint: tauri.conf.json and the Windows bundle config match the Tauri CLI's schema; the CLI rides along on macOS and Windows")
PY
