#!/usr/bin/env bash
# Proves that a running mail stack (tests/mailstack/start.sh DIR) behaves as README.md says,
# with swaks, openssl s_client and raw SMTP over bash's /dev/tcp. Prints one line per check
# and "N passed, N failed" at the end; exits non-zero if any check failed.
#
# Usage: tests/mailstack/check.sh DIR
set -uo pipefail

[ $# -eq 1 ] && [ -f "$1/env" ] || { echo "usage: $0 DIR   (DIR of a started stack, with DIR/env)" >&2; exit 2; }
set -a; . "$1/env"; set +a
H=$MAIL_HOST
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
has() { grep -qE -- "$2" <<<"$1"; }
hasnt() { ! grep -qE -- "$2" <<<"$1"; }

# Raw SMTP: raw PORT CMD... sends each command after reading the previous reply; prints
# every reply line. A command "DATA:<text>" sends <text> CRLF "." CRLF after the 354.
raw() {
  local port=$1 line cmd; shift
  exec 3<>"/dev/tcp/$H/$port" || return 1
  read_reply() { while IFS= read -r -t 5 line <&3; do line=${line%$'\r'}; echo "$line"; [[ ${line:3:1} == - ]] || break; done; }
  read_reply
  for cmd in "$@"; do
    if [[ $cmd == DATA:* ]]; then
      printf 'DATA\r\n' >&3; read_reply
      printf '%s\r\n.\r\n' "${cmd#DATA:}" >&3
    else
      printf '%s\r\n' "$cmd" >&3
    fi
    read_reply
  done
  exec 3<&- 3>&-
}

# Poll the sink (at most 2 s) for a message containing the marker.
in_sink() {
  local _
  for _ in $(seq 20); do
    grep -rqF -- "$1" "$MAIL_SINK/new" "$MAIL_SINK/cur" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
mark() { echo "postdesk-check-$1-$$-$RANDOM"; }
sw() { swaks --server "$H" --hide-informational "$@" 2>&1; }
ehlo() { sw --port "$1" --quit-after EHLO "${@:2}"; }
now() { echo "${EPOCHREALTIME/./}"; }           # microseconds
ms_since() { echo $(( ($(now) - $1) / 1000 )); }

# ---- plain
out=$(ehlo "$MAIL_PLAIN_PORT")
check "plain: EHLO offers SMTPUTF8, no STARTTLS, no AUTH" \
  eval 'has "$out" "250.SMTPUTF8" && hasnt "$out" "STARTTLS|AUTH"'
m=$(mark plain)
out=$(sw --port "$MAIL_PLAIN_PORT" -f alice@example.test -t bob@example.test --header "Subject: $m")
check "plain: mail to bob@example.test is queued" has "$out" "250 2.0.0 Ok: queued"
check "plain: ... and lands in the sink" in_sink "$m"
out=$(sw --port "$MAIL_PLAIN_PORT" -f alice@example.test -t bob@other.example)
check "plain: relay to other.example is denied (554 5.7.1 Relay access denied)" \
  has "$out" "554 5.7.1 <bob@other.example>: Relay access denied"

# ---- submission
out=$(ehlo "$MAIL_SUBMISSION_PORT")
check "submission: STARTTLS offered, no AUTH before TLS" eval 'has "$out" "250.STARTTLS" && hasnt "$out" "AUTH"'
out=$(ehlo "$MAIL_SUBMISSION_PORT" -tls)
check "submission: AUTH PLAIN LOGIN after STARTTLS" has "$out" "250.AUTH PLAIN LOGIN"
out=$(raw "$MAIL_SUBMISSION_PORT" "EHLO client.test" "MAIL FROM:<$MAIL_USER>" QUIT)
check "submission: MAIL before STARTTLS is refused (530)" has "$out" "^530 "
out=$(sw --port "$MAIL_SUBMISSION_PORT" -tls -f "$MAIL_USER" -t bob@example.test)
check "submission: no relaying without AUTH (554 5.7.1)" has "$out" "554 5.7.1 .*Access denied"
for mech in PLAIN LOGIN; do
  m=$(mark "sub-$mech")
  out=$(sw --port "$MAIL_SUBMISSION_PORT" -tls --tls-verify --tls-ca-path "$MAIL_CA_FILE" \
        -a "$mech" -au "$MAIL_USER" -ap "$MAIL_PASSWORD" -f "$MAIL_USER" -t someone@other.example --header "Subject: $m")
  check "submission: AUTH $mech with the right password, CA-verified TLS, relays to other.example" \
    eval 'has "$out" "235 2.7.0" && has "$out" "queued as"'
  check "submission: ... and the relayed mail lands in the sink" in_sink "$m"
  t=$(now)
  out=$(sw --port "$MAIL_SUBMISSION_PORT" -tls -a "$mech" -au "$MAIL_USER" -ap "wrong-$MAIL_PASSWORD" \
        -f "$MAIL_USER" -t bob@example.test)
  ms=$(ms_since "$t")
  check "submission: AUTH $mech with a wrong password gets 535 5.7.8 (whole session ${ms} ms)" \
    eval 'has "$out" "535 5.7.8 Error: authentication failed" && [ $ms -lt 1500 ]'
  t=$(now)
  out=$(sw --port "$MAIL_SUBMISSION_PORT" -tls -a "$mech" -au "$MAIL_USER" -ap "$MAIL_PASSWORD" \
        -f "$MAIL_USER" -t bob@example.test)
  ms=$(ms_since "$t")
  check "submission: right password right after the failure works (whole session ${ms} ms)" \
    eval 'has "$out" "235 2.7.0" && [ $ms -lt 1500 ]'
done
out=$(sw --port "$MAIL_SUBMISSION_PORT" -tls --tls-verify --quit-after TLS)
check "submission: the system trust store does not trust the test CA" has "$out" "certificate verify failed"

# ---- smtps
m=$(mark smtps)
out=$(sw --port "$MAIL_SMTPS_PORT" --tls-on-connect --tls-verify --tls-ca-path "$MAIL_CA_FILE" \
      -a LOGIN -au "$MAIL_USER" -ap "$MAIL_PASSWORD" -f "$MAIL_USER" -t bob@example.test --header "Subject: $m")
check "smtps: implicit TLS, CA-verified, AUTH, delivery" eval 'has "$out" "235 2.7.0" && has "$out" "queued as" && in_sink "$m"'
out=$(sw --port "$MAIL_SMTPS_PORT" --tls-on-connect -f "$MAIL_USER" -t bob@example.test)
check "smtps: no relaying without AUTH" has "$out" "554 5.7.1"

# ---- certificates
sclient() { echo QUIT | timeout 5 openssl s_client -starttls smtp -connect "$H:$1" -CAfile "$MAIL_CA_FILE" "${@:2}" 2>&1; }
out=$(sclient "$MAIL_SUBMISSION_PORT" -verify_hostname localhost -verify_ip 127.0.0.1)
check "normal certificate: verifies for localhost and 127.0.0.1" has "$out" "Verify return code: 0 \(ok\)"
out=$(sclient "$MAIL_EXPIRED_PORT")
check "expired: certificate has expired" has "$out" "certificate has expired"
out=$(sclient "$MAIL_WRONGHOST_PORT")
check "wronghost: chain verifies without a name check" has "$out" "Verify return code: 0 \(ok\)"
out=$(sclient "$MAIL_WRONGHOST_PORT" -verify_hostname localhost)
check "wronghost: hostname verification for localhost fails" has "$out" "hostname mismatch"
out=$(ehlo "$MAIL_EXPIRED_PORT"; ehlo "$MAIL_WRONGHOST_PORT")
check "expired/wronghost: STARTTLS offered" eval '[ $(grep -c "250.STARTTLS" <<<"$out") -eq 2 ]'

# ---- notls, noutf8
out=$(ehlo "$MAIL_NOTLS_PORT")
check "notls: EHLO has no STARTTLS and no AUTH" eval 'has "$out" "250 " && hasnt "$out" "STARTTLS|AUTH"'
out=$(ehlo "$MAIL_NOUTF8_PORT")
check "noutf8: EHLO has no SMTPUTF8" eval 'has "$out" "250 " && hasnt "$out" "SMTPUTF8"'
m=$(mark noutf8)
out=$(sw --port "$MAIL_NOUTF8_PORT" -f alice@example.test -t bob@example.test --header "Subject: $m")
check "noutf8: ASCII mail still delivered" eval 'has "$out" "queued as" && in_sink "$m"'

# ---- small
body=$(head -c 5000 /dev/zero | tr '\0' x | fold -w 70)
out=$(sw --port "$MAIL_SMALL_PORT" -f alice@example.test -t bob@example.test --body "$body")
check "small: a 5 KB message gets 552 5.3.4 at DATA" has "$out" "552 5.3.4"
out=$(raw "$MAIL_SMALL_PORT" "EHLO client.test" "MAIL FROM:<alice@example.test> SIZE=5000" QUIT)
check "small: SIZE=5000 at MAIL FROM gets 552 5.3.4 Message size exceeds fixed limit" \
  has "$out" "552 5.3.4 Message size exceeds fixed limit"
m=$(mark small)
out=$(sw --port "$MAIL_SMALL_PORT" -f alice@example.test -t bob@example.test --header "Subject: $m" --body short)
check "small: a short message is delivered" eval 'has "$out" "queued as" && in_sink "$m"'

# ---- SMTPUTF8
for rcpt in 'jörg@bücher.example' 'müller@example.test' 'joerg@xn--bcher-kva.example'; do
  m=$(mark utf8)
  out=$(raw "$MAIL_PLAIN_PORT" "EHLO client.test" "MAIL FROM:<jörg@bücher.example> SMTPUTF8" \
        "RCPT TO:<$rcpt>" "DATA:From: <jörg@bücher.example>
To: <$rcpt>
Subject: Grüße $m

Hällo" QUIT)
  check "SMTPUTF8: mail from jörg@bücher.example to $rcpt is queued and lands in the sink" \
    eval 'has "$out" "^250 2.0.0 Ok: queued" && in_sink "$m"'
done
out=$(raw "$MAIL_NOUTF8_PORT" "EHLO client.test" "MAIL FROM:<jörg@bücher.example> SMTPUTF8" \
      "MAIL FROM:<alice@example.test> SMTPUTF8" QUIT)
check "noutf8: a UTF-8 sender gets 501 5.1.7, the SMTPUTF8 option 555 5.5.4" \
  eval 'has "$out" "^501 5.1.7" && has "$out" "^555 5.5.4 Unsupported option: SMTPUTF8"'

# ---- local sendmail into this Postfix (pickup)
m=$(mark sendmail)
printf 'From: it@example.test\nTo: sm@example.test\nSubject: %s\n\nhello\n' "$m" |
  /usr/sbin/sendmail -C "$MAIL_DIR/postfix" -t -i 2>/dev/null
check "sendmail -C DIR/postfix: message posted locally lands in the sink" in_sink "$m"

# Dovecot's mailbox ports (receive-before-send).
greet() { local line=; exec 3<>"/dev/tcp/$H/$1" || return 1; IFS= read -r -t 5 line <&3; exec 3<&- 3>&-; echo "$line"; }
check "imap: greets with * OK" has "$(greet "$MAIL_IMAP_PORT")" '^\* OK'
check "pop3: greets with +OK" has "$(greet "$MAIL_POP3_PORT")" '^\+OK'
out=$(printf 'a LOGIN %s %s\r\nb LOGOUT\r\n' "$MAIL_USER" "$MAIL_PASSWORD" | timeout 5 openssl s_client -quiet -connect "$H:$MAIL_IMAPS_PORT" -CAfile "$MAIL_CA_FILE" -verify_return_error 2>&1)
check "imaps: LOGIN with the right password" has "$out" "^a OK"
out=$(printf 'a LOGIN %s wrong\r\nb LOGOUT\r\n' "$MAIL_USER" | timeout 5 openssl s_client -quiet -starttls imap -connect "$H:$MAIL_IMAP_PORT" -CAfile "$MAIL_CA_FILE" 2>&1)
check "imap STARTTLS: a wrong password gets NO [AUTHENTICATIONFAILED]" has "$out" "a NO \[AUTHENTICATIONFAILED\]"
out=$(printf 'USER %s\r\nPASS %s\r\nQUIT\r\n' "$MAIL_USER" "$MAIL_PASSWORD" | timeout 5 openssl s_client -quiet -connect "$H:$MAIL_POP3S_PORT" -CAfile "$MAIL_CA_FILE" -verify_return_error 2>&1)
check "pop3s: USER/PASS with the right password" has "$out" "\+OK Logged in"
out=$(printf 'USER %s\r\nPASS wrong\r\nQUIT\r\n' "$MAIL_USER" | timeout 5 openssl s_client -quiet -starttls pop3 -connect "$H:$MAIL_POP3_PORT" -CAfile "$MAIL_CA_FILE" 2>&1 | tr -d '\000')
check "pop3 STLS: a wrong password gets -ERR [AUTH]" has "$out" "-ERR \[AUTH\]"
for p in "$MAIL_IMAPS_BADCERT_PORT" "$MAIL_POP3S_BADCERT_PORT"; do
  out=$(echo | timeout 5 openssl s_client -connect "$MAIL_BADCERT_HOST:$p" -CAfile "$MAIL_CA_FILE" 2>&1)
  check "badcert $p: serves the wrong.example certificate" has "$out" "CN ?= ?wrong.example"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
