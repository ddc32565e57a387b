#!/usr/bin/env bash
# Start-up and memory benchmark: Postdesk's settings window (release build, a saved
# configuration with a password in the keychain) against a bare Tauri 2 app made from the
# official vanilla-ts template (benches/bare, same Tauri version, same kind of release build),
# both under the same Xvfb, runs interleaved. See bench/README.md ("Start-up and memory").
#
#   scripts/bench-startup.sh          what `make bench` runs after the mail benchmark
# Environment:
#   BENCH_RUNS=10                     timed runs per app (after one untimed warm-up run each)
#   BENCH_STRICT=1                    exit 4 when a target is missed (default: report only)
#   BENCH_TIMELINE=3                  then that many traced runs per app (default 0): where the
#                                     time goes, step by step (POSTDESK_STARTUP_TRACE=1, see
#                                     src-tauri/src/trace.rs); target/bench/startup-timeline.jsonl
#   BENCH_ENV="VAR=1 ..."             environment for both apps (WEBKIT_DISABLE_COMPOSITING_MODE=1:
#                                     both without GL compositing, like with like)
#   BENCH_POSTDESK_ENV="VAR=1 ..."    for Postdesk only (WEBKIT_DISABLE_COMPOSITING_MODE=0: Postdesk
#                                     with compositing, as the bare app ships)
# Output: a table on stdout, target/bench/startup.json (summary), target/bench/startup-runs.jsonl
# (every run), target/bench/startup-{postdesk,bare}.png (each app's settled window).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
RUNS=${BENCH_RUNS:-10}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 2 ]] || { echo "bench: BENCH_RUNS must be >= 2" >&2; exit 2; }
step() { printf '\n== %s\n' "$*"; }
die() { echo "bench: $*" >&2; exit 1; }
bare_bin=$out/bare/release/bare

# ------------------------------------------------------------------------------ inside
# Inside a private D-Bus session with an unlocked gnome-keyring, on the Xvfb display.
if [ "${1:-}" = --inside ]; then
  echo -n postdesk-bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  pd=("$root/target/release/postdesk" --data-dir "$BENCH_DATA")
  # The saved configuration the window opens with (what an admin sees after set-up).
  for kv in global.enabled=true global.host=smtp.example.com global.port=587 global.security=starttls \
            global.auth=password global.username=it@example.com global.sender.address=it@example.com \
            global.sender.name=IT support.address=helpdesk@example.com; do
    "${pd[@]}" config set "${kv%%=*}" "${kv#*=}" >/dev/null
  done
  printf 'bench-password' | "${pd[@]}" secret set global.password >/dev/null 2>&1
  "${pd[@]}" check >/dev/null || { "${pd[@]}" check; die "postdesk check found problems"; }

  probe() {   # probe NAME RUN SHOT -- PROGRAM...
    local name=$1 run=$2 shot=$3; shift 4
    local args=()
    [ "$shot" = - ] || args=(--shot "$shot")
    local line
    line=$("$out/winprobe" "${args[@]}" -- "$@") || { echo "$line" >&2; die "$name: no settled window (run $run)"; }
    jq -c --arg app "$name" --argjson run "$run" '{app: $app, run: $run} + .' <<<"$line"
  }
  # shellcheck disable=SC2206
  pd_cmd=(env ${BENCH_POSTDESK_ENV:-} "${pd[@]}")   # env execs: the pid stays the window's
  bare_cmd=("$bare_bin")
  # Postdesk opens at its default size (1040x740) or at the size it saved last (ui-prefs.json);
  # the bare app at 800x600. "postdesk-800" is Postdesk with 800x600 saved: the same pixels to
  # paint as the bare app (software rendering scales with them).
  prefs=$XDG_DATA_HOME/com.postdesk.desktop/ui-prefs.json
  size() {
    mkdir -p "${prefs%/*}"
    if [ "$1" = default ]; then rm -f "$prefs"; else echo '{"window":{"width":800,"height":600,"x":0,"y":0}}' >"$prefs"; fi
  }
  pd() { size default; probe postdesk "$@"; }
  pd800() { size 800; probe postdesk-800 "$@"; }
  # Warm-up: one untimed run each (warm page cache, shader cache, WebKit caches, window prefs).
  pd 0 "$out/startup-postdesk.ppm" -- "${pd_cmd[@]}" >/dev/null
  probe bare 0 "$out/startup-bare.ppm" -- "${bare_cmd[@]}" >/dev/null
  pd800 0 - -- "${pd_cmd[@]}" >/dev/null
  for i in $(seq 1 "$RUNS"); do
    # Interleaved, and the order alternates: neither app always runs right after the other.
    if [ $((i % 2)) = 1 ]; then
      pd "$i" - -- "${pd_cmd[@]}"; probe bare "$i" - -- "${bare_cmd[@]}"; pd800 "$i" - -- "${pd_cmd[@]}"
    else
      pd800 "$i" - -- "${pd_cmd[@]}"; probe bare "$i" - -- "${bare_cmd[@]}"; pd "$i" - -- "${pd_cmd[@]}"
    fi
  done >"$out/startup-runs.jsonl"
  # Traced runs (not timed above: tracing writes to the console). Each app's output goes to a
  # log; the steps it logs ("postdesk-trace <ms since the epoch> <step>") are put on winprobe's
  # clock (t0_epoch_ms), next to its own: mapped, processes started, first frames.
  : >"$out/startup-timeline.jsonl"
  for i in $(seq 1 "${BENCH_TIMELINE:-0}"); do
    for app in postdesk bare; do
      if [ $app = postdesk ]; then size default; cmd=("${pd_cmd[@]}"); else cmd=("${bare_cmd[@]}"); fi
      log=$BENCH_DATA/trace-$app.log
      line=$(POSTDESK_STARTUP_TRACE=1 probe $app "$i" - -- sh -c 'exec "$@" >"$0" 2>&1' "$log" "${cmd[@]}")
      t0=$(jq .t0_epoch_ms <<<"$line")
      { grep -o 'postdesk-trace [0-9.]* .*' "$log" || true; } | awk -v t0="$t0" '{ t = $2 - t0; $1 = ""; $2 = ""; sub(/^  /, ""); printf "%s\t%.1f\n", $0, t }' |
        jq -R -s -c --argjson probe "$line" '{app: $probe.app, run: $probe.run,
            steps: ([{key: "window mapped", value: $probe.map_ms}, {key: "first non-blank frame", value: $probe.nonblank_ms},
                     {key: "first complete frame", value: $probe.complete_ms}]
                    + ($probe.processes | map({key: "\(.comm) started", value: .start_ms}))
                    + (split("\n") | map(select(length > 0) | split("\t") | {key: .[0], value: (.[1] | tonumber)})))
                   | sort_by(.value) | from_entries,
            pss_kib: ($probe.processes | map({key: .comm, value: .pss_kib}) | from_entries)}' >>"$out/startup-timeline.jsonl"
    done
  done
  exit 0
fi

# ------------------------------------------------------------------------------ build
step "Tools and builds"
"$(dirname "$0")/install-deps.sh" bench
for tool in Xvfb gnome-keyring-daemon dbus-run-session gcc jq convert; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh bench"
done
mkdir -p "$out"
gcc -O2 -Wall -o "$out/winprobe" bench/winprobe.c -lX11 -lXext
[ -f ui/dist/index.html ] || make --no-print-directory ui
cargo build --release -p postdesk -p postdesk-cli
# The bare app: its own workspace and target dir, built the way its template says (tauri build).
# Rebuilt only when its sources changed: its beforeBuildCommand rewrites dist/, which relinks.
if [ ! -x "$bare_bin" ] || [ -n "$(find benches/bare -path '*/node_modules' -prune -o -path '*/dist' -prune -o \
                                         -path '*/gen' -prune -o -type f -newer "$bare_bin" -print -quit)" ]; then
  # npm install, not npm ci: the registry mirror here has only the Linux builds of the Tauri
  # CLI, so the template's lock file lacks the other platforms' optional packages.
  (cd benches/bare && { [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error; } &&
   CARGO_TARGET_DIR=$out/bare npx tauri build --no-bundle >/dev/null)
fi
[ -x "$bare_bin" ] || die "$bare_bin was not built"
tauri_pd=$(grep -A1 '^name = "tauri"$' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')
tauri_bare=$(grep -A1 '^name = "tauri"$' benches/bare/src-tauri/Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')
[ "$tauri_pd" = "$tauri_bare" ] || die "Tauri versions differ: Postdesk $tauri_pd, bare app $tauri_bare"
echo "  Tauri $tauri_pd in both; WebKitGTK $(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0)"

# UI JavaScript as the webview loads it, gzip -9 per file (what a compressed transfer would be).
js_raw=0 js_gz=0
for f in ui/dist/assets/*.js; do
  js_raw=$((js_raw + $(stat -c %s "$f"))); js_gz=$((js_gz + $(gzip -9c "$f" | wc -c)))
done
# The part loaded before the first frame: what index.html names (the entry and its preloads);
# the rest (ui/src/lib/later.ts) is loaded with import() when first shown.
js_first_raw=0 js_first_gz=0
for f in $(grep -o 'assets/[^"]*\.js' ui/dist/index.html); do
  js_first_raw=$((js_first_raw + $(stat -c %s "ui/dist/$f"))); js_first_gz=$((js_first_gz + $(gzip -9c "ui/dist/$f" | wc -c)))
done

# ------------------------------------------------------------------------------ run
sandbox=$(mktemp -d /tmp/pdstart.XXXXXX)
chmod 700 "$sandbox"
cleanup() { [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null; rm -rf "$sandbox"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$sandbox"/{data,config,cache,runtime,postdesk}
chmod 700 "$sandbox/runtime"
display=:$(( 500 + RANDOM % 400 ))
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp >"$sandbox/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X${display#:}" ] || { cat "$sandbox/xvfb.log"; die "Xvfb did not start"; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
step "Runs: 1 warm-up + $RUNS timed each, interleaved (load average before: $load)"
# shellcheck disable=SC2086
env ${BENCH_ENV:-} DISPLAY="$display" XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" \
    XDG_CACHE_HOME="$sandbox/cache" XDG_RUNTIME_DIR="$sandbox/runtime" NO_AT_BRIDGE=1 \
    BENCH_DATA="$sandbox/postdesk" \
  dbus-run-session -- "$root/scripts/bench-startup.sh" --inside 2>"$sandbox/inside.log" ||
  { cat "$sandbox/inside.log" >&2; die "the runs failed"; }
for app in postdesk bare; do convert "$out/startup-$app.ppm" "$out/startup-$app.png" && rm -f "$out/startup-$app.ppm"; done
# Whether WebKit compiled any GL shaders (software GL, Mesa's disk cache) during the runs.
shader_cache=$(du -sk "$sandbox/cache"/mesa_shader_cache* 2>/dev/null | awk '{s += $1} END {print s + 0}')

# ------------------------------------------------------------------------------ report
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg load "$load" --argjson cpus "$(nproc)" \
   --arg tauri "$tauri_pd" --arg webkit "$(dpkg-query -W -f='${Version}' libwebkit2gtk-4.1-0)" \
   --argjson js_raw "$js_raw" --argjson js_gz "$js_gz" --argjson js_first_raw "$js_first_raw" --argjson js_first_gz "$js_first_gz" --argjson shader_kib "$shader_cache" '
  def stats($xs): ($xs | sort) as $s | ($s | length) as $n | ($s | add / $n) as $m
    | {median: (if $n % 2 == 1 then $s[($n - 1) / 2] else ($s[$n / 2 - 1] + $s[$n / 2]) / 2 end),
       mean: $m, stddev: (($s | map(. - $m | . * .) | add) / ([$n - 1, 1] | max) | sqrt),
       min: $s[0], max: $s[-1], n: $n};
  def app($name): map(select(.app == $name and .run > 0)) as $r
    | {map_ms: stats($r | map(.map_ms)), nonblank_ms: stats($r | map(.nonblank_ms)),
       complete_ms: stats($r | map(.complete_ms)), pss_kib: stats($r | map(.pss_kib)),
       window: "\($r[0].width)x\($r[0].height)",
       processes: ($r[0].processes | map({comm, pss_kib}))};
  {postdesk: app("postdesk"), bare: app("bare"), postdesk_800: app("postdesk-800")} as $a
  | {date: $date, machine: {cpus: $cpus, loadavg_before: $load}, tauri: $tauri, webkitgtk: $webkit,
     shader_cache: {state: "warm (one untimed run of each app first; one XDG_CACHE_HOME for all runs)",
                    mesa_cache_kib: $shader_kib},
     apps: $a,
     ratios: {complete: ($a.postdesk.complete_ms.median / $a.bare.complete_ms.median),
              map: ($a.postdesk.map_ms.median / $a.bare.map_ms.median),
              pss: ($a.postdesk.pss_kib.median / $a.bare.pss_kib.median),
              complete_same_size: ($a.postdesk_800.complete_ms.median / $a.bare.complete_ms.median),
              pss_same_size: ($a.postdesk_800.pss_kib.median / $a.bare.pss_kib.median)},
     ui_js: {raw_bytes: $js_raw, gzip_bytes: $js_gz, first_frame_raw_bytes: $js_first_raw, first_frame_gzip_bytes: $js_first_gz},
     targets: {complete_max: 1.05, pss_max: 1.1, js_gzip_max_bytes: 61440}}
  | .met = {complete: (.ratios.complete <= 1.05), pss: (.ratios.pss <= 1.1), js: (.ui_js.gzip_bytes <= 61440)}
  | .targets_met = (.met | all)
' "$out/startup-runs.jsonl" >"$out/startup.json"

step "Results ($RUNS runs each, median; mean ± σ in startup.json)"
jq -r '
  def f1: . * 10 | round / 10 | tostring;
  def row($n; $a): [$n, ($a.map_ms.median | f1), ($a.nonblank_ms.median | f1), ($a.complete_ms.median | f1),
                    "\($a.complete_ms.min | f1) … \($a.complete_ms.max | f1)", (($a.pss_kib.median / 1024) | f1), $a.window];
  (["app", "mapped [ms]", "non-blank [ms]", "complete [ms]", "complete min … max", "PSS [MiB]", "window"],
   row("postdesk"; .apps.postdesk), row("postdesk at 800x600"; .apps.postdesk_800), row("bare Tauri"; .apps.bare)) | @tsv
' "$out/startup.json" | column -t -s $'\t'
echo
jq -r '
  def r2: . * 100 | round / 100 | tostring;
  (["measure", "value", "target", "result"] | @tsv),
  (["first complete frame, postdesk / bare", "\(.ratios.complete | r2)×", "≤ 1.05×", (if .met.complete then "met" else "NOT MET" end)] | @tsv),
  (["idle PSS of the process tree, postdesk / bare", "\(.ratios.pss | r2)×", "≤ 1.1×", (if .met.pss then "met" else "NOT MET" end)] | @tsv),
  (["(same window size: first complete frame)", "\(.ratios.complete_same_size | r2)×", "", ""] | @tsv),
  (["(same window size: idle PSS)", "\(.ratios.pss_same_size | r2)×", "", ""] | @tsv),
  (["UI JavaScript, all files, gzip -9 each", "\(.ui_js.gzip_bytes / 1024 | . * 10 | round / 10) KiB", "≤ 60 KiB", (if .met.js then "met" else "NOT MET" end)] | @tsv),
  (["(UI JavaScript before the first frame, gzip -9)", "\(.ui_js.first_frame_gzip_bytes / 1024 | . * 10 | round / 10) KiB", "", ""] | @tsv)
' "$out/startup.json" | column -t -s $'\t'
jq -r '"\nProcesses (PSS MiB, first timed run): postdesk \(.apps.postdesk.processes | map("\(.comm) \(.pss_kib / 1024 | . * 10 | round / 10)") | join(", ")); bare \(.apps.bare.processes | map("\(.comm) \(.pss_kib / 1024 | . * 10 | round / 10)") | join(", "))"' "$out/startup.json"
jq -r '"Shader cache: \(.shader_cache.state); Mesa disk cache after the runs: \(.shader_cache.mesa_cache_kib) KiB."' "$out/startup.json"
if [ -s "$out/startup-timeline.jsonl" ]; then
  step "Timeline (${BENCH_TIMELINE} traced runs each, median ms after exec; postdesk at its default size)"
  jq -r -s '
    def med: sort | if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
    def steps($app): map(select(.app == $app) | .steps) as $r
      | ($r | map(keys[]) | unique) | map(. as $k | {key: $k, value: ($r | map(.[$k] // empty) | med)}) | from_entries;
    steps("postdesk") as $p | steps("bare") as $b
    | ((["step", "postdesk", "bare"] | @tsv),
       ((($p | keys) + ($b | keys)) | unique | sort_by([$p[.] // $b[.]]) | .[]
        | [., ($p[.] // "" | if . == "" then "" else (. | round | tostring) end),
              ($b[.] // "" | if . == "" then "" else (. | round | tostring) end)] | @tsv))
  ' "$out/startup-timeline.jsonl" | column -t -s $'\t'
fi
echo "Wrote $out/startup.json, $out/startup-runs.jsonl, $out/startup-postdesk.png, $out/startup-bare.png"
if [ "${BENCH_STRICT:-0}" = 1 ] && [ "$(jq -r .targets_met "$out/startup.json")" != true ]; then exit 4; fi
