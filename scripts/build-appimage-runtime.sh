#!/usr/bin/env bash
# Builds the AppImage runtime (packaging/appimage/runtime.c) into OUT: everything but the C
# library linked in, so it needs no libfuse or squashfuse on the user's machine (fusermount3 is
# used for the mount when not root), and the type 2 magic written. Used by scripts/appimage.sh
# and tests/appimage/runtime-test.sh.
#   scripts/build-appimage-runtime.sh OUT
set -euo pipefail
out=${1:?usage: build-appimage-runtime.sh OUT}
cd "$(dirname "$0")/.."
for tool in cc pkg-config; do
  command -v "$tool" >/dev/null || { echo "appimage runtime: $tool is missing: run scripts/install-deps.sh test" >&2; exit 1; }
done
pkg-config --exists squashfuse_ll fuse3 ||
  { echo "appimage runtime: squashfuse/libfuse3 headers are missing: run scripts/install-deps.sh test" >&2; exit 1; }
cc -std=c11 -O2 -Wall -Wextra -Werror -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
   $(pkg-config --cflags squashfuse_ll fuse3) packaging/appimage/runtime.c -o "$out" \
   -Wl,-Bstatic -lsquashfuse_ll -lsquashfuse -lfuse3 -lzstd -llzma -llz4 -llzo2 -lz -Wl,-Bdynamic \
   -lpthread -ldl -s
# The type 2 magic: "AI" and 2 at offset 8 (the ELF identification's padding, unused).
printf 'AI\002' | dd of="$out" bs=1 seek=8 conv=notrunc status=none
