#!/usr/bin/env bash
# Installs the .deb that `make package` built on this machine, checks what it installed, opens
# the installed app the way its desktop entry does (under Xvfb) and sees its window, runs the
# installed command line, then removes the package and checks nothing of it is left.
#
#   scripts/test-package.sh [FILE.deb]      what `make test-package` runs (needs root or sudo)
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
cat >"$sandbox/inside.sh" <<'EOF'
set -euo pipefail
echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
cd "$SANDBOX"
postdesk config set global.host smtp.example.com
postdesk config set global.port 587
printf secret-pw | postdesk secret set global.password
postdesk config show >show.txt
grep -q 'global.host.*smtp.example.com' show.txt || { cat show.txt; echo "config show lacks global.host" >&2; exit 1; }
grep -q secret-pw show.txt && { echo "config show printed the password" >&2; exit 1; }
echo "  ok: postdesk config set / secret set / config show in $POSTDESK_DATA_DIR (password masked)"

# The desktop entry's command, found on PATH as a launcher would.
exec_cmd=$(sed -n 's/^Exec=//p' "$DESKTOP" | head -n 1)
$exec_cmd >app.log 2>&1 &
app=$!
echo $app >app.pid
win=$(timeout 60 xdotool search --sync --onlyvisible --name '^Postdesk' | head -n 1) || { cat app.log; echo "no Postdesk window within 60 s" >&2; exit 1; }
[ "$(readlink /proc/$app/exe)" = /usr/bin/postdesk-window ] || { echo "the window runs $(readlink /proc/$app/exe)" >&2; exit 1; }
echo "  ok: '$exec_cmd' opened window $win '$(xdotool getwindowname "$win")', process $app is /usr/bin/postdesk-window"
# Wait until the webview has painted the form: the window shows many colours, not one.
for i in $(seq 100); do
  import -window "$win" window.png 2>/dev/null || true
  colours=$(identify -format %k window.png 2>/dev/null || echo 0)
  [ "$colours" -gt 200 ] && break
  sleep 0.2
done
[ "$colours" -gt 200 ] || { echo "the window stayed blank ($colours colours)" >&2; exit 1; }
echo "  ok: the window painted its content ($colours colours; $SHOT)"
cp window.png "$SHOT"
xdotool windowclose "$win" 2>/dev/null || kill "$app"
for i in $(seq 50); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
kill -0 "$app" 2>/dev/null && { kill "$app"; echo "  (closed the window with SIGTERM)"; }
true
EOF
mkdir -p target/package
env DISPLAY="$display" "${sandbox_env[@]}" SANDBOX="$sandbox" DESKTOP="$desktop" SHOT="$root/target/package/installed-window.png" \
    PATH=/usr/bin:/bin dbus-run-session -- bash "$sandbox/inside.sh" 2>"$sandbox/inside.err" ||
  { cat "$sandbox/inside.err" >&2; fail "the installed app did not run as expected"; }

step "Remove: apt-get purge"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$pkg" >/dev/null
installed=0
dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed' && fail "$pkg is still installed"
left=()
while read -r f; do [ -f "$f" ] || [ -L "$f" ] && left+=("$f"); done <"$sandbox/files"
[ ${#left[@]} -eq 0 ] || fail "left behind: ${left[*]}"
ok "purged; none of its $(wc -l <"$sandbox/files") paths' files are left"

printf '\ntest-package: all checks passed\n'
