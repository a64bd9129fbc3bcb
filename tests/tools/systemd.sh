#!/usr/bin/env bash
# Tool test: systemd integration without systemd as PID 1. systemd-socket-activate (Debian's
# systemd package) binds the sockets and execs epserve on the first connection, as
# epserve.socket would: the inherited sockets are served (one, two, and with --workers 2),
# epserve binds nothing itself, a wrong or missing LISTEN_PID is ignored, unusable inherited
# fds are refused (exit 2), READY=1/STOPPING=1 reach a NOTIFY_SOCKET this script binds,
# deploy/systemd's units pass `systemd-analyze verify` and its offline security review, and
# every syscall and socket family epserve uses (under strace) is one the service's filters allow.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=fixture.bash
. "$(dirname "$0")/fixture.bash"
fixture_init "$@"
need_command systemd-socket-activate systemd-analyze curl python3 ss strace

CURL=(curl -sS --max-time 10)
NOTIFY_PY="$SRC/tests/tools/notify_socket.py"

# free_ports N: N ports free on 127.0.0.1 just now (held at once, so distinct), for the tools
# that need a number up front. The kernel hands out ephemeral ports in a shifting order, so
# another process taking one in the instant between is unlikely.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

# refused PORT: nothing listens on 127.0.0.1:PORT.
refused() {
  local code=0
  "${CURL[@]}" -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null || code=$?
  [ "$code" = 7 ] # curl: failed to connect
}

# start_notify ADDRESS PROBE-PORT: the manager's end of $NOTIFY_SOCKET, noting into $NOTES.
start_notify() {
  NOTES="$WORK/notes.$RANDOM"
  : >"$NOTES"
  python3 "$NOTIFY_PY" "$1" "$NOTES" --probe "$2" --seconds 120 &
  FIXTURE_PIDS+=($!)
  wait_until 100 0.1 grep -qx bound "$NOTES" || fail "the notify socket was not bound in 10 s"
}
notes_have() { grep -qxF -- "$1" "$NOTES"; }
# probe_answered: the receiver's one GET, made as READY=1 came in, got 200 (it writes the
# result after the notice: bounded wait for it).
probed() { grep -q '^probe: ' "$NOTES"; }
probe_answered() { wait_until 100 0.1 probed && notes_have "probe: HTTP/1.1 200 OK"; }

# activate [SOCKET-ACTIVATE OPTIONS...] -- [EPSERVE OPTIONS...]: systemd-socket-activate with
# epserve serving $ROOT. It binds every -l, then waits for the first connection to exec epserve
# in its own process, so SERVER_PID is epserve's PID from then on.
activate() {
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  : >"$ACCESS_LOG"
  : >"$SERVER_ERR"
  systemd-socket-activate "${opts[@]}" -- "$EPSERVE" -r "$ROOT" "$@" >"$ACCESS_LOG" 2>"$SERVER_ERR" &
  SERVER_PID=$!
  local listens
  listens=$(printf '%s\n' "${opts[@]}" | grep -c '^-l$' || true)
  wait_until 100 0.1 listen_count_is "$listens" ||
    fail "systemd-socket-activate did not listen on its $listens socket(s) in 10 s"
}
listen_count_is() { [ "$(grep -c '^Listening on ' "$SERVER_ERR")" = "$1" ]; }

# started: epserve's own startup line is in its stderr.
started() { grep -q 'epserve .* listening on' "$SERVER_ERR"; }

# stop_server: SIGTERM, bounded wait, and the exit status must be 0.
stop_server() {
  local status=0
  kill -TERM "$SERVER_PID"
  wait_until 100 0.1 pid_gone "$SERVER_PID" || fail "epserve did not exit within 10 s of SIGTERM"
  wait "$SERVER_PID" || status=$?
  [ "$status" = 0 ] || fail "epserve exited $status after SIGTERM"
  SERVER_PID=""
}

# listening_sockets PID: the local addresses PID listens on (TCP), sorted.
listening_sockets() {
  ss -Hltnp | awk -v pid="pid=$1," 'index($0, pid) { print $4 }' | sort
}

INDEX="$ROOT/index.html"

# --- One inherited socket: served; -p names another port, which stays closed; READY=1 is sent
# when the port answers and STOPPING=1 on SIGTERM.
read -r P1 P2 <<<"$(free_ports 2)"
start_notify "$WORK/notify.sock" "$P1"
activate -l "127.0.0.1:$P1" -E "NOTIFY_SOCKET=$WORK/notify.sock" -- -i 127.0.0.1 -p "$P2"
"${CURL[@]}" -o "$WORK/first.html" "http://127.0.0.1:$P1/index.html" ||
  fail "GET /index.html on the inherited socket"
cmp -s "$WORK/first.html" "$INDEX" || fail "the inherited socket's /index.html differs"
wait_until 50 0.1 started || fail "no startup line"
grep -q "listening on 127.0.0.1:$P1 from systemd (-i/-p unused)" "$SERVER_ERR" ||
  fail "startup line does not name the inherited socket: $(grep 'listening' "$SERVER_ERR")"
[ "$(listening_sockets "$SERVER_PID")" = "127.0.0.1:$P1" ] ||
  fail "epserve listens on '$(listening_sockets "$SERVER_PID" | paste -sd' ')', not only 127.0.0.1:$P1"
refused "$P2" || fail "-p $P2 answers: epserve bound it despite the inherited socket"
wait_until 50 0.1 notes_have "READY=1|STATUS=serving" || fail "no READY=1 notice: $(cat "$NOTES")"
probe_answered || fail "at READY=1 the port did not answer: $(cat "$NOTES")"
pass "one inherited socket: GET /index.html served, -p $P2 left closed, READY=1 when it answers"
# SIGHUP (systemctl reload): RELOADING=1, then READY=1 again; still serving the inherited socket.
kill -HUP "$SERVER_PID"
wait_until 50 0.1 notes_have "RELOADING=1" || fail "no RELOADING=1 on SIGHUP: $(cat "$NOTES")"
readies() { [ "$(grep -c '^READY=1' "$NOTES")" -ge 2 ]; }
wait_until 50 0.1 readies || fail "no READY=1 after the reload: $(cat "$NOTES")"
grep -q "configuration reloaded" "$SERVER_ERR" || fail "no 'configuration reloaded' line"
"${CURL[@]}" -o "$WORK/reloaded.html" "http://127.0.0.1:$P1/index.html" ||
  fail "GET /index.html on the inherited socket after the reload"
cmp -s "$WORK/reloaded.html" "$INDEX" || fail "after the reload /index.html differs"
refused "$P2" || fail "-p $P2 answers after the reload"
pass "SIGHUP: RELOADING=1 then READY=1, the inherited socket still serves, -p $P2 still closed"
stop_server
notes_have "STOPPING=1|STATUS=shutting down on SIGTERM" || fail "no STOPPING=1: $(cat "$NOTES")"
pass "SIGTERM: STOPPING=1 notice, exit 0"

# --- Two inherited sockets (two ListenStream= lines), named: both answer.
read -r P1 P2 P3 <<<"$(free_ports 3)"
activate -l "127.0.0.1:$P1" -l "127.0.0.1:$P2" --fdname=web:alt -- -i 127.0.0.1 -p "$P3"
for p in "$P2" "$P1" "$P2"; do
  [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/index.html")" = 200 ] ||
    fail "GET on inherited socket 127.0.0.1:$p"
done
wait_until 50 0.1 started || fail "no startup line"
grep -q "listening on 127.0.0.1:$P1 'web', 127.0.0.1:$P2 'alt' from systemd" "$SERVER_ERR" ||
  fail "startup line: $(grep 'listening' "$SERVER_ERR")"
[ "$(listening_sockets "$SERVER_PID" | paste -sd' ')" = \
  "$(printf '127.0.0.1:%s\n' "$P1" "$P2" | sort | paste -sd' ')" ] ||
  fail "listening on: $(listening_sockets "$SERVER_PID" | paste -sd' ')"
refused "$P3" || fail "-p $P3 answers"
stop_server
pass "two inherited sockets: both answer, names logged, nothing else bound"

# --- --workers 2 on one inherited socket: every worker watches it (EPOLLEXCLUSIVE); 400 fresh
# connections from 8 clients, 8 at a time each, all answered, and both workers take part. The
# abstract-namespace NOTIFY_SOCKET form too.
read -r P1 <<<"$(free_ports 1)"
NOTIFY_ADDR="@epserve-test-$$-$RANDOM"
start_notify "$NOTIFY_ADDR" "$P1"
activate -l "127.0.0.1:$P1" -E "NOTIFY_SOCKET=$NOTIFY_ADDR" -- --workers 2
"${CURL[@]}" -o /dev/null "http://127.0.0.1:$P1/" || fail "first GET with --workers 2"
wait_until 50 0.1 started || fail "no startup line"
wait_until 50 0.1 notes_have "READY=1|STATUS=serving with 2 workers" ||
  fail "no READY=1 notice from the workers: $(cat "$NOTES")"
probe_answered || fail "at READY=1 the port did not answer: $(cat "$NOTES")"

# Each worker is a thread other than the main one (which only waits for signals). A loop with
# nothing to do sleeps in epoll_wait, so its voluntary context switches count its wake-ups.
# EPOLLEXCLUSIVE wakes the first worker waiting in epoll_wait, so the second one is only woken
# when the first is busy: one client at a time would all go to the first (measured here: 400 to
# 1 with a single curl, 16 in parallel; 14 of 400 once with 4 clients). Eight clients at once
# keep it busy enough that the second took 55-160 wake-ups of about 400 in every run measured.
worker_tids() {
  local task
  for task in "/proc/$SERVER_PID/task"/*; do
    [ "${task##*/}" = "$SERVER_PID" ] || echo "${task##*/}"
  done
}
two_workers() { [ "$(worker_tids | wc -l)" = 2 ]; }
switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$SERVER_PID/task/$1/status"; }
wait_until 50 0.1 two_workers || fail "expected 2 worker threads, found $(worker_tids | wc -l)"
mapfile -t TIDS < <(worker_tids)
before=("$(switches "${TIDS[0]}")" "$(switches "${TIDS[1]}")")
CLIENTS=()
for c in 1 2 3 4 5 6 7 8; do
  for i in $(seq 50); do
    printf 'url = "http://127.0.0.1:%s/index.html?%s-%s"\noutput = /dev/null\n' "$P1" "$c" "$i"
  done >"$WORK/urls.$c"
  curl -sS --no-progress-meter --max-time 60 --parallel --parallel-max 8 -H 'Connection: close' \
    -w '%{http_code}\n' -K "$WORK/urls.$c" >"$WORK/codes.$c" &
  CLIENTS+=($!)
done
for pid in "${CLIENTS[@]}"; do wait "$pid" || fail "a curl --parallel client failed"; done
answered=$(cat "$WORK"/codes.? | grep -cx 200 || true)
[ "$answered" = 400 ] || fail "--workers 2: $answered of 400 requests got 200"
after=("$(switches "${TIDS[0]}")" "$(switches "${TIDS[1]}")")
woke=($((after[0] - before[0])) $((after[1] - before[1])))
echo "worker wake-ups during 400 connections: ${woke[0]} and ${woke[1]}"
if [ "${woke[0]}" -lt 5 ] || [ "${woke[1]}" -lt 5 ]; then
  fail "a worker woke fewer than 5 times for 400 connections: ${woke[*]}"
fi
log_has 5 '"GET /index.html\?8-50 HTTP/1.1" 200 ' || fail "access log lacks the requests"
stop_server
notes_have "STOPPING=1|STATUS=shutting down on SIGTERM" || fail "no STOPPING=1: $(cat "$NOTES")"
pass "--workers 2 on one inherited socket: 400 of 400 answered, both workers woke, READY/STOPPING"

# --- LISTEN_PID missing or naming another process: ignored, epserve binds -p as usual. fd 3 is
# /dev/null, which epserve would refuse (exit 2) if it took the variables as its own.
for env in "LISTEN_PID=1 LISTEN_FDS=1" "LISTEN_FDS=1" "LISTEN_PID=$$ LISTEN_FDS=1"; do
  : >"$ACCESS_LOG"
  : >"$SERVER_ERR"
  # shellcheck disable=SC2086 # $env is a list of assignments
  env $env "$EPSERVE" -i 127.0.0.1 -p 0 -r "$ROOT" 3</dev/null >"$ACCESS_LOG" 2>"$SERVER_ERR" &
  SERVER_PID=$!
  wait_until 100 0.1 server_listening || fail "$env: no 'listening on' in 10 s"
  PORT=$(listening_port)
  ! grep -q 'from systemd' "$SERVER_ERR" || fail "$env: took the inherited fds"
  [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/index.html")" = 200 ] ||
    fail "$env: GET on the bound port"
  stop_server
done
pass "LISTEN_PID missing or another PID's: ignored, -p bound as usual"

# --- Inherited fds epserve cannot serve: one clear line, exit 2. Each case execs epserve from a
# process that set LISTEN_PID to its own PID, which exec keeps.
expect_refusal() { # WHAT MESSAGE-REGEX COMMAND...
  local what=$1 message=$2 status=0
  shift 2
  "$@" >/dev/null 2>"$WORK/refused.err" || status=$?
  [ "$status" = 2 ] || fail "$what: exit $status, not 2 ($(cat "$WORK/refused.err"))"
  grep -Eq "^epserve: socket activation: $message\$" "$WORK/refused.err" ||
    fail "$what: message was: $(cat "$WORK/refused.err")"
  [ "$(wc -l <"$WORK/refused.err")" = 1 ] || fail "$what: not one line: $(cat "$WORK/refused.err")"
}
# with_fd3 REDIRECTION LISTEN_FDS: bash opens fd 3 as told, then becomes epserve.
with_fd3() {
  # shellcheck disable=SC2016 # $0 and $1 are the inner shell's
  timeout 10 bash -c "exec $1; LISTEN_PID=\$\$ LISTEN_FDS=$2"' exec "$0" -i 127.0.0.1 -p 0 -r "$1"' \
    "$EPSERVE" "$ROOT"
}
expect_refusal "a file" "inherited fd 3 is not a socket" with_fd3 '3</dev/null' 1
expect_refusal "a UDP socket" "inherited fd 3 is not a stream socket .*" \
  with_fd3 '3<>/dev/udp/127.0.0.1/9' 1
start_server
expect_refusal "a connected TCP socket" "inherited fd 3 is a socket that is not listening" \
  with_fd3 "3<>/dev/tcp/127.0.0.1/$PORT" 1
stop_server
expect_refusal "LISTEN_FDS=two" "LISTEN_FDS is not a descriptor count: 'two'" \
  with_fd3 '3</dev/null' two
# LISTEN_FDS=2 with a good listening socket on fd 3 and nothing on fd 4.
expect_refusal "LISTEN_FDS=2, fd 4 closed" "inherited fd 4 is not open" timeout 10 python3 -c '
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
# Python makes its sockets close-on-exec, and dup2 onto itself (the socket may be fd 3) keeps
# that: fd 3 must reach epserve.
os.set_inheritable(3, True)
for fd in (4, s.fileno()):
    if fd != 3:
        try: os.close(fd)
        except OSError: pass
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="2")
os.execv(sys.argv[1], [sys.argv[1], "-i", "127.0.0.1", "-p", "0", "-r", sys.argv[2]])
' "$EPSERVE" "$ROOT"
pass "unusable inherited fds (file, UDP, connected TCP, bad count, fd missing): one line, exit 2"

# --- The unit files. `systemd-analyze verify` also checks that ExecStart's program exists, so it
# checks a copy whose one difference is that path: the epserve under test.
cp "$SRC/deploy/systemd/epserve.socket" "$SRC/deploy/systemd/epserve.service" "$WORK/"
sed -i "s#^ExecStart=/usr/local/bin/epserve #ExecStart=$EPSERVE #" "$WORK/epserve.service"
[ "$(diff "$SRC/deploy/systemd/epserve.service" "$WORK/epserve.service" | grep -c '^[<>]')" = 2 ] ||
  fail "the ExecStart line of epserve.service was not /usr/local/bin/epserve ..."
(cd "$WORK" && timeout 60 systemd-analyze verify --man=no epserve.socket epserve.service) \
  >"$WORK/verify.txt" 2>&1 || fail "systemd-analyze verify: $(cat "$WORK/verify.txt")"
[ ! -s "$WORK/verify.txt" ] || fail "systemd-analyze verify warned: $(cat "$WORK/verify.txt")"
pass "systemd-analyze verify epserve.socket epserve.service: clean"
timeout 60 systemd-analyze security --offline=yes "$WORK/epserve.service" >"$WORK/security.txt" 2>&1 ||
  fail "systemd-analyze security: $(tail -n 5 "$WORK/security.txt")"
exposure=$(sed -n 's/.*Overall exposure level for epserve.service: \([0-9.]*\).*/\1/p' "$WORK/security.txt")
[ -n "$exposure" ] || fail "no exposure level in: $(tail -n 5 "$WORK/security.txt")"
# systemd rates 0-10; under 2 is its "OK" band. The flags that remain (network access, AF_UNIX,
# the host's root) are what a network server with unix upstreams needs.
awk -v e="$exposure" 'BEGIN { exit !(e < 2.0) }' ||
  fail "exposure $exposure is not below 2.0: $(grep '✗' "$WORK/security.txt")"
pass "systemd-analyze security --offline: exposure $exposure (below 2.0, 'OK')"

# --- The sandbox lets epserve work: every syscall it makes (strace -f over start-up, files, 404,
# ranges, a proxied request to a host name, readiness, --workers 2 and SIGTERM) is in the unit's
# SystemCallFilter=, and every socket family in RestrictAddressFamilies=. The ASan build makes
# a few more calls than a release build (sigaltstack, madvise), all of them allowed too.
# ptrace is the one thing a locked-down container may not allow: then say so, claim nothing.
if ! timeout 10 strace -f -qq -o /dev/null true 2>"$WORK/strace-probe.txt"; then
  echo "not checked: strace cannot trace here ($(head -n 1 "$WORK/strace-probe.txt"))"
else
  read -r P1 <<<"$(free_ports 1)"
  NOTIFY_ADDR="@epserve-test-strace-$$-$RANDOM"
  start_notify "$NOTIFY_ADDR" "$P1"
  : >"$ACCESS_LOG"
  : >"$SERVER_ERR"
  NOTIFY_SOCKET=$NOTIFY_ADDR ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$WORK/strace.txt" -- \
    "$EPSERVE" -i 127.0.0.1 -p "$P1" -r "$ROOT" --workers 2 \
    --proxy "/api/=http://localhost:$P1/" >"$ACCESS_LOG" 2>"$SERVER_ERR" &
  STRACE_PID=$!
  FIXTURE_PIDS+=("$STRACE_PID")
  # The first line strace writes is epserve's execve, under epserve's PID.
  traced_pid() {
    SERVER_PID=$(awk 'NR == 1 && / execve\(/ { print $1 }' "$WORK/strace.txt" 2>/dev/null)
    [ -n "$SERVER_PID" ]
  }
  wait_until 100 0.1 traced_pid || fail "strace started no epserve in 10 s"
  wait_until 300 0.1 probe_answered || fail "no READY=1 answered under strace: $(cat "$NOTES")"
  for path in /index.html /nope /api/index.html /favicon.ico; do
    "${CURL[@]}" -o /dev/null -r 0-10 "http://127.0.0.1:$P1$path" || fail "GET $path under strace"
  done
  log_has 10 '"GET /api/index.html HTTP/1.1" 206 ' || fail "the proxied request under strace"
  # strace exits with its tracee's status.
  kill -TERM "$SERVER_PID"
  wait_until 100 0.1 pid_gone "$STRACE_PID" || fail "epserve under strace did not exit within 10 s"
  status=0
  wait "$STRACE_PID" || status=$?
  [ "$status" = 0 ] || fail "epserve under strace exited $status after SIGTERM"
  SERVER_PID=""
  notes_have "STOPPING=1|STATUS=shutting down on SIGTERM" || fail "no STOPPING=1: $(cat "$NOTES")"
  python3 "$SRC/tests/tools/syscall_filter_check.py" "$SRC/deploy/systemd/epserve.service" \
    "$WORK/strace.txt" >"$WORK/filter.txt" || fail "$(cat "$WORK/filter.txt")"
  pass "every syscall and socket family epserve used is allowed by epserve.service: $(head -n 1 "$WORK/filter.txt")"
fi
