#!/usr/bin/env bash
# Stack test: epserve in front of a real gunicorn (Debian's package) running a small WSGI app,
# over TCP and over a unix socket: forwarded fields, uploads whole and chunked (buffered, then
# streamed with --proxy-request-buffering off), a streamed response arriving as it is produced,
# a large download intact, static files beside it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../tools/fixture.bash
. "$(dirname "$0")/../tools/fixture.bash"
fixture_init "$@"
need_command curl gunicorn python3

CURL=(curl -sS --max-time 20)
cp "$SRC/tests/stack/wsgi_app.py" "$WORK/"

# start_gunicorn BIND LOG: starts gunicorn (2 sync workers) and waits until it listens.
start_gunicorn() {
  (cd "$WORK" && exec gunicorn --workers 2 --bind "$1" --access-logfile - wsgi_app:application) \
    >"$2" 2>&1 &
  FIXTURE_PIDS+=($!)
  wait_until 100 0.1 grep -qs "Listening at" "$2" || fail "gunicorn did not start: $(cat "$2")"
}

start_gunicorn 127.0.0.1:0 "$WORK/gunicorn.log"
APP_PORT=$(sed -n 's/.*Listening at: http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/gunicorn.log" | head -n 1)
[ -n "$APP_PORT" ] || fail "no gunicorn port in: $(cat "$WORK/gunicorn.log")"
start_gunicorn "unix:$WORK/app.sock" "$WORK/gunicorn-unix.log"

start_server --max-body-size 67108864 --proxy "/app/=http://127.0.0.1:$APP_PORT" \
  --proxy "/unix/=http://unix:$WORK/app.sock"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# --- a GET: the app sees the client's Host and epserve's forwarding fields.
"${CURL[@]}" -D "$WORK/h1" -H 'X-Forwarded-For: 6.6.6.6' "$BASE/app/echo?x=1" >"$WORK/echo.json"
[ "$(json_field query <"$WORK/echo.json")" = "x=1" ] || fail "query: $(cat "$WORK/echo.json")"
[ "$(json_field host <"$WORK/echo.json")" = "127.0.0.1:$PORT" ] || fail "host: $(cat "$WORK/echo.json")"
[ "$(json_field xff <"$WORK/echo.json")" = "127.0.0.1" ] || fail "xff: $(cat "$WORK/echo.json")"
[ "$(json_field proto <"$WORK/echo.json")" = "http" ] || fail "proto: $(cat "$WORK/echo.json")"
[ "$(json_field via <"$WORK/echo.json")" = "1.1 epserve" ] || fail "via: $(cat "$WORK/echo.json")"
[ "$(grep -ci '^set-cookie:' "$WORK/h1")" = 2 ] || fail "two Set-Cookie fields expected: $(cat "$WORK/h1")"
grep -qi '^server: epserve/' "$WORK/h1" || fail "Server should be epserve's: $(cat "$WORK/h1")"
pass "GET through to gunicorn with forwarded fields"

# --- uploads: 5 MiB with a length, then chunked; the app reads them whole.
head -c $((5 * 1024 * 1024)) /dev/urandom >"$WORK/upload.bin"
WANT=$(md5sum "$WORK/upload.bin" | cut -d' ' -f1)
"${CURL[@]}" --data-binary @"$WORK/upload.bin" "$BASE/app/echo" >"$WORK/up.json"
[ "$(json_field md5 <"$WORK/up.json")" = "$WANT" ] || fail "upload md5: $(cat "$WORK/up.json")"
"${CURL[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/upload.bin" "$BASE/app/echo" \
  >"$WORK/upc.json"
[ "$(json_field md5 <"$WORK/upc.json")" = "$WANT" ] || fail "chunked upload md5: $(cat "$WORK/upc.json")"
[ "$(json_field te <"$WORK/upc.json")" = "" ] || fail "the app saw Transfer-Encoding"
pass "5 MiB uploads, with a length and chunked, arrive whole"

# --- a streamed response: each part reaches the client as the app yields it.
"${CURL[@]}" -N "$BASE/app/stream" | while IFS= read -r line; do
  printf '%s %s\n' "$line" "$(date +%s.%N)"
done >"$WORK/stream.txt"
[ "$(wc -l <"$WORK/stream.txt")" = 3 ] || fail "stream: $(cat "$WORK/stream.txt")"
# Each line: "part N <app time> <client time>": the client got part 0 well before the app made part 2.
python3 - "$WORK/stream.txt" <<'PY' || fail "streaming was buffered: $(cat "$WORK/stream.txt")"
import sys
rows = [l.split() for l in open(sys.argv[1])]
first_seen, last_made = float(rows[0][3]), float(rows[2][2])
sys.exit(0 if first_seen < last_made - 0.3 else 1)
PY
pass "a streamed response arrives part by part"

# --- a large download and the unix socket route, beside a static file.
"${CURL[@]}" "$BASE/app/big?20000000" | md5sum | cut -d' ' -f1 >"$WORK/big.md5"
python3 -c 'import hashlib,sys; b=bytes(range(256))*256; n=20000000; h=hashlib.md5()
while n>0:
    k=min(n,len(b)); h.update(b[:k]); n-=k
print(h.hexdigest())' >"$WORK/big.want"
cmp -s "$WORK/big.md5" "$WORK/big.want" || fail "20 MB download differs"
[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/unix/echo")" = 200 ] || fail "unix socket route"
[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/index.html")" = 200 ] || fail "static file"
log_has 5 '"GET /unix/echo HTTP/1.1" 200 .* unix:' || fail "access log lacks the upstream field"
pass "20 MB download, unix socket upstream, static files beside"

# --- the same uploads streamed (--proxy-request-buffering off): the chunked one re-chunked.
stop_pid "$SERVER_PID" 5 >/dev/null 2>&1
SERVER_PID=""
start_server --max-body-size 67108864 --proxy-request-buffering off \
  --proxy "/app/=http://127.0.0.1:$APP_PORT"
"${CURL[@]}" --data-binary @"$WORK/upload.bin" "$BASE/app/echo" >"$WORK/sup.json"
[ "$(json_field md5 <"$WORK/sup.json")" = "$WANT" ] || fail "streamed upload md5: $(cat "$WORK/sup.json")"
"${CURL[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/upload.bin" "$BASE/app/echo" \
  >"$WORK/supc.json"
[ "$(json_field md5 <"$WORK/supc.json")" = "$WANT" ] ||
  fail "streamed chunked upload md5: $(cat "$WORK/supc.json")"
[ "$(json_field te <"$WORK/supc.json")" = "chunked" ] || fail "not re-chunked: $(cat "$WORK/supc.json")"
pass "5 MiB uploads streamed, with a length and re-chunked, arrive whole"
