# Shared fixture for the tests/tools/*.sh scripts: a private epserve on an ephemeral loopback port,
# bounded waits, and cleanup of exactly the processes a script started. Sourced, never run.
#
# Named .bash (not .sh) so CMake's tests/tools/*.sh glob does not register it as a test.
# A script calls `fixture_init "$@"` and then `start_server`; afterwards it has:
#   EPSERVE, EPSERVE_GET, SRC   the three arguments ctest passes
#   WORK                        a private temp dir (removed on exit unless KEEP_WORK=1)
#   ROOT                        a temp copy of $SRC/www, the document root being served
#   PORT, SERVER_PID            where the server listens, and its pid
#   ACCESS_LOG, SERVER_ERR      the server's stdout (access log) and stderr

# The variables it sets are read by the sourcing scripts, and start_server's arguments are optional.
# shellcheck shell=bash disable=SC2034,SC2120

# From scripts/lib.sh: wait_until TRIES DELAY CMD..., pid_gone PID, stop_pid PID [GRACE_SECONDS].
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

# Extra pids a script started (stopped at exit like the server) and extra commands to run at exit
# (e.g. killing its private tmux server).
FIXTURE_PIDS=()
FIXTURE_CLEANUP=()
SERVER_PID=""

fail() {
  echo "FAIL: $*" >&2
  if [ -n "${SERVER_ERR:-}" ] && [ -s "$SERVER_ERR" ]; then
    echo "--- server stderr (last 20 lines)" >&2
    tail -n 20 "$SERVER_ERR" >&2
  fi
  if [ -n "${ACCESS_LOG:-}" ] && [ -s "$ACCESS_LOG" ]; then
    echo "--- access log (last 20 lines)" >&2
    tail -n 20 "$ACCESS_LOG" >&2
  fi
  exit 1
}

pass() { echo "ok: $*"; }

# Skips (exit 77) only for what the machine genuinely cannot do; a missing package is a failure,
# because `make test` installs the packages the tool tests need.
skip() {
  echo "SKIP: $*" >&2
  exit 77
}

need_command() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 ||
      fail "'$cmd' is not installed (make test installs the tool-test packages)"
  done
}

fixture_cleanup() {
  local status=$? cmd pid
  set +e
  for cmd in "${FIXTURE_CLEANUP[@]}"; do eval "$cmd" >/dev/null 2>&1; done
  for pid in "${FIXTURE_PIDS[@]}"; do stop_pid "$pid" 5 >/dev/null 2>&1; done
  [ -n "$SERVER_PID" ] && stop_pid "$SERVER_PID" 5 >/dev/null 2>&1
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "work dir kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}

fixture_init() {
  [ $# -ge 3 ] || { echo "usage: $0 EPSERVE EPSERVE-GET SOURCE-DIR" >&2; exit 2; }
  EPSERVE=$(realpath "$1")
  EPSERVE_GET=$(realpath -m "$2")
  SRC=$(realpath "$3")
  [ -x "$EPSERVE" ] || fail "no epserve binary at $1"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/epserve-tools.XXXXXX")
  trap fixture_cleanup EXIT
  trap 'exit 130' INT TERM
  ROOT="$WORK/www"
  cp -r "$SRC/www" "$ROOT"
  ACCESS_LOG="$WORK/access.log"
  SERVER_ERR="$WORK/server.err"
}

listening_port() {
  sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$SERVER_ERR" | head -n 1
}

server_listening() {
  kill -0 "$SERVER_PID" 2>/dev/null || fail "epserve exited at startup"
  [ -n "$(listening_port)" ]
}

# start_server [EXTRA-OPTIONS...]: starts epserve on 127.0.0.1, an ephemeral port, serving $ROOT.
start_server() {
  : >"$ACCESS_LOG"
  : >"$SERVER_ERR"
  "$EPSERVE" -i 127.0.0.1 -p 0 -r "$ROOT" "$@" >"$ACCESS_LOG" 2>"$SERVER_ERR" &
  SERVER_PID=$!
  wait_until 100 0.1 server_listening || fail "epserve did not report 'listening on' in 10 s"
  PORT=$(listening_port)
  BASE="http://127.0.0.1:$PORT"
}

# log_has SECONDS REGEX: waits until an access-log line matches the extended regex.
log_has() { wait_until $(($1 * 10)) 0.1 grep -Eq -- "$2" "$ACCESS_LOG"; }
