#!/usr/bin/env bash
# Builds the Linux packages with the Tauri bundler (`tauri build`, @tauri-apps/cli from
# packaging/tauri-cli/package.json): a .deb; then the AppImage with scripts/appimage.sh.
# Both install the two programs: /usr/bin/postdesk (the command line, which the desktop entry
# runs and which starts the window) and /usr/bin/postdesk-window (the window).
#
#   scripts/package.sh        what `make package` runs
# Environment:
#   PACKAGE_MAX_BYTES=6000000 the largest .deb or AppImage allowed (the issue's 6 MB)
# Output: target/release/bundle/deb/*.deb (and appimage/*.AppImage), sizes on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX=${PACKAGE_MAX_BYTES:-6000000}
step() { printf '\n== %s\n' "$*"; }
die() { echo "package: $*" >&2; exit 1; }

version=$(cargo pkgid -p postdesk | sed 's/.*[@#]//')
[ -n "$version" ] || die "cannot read the version of the postdesk package from Cargo.toml"
# The Tauri CLI finds the app at the root: tauri.conf.json next to the window's package (the
# root Cargo.toml); no symlink, no TAURI_APP_PATH.
tauri=(packaging/tauri-cli/node_modules/.bin/tauri)
if [ ! -x "${tauri[0]}" ]; then
  echo "package: installing the Tauri CLI (npm, packaging/tauri-cli)"
  (cd packaging/tauri-cli && npm install --no-audit --no-fund --no-package-lock --loglevel=error) ||
    die "could not install @tauri-apps/cli from npm"
fi

step "Build: release binaries (profile: fat LTO, 1 codegen unit, stripped)"
# The command line first: the bundle's file mapping takes target/release/postdesk from here.
cargo build --release -p postdesk-cli -p postdesk
for b in postdesk postdesk-window; do
  printf '  %-16s %6d KiB\n' "$b" $(( $(stat -c %s "target/release/$b") / 1024 ))
done

step "Bundle: .deb (Postdesk $version)"
rm -rf target/release/bundle/deb
"${tauri[@]}" build --bundles deb --ci
deb=$(ls target/release/bundle/deb/*_"$version"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "tauri build produced no .deb for version $version"
# The bundler compresses with gzip (7.0 MB for 0.1.0); Debian's own default, xz -9, gives
# about half (3.7 MB). Same files, modes, owners and control fields: repack it.
gz_size=$(stat -c %s "$deb")
repack=$(mktemp -d)
dpkg-deb -R "$deb" "$repack/root"
dpkg-deb --root-owner-group -Zxz -z9 -b "$repack/root" "$repack/new.deb" >/dev/null
listing() { dpkg-deb --fsys-tarfile "$1" | tar -t -v --numeric-owner | awk '{sub(/^\.?\/?/, "", $6); sub(/\/$/, "", $6); if ($6 != "") print $1, $2, $3, $6}' | sort; }
diff <(listing "$deb") <(listing "$repack/new.deb") >&2 ||
  die "the xz repack changed the package's file list"
mv "$repack/new.deb" "$deb"
rm -rf "$repack"
size=$(stat -c %s "$deb")
echo "  repacked with xz -9: $gz_size → $size bytes"
echo "  $deb: $size bytes ($(( size / 1024 )) KiB), installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
echo "  Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" | awk '{print "   ", $6}' | grep -E 'bin/|applications/|icons/hicolor/(32|128)' || true
[ "$size" -le "$MAX" ] || die "$deb is $size bytes, over the limit of $MAX"

step "Bundle: AppImage (scripts/appimage.sh)"
# Not the Tauri bundler's AppImage target: it downloads linuxdeploy, its GTK plugin and the
# AppImage runtime from GitHub at build time (out of reach here), and it copies GTK and
# WebKitGTK into the image (~80 MB, against the 6 MB limit). scripts/appimage.sh builds one
# that uses the system's WebKitGTK like the .deb, with its own runtime (README "Install").
scripts/appimage.sh
step "Done"
ls -l target/release/bundle/*/ 2>/dev/null | grep -E '\.(deb|AppImage)$' || true
