#!/usr/bin/env bash
# Benchmark: one small mail through the same loopback STARTTLS + AUTH server (tests/mailstack,
# certificate checked against the test CA), timed as a whole process, with
#   postdesk test-mail   (release build, password from the OS keychain over D-Bus)
#   msmtp                (config file, message from a file on stdin)
#   swaks                (everything on the command line)
# Targets: Postdesk <= 1.0x msmtp and <= 0.3x swaks (mean wall time). See bench/README.md.
#
#   scripts/bench.sh                 what `make bench` runs
# Environment:
#   BENCH_RUNS=30 BENCH_WARMUP=3     timed runs and untimed warm-up runs per tool
#   BENCH_STRICT=1                   exit 4 when a target is missed (default: report only)
# Output: a table on stdout, target/bench/results.json (summary), target/bench/hyperfine.json
# (hyperfine's own export, every run's time) and the files the tools were given.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 2 && $WARMUP =~ ^[0-9]+$ ]] || { echo "bench: BENCH_RUNS must be >= 2 and BENCH_WARMUP >= 0" >&2; exit 2; }

step() { printf '\n== %s\n' "$*"; }
die() { echo "bench: $*" >&2; exit 1; }

# Names used inside the mail: each tool gets its own envelope recipient, so the sink tells
# whose mail arrived (Postfix's virtual delivery writes Delivered-To: <envelope recipient>).
FROM=it@example.test
TO_POSTDESK=bench@example.test
TO_MSMTP=bench-msmtp@example.test
TO_SWAKS=bench-swaks@example.test

# The commands under test, from the mail stack's env and the data dir (used inside the D-Bus session).
commands() {
  . "$1/env"
  PD=(target/release/postdesk --data-dir "$2")
  MSMTP=(msmtp -C "$out/msmtprc" "$TO_MSMTP")
  SWAKS=(swaks --server "$MAIL_HOST:$MAIL_SUBMISSION_PORT" --tls --tls-verify --tls-ca-path "$MAIL_CA_FILE"
         --auth PLAIN --auth-user "$MAIL_USER" --auth-password "$MAIL_PASSWORD"
         --from "$FROM" --to "$TO_SWAKS" --data "@$out/message.eml" --silent 2)
}

# ------------------------------------------------------------------------------ inside
# Second half, run by the first inside a private D-Bus session with an unlocked
# gnome-keyring (the same sandbox as scripts/test.sh): everything that needs the keychain.
if [ "${1:-}" = --inside ]; then
  echo -n postdesk-bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  commands "$BENCH_MAIL_DIR" "$BENCH_DATA"
  pd=("${PD[@]}")
  for kv in global.enabled=true global.host=$MAIL_HOST global.port=$MAIL_SUBMISSION_PORT \
            global.security=starttls global.auth=password global.username=$MAIL_USER \
            global.sender.address=$FROM global.ca_file=$MAIL_CA_FILE; do
    "${pd[@]}" config set "${kv%%=*}" "${kv#*=}"
  done
  printf '%s' "$MAIL_PASSWORD" | "${pd[@]}" secret set global.password 2>/dev/null
  "${pd[@]}" check >/dev/null || { "${pd[@]}" check; die "postdesk check found problems"; }

  # One run of each with its output shown: a misconfiguration fails here, readably
  # (hyperfine only says "non-zero exit code"). These mails are counted as well.
  preflight() {
    local name=$1; shift
    local log=$out/preflight-$name.log
    if "$@" <"$out/message.eml" >"$log" 2>&1; then
      printf '  %-9s ok\n' "$name"
    else
      local rc=$?
      cat "$log" >&2
      die "$name failed (exit $rc) before the benchmark: see above"
    fi
  }
  step "Preflight: one delivery with each tool"
  preflight postdesk "${pd[@]}" test-mail --to "$TO_POSTDESK" --json
  cp "$out/preflight-postdesk.log" "$out/postdesk-report.json"
  preflight msmtp "${MSMTP[@]}"
  preflight swaks "${SWAKS[@]}"

  step "Timing: $WARMUP warm-up + $RUNS runs each (hyperfine, no shell)"
  # No --ignore-failure: hyperfine stops with an error when any run exits non-zero.
  # --input: every run of every command gets message.eml on stdin (only msmtp reads it).
  "$BENCH_HYPERFINE" --shell=none --warmup "$WARMUP" --runs "$RUNS" --style basic \
    --input "$out/message.eml" --export-json "$out/hyperfine.json" \
    --command-name postdesk "${pd[*]} test-mail --to $TO_POSTDESK" \
    --command-name msmtp "${MSMTP[*]}" \
    --command-name swaks "${SWAKS[*]}" \
    --command-name postdesk-version "${pd[*]} --version"
  exit 0
fi

# ------------------------------------------------------------------------------ tools
step "Tools: msmtp, swaks, hyperfine, jq"
"$(dirname "$0")/install-deps.sh" bench
for tool in postfix dovecot openssl gnome-keyring-daemon dbus-run-session; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh test (make bench does)"
done

# hyperfine's --input (feed a file to stdin without a shell) came in 1.17; Debian 12 ships
# 1.15. Then a newer one is built once from crates.io into target/bench/tools.
has_input() { "$1" --help 2>/dev/null | grep -q -- '--input'; }
HYPERFINE=$(command -v hyperfine)
if ! has_input "$HYPERFINE"; then
  HYPERFINE=$out/tools/bin/hyperfine
  if ! [ -x "$HYPERFINE" ] || ! has_input "$HYPERFINE"; then
    echo "bench: $(hyperfine --version) has no --input; building hyperfine 1.20.0 from crates.io into target/bench/tools (once, a few minutes)"
    # 1.20.0: the newest 1.x that builds with Rust 1.88+ (1.21 needs 1.97).
    cargo install --quiet --locked --root "$out/tools" hyperfine --version 1.20.0
  fi
fi
echo "  $("$HYPERFINE" --version), $(msmtp --version | head -n 1), $(swaks --version | head -n 1)"

# ------------------------------------------------------------------------------ build
# The package that provides the `postdesk` binary (src-tauri's `postdesk` while the window
# and the command line are one program; whichever package has it otherwise), so that
# target/release/postdesk is never a stale binary of another package.
pkg=$(cargo metadata --no-deps --format-version 1 |
      jq -r '[.packages[] | select(any(.targets[]; .name == "postdesk" and (.kind | index("bin")))) | .name] | join(" ")')
[[ -n $pkg && $pkg != *" "* ]] || die "expected exactly one workspace package with a 'postdesk' binary, found: '${pkg}'"
step "Build: cargo build --release -p $pkg --bin postdesk"
# A binary that embeds ui/dist needs it; build it only when it is missing (a rebuild would relink).
[ -f ui/dist/index.html ] || make --no-print-directory ui
cargo build --release -p "$pkg" --bin postdesk
[ -x target/release/postdesk ] || die "target/release/postdesk was not built"
echo "  target/release/postdesk: $(ldd target/release/postdesk 2>/dev/null | wc -l) shared libraries"

# ------------------------------------------------------------------------------ peers
mkdir -p "$out"
rm -f "$out"/{results.json,hyperfine.json,postdesk-report.json,preflight-*.log,msmtprc,message.eml}
sandbox=$(mktemp -d /tmp/pdbench.XXXXXX)
chmod 700 "$sandbox"
mailstack=$(mktemp -d /tmp/pdm.XXXXXX)
cleanup() {
  tests/mailstack/stop.sh "$mailstack" >/dev/null 2>&1 || echo "bench: could not stop the mail stack in $mailstack" >&2
  rm -rf "$sandbox" "$mailstack"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$sandbox"/{data,config,cache,runtime,postdesk}
chmod 700 "$sandbox/runtime"

step "Mail peers: Postfix + Dovecot on loopback"
tests/mailstack/start.sh "$mailstack" >/dev/null
. "$mailstack/env"
echo "  submission port $MAIL_HOST:$MAIL_SUBMISSION_PORT (STARTTLS required, AUTH PLAIN/LOGIN, test CA $MAIL_CA_FILE)"

# msmtp: the password in its (0600) config, as msmtp's own docs allow; passwordeval would
# start a shell on every run and time that too.
umask 077
cat >"$out/msmtprc" <<EOF
defaults
logfile
syslog off

account bench
host $MAIL_HOST
port $MAIL_SUBMISSION_PORT
tls on
tls_starttls on
tls_trust_file $MAIL_CA_FILE
auth plain
user $MAIL_USER
password $MAIL_PASSWORD
from $FROM

account default : bench
EOF
umask 022
# A message about the size and shape of Postdesk's test mail, for msmtp (stdin) and swaks.
cat >"$out/message.eml" <<EOF
From: $FROM
To: bench@example.test
Subject: Postdesk benchmark mail
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is a benchmark mail, like Postdesk's test mail.

It was sent from $(uname -n) with these settings:
  Server:          $MAIL_HOST:$MAIL_SUBMISSION_PORT
  Encryption:      starttls
  Authentication:  password
  Sender:          $FROM

If you can read this, the outgoing mail settings work.
EOF

# ------------------------------------------------------------------------------ run
load=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${load%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  echo "bench: note: load average $load on $(nproc) CPUs: something else is running, expect noisy numbers"
fi
env XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" XDG_CACHE_HOME="$sandbox/cache" \
    XDG_RUNTIME_DIR="$sandbox/runtime" NO_AT_BRIDGE=1 \
    BENCH_MAIL_DIR="$mailstack" BENCH_DATA="$sandbox/postdesk" BENCH_HYPERFINE="$HYPERFINE" \
    BENCH_RUNS="$RUNS" BENCH_WARMUP="$WARMUP" \
  dbus-run-session -- "$root/scripts/bench.sh" --inside

# ------------------------------------------------------------------------------ check
step "Delivered: every run's mail is in the sink"
expected=$((1 + WARMUP + RUNS))   # preflight + warm-up + timed runs
count() { grep -l -s -m1 -i "^Delivered-To: $1\$" "$MAIL_SINK"/new/* 2>/dev/null | wc -l; }
deadline=$((SECONDS + 60))
while :; do
  n_pd=$(count "$TO_POSTDESK") n_ms=$(count "$TO_MSMTP") n_sw=$(count "$TO_SWAKS")
  [ "$n_pd" -ge "$expected" ] && [ "$n_ms" -ge "$expected" ] && [ "$n_sw" -ge "$expected" ] && break
  [ $SECONDS -lt $deadline ] || break
  sleep 0.5
done
printf '  %-9s %3d of %d\n' postdesk "$n_pd" "$expected" msmtp "$n_ms" "$expected" swaks "$n_sw" "$expected"
if [ "$n_pd" -ne "$expected" ] || [ "$n_ms" -ne "$expected" ] || [ "$n_sw" -ne "$expected" ]; then
  tail -n 20 "$MAIL_LOG" >&2 || true
  die "not every mail arrived (expected $expected from each tool): see $MAIL_LOG above"
fi

# ------------------------------------------------------------------------------ report
jq -n --slurpfile hf "$out/hyperfine.json" \
   --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg kernel "$(uname -r)" --argjson cpus "$(nproc)" \
   --arg load "$load" --arg pkg "$pkg" --argjson libs "$(ldd target/release/postdesk 2>/dev/null | wc -l)" \
   --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
   --arg v_postdesk "$(target/release/postdesk --version)" --arg v_msmtp "$(msmtp --version | head -n 1)" \
   --arg v_swaks "$(swaks --version | head -n 1)" --arg v_hyperfine "$("$HYPERFINE" --version)" \
   --arg port "$MAIL_SUBMISSION_PORT" --argjson runs "$RUNS" --argjson warmup "$WARMUP" \
   --argjson delivered "{\"postdesk\": $n_pd, \"msmtp\": $n_ms, \"swaks\": $n_sw}" '
  def tool($name): ($hf[0].results[] | select(.command == $name)) as $r
    | {command: $r.command, mean_s: $r.mean, stddev_s: $r.stddev, median_s: $r.median,
       min_s: $r.min, max_s: $r.max, user_s: $r.user, system_s: $r.system, runs: ($r.times | length)};
  def ratio($a; $b; $target): ($a.mean_s / $b.mean_s) as $q
    | {value: $q,
       stddev: ($q * ((($a.stddev_s / $a.mean_s) | . * .) + (($b.stddev_s / $b.mean_s) | . * .) | sqrt)),
       target_max: $target, met: ($q <= $target)};
  {postdesk: tool("postdesk"), msmtp: tool("msmtp"), swaks: tool("swaks"),
   postdesk_version: tool("postdesk-version")} as $t
  | {date: $date,
     machine: {cpu: $cpu, cpus: $cpus, kernel: $kernel, loadavg_before: $load},
     postdesk_binary: {path: "target/release/postdesk", package: $pkg, shared_libraries: $libs},
     versions: {postdesk: $v_postdesk, msmtp: $v_msmtp, swaks: $v_swaks, hyperfine: $v_hyperfine},
     server: {host: "127.0.0.1", port: ($port | tonumber), security: "starttls", auth: "PLAIN",
              ca: "tests/mailstack test CA (verified)"},
     warmup: $warmup, runs: $runs,
     tools: $t,
     delivered: ($delivered | map_values({count: ., expected: (1 + $warmup + $runs)})),
     ratios: {postdesk_msmtp: ratio($t.postdesk; $t.msmtp; 1.0),
              postdesk_swaks: ratio($t.postdesk; $t.swaks; 0.3)}}
  | .targets_met = (.ratios.postdesk_msmtp.met and .ratios.postdesk_swaks.met)
' >"$out/results.json"

step "Results ($RUNS runs each after $WARMUP warm-up; wall time of the whole process)"
jq -r '
  def ms: . * 1000 | . * 10 | round / 10 | tostring | if test("\\.") then . else . + ".0" end;
  def row($name; $t): [$name, "\($t.mean_s | ms) ± \($t.stddev_s | ms)", "\($t.median_s | ms)",
                       "\($t.min_s | ms) … \($t.max_s | ms)", "\($t.user_s | ms) / \($t.system_s | ms)"];
  (["tool", "mean ± σ [ms]", "median", "min … max", "user / sys [ms]"],
   row("postdesk test-mail"; .tools.postdesk), row("msmtp"; .tools.msmtp), row("swaks"; .tools.swaks),
   row("(postdesk --version)"; .tools.postdesk_version)) | @tsv
' "$out/results.json" | column -t -s $'\t'
echo
jq -r '
  def r2: (. * 100 | round) as $n | "\($n / 100 | floor).\($n % 100 | tostring | if length < 2 then "0" + . else . end)";
  (["ratio", "value", "target", "result"] | @tsv),
  (.ratios | to_entries[] | [(.key | sub("_"; " / ")), "\(.value.value | r2)× ± \(.value.stddev | r2)",
     "≤ \(.value.target_max | tostring | if test("\\.") then . else . + ".0" end)×",
     (if .value.met then "met" else "NOT MET" end)] | @tsv)
' "$out/results.json" | column -t -s $'\t'
echo
jq -r '"Targets: \(if .targets_met then "all met" else "NOT all met" end)."' "$out/results.json"
echo
echo "Wrote $out/results.json and $out/hyperfine.json"

# --- Clients and routes (issue 6): a large installation, and the Clients list in the window.
step "Clients: 10,000 clients + 200 routes: load + validate, save, resolution per mail (release)"
clients_rc=0
cargo bench -q -p postdesk-core --features internals --bench clients >"$out/clients.json" || clients_rc=$?
cat "$out/clients.json"

step "Clients: filtering 10,000 clients per keystroke in the real window (Xvfb, tauri-driver)"
(cd ui && npm run --silent build) && cargo build -q --workspace
scripts/test.sh cargo test -q -p postdesk-tests --test e2e bench_ui_filter_10000_clients -- --ignored --nocapture --test-threads=1 \
  | grep '^ui-filter:' || echo "bench: the window benchmark did not run" >&2
jq -r '"UI filter: median \(.median_ms) ms, p95 \(.p95_ms) ms, max \(.max_ms) ms over \(.keystrokes) keystrokes (target: p95 ≤ 16 ms): \(if .p95_ms <= 16 then "met" else "NOT MET" end)"' \
  "$out/ui-filter.json" 2>/dev/null || true
echo "Load while measuring: $(cut -d' ' -f1-3 /proc/loadavg) (on $(nproc) cores); CPU-time figures are less affected than wall time."

if [ "${BENCH_STRICT:-0}" = 1 ] && { [ "$(jq -r .targets_met "$out/results.json")" != true ] || [ "$clients_rc" != 0 ] ||
     [ "$(jq -r '.p95_ms <= 16' "$out/ui-filter.json" 2>/dev/null)" != true ]; }; then
  exit 4
fi
