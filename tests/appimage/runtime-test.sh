#!/usr/bin/env bash
# The AppImage runtime (packaging/appimage/runtime.c) on a tiny AppImage, without a release
# build: --appimage-extract never writes through links planted in its target folder and drops
# setuid/setgid bits; --appimage-extract-and-run removes its folder when stopped (Ctrl-C to the
# group, SIGTERM to the runtime) after passing the signal on; AppRun inherits no descriptor.
# Run by scripts/test.sh; needs gcc, mksquashfs and the static squashfuse/libfuse 3 libraries
# (scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d /tmp/pd-appimage-test.XXXXXX)
apprun_pids=()
trap 'for p in "${apprun_pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
fails=0
ok() { echo "  ok: $*"; }
fail() { echo "  FAIL: $*" >&2; fails=$((fails + 1)); }

scripts/build-appimage-runtime.sh "$work/runtime"

# --- a tiny AppDir: AppRun, a setuid and a setgid program, a symbolic link, nested folders
app=$work/Tiny.AppDir
mkdir -p "$app/usr/bin" "$app/usr/share/tiny"
cat >"$app/AppRun" <<'APPRUN'
#!/bin/sh
# Says where it runs, then becomes a plain program that waits to be stopped.
echo "$APPDIR" >"$TINY_OUT.appdir"
exec sleep 60
APPRUN
chmod 755 "$app/AppRun"
printf '#!/bin/sh\necho tool\n' >"$app/usr/bin/tool"
cp "$app/usr/bin/tool" "$app/usr/bin/sgid-tool"
chmod 4755 "$app/usr/bin/tool"
chmod 2755 "$app/usr/bin/sgid-tool"
echo data >"$app/usr/share/tiny/data.txt"
ln -s ../share/tiny/data.txt "$app/usr/bin/data-link"
mksquashfs "$app" "$work/image.squashfs" -root-owned -noappend -no-progress -quiet -comp xz >/dev/null
cat "$work/runtime" "$work/image.squashfs" >"$work/Tiny.AppImage"
chmod 755 "$work/Tiny.AppImage"
ai=$work/Tiny.AppImage
[ "$("$ai" --appimage-offset)" = "$(stat -c %s "$work/runtime")" ] || fail "--appimage-offset is not the runtime's size"

# --- 1. a clean extraction: contents, no setuid/setgid, links kept as links
mkdir "$work/clean"
(cd "$work/clean" && "$ai" --appimage-extract >/dev/null) || fail "--appimage-extract exited $?"
x=$work/clean/squashfs-root
[ "$(cat "$x/usr/share/tiny/data.txt" 2>/dev/null)" = data ] || fail "data.txt not extracted"
[ "$(stat -c %a "$x/usr/bin/tool" 2>/dev/null)" = 755 ] || fail "the setuid program was extracted with mode $(stat -c %a "$x/usr/bin/tool" 2>/dev/null), not 755"
[ "$(stat -c %a "$x/usr/bin/sgid-tool" 2>/dev/null)" = 755 ] || fail "the setgid program was extracted with mode $(stat -c %a "$x/usr/bin/sgid-tool" 2>/dev/null), not 755"
[ "$(readlink "$x/usr/bin/data-link")" = ../share/tiny/data.txt ] || fail "the symbolic link was not extracted as one"
[ "$fails" = 0 ] && ok "extract: files, a link kept as a link, setuid 4755 and setgid 2755 became 755"
# Extracting again over the same folder works (files replaced, not written through).
(cd "$work/clean" && "$ai" --appimage-extract >/dev/null) || fail "a second --appimage-extract over the first exited $?"

# --- 2. links planted in the target folder are never followed
victim=$work/victim
mkdir "$victim"
planted() { # NAME SETUP: runs SETUP in a fresh folder, extracts there, checks the victim
  local name=$1 setup=$2 d=$work/planted-$1
  mkdir "$d"
  (cd "$d" && eval "$setup")
  local rc=0
  (cd "$d" && "$ai" --appimage-extract >"$d.out" 2>&1) || rc=$?
  if [ -n "$(ls -A "$victim")" ]; then fail "$name: the extraction wrote outside its folder: $(ls -A "$victim")"; rm -rf "${victim:?}"/*; return; fi
  echo "$rc"
}
rc=$(planted root 'ln -s "$victim" squashfs-root')
[ "$rc" != 0 ] && grep -q 'refusing' "$work/planted-root.out" && ok "squashfs-root planted as a link: refused (exit $rc), nothing written outside" ||
  fail "squashfs-root as a link: exit $rc: $(cat "$work/planted-root.out")"
rc=$(planted usr 'mkdir squashfs-root && ln -s "$victim" squashfs-root/usr')
[ "$rc" != 0 ] && grep -q 'refusing' "$work/planted-usr.out" && ok "squashfs-root/usr planted as a link: refused (exit $rc), nothing written outside" ||
  fail "squashfs-root/usr as a link: exit $rc: $(cat "$work/planted-usr.out")"
rc=$(planted deep 'mkdir -p squashfs-root/usr && ln -s "$victim" squashfs-root/usr/share')
[ "$rc" != 0 ] && ok "squashfs-root/usr/share planted as a link: refused (exit $rc), nothing written outside" ||
  fail "squashfs-root/usr/share as a link: exit $rc: $(cat "$work/planted-deep.out")"
rc=$(planted file 'mkdir -p squashfs-root/usr/share/tiny && ln -s "$victim/owned" squashfs-root/usr/share/tiny/data.txt')
[ "$rc" = 0 ] && [ ! -L "$work/planted-file/squashfs-root/usr/share/tiny/data.txt" ] &&
  [ "$(cat "$work/planted-file/squashfs-root/usr/share/tiny/data.txt")" = data ] &&
  ok "a link planted where a file goes is replaced, not written through" ||
  fail "a link planted at a file's place: exit $rc: $(cat "$work/planted-file.out")"

# --- 3. extract-and-run: Ctrl-C (SIGINT to the group) and SIGTERM (to the runtime) remove the folder
set -m # background jobs get their own process group, and SIGINT is not ignored in them
# What any program started from here (the way the AppImage is) has open.
sleep 60 </dev/null >"$work/base.log" 2>&1 &
base_pid=$!
# Read them once it is `sleep`: a child just forked still holds the shell's close-on-exec
# descriptors until its exec (seen on an idle machine: an extra fd 3).
for _ in $(seq 100); do [ "$(cat /proc/$base_pid/comm 2>/dev/null)" = sleep ] && break; sleep 0.02; done
base_fds=$(ls /proc/$base_pid/fd | sort | tr '\n' ' ')
kill "$base_pid"
wait "$base_pid" 2>/dev/null || true
stop_test() { # SIGNAL TARGET(group|runtime) EXPECTED-EXIT
  local sig=$1 target=$2 want=$3 out=$work/run-$1
  TMPDIR=$work TINY_OUT=$out "$ai" --appimage-extract-and-run </dev/null >"$out.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do [ -s "$out.appdir" ] && break; sleep 0.05; done
  local dir; dir=$(cat "$out.appdir" 2>/dev/null || true)
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then fail "$sig: AppRun did not start: $(cat "$out.log")"; kill -KILL -- -$pid 2>/dev/null; return; fi
  # AppRun (now `sleep`) has what any program started from here has, nothing of the runtime's.
  local child fds=""
  for _ in $(seq 100); do child=$(pgrep -P "$pid" -x sleep || true); [ -n "$child" ] && break; sleep 0.05; done
  [ -n "$child" ] && { apprun_pids+=("$child"); fds=$(ls /proc/$child/fd | sort | tr '\n' ' '); }
  [ "$fds" = "$base_fds" ] || fail "$sig: AppRun has descriptors $fds (a plain child of this script: $base_fds)"
  local runtime_fds; runtime_fds=$(ls /proc/$pid/fd | sort | tr '\n' ' ')
  [ "$runtime_fds" = "$base_fds" ] || fail "$sig: the runtime holds descriptors $runtime_fds while AppRun runs (a plain program: $base_fds)"
  if [ "$target" = group ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi
  local rc=0
  wait "$pid" || rc=$?
  [ -e "$dir" ] && { fail "$sig to the $target: $dir is still there"; return; }
  [ "$rc" = "$want" ] || { fail "$sig to the $target: exit $rc, expected $want"; return; }
  ok "extract-and-run stopped by $sig to the $target: AppRun ended, exit $rc, $dir removed, no descriptor leaked"
}
stop_test INT group 130
stop_test TERM runtime 143
stop_test HUP runtime 129
set +m
ls -d "$work"/appimage_extracted_* >/dev/null 2>&1 && fail "an extract-and-run folder was left behind: $(ls -d "$work"/appimage_extracted_*)"

[ "$fails" = 0 ] || { echo "appimage runtime: $fails check(s) failed" >&2; exit 1; }
echo "appimage runtime: all checks passed"
