#!/usr/bin/env bash
# Runs epserve under valgrind memcheck through a representative set of requests and a SIGTERM;
# fails on any memory error, definite or indirect leak, or any descriptor but 0/1/2 open at exit.
# Usage: scripts/memcheck.sh   (builds build/memcheck: Debug, no sanitizers; exits 0 when clean)
# Knobs: BUILD (build dir), JOBS, KEEP=1 keeps the scratch dir (root, logs) for inspection,
# EPSERVE_ARGS adds server flags (e.g. EPSERVE_ARGS='--workers 2').
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "$0")/.."
REPO=$(pwd)

BUILD=${BUILD:-build/memcheck}
JOBS=${JOBS:-$(nproc)}
HOST=127.0.0.1

log() { printf '[memcheck] %s\n' "$*" >&2; }

bash scripts/install-deps.sh build-essential cmake pkg-config libspdlog-dev libcxxopts-dev libc-ares-dev libtomlplusplus-dev valgrind curl python3 \
  netcat-openbsd
# Sanitizers and valgrind do not mix: this build has none. Debug keeps frames in the reports.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DEPSERVE_SANITIZE=OFF -DEPSERVE_TESTS=OFF \
  >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target epserve >/dev/null
EPSERVE=$REPO/$BUILD/epserve

WORK=$(mktemp -d /tmp/epserve-memcheck-XXXXXX)
PID=""
HOLD_FD=""
cleanup() {
  if [ -n "$PID" ]; then stop_pid -s KILL "$PID" 0 || true; fi
  if [ -n "${UPSTREAM_PID:-}" ]; then stop_pid "$UPSTREAM_PID" 5 || true; fi
  if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The document root: small files (served from memory), a larger one (sendfile), a precompressed
# sidecar, a directory with and one without an index (listed: --autoindex), a dotfile.
ROOT=$WORK/www
mkdir -p "$ROOT/docs" "$ROOT/plain" "$ROOT/.well-known"
cp www/index.html "$ROOT/index.html" 2>/dev/null || echo '<html>memcheck</html>' >"$ROOT/index.html"
cp www/noIndex.html "$ROOT/noIndex.html" 2>/dev/null || echo 404 >"$ROOT/noIndex.html"
echo 'body { color: #333; }' >"$ROOT/style.css"
gzip -9 -k "$ROOT/style.css"
head -c 200000 /dev/urandom >"$ROOT/blob.bin"
echo '<html><body>docs</body></html>' >"$ROOT/docs/index.html"
echo 'a' >"$ROOT/plain/a.txt"
echo 'b' >"$ROOT/plain/b.txt"
echo 'secret' >"$ROOT/.hidden"
echo 'ok' >"$ROOT/.well-known/probe.txt"

# An HTTP/1.1 upstream for the proxy routes (Python's http.server, keep-alive): a small answer,
# a 1 MB one (spooled for a slow client), and POST bodies counted.
cat >"$WORK/upstream.py" <<'PY'
import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(b"x" * 1000000 if self.path.startswith("/app/big") else b"hello")
    def do_POST(self):
        self.answer(str(len(self.rfile.read(int(self.headers.get("Content-Length", "0"))))).encode())
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
python3 "$WORK/upstream.py" >"$WORK/upstream.port" 2>"$WORK/upstream.err" &
UPSTREAM_PID=$!
wait_until 100 0.1 test -s "$WORK/upstream.port" || die "the test upstream did not start"
UPSTREAM_PORT=$(cat "$WORK/upstream.port")

read -r -a EXTRA_ARGS <<<"${EPSERVE_ARGS:-}"

# Only 0/1/2 may reach valgrind (whatever this shell inherited is closed in the subshell), and
# valgrind reports on fd 2 (--log-fd=2) so its own log file is not one more open descriptor.
log "starting epserve under valgrind"
(
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  exec valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes --log-fd=2 \
    "$EPSERVE" -i "$HOST" -p 0 -r "$ROOT" --autoindex --cache-control 'max-age=60' \
    --header 'X-Memcheck: 1' --max-body-size 4096 --header-timeout 2 \
    --proxy "/app/=http://$HOST:$UPSTREAM_PORT" --proxy "/dead/=http://$HOST:1" "${EXTRA_ARGS[@]}" \
    <"/dev/null" >"$WORK/stdout" 2>"$WORK/stderr"
) &
PID=$!

PORT=""
listening() {
  PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$WORK/stderr" | head -n1)
  [ -n "$PORT" ] && return 0
  pid_alive "$PID" || { cat "$WORK/stderr" >&2; die "epserve exited before listening"; }
  return 1
}
# valgrind starts slowly: up to 60 s.
wait_until 600 0.1 listening || die "no 'listening on' line within 60 s"
BASE=http://$HOST:$PORT
log "listening on port $PORT"

CHECKS=0
# expect WHAT WANT GOT: one named check.
expect() {
  CHECKS=$((CHECKS + 1))
  if [ "$2" != "$3" ]; then die "$1: expected '$2', got '$3'"; fi
}
status() { curl -s -o /dev/null --max-time 20 -w '%{http_code}' "$@"; }
# Raw bytes to the server; prints everything it answers until it closes (or 20 s pass).
raw() { printf "$1" | nc -N -w 20 "$HOST" "$PORT"; }

expect "GET /" 200 "$(status "$BASE/")"
expect "GET body" "$(cat "$ROOT/index.html")" "$(curl -s --max-time 20 "$BASE/index.html")"
expect "GET large (sendfile)" "$(sha256sum <"$ROOT/blob.bin")" \
  "$(curl -s --max-time 20 "$BASE/blob.bin" | sha256sum)"
expect "GET missing" 404 "$(status "$BASE/missing.txt")"
expect "HEAD" 200 "$(status -I "$BASE/index.html")"
expect "OPTIONS" 204 "$(status -X OPTIONS "$BASE/")"
expect "POST" 405 "$(status -d 'x=1' "$BASE/index.html")"
expect "directory redirect" 301 "$(status "$BASE/docs")"
expect "directory index" 200 "$(status "$BASE/docs/")"
expect "listing (--autoindex)" 200 "$(status "$BASE/plain/")"
expect "dotfile" 404 "$(status "$BASE/.hidden")"
expect "well-known" 200 "$(status "$BASE/.well-known/probe.txt")"
expect "traversal" 400 "$(status --path-as-is "$BASE/../etc/passwd")"
expect "range" 206 "$(status -r 0-99 "$BASE/blob.bin")"
expect "multipart range" 206 "$(status -r 0-9,100-199 "$BASE/blob.bin")"
expect "small-file range" 206 "$(status -r 2-5 "$BASE/index.html")"
expect "unsatisfiable range" 416 "$(status -r 999999-1000000 "$BASE/blob.bin")"
expect "gzip sidecar" gzip "$(curl -s -o /dev/null --max-time 20 -H 'Accept-Encoding: gzip' \
  -w '%header{content-encoding}' "$BASE/style.css")"
ETAG=$(curl -s -o /dev/null --max-time 20 -w '%header{etag}' "$BASE/index.html" || true)
[ -n "$ETAG" ] || die "no ETag on /index.html"
expect "If-None-Match" 304 "$(status -H "If-None-Match: $ETAG" "$BASE/index.html")"
expect "If-Modified-Since" 304 \
  "$(status -H 'If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT' "$BASE/index.html")"
expect "If-Match failing" 412 "$(status -H 'If-Match: "nope"' "$BASE/index.html")"
expect "keep-alive reuse" "200200200" "$(curl -s -o /dev/null -o /dev/null -o /dev/null \
  --max-time 20 -w '%{http_code}' "$BASE/" "$BASE/style.css" "$BASE/")"

# Pipelined: three requests in one write, three responses in order.
# H is a Host field, C ends a request with Connection: close; printf expands the escapes.
H='Host: x\r\n'
C='Connection: close\r\n\r\n'
count() { grep -a -c '^HTTP/1.1 ' || true; }
PIPELINED=$(raw "GET /index.html HTTP/1.1\r\n$H\r\nHEAD /style.css HTTP/1.1\r\n$H\r\n\
GET /missing HTTP/1.1\r\n$H$C" | count)
expect "pipelined responses" 3 "$PIPELINED"
first() { raw "$1" | head -n1 | tr -d '\r'; }
expect "unknown method" "HTTP/1.1 501 Not Implemented" "$(first "BREW /pot HTTP/1.1\r\n$H\r\n")"
expect "garbage" "HTTP/1.1 400 Bad Request" "$(first '\001\002\003 nonsense\r\n\r\n')"
expect "HTTP/2.0" "HTTP/1.1 505 HTTP Version Not Supported" \
  "$(first "GET / HTTP/2.0\r\n$H\r\n")"
expect "no Host" "HTTP/1.1 400 Bad Request" "$(first 'GET / HTTP/1.1\r\n\r\n')"
expect "long request line" "HTTP/1.1 414 URI Too Long" \
  "$(first "GET /$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1\r\n$H\r\n")"
FIELDS=$(for i in $(seq 1 120); do printf 'X-F%d: v\\r\\n' "$i"; done)
expect "too many fields" "HTTP/1.1 431 Request Header Fields Too Large" \
  "$(first "GET / HTTP/1.1\r\n$H$FIELDS\r\n")"
expect "body too large" "HTTP/1.1 413 Content Too Large" \
  "$(first "POST / HTTP/1.1\r\n${H}Content-Length: 100000\r\n\r\n")"
expect "chunked body then GET" 2 "$(raw "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n\
5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n$H$C" | count)"
expect "Expect: 100-continue" "HTTP/1.1 100 Continue" \
  "$(first "POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nExpect: 100-continue\r\n\r\nabc")"
expect "header timeout" "HTTP/1.1 408 Request Timeout" \
  "$( (printf 'GET / HTTP/1.1\r\n'; sleep 4) | nc -w 10 "$HOST" "$PORT" | head -n1 | tr -d '\r')"
# Proxied: keep-alive reuse, a chunked upload de-chunked, a response spooled for a slow client,
# a refused upstream, a client that leaves mid-response.
expect "proxied GET" "hello" "$(curl -s --max-time 20 "$BASE/app/a")"
expect "proxied GET twice" "hellohello" "$(curl -s --max-time 20 "$BASE/app/a" "$BASE/app/b")"
expect "proxied chunked POST" "5" "$(curl -s --max-time 20 -H 'Transfer-Encoding: chunked' \
  --data-binary hello "$BASE/app/post")"
expect "proxied 1 MB, slow client" "$(head -c 1000000 /dev/zero | tr '\0' x | sha256sum)" \
  "$(curl -s --max-time 30 --limit-rate 400k "$BASE/app/big" | sha256sum)"
expect "upstream refused" 502 "$(status "$BASE/dead/x")"
timeout 1 curl -s -o /dev/null --limit-rate 10k "$BASE/app/big" || true
# A client that vanishes mid-download: a throttled curl killed after 2 s.
timeout 2 curl -s -o /dev/null --limit-rate 10k "$BASE/blob.bin" || true

# One keep-alive connection still open at SIGTERM: the server must close it itself.
exec {HOLD_FD}<>"/dev/tcp/$HOST/$PORT"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&"$HOLD_FD"
sleep 1
log "$CHECKS request checks passed; SIGTERM"
kill -TERM "$PID"
rc=0
wait_until 300 0.1 pid_gone "$PID" || die "epserve did not exit within 30 s of SIGTERM"
wait "$PID" || rc=$?
PID=""
exec {HOLD_FD}<&-

REPORT=$WORK/stderr
summary=$(grep -a 'ERROR SUMMARY' "$REPORT" || true)
log "valgrind: ${summary#*== }"
fail=0
grep -aq 'ERROR SUMMARY: 0 errors' "$REPORT" || { log "memory errors reported"; fail=1; }
for kind in definitely indirectly; do
  if grep -aq "$kind lost:" "$REPORT" && ! grep -aq "$kind lost: 0 bytes" "$REPORT"; then
    log "$kind lost memory: $(grep -a "$kind lost:" "$REPORT")"
    fail=1
  fi
done
if ! grep -aq -e 'All heap blocks were freed' -e 'definitely lost: 0 bytes' "$REPORT"; then
  log "no leak summary in the report"
  fail=1
fi
FDS=$(grep -a 'FILE DESCRIPTORS:' "$REPORT" || true)
[ -n "$FDS" ] || { log "no FILE DESCRIPTORS report"; fail=1; }
log "valgrind: ${FDS#*== }"
if grep -aE 'Open (file descriptor|AF_[A-Z0-9]+ socket) ' "$REPORT" >/dev/null; then
  log "descriptors left open at exit:"
  grep -aE -A3 'Open (file descriptor|AF_[A-Z0-9]+ socket) ' "$REPORT" >&2
  fail=1
fi
[ "$rc" -eq 0 ] || { log "exit status $rc (99 = valgrind found errors)"; fail=1; }
if [ "$fail" -ne 0 ]; then
  KEEP=1
  die "see $REPORT"
fi
log "PASS: $CHECKS checks; 0 errors; 0 bytes definitely/indirectly lost; only fds 0-2 at exit"
