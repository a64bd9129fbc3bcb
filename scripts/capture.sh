#!/usr/bin/env bash
# Records real epserve traffic on the loopback interface with tshark (a GET of /index.html and of
# a missing page, one TCP connection each) into a pcapng file to open in Wireshark; prints a summary.
#
# Usage: scripts/capture.sh [--epserve BIN] [--root DIR] [--port N] [--out FILE]
#   --epserve  server binary             (default: build/release/epserve, as `make build` makes it)
#   --root     document root to serve    (default: www)
#   --port     loopback port; 0 = any    (default: 8088, a port Wireshark dissects as HTTP unasked)
#   --out      capture file              (default: capture/epserve.pcapng)
# Needs tshark (Debian package tshark) and the right to capture (root, or the wireshark group).
# Exit status: 0 = captured, 1 = something failed, 77 = this machine cannot capture on lo.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
EPSERVE="$REPO/build/release/epserve"
ROOT="$REPO/www"
PORT_ARG=8088
OUT="$REPO/capture/epserve.pcapng"
while [ $# -gt 0 ]; do
  case "$1" in
    --epserve) EPSERVE=$2; shift 2 ;;
    --root) ROOT=$2; shift 2 ;;
    --port) PORT_ARG=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "capture.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

for cmd in tshark curl ss; do
  command -v "$cmd" >/dev/null || die "'$cmd' is not installed (Debian: tshark, curl, iproute2)"
done
[ -x "$EPSERVE" ] || die "no epserve binary at $EPSERVE (run make build, or pass --epserve)"
[ -d "$ROOT" ] || die "no document root at $ROOT"
# dumpcap lists only the interfaces it may open: without lo here, this machine cannot capture.
if ! timeout 20 dumpcap -D 2>/dev/null | grep -qE '^[0-9]+\. lo( |$)'; then
  echo "capture.sh: cannot capture on lo here (run as root or join the wireshark group)" >&2
  exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/epserve-capture.XXXXXX")
SERVER_PID=""
TSHARK_PID=""
cleanup() {
  local status=$?
  set +e
  [ -n "$TSHARK_PID" ] && stop_pid -s INT "$TSHARK_PID" 10
  [ -n "$SERVER_PID" ] && stop_pid "$SERVER_PID" 5
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server, on loopback only. (Log files exist before the children open them: no polling race.)
: >"$TMP/access.log"
: >"$TMP/server.err"
: >"$TMP/tshark.err"
"$EPSERVE" -i 127.0.0.1 -p "$PORT_ARG" -r "$ROOT" >"$TMP/access.log" 2>"$TMP/server.err" &
SERVER_PID=$!
port_of_server() { sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$TMP/server.err"; }
listening() { pid_gone "$SERVER_PID" && die "epserve exited: $(cat "$TMP/server.err")"; [ -n "$(port_of_server)" ]; }
wait_until 100 0.1 listening || die "epserve did not start listening within 10 s"
PORT=$(port_of_server)
BASE="http://127.0.0.1:$PORT"

# The capture: only this server's port. dumpcap reports "Capturing on" once the socket is open.
tshark -i lo -f "tcp port $PORT" -w "$TMP/capture.pcapng" -q >"$TMP/tshark.out" 2>"$TMP/tshark.err" &
TSHARK_PID=$!
capturing() { pid_gone "$TSHARK_PID" && die "tshark exited: $(cat "$TMP/tshark.err")"; grep -q 'Capturing on' "$TMP/tshark.err"; }
wait_until 200 0.1 capturing || die "tshark did not start capturing within 20 s"
sleep 0.3

# Two connections, one request each: the page, then a path that does not exist.
curl -sS --max-time 10 -o /dev/null -w "GET /index.html -> %{http_code}\n" "$BASE/index.html"
curl -sS --max-time 10 -o /dev/null -w "GET /missing-page -> %{http_code}\n" "$BASE/missing-page"

# Both connections fully closed (both FINs and their ACKs sent: nothing left on the port but
# TIME-WAIT and the listener) before the capture stops, so the file has the whole story.
open_conns() {
  ss -Htn state established state syn-sent state syn-recv state fin-wait-1 state fin-wait-2 \
    state close-wait state last-ack state closing "( sport = :$PORT or dport = :$PORT )"
}
closed() { [ -z "$(open_conns)" ]; }
wait_until 100 0.1 closed || die "connections still open after 10 s: $(open_conns)"
sleep 0.3
kill -INT "$TSHARK_PID"
wait_until 150 0.1 pid_gone "$TSHARK_PID" || die "tshark did not stop within 15 s"
wait "$TSHARK_PID" || die "tshark failed: $(cat "$TMP/tshark.err")"
TSHARK_PID=""

mkdir -p "$(dirname "$OUT")"
mv "$TMP/capture.pcapng" "$OUT"
chmod 0644 "$OUT" # dumpcap creates it 0600; the person opening it may not be the one who captured

# The summary: every packet as Wireshark lists it, with this port decoded as HTTP.
packets=$(timeout 60 tshark -r "$OUT" -d "tcp.port==$PORT,http" 2>/dev/null)
echo "capture: $OUT ($(wc -l <<<"$packets") packets on 127.0.0.1:$PORT," \
  "$(timeout 60 tshark -r "$OUT" -T fields -e tcp.stream 2>/dev/null | sort -u | wc -l) TCP connections)"
echo "$packets"
if [ "$PORT" != 8088 ] && [ "$PORT" != 8080 ]; then
  echo "In Wireshark: Analyze > Decode As... > TCP port $PORT > HTTP (or open it with" \
    "wireshark -d tcp.port==$PORT,http $OUT)"
fi
