#!/usr/bin/env bash
# Installs the .deb that `make package` built on this machine, checks what it installed, opens
# the installed app the way its desktop entry does (under Xvfb) and sees its window, runs the
# installed command line, then removes the package and checks nothing of it is left. Then the
# AppImage, with the .deb gone: its format and contents, run as an ordinary user (FUSE mount),
# without FUSE (extract and run), and its window, with the mount gone afterwards.
#
#   scripts/test-package.sh [FILE.deb [FILE.AppImage]]   what `make test-package` runs (needs root)
# It refuses to run when a postdesk package it did not install is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
step() { printf '\n== %s\n' "$*"; }
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

version=$(cargo pkgid -p postdesk | sed 's/.*[@#]//')
deb=${1:-$(ls target/release/bundle/deb/*_"$version"_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || fail "no .deb for version $version in target/release/bundle/deb: run 'make package' first"
appimage=${2:-$(ls target/release/bundle/appimage/*_"$version"_*.AppImage 2>/dev/null | head -n 1)}
[ -f "$appimage" ] || fail "no AppImage for version $version in target/release/bundle/appimage: run 'make package' first"
pkg=$(dpkg-deb -f "$deb" Package)
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
  fail "a package '$pkg' is already installed here; remove it first (apt-get purge $pkg)"
fi

sandbox=$(mktemp -d /tmp/pdpkg.XXXXXX)
chmod 755 "$sandbox"
installed=0
cleanup() {
  [ -n "${app_pid:-}" ] && kill "$app_pid" 2>/dev/null
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null
  # Never leave the package installed when the test stops half-way.
  [ "$installed" = 1 ] && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$pkg" >/dev/null 2>&1
  rm -rf "$sandbox"
}
trap cleanup EXIT

step "The package file: $deb"
size=$(stat -c %s "$deb")
[ "$size" -le 6000000 ] || fail "$deb is $size bytes (limit 6 MB)"
ok "size $size bytes (≤ 6 MB)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is $(dpkg-deb -f "$deb" Version), Cargo.toml says $version"
ok "version $version, as in Cargo.toml"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libwebkit2gtk-4.1-0 libgtk-3-0 libdbus-1-3; do
  grep -q "\b$d\b" <<<"$depends" || fail "Depends lacks $d: $depends"
done
ok "Depends: $depends"

step "Install: dpkg -i, then apt-get -f install"
installed=1
if ! "${sudo[@]}" dpkg -i "$deb"; then
  echo "  dpkg left dependencies unresolved: apt-get -f install"
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >/dev/null
dpkg-query -W -f='${Status}' "$pkg" | grep -q 'install ok installed' || fail "$pkg is not installed after apt-get -f install"
ok "$pkg $(dpkg-query -W -f='${Version}' "$pkg") installed"
dpkg -L "$pkg" >"$sandbox/files"

step "Installed files"
for f in /usr/bin/postdesk /usr/bin/postdesk-window; do
  [ -x "$f" ] || fail "$f is missing or not executable"
  grep -qx "$f" "$sandbox/files" || fail "$f is not owned by $pkg"
done
ok "/usr/bin/postdesk and /usr/bin/postdesk-window, both owned by $pkg"
# The command line must not load the GUI libraries (ARCHITECTURE.md); the window does.
ldd /usr/bin/postdesk | grep -qE 'webkit|gtk' && fail "/usr/bin/postdesk links GTK or WebKit"
ldd /usr/bin/postdesk | grep -q 'not found' && fail "/usr/bin/postdesk has unresolved libraries: $(ldd /usr/bin/postdesk | grep 'not found')"
ldd /usr/bin/postdesk-window | grep -q 'not found' && fail "/usr/bin/postdesk-window has unresolved libraries: $(ldd /usr/bin/postdesk-window | grep 'not found')"
ok "every shared library resolves; postdesk links no GTK/WebKit ($(ldd /usr/bin/postdesk | wc -l) libraries, the window $(ldd /usr/bin/postdesk-window | wc -l))"
desktop=$(grep -E '^/usr/share/applications/.*\.desktop$' "$sandbox/files" | head -n 1)
[ -n "$desktop" ] || fail "no desktop entry in /usr/share/applications"
desktop-file-validate "$desktop" || fail "desktop-file-validate rejects $desktop"
entry() { sed -n "s/^$1=//p" "$desktop" | head -n 1; }
[ "$(entry Name)" = Postdesk ] || fail "Name=$(entry Name)"
[ -n "$(entry Comment)" ] || fail "no Comment"
[ "$(entry Exec)" = postdesk ] || fail "Exec=$(entry Exec), expected postdesk (the command line, which opens the window)"
for c in Settings Network; do grep -q "\b$c;" <<<"$(entry Categories)" || fail "Categories=$(entry Categories) lacks $c"; done
for k in mail SMTP OAuth; do grep -q "\b$k;" <<<"$(entry Keywords)" || fail "Keywords=$(entry Keywords) lacks $k"; done
icon=$(entry Icon)
grep -qE "^/usr/share/icons/hicolor/[0-9x@]+/apps/$icon\.png$" "$sandbox/files" || fail "no icon $icon.png under /usr/share/icons/hicolor"
ok "$desktop validates; Name, Comment, Exec=postdesk, Categories=$(entry Categories) Keywords=$(entry Keywords) Icon=$icon ($(grep -cE "/apps/$icon\.png$" "$sandbox/files") sizes)"

step "The installed command line"
mkdir -p "$sandbox"/{data,config,cache,runtime,pd}
chmod 700 "$sandbox/runtime"
sandbox_env=(XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" XDG_CACHE_HOME="$sandbox/cache"
             XDG_RUNTIME_DIR="$sandbox/runtime" NO_AT_BRIDGE=1 POSTDESK_DATA_DIR="$sandbox/pd")
/usr/bin/postdesk --help >"$sandbox/help" || fail "postdesk --help exited $?"
grep -q 'config' "$sandbox/help" || fail "postdesk --help does not list the config command"
[ "$(/usr/bin/postdesk --version)" = "postdesk $version" ] || fail "postdesk --version says '$(/usr/bin/postdesk --version)'"
ok "postdesk --help; postdesk --version = postdesk $version"

# Everything that touches the keychain or the display runs in a private D-Bus session with a
# throwaway gnome-keyring, on a private Xvfb display.
display=:$(( 500 + RANDOM % 400 ))
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >"$sandbox/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X${display#:}" ] || { cat "$sandbox/xvfb.log"; fail "Xvfb did not start"; }
# What runs inside: PD is the command line to use, LAUNCH how to open the window (as a
# launcher would), EXE_RE what the window's process must be running, SHOT where its picture goes.
cat >"$sandbox/inside.sh" <<'EOF'
set -euo pipefail
echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
cd "$SANDBOX"
$PD config set global.host smtp.example.com
$PD config set global.port 587
printf secret-pw | $PD secret set global.password
$PD config show >show.txt
grep -q 'global.host.*smtp.example.com' show.txt || { cat show.txt; echo "config show lacks global.host" >&2; exit 1; }
grep -q secret-pw show.txt && { echo "config show printed the password" >&2; exit 1; }
echo "  ok: $PD config set / secret set / config show in $POSTDESK_DATA_DIR (password masked)"

$LAUNCH >app.log 2>&1 &
app=$!
echo $app >app.pid
win=$(timeout 60 xdotool search --sync --onlyvisible --name '^Postdesk' | head -n 1) || { cat app.log; echo "no Postdesk window within 60 s" >&2; exit 1; }
exe=$(readlink /proc/$app/exe)
[[ $exe =~ $EXE_RE ]] || { echo "the window runs $exe, expected $EXE_RE" >&2; exit 1; }
echo "  ok: '$LAUNCH' opened window $win '$(xdotool getwindowname "$win")', process $app is $exe"
# Wait until the webview has painted the form and settled ("Loading settings…" comes first):
# many colours, not one, and the same picture for 2 s (five captures half a second apart).
settled=0
same=0
for i in $(seq 90); do
  import -window "$win" window.png 2>/dev/null || true
  colours=$(identify -format %k window.png 2>/dev/null || echo 0)
  if [ "$colours" -gt 200 ] && [ -f previous.png ] &&
     [ "$(compare -metric AE window.png previous.png null: 2>&1 || true)" = 0 ]; then
    same=$((same + 1))
    [ "$same" -ge 4 ] && { settled=1; break; }
  else
    same=0
  fi
  cp window.png previous.png 2>/dev/null || true
  sleep 0.5
done
[ "$colours" -gt 200 ] || { echo "the window stayed blank ($colours colours)" >&2; exit 1; }
[ "$settled" = 1 ] || { echo "the window did not settle within 45 s" >&2; exit 1; }
rm -f previous.png
echo "  ok: the window painted its content and settled ($colours colours; $SHOT)"
cp window.png "$SHOT"
xdotool windowclose "$win" 2>/dev/null || kill "$app"
for i in $(seq 50); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
kill -0 "$app" 2>/dev/null && { kill "$app"; echo "  (closed the window with SIGTERM)"; }
true
EOF
inside() {   # inside PD LAUNCH EXE_RE SHOT: a fresh configuration each time
  rm -rf "$sandbox"/{data,config,cache,pd}
  mkdir -p "$sandbox"/{data,config,cache,pd}
  env DISPLAY="$display" "${sandbox_env[@]}" SANDBOX="$sandbox" PD="$1" LAUNCH="$2" EXE_RE="$3" SHOT="$4" \
      PATH=/usr/bin:/bin dbus-run-session -- bash "$sandbox/inside.sh" 2>"$sandbox/inside.err" ||
    { cat "$sandbox/inside.err" >&2; return 1; }
}
mkdir -p target/package
# The desktop entry's command, found on PATH as a launcher would.
inside postdesk "$(sed -n 's/^Exec=//p' "$desktop" | head -n 1)" '^/usr/bin/postdesk-window$' \
    "$root/target/package/installed-window.png" || fail "the installed app did not run as expected"

step "Remove: apt-get purge"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$pkg" >/dev/null
installed=0
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed' && fail "$pkg is still installed"
left=()
while read -r f; do [ -f "$f" ] || [ -L "$f" ] && left+=("$f"); done <"$sandbox/files"
[ ${#left[@]} -eq 0 ] || fail "left behind: ${left[*]}"
ok "purged; none of its $(wc -l <"$sandbox/files") paths' files are left"

step "The AppImage: $appimage (with the .deb removed)"
command -v postdesk >/dev/null && fail "postdesk is still on PATH: $(command -v postdesk)"
size=$(stat -c %s "$appimage")
[ "$size" -le 6000000 ] || fail "$appimage is $size bytes (limit 6 MB)"
ok "size $size bytes (≤ 6 MB)"
cp "$appimage" "$sandbox/Postdesk.AppImage"
ai=$sandbox/Postdesk.AppImage
chmod 755 "$ai"
[ "$(od -An -tx1 -j8 -N3 "$ai" | tr -d ' \n')" = 414902 ] || fail "no type 2 AppImage magic (AI 02) at offset 8"
offset=$("$ai" --appimage-offset) || fail "--appimage-offset exited $?"
[ "$(dd if="$ai" bs=1 skip="$offset" count=4 status=none)" = hsqs ] || fail "no SquashFS image at offset $offset"
# Debian's own SquashFS tool must read the image too (a standard image, not ours alone).
unsquashfs -o "$offset" -l "$ai" >"$sandbox/listing" || fail "unsquashfs cannot read the image at offset $offset"
ok "ELF with \"AI\\x02\" at offset 8, SquashFS at $offset ($(grep -c . "$sandbox/listing") entries, readable by unsquashfs)"
(cd "$sandbox" && "$ai" --appimage-extract >/dev/null) || fail "--appimage-extract exited $?"
ad=$sandbox/squashfs-root
for f in AppRun usr/bin/postdesk usr/bin/postdesk-window; do [ -x "$ad/$f" ] || fail "$f is missing or not executable in the image"; done
[ "$(readlink "$ad/usr/bin/postdesk")" = postdesk-window ] || fail "usr/bin/postdesk in the image is not a link to postdesk-window"
[ -L "$ad/.DirIcon" ] && [ -f "$ad/postdesk.png" ] || fail "no .DirIcon / postdesk.png in the image"
desktop-file-validate "$ad/postdesk.desktop" || fail "desktop-file-validate rejects the image's postdesk.desktop"
for k in 'Name=Postdesk' 'Exec=postdesk' 'Icon=postdesk' "X-AppImage-Version=$version"; do
  grep -qx "$k" "$ad/postdesk.desktop" || fail "the image's postdesk.desktop lacks $k"
done
grep -q '^Categories=.*Settings;.*Network;' "$ad/postdesk.desktop" || fail "the image's desktop entry lacks Categories Settings;Network;"
for s in 32x32 128x128 256x256; do [ -f "$ad/usr/share/icons/hicolor/$s/apps/postdesk.png" ] || fail "no $s icon in the image"; done
appstreamcli validate --no-net --pedantic "$ad/usr/share/metainfo/com.postdesk.desktop.metainfo.xml" >"$sandbox/as.log" 2>&1 ||
  { cat "$sandbox/as.log"; fail "appstreamcli rejects the image's metainfo"; }
ok "--appimage-extract: AppRun, postdesk-window and the postdesk link, desktop entry (validates), icons, .DirIcon, AppStream metainfo (validates)"
mounted() { grep -c ' /tmp/\.mount_Postdesk' /proc/mounts || true; }
unmounted() { for _ in $(seq 50); do [ "$(mounted)" = 0 ] && return 0; sleep 0.1; done; return 1; }
[ "$(mounted)" = 0 ] || fail "an AppImage mount is already there: $(grep mount_Postdesk /proc/mounts)"
# As an ordinary user: the mount goes through the setuid fusermount3, as on an admin's desktop.
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(runuser -u nobody --)
[ "$("${as_user[@]}" "$ai" --version)" = "postdesk $version" ] || fail "the AppImage as an ordinary user: '$("${as_user[@]}" "$ai" --version 2>&1)'"
unmounted || fail "the AppImage's mount stayed after the program ended: $(grep mount_Postdesk /proc/mounts)"
ok "as an ordinary user: '$(basename "$ai") --version' = postdesk $version, mounted with FUSE and unmounted after"
mkdir -p "$sandbox/a folder with spaces"
cp "$ai" "$sandbox/a folder with spaces/Post desk.AppImage"
[ "$("$sandbox/a folder with spaces/Post desk.AppImage" --version)" = "postdesk $version" ] || fail "the AppImage fails in a path with spaces"
unmounted || fail "the AppImage's mount stayed after the program ended"
ok "from a path with spaces: --version"
[ "$(APPIMAGE_EXTRACT_AND_RUN=1 TMPDIR="$sandbox" "$ai" --version)" = "postdesk $version" ] || fail "APPIMAGE_EXTRACT_AND_RUN=1 --version failed"
ls -d "$sandbox"/appimage_extracted_* >/dev/null 2>&1 && fail "extract-and-run left its folder behind"
ok "APPIMAGE_EXTRACT_AND_RUN=1 (no FUSE): --version, and its temporary folder is removed"
inside "$ai" "$ai" '^/tmp/\.mount_Postdesk[^/]+/usr/bin/postdesk-window$' "$root/target/package/appimage-window.png" ||
  fail "the AppImage did not run as expected"
unmounted || { ps -ef | grep -i 'postdesk\|appimage' >&2; cat "$sandbox/app.log" >&2
               fail "the AppImage's mount stayed after the window closed: $(grep mount_Postdesk /proc/mounts)"; }
ok "the window closed and the image was unmounted"

printf '\ntest-package: all checks passed\n'
