#!/usr/bin/env bash
# Tool test: a packet capture (tshark on lo, through scripts/capture.sh as `make capture` runs it)
# shows the HTTP exchange on the wire: request and status lines, handshakes and FINs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=fixture.bash
. "$(dirname "$0")/fixture.bash"
fixture_init "$@"
need_command tshark curl ss

PCAP="$WORK/epserve.pcapng"
status=0
bash "$SRC/scripts/capture.sh" --epserve "$EPSERVE" --root "$ROOT" --port 0 --out "$PCAP" \
  >"$WORK/summary.txt" 2>"$WORK/capture.err" || status=$?
[ "$status" != 77 ] || skip "$(cat "$WORK/capture.err")"
[ "$status" = 0 ] || fail "scripts/capture.sh exited $status: $(cat "$WORK/capture.err")"
cat "$WORK/summary.txt"

PORT=$(sed -n 's/^capture: .* packets on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$WORK/summary.txt")
[ -n "$PORT" ] || fail "no 'capture: ... packets on 127.0.0.1:PORT' line in the summary"
[ "$(head -c 4 "$PCAP" | od -An -tx1 | tr -d ' \n')" = 0a0d0d0a ] || fail "$PCAP is not pcapng"
# fields FILTER FIELD...: one line per matching packet, the fields separated by spaces.
fields() {
  local filter=$1 args=() f
  shift
  for f in "$@"; do args+=(-e "$f"); done
  timeout 60 tshark -r "$PCAP" -d "tcp.port==$PORT,http" -Y "$filter" -T fields \
    -E separator=' ' "${args[@]}" 2>/dev/null
}
expect_lines() { # WHAT EXPECTED ACTUAL
  [ "$2" = "$3" ] || fail "$1: expected"$'\n'"$2"$'\n'"got"$'\n'"$3"
}

# HTTP as Wireshark dissects it: one request and one response on each of the two connections.
expect_lines "HTTP requests (stream method uri version)" \
  "0 GET /index.html HTTP/1.1"$'\n'"1 GET /missing-page HTTP/1.1" \
  "$(fields http.request tcp.stream http.request.method http.request.uri http.request.version)"
fields http.request http.request.line | grep -q '^Host: 127\.0\.0\.1:'"$PORT"'\\r\\n' ||
  fail "the requests carry no Host header"
expect_lines "HTTP responses (stream version code phrase length)" \
  "0 HTTP/1.1 200 OK $(stat -c %s "$ROOT/index.html")"$'\n'"1 HTTP/1.1 404 Not Found $(stat -c %s "$ROOT/noIndex.html")" \
  "$(fields http.response tcp.stream http.response.version http.response.code \
      http.response.phrase http.content_length)"
pass "capture: GET /index.html HTTP/1.1 -> HTTP/1.1 200 OK; GET /missing-page -> HTTP/1.1 404 Not Found"

# TCP: each connection opens with SYN from the client and SYN/ACK from the server, and each side
# sends a FIN.
expect_lines "client SYNs (stream)" $'0\n1' "$(fields "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==$PORT" tcp.stream)"
expect_lines "server SYN/ACKs (stream)" $'0\n1' "$(fields "tcp.flags.syn==1 && tcp.flags.ack==1 && tcp.srcport==$PORT" tcp.stream)"
expect_lines "client FINs (stream)" $'0\n1' "$(fields "tcp.flags.fin==1 && tcp.dstport==$PORT" tcp.stream)"
expect_lines "server FINs (stream)" $'0\n1' "$(fields "tcp.flags.fin==1 && tcp.srcport==$PORT" tcp.stream)"
[ -z "$(fields "tcp.flags.reset==1" tcp.stream)" ] || fail "a connection was reset"
pass "capture: SYN, SYN/ACK and a FIN from each side on both connections, no RST"

if [ "${UPDATE_DOCS:-0}" = 1 ]; then
  mkdir -p "$SRC/docs"
  { echo "\$ scripts/capture.sh --port 0    # as tests/tools/capture.sh runs it; make capture uses port 8088"
    sed "s#$WORK/##g" "$WORK/summary.txt"
  } >"$SRC/docs/capture-summary.txt"
  echo "wrote $SRC/docs/capture-summary.txt"
fi
echo "capture: all checks passed"
