#!/usr/bin/env bash
# Builds the command line (release) and puts it where the Windows bundle's externalBin
# (packaging/windows/bundle.conf.json) takes it: target/sidecar/postdesk-<target triple>[.exe].
# Run before `tauri build --config packaging/windows/bundle.conf.json` (release.yml does).
set -euo pipefail
cd "$(dirname "$0")/.."
triple=$(rustc -vV | sed -n 's/^host: //p')
[ -n "$triple" ] || { echo "stage-cli: cannot read the host target triple from rustc -vV" >&2; exit 1; }
cargo build --release --locked -p postdesk-cli
ext=""
case "$triple" in *windows*) ext=".exe" ;; esac
mkdir -p target/sidecar
cp "target/release/postdesk$ext" "target/sidecar/postdesk-$triple$ext"
echo "stage-cli: target/sidecar/postdesk-$triple$ext"
