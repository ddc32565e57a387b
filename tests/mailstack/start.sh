#!/usr/bin/env bash
# Starts Postdesk's real SMTP test peers (Postfix 3.7 + Dovecot 2.3 SASL) under DIR,
# on loopback only, with their own configuration, queue, logs and one Maildir sink.
# Writes DIR/env (KEY=VALUE lines) and prints it. See README.md beside this file.
#
# Usage: tests/mailstack/start.sh DIR
#   DIR: absolute or relative, at most 64 characters once resolved, made of [A-Za-z0-9/._-],
#        not under a 0700 directory such as /root (the mail users must reach it).
# Environment:
#   MAILSTACK_START_TIMEOUT  seconds to wait for every port to answer 220 (default 15)
#   MAILSTACK_PORT_BASE      first port to try instead of a random one in 20000-31899
#   MAILSTACK_OAUTH_URL      base URL of the fake Entra ID (tests/src/bin/fake-entra.rs), e.g.
#                            http://127.0.0.1:PORT: the AUTH ports then also offer XOAUTH2 and
#                            OAUTHBEARER, checked by Dovecot's oauth2 passdb through
#                            token introspection at $MAILSTACK_OAUTH_URL/introspect
set -euo pipefail
umask 022

die() { echo "mailstack: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (Postfix and Dovecot drop to their own users)"
for tool in postfix dovecot openssl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh test)"
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
check_dir() {
  [[ $1 =~ ^/[A-Za-z0-9/._-]+$ ]] || die "DIR must be made of [A-Za-z0-9/._-]: $1"
  [ ${#1} -le 64 ] || die "DIR is ${#1} characters, keep it at most 64 (Dovecot's sockets live in it): $1"
  [ "$1" != / ] || die "DIR must not be /"
}
check_dir "$(realpath -m -- "$1")"
mkdir -p "$1"
DIR=$(cd "$1" && pwd -P)
check_dir "$DIR"
# start.sh deletes and recreates its own subfolders of DIR: only in an empty DIR or one it
# made before (marked by .mailstack).
if [ ! -e "$DIR/.mailstack" ] && [ -n "$(ls -A "$DIR")" ]; then
  die "$DIR is not empty and was not made by start.sh: give an empty or new DIR"
fi
: >"$DIR/.mailstack"

# A previous stack in DIR is stopped first (start is safe to repeat).
MAILSTACK_REAP_WAIT=0 "$HERE/stop.sh" "$DIR" >/dev/null 2>&1 || true

# Every directory from / down to DIR must be traversable by postfix/dovecot users.
chmod 755 "$DIR"
d=$(dirname "$DIR")
while [ "$d" != / ]; do
  perm=$(stat -c %A "$d")
  [ "${perm:9:1}" = x ] || [ "${perm:9:1}" = t ] ||
    die "$d is not reachable by other users (mode $perm): choose a DIR elsewhere, e.g. under /tmp"
  d=$(dirname "$d")
done

PF_UID=$(id -u postfix) PF_GID=$(id -g postfix)
MAIL_USER=sender@example.test
MAIL_PASSWORD=postdesk-test-password
SMALL_LIMIT=2000
START_TIMEOUT=${MAILSTACK_START_TIMEOUT:-15}
OAUTH_URL=${MAILSTACK_OAUTH_URL:-}
if [ -n "$OAUTH_URL" ]; then
  [[ $OAUTH_URL =~ ^http://(127\.0\.0\.1|localhost):[0-9]+$ ]] ||
    die "MAILSTACK_OAUTH_URL must be http://127.0.0.1:PORT (the fake Entra ID on loopback): $OAUTH_URL"
fi

# Fresh state every start, except the TLS material which is kept while still usable.
rm -rf "$DIR/postfix" "$DIR/spool" "$DIR/data" "$DIR/dovecot" "$DIR/sink" "$DIR/home" \
       "$DIR/env" "$DIR/maillog" "$DIR/dovecot.log" "$DIR/dovecot.conf" "$DIR/daemons.out"
mkdir -p "$DIR/postfix" "$DIR/spool" "$DIR/data" "$DIR/dovecot" "$DIR/tls" \
         "$DIR/sink/Maildir/new" "$DIR/sink/Maildir/cur" "$DIR/sink/Maildir/tmp"
chown "$PF_UID:$PF_GID" "$DIR/data"
chown -R "$PF_UID:$PF_GID" "$DIR/sink"
chmod -R 755 "$DIR/sink"

# ---------------------------------------------------------------- TLS material
# Test CA (not in the system trust store) and three leaf certificates it signs:
#   server.pem   localhost + 127.0.0.1, valid from yesterday for a year
#   expired.pem  localhost + 127.0.0.1, expired in 2021
#   wrong.pem    wrong.example only, valid from yesterday for a year
make_tls() {
  local t=$DIR/tls
  rm -rf "$t" && mkdir -p "$t/newcerts" && : >"$t/index.txt" && echo 1000 >"$t/serial"
  cat >"$t/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = Postdesk Test CA
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = testca
[ testca ]
dir = $t
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
email_in_dn = no
[ pol ]
commonName = supplied
[ ext_localhost ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,IP:127.0.0.1
[ ext_wrong ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
EOF
  local ec=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
  openssl genpkey "${ec[@]}" -out "$t/ca.key" 2>/dev/null
  openssl req -new -x509 -config "$t/openssl.cnf" -extensions v3_ca -key "$t/ca.key" \
    -days 3650 -set_serial 1 -out "$t/ca.pem"
  local yesterday
  yesterday=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
  # name  CN  extensions  startdate  enddate-or-days
  sign() {
    openssl genpkey "${ec[@]}" -out "$t/$1.key" 2>/dev/null
    openssl req -new -key "$t/$1.key" -subj "/CN=$2" -out "$t/$1.csr" 2>/dev/null
    openssl ca -batch -notext -config "$t/openssl.cnf" -extensions "$3" -startdate "$4" "${@:5}" \
      -in "$t/$1.csr" -out "$t/$1.pem" 2>"$t/$1.err" || { cat "$t/$1.err" >&2; return 1; }
    cat "$t/$1.key" "$t/$1.pem" >"$t/$1.chain"   # key then cert, for smtpd_tls_chain_files
    chmod 600 "$t/$1.key" "$t/$1.chain"
  }
  sign server localhost ext_localhost "$yesterday" -days 365
  sign expired localhost ext_localhost 20200101000000Z -enddate 20210101000000Z
  sign wrong wrong.example ext_wrong "$yesterday" -days 365
  rm -f "$t"/*.csr "$t"/*.err
}
tls_usable() {
  local f
  for f in ca server expired wrong; do [ -s "$DIR/tls/$f.pem" ] || return 1; done
  for f in server expired wrong; do [ -s "$DIR/tls/$f.chain" ] || return 1; done
  # the valid ones must stay valid for at least another day
  openssl x509 -checkend 86400 -noout -in "$DIR/tls/ca.pem" >/dev/null &&
    openssl x509 -checkend 86400 -noout -in "$DIR/tls/server.pem" >/dev/null &&
    openssl x509 -checkend 86400 -noout -in "$DIR/tls/wrong.pem" >/dev/null
}
if ! tls_usable; then make_tls; fi
cp "$DIR/tls/ca.pem" "$DIR/ca.pem"
chmod 644 "$DIR/ca.pem" "$DIR"/tls/*.pem

# ---------------------------------------------------------------- ports
# Eight consecutive-ish free TCP ports from a random base in 20000-31999 (below Linux's
# ephemeral range 32768+). "Free" = no socket in /proc/net/tcp{,6} uses the port.
# 8 Postfix ports, then 6 Dovecot mailbox ports (IMAP, IMAPS, POP3, POP3S, and IMAPS/POP3S
# with the wrong-host certificate on BADCERT_IP).
NPORTS=14
BADCERT_IP=127.0.0.2
used_ports() {
  local hex
  for hex in $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$2 ~ /:/ { split($2, a, ":"); print a[2] }'); do
    echo $((16#$hex))
  done
}
pick_ports() {
  local used base p
  used=" $(used_ports | tr '\n' ' ') "
  base=${MAILSTACK_PORT_BASE:-$((20000 + RANDOM % 11900))}
  MAILSTACK_PORT_BASE=   # a retry takes a random base
  PORTS=()
  for ((p = base; p < base + 100 && ${#PORTS[@]} < NPORTS; p++)); do
    [[ $used == *" $p "* ]] || PORTS+=("$p")
  done
  [ ${#PORTS[@]} -eq $NPORTS ] || die "could not find $NPORTS free ports near $base"
}

# ---------------------------------------------------------------- Dovecot (SASL only)
write_dovecot() {
  mkdir -p "$DIR/dovecot/state"
  # XOAUTH2 / OAUTHBEARER (only with MAILSTACK_OAUTH_URL): the bearer token is checked by
  # RFC 7662 introspection against the fake Entra ID, which answers {"active": true,
  # "email": <mailbox>} for a valid Exchange token; Dovecot then requires that email to equal
  # the user named in the SASL exchange.
  oauth_passdb=
  if [ -n "$OAUTH_URL" ]; then
    printf '%s\n' "introspection_mode = post" "introspection_url = $OAUTH_URL/introspect" \
      "force_introspection = yes" "username_attribute = email" "active_attribute = active" \
      "active_value = true" >"$DIR/dovecot/oauth2.conf.ext"
    chmod 644 "$DIR/dovecot/oauth2.conf.ext"
    oauth_passdb="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DIR/dovecot/oauth2.conf.ext
}"
  fi
  # user:password:uid:gid:gecos:home:shell:extra fields
  # The user's home holds its Maildir (IMAP/POP3 logins open it).
  mkdir -p "$DIR/home"
  chown 65534:65534 "$DIR/home"
  printf '%s:{PLAIN}%s:65534:65534::%s::nodelay=y\n' "$MAIL_USER" "$MAIL_PASSWORD" "$DIR/home" \
    >"$DIR/dovecot/users"
  chown root:dovecot "$DIR/dovecot/users"
  chmod 640 "$DIR/dovecot/users"
  cat >"$DIR/dovecot.conf" <<EOF
# Dovecot 2.3 for Postdesk's tests: Postfix's SASL server, and the mailbox that the
# receive-before-send login (IMAP, POP3) goes to.
# Written by tests/mailstack/start.sh; nothing here is read from /etc/dovecot.
protocols = imap pop3
base_dir = $DIR/dovecot
state_dir = $DIR/dovecot/state
instance_name = postdesk-mailstack
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
debug_log_path = $DIR/dovecot.log
# TLS for IMAP/POP3: STARTTLS/STLS on the plain ports, implicit on imaps/pop3s. Connections
# to $BADCERT_IP get the certificate for wrong.example (signed by the test CA).
ssl = yes
ssl_cert = <$DIR/tls/server.pem
ssl_key = <$DIR/tls/server.key
local $BADCERT_IP {
  ssl_cert = <$DIR/tls/wrong.pem
  ssl_key = <$DIR/tls/wrong.key
}
mail_location = maildir:~/Maildir
# Postfix only offers AUTH after STARTTLS (smtpd_tls_auth_only) and tells Dovecot so.
disable_plaintext_auth = no
auth_mechanisms = plain login${OAUTH_URL:+ xoauth2 oauthbearer}
# Fast, deterministic failures: no failure delay, no cache, no anvil penalty (below).
auth_failure_delay = 0
auth_cache_size = 0
auth_verbose = yes
auth_verbose_passwords = no
auth_debug = no
auth_debug_passwords = no

# Dovecot answers a failed login only at its next 500 ms failure check, even with
# auth_failure_delay = 0, unless the request carries the extra field nodelay=y. Fields of a
# passdb that fails (wrong password, unknown user) are rolled back, so nodelay=y comes from
# this first passdb, which authenticates nobody (noauthenticate) and only sets the field;
# the passwd-file passdb after it decides. Never add nopassword=y, nor put this passdb last:
# start.sh checks that a wrong password is refused.
passdb {
  driver = static
  args = noauthenticate nodelay=y
}
# The one real user.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/dovecot/users
  mechanisms = plain login
}
$oauth_passdb
userdb {
  driver = passwd-file
  args = username_format=%u $DIR/dovecot/users
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${PORTS[8]}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${PORTS[9]}
    ssl = yes
  }
  inet_listener imaps_badcert {
    address = $BADCERT_IP
    port = ${PORTS[12]}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${PORTS[10]}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = ${PORTS[11]}
    ssl = yes
  }
  inet_listener pop3s_badcert {
    address = $BADCERT_IP
    port = ${PORTS[13]}
    ssl = yes
  }
}

service auth {
  # Postfix's smtpd_sasl_path points here.
  unix_listener auth-postfix {
    mode = 0666
  }
}
service anvil {
  # Without this socket the auth process runs without the per-IP auth penalty,
  # which would otherwise delay good logins after a failed one.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
  chmod 644 "$DIR/dovecot.conf"
}

# ---------------------------------------------------------------- Postfix
write_postfix() {
  local pf=$DIR/postfix t=$DIR/tls
  cat >"$pf/main.cf" <<EOF
# Postfix 3.7 for Postdesk's tests. Written by tests/mailstack/start.sh; /etc/postfix is
# only read for postfix-files (meta_directory) and never changed.
compatibility_level = 3.6
queue_directory = $DIR/spool
data_directory = $DIR/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $DIR/maillog
maillog_file_prefixes = $DIR
myhostname = mail.example.test
mydomain = example.test
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP Postdesk test peer
smtputf8_enable = yes
message_size_limit = 10240000
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
delay_warning_time = 0
line_length_limit = 16384

# Nothing leaves this machine and nothing goes to local users: mail that an authenticated
# client relays to any other domain is delivered to the sink as well.
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:local delivery is disabled
default_transport = virtual
relay_transport = virtual
relay_domains =

# Every address in these domains (and every relayed address) lands in the one Maildir sink.
virtual_mailbox_domains = example.test, xn--bcher-kva.example, bücher.example
virtual_mailbox_base = $DIR/sink
virtual_mailbox_maps = regexp:$pf/sink.regexp
virtual_uid_maps = static:$PF_UID
virtual_gid_maps = static:$PF_GID
virtual_alias_maps =
virtual_transport = virtual

# Relaying: nobody unauthenticated; the submission-like ports allow only authenticated clients.
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =

# TLS: off unless a service in master.cf turns it on.
smtpd_tls_security_level = none
smtpd_tls_chain_files = $t/server.chain
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
smtpd_tls_auth_only = yes

# SASL through Dovecot; off unless a service in master.cf turns it on.
smtpd_sasl_auth_enable = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DIR/dovecot/auth-postfix
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
EOF
  printf '/./ Maildir/\n' >"$pf/sink.regexp"

  local plain=${PORTS[0]} sub=${PORTS[1]} smtps=${PORTS[2]} expired=${PORTS[3]}
  local wrong=${PORTS[4]} notls=${PORTS[5]} noutf8=${PORTS[6]} small=${PORTS[7]}
  local auth="-o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes -o smtpd_relay_restrictions=permit_sasl_authenticated,reject -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject"
  cat >"$pf/master.cf" <<EOF
# service              type  private unpriv chroot wakeup maxproc command + args
# plain: no TLS, no AUTH, mail for example.test / bücher.example only
127.0.0.1:$plain       inet  n       -      n      -      -       smtpd -o syslog_name=postfix/plain
# submission: STARTTLS required, AUTH PLAIN/LOGIN after TLS, relaying only when authenticated
127.0.0.1:$sub         inet  n       -      n      -      -       smtpd -o syslog_name=postfix/submission $auth
# smtps: implicit TLS, AUTH required
127.0.0.1:$smtps       inet  n       -      n      -      -       smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes $auth
# expired: like submission, but its certificate expired in 2021
127.0.0.1:$expired     inet  n       -      n      -      -       smtpd -o syslog_name=postfix/expired -o smtpd_tls_chain_files=$t/expired.chain $auth
# wronghost: like submission, certificate valid but for wrong.example only
127.0.0.1:$wrong       inet  n       -      n      -      -       smtpd -o syslog_name=postfix/wronghost -o smtpd_tls_chain_files=$t/wrong.chain $auth
# notls: plain SMTP that never offers STARTTLS (nor AUTH)
127.0.0.1:$notls       inet  n       -      n      -      -       smtpd -o syslog_name=postfix/notls -o smtpd_tls_security_level=none
# noutf8: like plain, without SMTPUTF8
127.0.0.1:$noutf8      inet  n       -      n      -      -       smtpd -o syslog_name=postfix/noutf8 -o smtputf8_enable=no
# small: like plain, with a $SMALL_LIMIT-byte message size limit. smtpd itself enforces it:
# SIZE= above it at MAIL FROM gets "552 5.3.4 Message size exceeds fixed limit", a bigger
# DATA gets "552 5.3.4 Error: message file too big".
127.0.0.1:$small       inet  n       -      n      -      -       smtpd -o syslog_name=postfix/small -o message_size_limit=$SMALL_LIMIT
# pickup: mail posted with "/usr/sbin/sendmail -C $pf" (via postdrop into spool/maildrop)
pickup                 unix  n       -      n      60     1       pickup
cleanup                unix  n       -      n      -      0       cleanup
qmgr                   unix  n       -      n      300    1       qmgr
tlsmgr                 unix  -       -      n      1000?  1       tlsmgr
rewrite                unix  -       -      n      -      -       trivial-rewrite
bounce                 unix  -       -      n      -      0       bounce
defer                  unix  -       -      n      -      0       bounce
trace                  unix  -       -      n      -      0       bounce
verify                 unix  -       -      n      -      1       verify
flush                  unix  n       -      n      1000?  0       flush
proxymap               unix  -       -      n      -      -       proxymap
proxywrite             unix  -       -      n      -      1       proxymap
showq                  unix  n       -      n      -      -       showq
error                  unix  -       -      n      -      -       error
retry                  unix  -       -      n      -      -       error
discard                unix  -       -      n      -      -       discard
virtual                unix  -       n      n      -      -       virtual
anvil                  unix  -       -      n      -      1       anvil
scache                 unix  -       -      n      -      1       scache
postlog                unix-dgram n  -      n      -      1       postlogd
EOF
  chmod 644 "$pf/main.cf" "$pf/master.cf" "$pf/sink.regexp"
  # Freshly written files count as "hot" and make Postfix re-read them for a while.
  touch -d '-2 min' "$pf/main.cf" "$pf/master.cf" "$pf/sink.regexp"
}

# ---------------------------------------------------------------- waiting
# 220 banner on a plain port (bash's /dev/tcp) or through TLS (openssl s_client).
banner_plain() {
  local line=
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  IFS= read -r -t 2 line <&3 || true
  printf 'QUIT\r\n' >&3 2>/dev/null || true
  exec 3<&- 3>&-
  [[ $line == 220* ]]
}
banner_tls() {
  local out
  out=$(printf 'QUIT\r\n' | timeout 3 openssl s_client -quiet -connect "127.0.0.1:$1" 2>/dev/null) || true
  [[ $out == 220* ]]
}
# "* OK" (IMAP) or "+OK" (POP3) greeting on a plain Dovecot port.
greeting_plain() {
  local line=
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  IFS= read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ $line == "$2"* ]]
}
wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) p i
  # Dovecot binds all its listeners at start: the plain ones answering is enough.
  until greeting_plain "${PORTS[8]}" '* OK' && greeting_plain "${PORTS[10]}" '+OK'; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
  for i in "${!PORTS[@]}"; do
    [ "$i" -lt 8 ] || break
    p=${PORTS[$i]}
    while :; do
      if [ "$i" -eq 2 ]; then banner_tls "$p" && break; else banner_plain "$p" && break; fi
      [ $SECONDS -lt $deadline ] || return 1
      sleep 0.05
    done
  done
}

start_daemons() {
  # Daemons get no descriptor of the caller: stdin from /dev/null, output to a file.
  dovecot -c "$DIR/dovecot.conf" </dev/null >>"$DIR/daemons.out" 2>&1 ||
    { cat "$DIR/daemons.out" "$DIR/dovecot.log" >&2 2>/dev/null; return 1; }
  local deadline=$((SECONDS + 10))
  until [ -S "$DIR/dovecot/auth-postfix" ]; do
    [ $SECONDS -lt $deadline ] || { echo "mailstack: Dovecot's auth socket did not appear" >&2; return 1; }
    sleep 0.02
  done
  # Guard: the right password passes, a wrong one and an unknown user do not.
  local da=(doveadm -c "$DIR/dovecot.conf" auth test -x service=smtp -x rip=127.0.0.1)
  "${da[@]}" "$MAIL_USER" "$MAIL_PASSWORD" >/dev/null 2>&1 ||
    { echo "mailstack: Dovecot refuses the test user's password" >&2; return 1; }
  if "${da[@]}" "$MAIL_USER" "wrong-$MAIL_PASSWORD" >/dev/null 2>&1 ||
     "${da[@]}" "nobody@example.test" "$MAIL_PASSWORD" >/dev/null 2>&1; then
    echo "mailstack: Dovecot accepts a wrong password: refusing to run" >&2; return 1
  fi
  if ! postfix -c "$DIR/postfix" start </dev/null >>"$DIR/daemons.out" 2>&1; then
    postfix -c "$DIR/postfix" check </dev/null >>"$DIR/daemons.out" 2>&1 || true
    return 1
  fi
}

ok=
for attempt in 1 2 3; do
  pick_ports
  write_dovecot
  write_postfix
  if start_daemons && wait_ready; then ok=1; break; fi
  echo "mailstack: start attempt $attempt failed (ports ${PORTS[*]})" >&2
  tail -n 20 "$DIR/daemons.out" "$DIR/maillog" "$DIR/dovecot.log" >&2 2>/dev/null || true
  MAILSTACK_REAP_WAIT=0 "$HERE/stop.sh" "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR/spool" "$DIR/dovecot/"*.pid && mkdir -p "$DIR/spool"
done
[ -n "$ok" ] || die "could not start the mail stack in $DIR"

cat >"$DIR/env.tmp" <<EOF
MAIL_DIR=$DIR
MAIL_HOST=127.0.0.1
MAIL_PLAIN_PORT=${PORTS[0]}
MAIL_SUBMISSION_PORT=${PORTS[1]}
MAIL_SMTPS_PORT=${PORTS[2]}
MAIL_EXPIRED_PORT=${PORTS[3]}
MAIL_WRONGHOST_PORT=${PORTS[4]}
MAIL_NOTLS_PORT=${PORTS[5]}
MAIL_NOUTF8_PORT=${PORTS[6]}
MAIL_SMALL_PORT=${PORTS[7]}
MAIL_SMALL_LIMIT=$SMALL_LIMIT
MAIL_IMAP_PORT=${PORTS[8]}
MAIL_IMAPS_PORT=${PORTS[9]}
MAIL_POP3_PORT=${PORTS[10]}
MAIL_POP3S_PORT=${PORTS[11]}
MAIL_BADCERT_HOST=$BADCERT_IP
MAIL_IMAPS_BADCERT_PORT=${PORTS[12]}
MAIL_POP3S_BADCERT_PORT=${PORTS[13]}
MAIL_USER=$MAIL_USER
MAIL_PASSWORD=$MAIL_PASSWORD
MAIL_DOMAIN=example.test
MAIL_IDN_DOMAIN=xn--bcher-kva.example
MAIL_WRONGHOST_NAME=wrong.example
MAIL_CA_FILE=$DIR/ca.pem
MAIL_SINK=$DIR/sink/Maildir
MAIL_LOG=$DIR/maillog
MAIL_DOVECOT_LOG=$DIR/dovecot.log
MAIL_OAUTH_URL=$OAUTH_URL
EOF
mv "$DIR/env.tmp" "$DIR/env"
chmod 644 "$DIR/env"
cat "$DIR/env"
