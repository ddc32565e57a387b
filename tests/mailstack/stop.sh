#!/usr/bin/env bash
# Stops the mail stack that tests/mailstack/start.sh started under DIR: Postfix first, then
# Dovecot, then any of their processes still left (only those belonging to DIR). Never
# waits more than about 15 seconds in all. Exit status 0 when nothing of DIR is left running.
#
# Usage: tests/mailstack/stop.sh DIR
set -uo pipefail

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd -P)
[ "$DIR" != / ] || { echo "mailstack: DIR must not be /" >&2; exit 2; }

# Running = exists and is not a zombie (a zombie only waits for init to reap it).
running() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] && [ "$s" != Z ]; }
exe_of() { readlink "/proc/$1/exe" 2>/dev/null; }

# Processes of this stack: Postfix and Dovecot executables whose environment names DIR's
# Postfix configuration, whose command line names DIR, or whose working directory is in DIR.
stack_pids() {
  local exe pid env cmd
  while read -r exe; do
    pid=${exe#/proc/}; pid=${pid%/exe}
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$DIR"/* ]] && { echo "$pid"; continue; }
    mapfile -d '' env <"/proc/$pid/environ" 2>/dev/null || continue
    mapfile -d '' cmd <"/proc/$pid/cmdline" 2>/dev/null || continue
    if [[ " ${env[*]} " == *" MAIL_CONFIG=$DIR/postfix "* || " ${cmd[*]} " == *"$DIR/"* ]]; then
      echo "$pid"
    fi
  done < <(find /proc/[0-9]*/exe -maxdepth 0 \( -lname '/usr/lib/postfix/*' -o \
             -lname /usr/sbin/postfix -o -lname '/usr/lib/dovecot/*' -o -lname /usr/sbin/dovecot \) \
             2>/dev/null)
}

pid_from() { [ -s "$1" ] && tr -dc '0-9\n' <"$1" | head -n 1; }

# Wait up to $1 tenths of a second until none of the pids runs.
wait_stopped() {
  local n=$1 pid busy; shift
  while :; do
    busy=
    for pid in "$@"; do running "$pid" && busy=1 && break; done
    [ -z "$busy" ] && return 0
    [ "$n" -gt 0 ] || return 1
    sleep 0.1; n=$((n - 1))
  done
}

# TERM the pids, KILL those still running after $1 tenths of a second.
terminate() {
  local n=$1; shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  wait_stopped "$n" "$@" || { kill -KILL "$@" 2>/dev/null; wait_stopped 20 "$@"; }
}

signalled=()

# 1. Postfix: its own stop (the master ends its process group), the master by hand if needed.
master=$(pid_from "$DIR/spool/pid/master.pid")
if [ -n "$master" ] && running "$master" && [[ $(exe_of "$master") == /usr/lib/postfix/* ]]; then
  signalled+=("$master")
  timeout 10 postfix -c "$DIR/postfix" stop </dev/null >/dev/null 2>&1
  running "$master" && terminate 30 "$master"
fi

# 2. Dovecot: its master and children together (TERM on the master alone makes it wait
#    ~3 s for its children), KILL what does not go.
dmaster=$(pid_from "$DIR/dovecot/master.pid")
if [ -n "$dmaster" ] && running "$dmaster" && [[ $(exe_of "$dmaster") == */dovecot ]]; then
  mapfile -t kids < <(pgrep -P "$dmaster")
  group=("$dmaster" "${kids[@]}")
  signalled+=("${group[@]}")
  terminate 30 "${group[@]}"
fi

# 3. Leftovers of this stack (also from a crashed earlier run).
mapfile -t left < <(stack_pids)
signalled+=("${left[@]}")
terminate 20 "${left[@]}"

mapfile -t left < <(stack_pids)
if [ ${#left[@]} -gt 0 ]; then
  echo "mailstack: still running in $DIR: ${left[*]}" >&2
  exit 1
fi

# 4. Orphaned daemons become zombies until init reaps them (on some machines every ~2 s):
#    wait up to MAILSTACK_REAP_WAIT seconds (default 3) so that ps shows nothing of the
#    stack afterwards. start.sh sets it to 0: zombies hold no port, socket or file.
n=$(( ${MAILSTACK_REAP_WAIT:-3} * 10 ))
for pid in "${signalled[@]}"; do
  while [ -e "/proc/$pid" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
done
rm -f "$DIR/spool/pid/master.pid" "$DIR/dovecot/master.pid"
exit 0
