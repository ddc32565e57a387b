#!/usr/bin/env bash
# Builds Postdesk's AppImage (type 2) from the release binaries, without network access:
# our own runtime (packaging/appimage/runtime.c, on Debian's squashfuse and libfuse 3
# libraries, linked statically) + a SquashFS image of the AppDir made by Debian's mksquashfs.
#
#   scripts/appimage.sh        what `make package` runs after the .deb (release binaries built)
# Environment:
#   PACKAGE_MAX_BYTES=6000000  the largest AppImage allowed (the issue's 6 MB)
# Output: target/release/bundle/appimage/postdesk_<version>_amd64.AppImage
#
# Like the .deb, the AppImage uses the system's WebKitGTK 4.1, GTK 3 and D-Bus libraries
# (the same ones the .deb's Depends names) instead of carrying its own ~80 MB copy: it runs on
# distributions that have them (Debian 12+, Ubuntu 22.04+, Fedora 37+), see README "Install".
set -euo pipefail
cd "$(dirname "$0")/.."
MAX=${PACKAGE_MAX_BYTES:-6000000}
die() { echo "appimage: $*" >&2; exit 1; }

version=$(cargo pkgid -p postdesk | sed 's/.*[@#]//')
[ -n "$version" ] || die "cannot read the version of the postdesk package from Cargo.toml"
[ -x target/release/postdesk-window ] || die "target/release/postdesk-window is missing: build the release binaries first (scripts/package.sh)"
for tool in mksquashfs cc pkg-config; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh package"
done

out=target/release/bundle/appimage
work=target/release/appimage
rm -rf "$out" "$work"
mkdir -p "$out" "$work"

# --- the runtime (static but for the C library, with the type 2 magic)
scripts/build-appimage-runtime.sh "$work/runtime"
# The image must start where the ELF file ends (the runtime finds it there).
end=$(python3 - "$work/runtime" <<'PY'
import struct, sys
h = open(sys.argv[1], 'rb').read(64)
shoff, = struct.unpack_from('<Q', h, 0x28)
shentsize, shnum = struct.unpack_from('<HH', h, 0x3A)
print(shoff + shentsize * shnum)
PY
)
[ "$end" = "$(stat -c %s "$work/runtime")" ] || die "the runtime's section headers are not at its end ($end vs $(stat -c %s "$work/runtime") bytes)"

# --- the AppDir
app=$work/Postdesk.AppDir
mkdir -p "$app/usr/bin" "$app/usr/share/applications" "$app/usr/share/metainfo"
# One program: postdesk-window runs the command line's commands too (src-tauri/src/main.rs), so
# usr/bin/postdesk is a link to it. Two programs would cost 2.4 MB more: SquashFS compresses
# each 1 MB block alone and cannot share the code the two have in common, as the .deb's
# single xz stream does.
install -m 755 target/release/postdesk-window "$app/usr/bin/"
ln -s postdesk-window "$app/usr/bin/postdesk"
install -m 755 packaging/appimage/AppRun "$app/AppRun"
# The desktop entry: the .deb's template (packaging/linux/postdesk.desktop), filled in.
comment=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["bundle"]["shortDescription"])')
sed -e 's/{{name}}/Postdesk/' -e "s/{{comment}}/$comment/" -e 's/{{icon}}/postdesk/' \
    -e '/{{#if comment}}/d' -e '/{{\/if}}/d' packaging/linux/postdesk.desktop >"$app/postdesk.desktop"
echo "X-AppImage-Version=$version" >>"$app/postdesk.desktop"
grep -q '{{' "$app/postdesk.desktop" && die "unfilled template field in postdesk.desktop"
cp "$app/postdesk.desktop" "$app/usr/share/applications/postdesk.desktop"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}" +%F)/" \
    packaging/appimage/com.postdesk.desktop.metainfo.xml >"$app/usr/share/metainfo/com.postdesk.desktop.metainfo.xml"
for size in 32x32:32x32.png 128x128:128x128.png 256x256:128x128@2x.png; do
  mkdir -p "$app/usr/share/icons/hicolor/${size%%:*}/apps"
  cp "icons/${size#*:}" "$app/usr/share/icons/hicolor/${size%%:*}/apps/postdesk.png"
done
cp icons/128x128@2x.png "$app/postdesk.png"
ln -s postdesk.png "$app/.DirIcon"

# --- the image: xz with the x86 filter gives the smallest file; files are read once at start.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
mksquashfs "$app" "$work/image.squashfs" -root-owned -noappend -no-progress -quiet \
  -comp xz -Xbcj x86 -b 1M >/dev/null
file=$out/postdesk_${version}_amd64.AppImage
cat "$work/runtime" "$work/image.squashfs" >"$file"
chmod 755 "$file"
size=$(stat -c %s "$file")
echo "  $file: $size bytes ($(( size / 1024 )) KiB; runtime $(stat -c %s "$work/runtime") bytes, image $(stat -c %s "$work/image.squashfs") bytes)"
[ "$size" -le "$MAX" ] || die "$file is $size bytes, over the limit of $MAX"
