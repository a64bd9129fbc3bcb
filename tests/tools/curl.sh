#!/usr/bin/env bash
# Tool test: curl, the client the original assignment names first, against a real epserve:
# -i (status line and headers), -I (HEAD), --http1.0, connection reuse across URLs, the 404 page.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=fixture.bash
. "$(dirname "$0")/fixture.bash"
fixture_init "$@"
need_command curl
start_server

CURL=(curl -sS --max-time 10)
INDEX_SIZE=$(stat -c %s "$ROOT/index.html")
ICON_SIZE=$(stat -c %s "$ROOT/favicon.ico")

# Splits a `curl -i` dump: head_of prints the status line and headers (CR stripped), body_of the
# bytes after the first empty line.
head_of() { sed -n '1,/^\r\{0,1\}$/p' "$1" | tr -d '\r'; }
body_of() { sed '1,/^\r$/d' "$1"; }
header_is() { # FILE NAME REGEX: the header NAME (case-insensitive) has a value matching REGEX
  head_of "$1" | grep -iEq "^$2: $3\$" || fail "$1: no '$2: $3' header in: $(head_of "$1")"
}

# --- curl -i: status line, the headers every response carries, and the exact file as the body.
"${CURL[@]}" -i "$BASE/index.html" >"$WORK/get.txt"
[ "$(head_of "$WORK/get.txt" | head -n 1)" = "HTTP/1.1 200 OK" ] ||
  fail "curl -i status line: $(head -n 1 "$WORK/get.txt")"
header_is "$WORK/get.txt" Server 'epserve/0\.1\.0'
header_is "$WORK/get.txt" Content-Type 'text/html; charset=utf-8'
header_is "$WORK/get.txt" Content-Length "$INDEX_SIZE"
header_is "$WORK/get.txt" Date '[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT'
header_is "$WORK/get.txt" Last-Modified '.* GMT'
header_is "$WORK/get.txt" ETag '"[^"]+"'
cmp -s <(body_of "$WORK/get.txt") "$ROOT/index.html" || fail "curl -i body differs from www/index.html"
pass "curl -i: HTTP/1.1 200 OK, Server/Date/Content-Type/Content-Length/ETag, body = index.html"

# --- curl -I: HEAD gives the GET headers and no body. Two URLs on one connection: a body sent
# after the first HEAD response would be read as the second response and break it.
"${CURL[@]}" -I -w 'connects=%{num_connects}\n' "$BASE/index.html" "$BASE/favicon.ico" \
  >"$WORK/head.txt"
[ "$(grep -c '^HTTP/1.1 200 OK' "$WORK/head.txt")" = 2 ] || fail "curl -I: $(cat "$WORK/head.txt")"
grep -iq "^Content-Length: $INDEX_SIZE"$'\r'"\$" "$WORK/head.txt" || fail "HEAD /index.html length"
grep -iq "^Content-Length: $ICON_SIZE"$'\r'"\$" "$WORK/head.txt" || fail "HEAD /favicon.ico length"
grep -iq '^Content-Type: image/' "$WORK/head.txt" || fail "HEAD /favicon.ico content type"
[ "$(awk -F= '/^connects=/ {s += $2} END {print s}' "$WORK/head.txt")" = 1 ] ||
  fail "curl -I for two URLs opened more than one connection"
log_has 5 '"HEAD /favicon.ico HTTP/1.1" 200 0 ' || fail "access log has no 'HEAD /favicon.ico ... 200 0'"
pass "curl -I: HEAD headers with Content-Length of the file, no body (connection reused)"

# --- curl --http1.0: a 1.0 request without keep-alive is answered and the connection closed, so
# two URLs need two connections.
"${CURL[@]}" -i --http1.0 -A epserve-http10 "$BASE/index.html" >"$WORK/http10.txt"
head_of "$WORK/http10.txt" | head -n 1 | grep -Eq '^HTTP/1\.[01] 200 OK$' ||
  fail "--http1.0 status line: $(head -n 1 "$WORK/http10.txt")"
header_is "$WORK/http10.txt" Connection close
cmp -s <(body_of "$WORK/http10.txt") "$ROOT/index.html" || fail "--http1.0 body differs"
"${CURL[@]}" --http1.0 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  "$BASE/index.html" "$BASE/favicon.ico" >"$WORK/http10-connects.txt"
[ "$(awk '{s += $1} END {print s}' "$WORK/http10-connects.txt")" = 2 ] ||
  fail "--http1.0: expected 2 connections for 2 URLs, got $(paste -sd' ' "$WORK/http10-connects.txt")"
log_has 5 '"GET /index.html HTTP/1.0" 200 '"$INDEX_SIZE"' "-" "epserve-http10"' ||
  fail "access log has no HTTP/1.0 GET line"
pass "curl --http1.0: 200 with Connection: close, one connection per URL"

# --- several URLs in one invocation: one TCP connection (curl counts 1 connect in total, and its
# local port is the client port in every access-log line for these requests).
"${CURL[@]}" -A epserve-reuse -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  -w '%{num_connects} %{local_port} %{http_code}\n' \
  "$BASE/" "$BASE/index.html" "$BASE/favicon.ico" "$BASE/missing-page" >"$WORK/reuse.txt"
[ "$(awk '{s += $1} END {print s}' "$WORK/reuse.txt")" = 1 ] ||
  fail "4 URLs in one curl made more than one connection: $(paste -sd' ' "$WORK/reuse.txt")"
[ "$(awk '{print $3}' "$WORK/reuse.txt" | paste -sd' ')" = "200 200 200 404" ] ||
  fail "statuses for / /index.html /favicon.ico /missing-page: $(paste -sd' ' "$WORK/reuse.txt")"
log_has 5 '"GET /missing-page HTTP/1.1" 404 .*"epserve-reuse"$' || fail "reuse requests not logged"
client_ports=$(grep '"epserve-reuse"$' "$ACCESS_LOG" | sed -n 's/^127\.0\.0\.1:\([0-9]*\) .*/\1/p')
[ "$(wc -l <<<"$client_ports")" = 4 ] || fail "expected 4 access-log lines for the reuse run"
[ "$(sort -u <<<"$client_ports")" = "$(awk 'NR == 1 {print $2}' "$WORK/reuse.txt")" ] ||
  fail "access log client ports $(sort -u <<<"$client_ports" | paste -sd' ') != curl's local port"
pass "4 URLs in one curl invocation: 1 connection, one client port ($(sort -u <<<"$client_ports"))"

# --- 404: status, HTML content type, and the body is exactly the root's noIndex.html.
code=$("${CURL[@]}" -o "$WORK/404.html" -w '%{http_code} %{content_type}' "$BASE/no/such/file.html")
[ "$code" = "404 text/html; charset=utf-8" ] || fail "missing file: '$code'"
cmp -s "$WORK/404.html" "$ROOT/noIndex.html" || fail "404 body differs from www/noIndex.html"
pass "404 with text/html; charset=utf-8 and the body of www/noIndex.html"

# --- the project's own client agrees with curl: the same bytes, over one keep-alive connection,
# and exit status 1 once a path is answered 4xx.
[ -x "$EPSERVE_GET" ] || fail "no epserve-get at $EPSERVE_GET"
timeout 30 "$EPSERVE_GET" -p "$PORT" --timeout 5 /index.html /favicon.ico >"$WORK/get.out" ||
  fail "epserve-get /index.html /favicon.ico exited $?"
cmp -s "$WORK/get.out" <(cat "$ROOT/index.html" "$ROOT/favicon.ico") ||
  fail "epserve-get bodies differ from what curl got (index.html + favicon.ico)"
rc=0
timeout 30 "$EPSERVE_GET" -p "$PORT" --timeout 5 /no/such/file.html >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "epserve-get for a missing file exited $rc, expected 1"
pass "epserve-get: same bytes as curl for /index.html and /favicon.ico; exit 1 for a 404"

echo "curl: all checks passed"
