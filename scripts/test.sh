#!/usr/bin/env bash
# Runs every test against real parts: the UI's unit tests, the Rust tests with the real
# keychain (gnome-keyring in a throwaway D-Bus session) and the real window under Xvfb.
#
#   scripts/test.sh                 everything (what `make test` runs)
#   scripts/test.sh CMD [ARG...]    only CMD, inside the same display and keychain sandbox,
#                                   e.g. scripts/test.sh cargo test -p postdesk-tests --test e2e
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n== %s\n' "$*"; }

if [ $# -eq 0 ]; then
step "UI: install, type-check, unit tests, build"
make --no-print-directory ui/node_modules/.package-lock.json
(cd ui && npm run --silent check && npm test --silent && npm run --silent build)

step "Rust: build everything once"
cargo build --workspace --all-targets
built=(--all-targets)

step "The CLI and the window use only the core's façade (built without the tests' feature \`internals\`)"
cargo check -q -p postdesk-cli -p postdesk --all-targets

step "Fuzz briefly: import, message (send -t), argv (sendmail's options) (make fuzz runs them longer)"
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
fuzz_log=$(mktemp)
for target in import message argv; do
  mkdir -p "fuzz/corpus/$target"
  if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" --sanitizer none -- \
          -max_total_time=10 -rss_limit_mb=2048 "corpus/$target") >"$fuzz_log" 2>&1; then
    tail -40 "$fuzz_log"
    echo "the fuzzer found a crash: the input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  printf '%-8s ' "$target"; grep -E '^Done' "$fuzz_log"
done
rm -f "$fuzz_log"

step "Layout: no symlinks tracked, tauri.conf.json found by the Tauri CLI; the release workflow passes actionlint"
scripts/check-layout.sh
scripts/lint-workflows.sh

step "AppImage runtime: extraction never follows planted links, no setuid, cleanup on Ctrl-C"
tests/appimage/runtime-test.sh

step "Generated UI types are up to date"
cargo test -q -p postdesk-core export_bindings >/dev/null
cargo test -q -p postdesk export_bindings >/dev/null  # commands.ts, from src-tauri/src/command_list.rs
if ! git diff --quiet -- ui/src/lib/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/lib/bindings)" ]; then
  git status --short ui/src/lib/bindings
  echo "ui/src/lib/bindings changed: run 'make bindings' and commit the result" >&2
  exit 1
fi
else
# Only CMD: still bring the two programs the tests start up to date (a no-op when they are),
# so a window test never runs a window binary older than the code. The UI bundle it embeds is
# rebuilt by `make ui`.
cargo build -q --workspace --bins
built=(--bins)
fi

# A throwaway home for the keyring and the app, so tests never touch the developer's own.
sandbox=$(mktemp -d /tmp/postdesk-test.XXXXXX)
chmod 700 "$sandbox"
mailstack=$(mktemp -d /tmp/pdm.XXXXXX)
cleanup() {
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  tests/mailstack/stop.sh "$mailstack" >/dev/null 2>&1 || true
  [ -n "${entra_pid:-}" ] && kill "$entra_pid" 2>/dev/null || true
  rm -rf "$sandbox" "$mailstack"
}
trap cleanup EXIT
mkdir -p "$sandbox"/{data,config,cache,runtime}
chmod 700 "$sandbox/runtime"

step "Fake Entra ID + Graph on loopback (Dovecot introspects XOAUTH2 tokens there)"
# With the same targets as the build above: `--bin` alone leaves the dev-dependencies out,
# which changes the features of shared dependencies and would rebuild the core and the tests.
cargo build -q --workspace "${built[@]}"
target/debug/fake-entra --port-file "$mailstack.entra-port" </dev/null >"$sandbox/fake-entra.log" 2>&1 &
entra_pid=$!
for _ in $(seq 50); do [ -s "$mailstack.entra-port" ] && break; sleep 0.1; done
[ -s "$mailstack.entra-port" ] || { cat "$sandbox/fake-entra.log"; echo "fake-entra did not start" >&2; exit 1; }
entra_url=http://127.0.0.1:$(cat "$mailstack.entra-port")
rm -f "$mailstack.entra-port"

step "Mail peers: Postfix + Dovecot on loopback"
MAILSTACK_OAUTH_URL=$entra_url tests/mailstack/start.sh "$mailstack" >/dev/null

step "Display: Xvfb"
display=:$(( 90 + RANDOM % 400 ))
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >"$sandbox/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X${display#:}" ] || { cat "$sandbox/xvfb.log"; echo "Xvfb did not start" >&2; exit 1; }

step "Tests (keychain: gnome-keyring over a private D-Bus session)"
env DISPLAY="$display" XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" \
    XDG_CACHE_HOME="$sandbox/cache" XDG_RUNTIME_DIR="$sandbox/runtime" NO_AT_BRIDGE=1 \
    POSTDESK_BIN="$root/target/debug/postdesk" POSTDESK_MAILSTACK_ENV="$mailstack/env" \
    POSTDESK_FAKE_ENTRA="$entra_url" \
  dbus-run-session -- bash -euo pipefail -c '
    echo -n postdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    # Tests start only once this daemon owns the Secret Service name: a look-up before that
    # makes D-Bus start a second, locked daemon (seen under load), which then asks for a password.
    for _ in $(seq 100); do
      dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
      sleep 0.1
    done
    if [ $# -gt 0 ]; then exec "$@"; fi
    # Always --workspace: the same feature set as the build above, so nothing is rebuilt.
    cargo test --workspace --lib --bins
    cargo test --workspace --test cli --test keychain --test mail --test transfer --test clients --test receiver --test admin --test limits --test oauth --test secret_wipe --test process --test canary --test sendmail --test concurrency --test layers --test facade --test monitoring --test fleet --test proxy
    cargo test --workspace --test e2e -- --test-threads=1
    # axe-core over every view and dialog, keyboard-only walks (one window at a time: focus).
    cargo test --workspace --test a11y -- --test-threads=1
  ' postdesk-tests "$@"
