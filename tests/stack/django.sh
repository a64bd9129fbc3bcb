#!/usr/bin/env bash
# Stack test: the Django polls example (examples/django) under Debian's uWSGI (unix socket and
# TCP) and gunicorn, each behind epserve with --static and --proxy, checked with curl and wrk.
# "A && B || fail": fail exits, so it never runs after a true A && B.
# shellcheck disable=SC2015
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../tools/fixture.bash
. "$(dirname "$0")/../tools/fixture.bash"
fixture_init "$@"
need_command curl python3

# How epserve talks to uWSGI: "http" runs uWSGI with http-socket and proxies with http://;
# "uwsgi" runs it with the uwsgi protocol (socket) behind uwsgi://, plus one http-socket variant.
DJANGO_UWSGI_PROTOCOL=${DJANGO_UWSGI_PROTOCOL:-uwsgi}
WRK_SECONDS=${WRK_SECONDS:-10}
# Debian's Django is a module of Debian's python3, which need not be the first python3 on PATH.
DJANGO_PY=/usr/bin/python3
UWSGI_BUFFER=32768 # examples/django/uwsgi.ini's buffer-size
ADMIN_PASSWORD="stack-$RANDOM-$RANDOM"
CURL=(curl -sS --max-time 20)

# --- which variants this machine can run. A package that is installable but not installed is a
# failure (make test installs TEST_DEPS); one that apt cannot provide here skips its variant.
package_state() {
  if dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; then
    echo installed
  elif apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; then
    echo missing
  else
    echo unavailable
  fi
}
# can_run VARIANT PACKAGE...: 0 when all are installed; 1 (after a SKIP line) when one cannot be.
can_run() {
  local variant=$1 pkg
  shift
  for pkg in "$@"; do
    case $(package_state "$pkg") in
      missing) fail "$pkg is not installed (make test installs it: it is in the Makefile's TEST_DEPS)" ;;
      unavailable)
        echo "SKIP: variant $variant: Debian package $pkg cannot be installed on this machine" >&2
        return 1
        ;;
    esac
  done
}

case $DJANGO_UWSGI_PROTOCOL in
  http) UWSGI_VARIANTS=(uwsgi-unix-http uwsgi-tcp-http) ;;
  uwsgi) UWSGI_VARIANTS=(uwsgi-unix uwsgi-tcp uwsgi-unix-http) ;;
  *) fail "DJANGO_UWSGI_PROTOCOL must be http or uwsgi, not '$DJANGO_UWSGI_PROTOCOL'" ;;
esac
VARIANTS=()
for v in "${UWSGI_VARIANTS[@]}"; do
  if can_run "$v" python3-django uwsgi uwsgi-plugin-python3 wrk; then VARIANTS+=("$v"); fi
done
if can_run gunicorn python3-django gunicorn wrk; then VARIANTS+=(gunicorn); fi
[ ${#VARIANTS[@]} -gt 0 ] || skip "no variant can run here (see the SKIP lines above)"

# --- a fresh copy of the project: migrated sqlite database, sample polls, an admin, static files.
APP="$WORK/mysite"
cp -r "$SRC/examples/django" "$APP"
rm -rf "$APP/db.sqlite3" "$APP/static"
cp -r "$SRC/tests/stack/django_probe" "$APP/"
export DJANGO_SETTINGS_MODULE=django_probe.settings DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=127.0.0.1 \
  DJANGO_DB_PATH="$WORK/db.sqlite3" DJANGO_STATIC_ROOT="$WORK/static" \
  DJANGO_SECRET_KEY="stack-test-$RANDOM-$RANDOM-$RANDOM-$RANDOM-$RANDOM"
manage() {
  (cd "$APP" && "$DJANGO_PY" manage.py "$@") >>"$WORK/manage.log" 2>&1 ||
    fail "manage.py $*: $(tail -n 20 "$WORK/manage.log")"
}
manage migrate --noinput
manage seed_polls
manage collectstatic --noinput
DJANGO_SUPERUSER_PASSWORD=$ADMIN_PASSWORD manage createsuperuser --noinput --username admin \
  --email admin@example.invalid
[ -s "$WORK/static/polls/style.css" ] && [ -s "$WORK/static/admin/css/base.css" ] ||
  fail "collectstatic left no polls/admin files in $WORK/static"
pass "project copied, database migrated, sample polls and admin created, static files collected"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# raw_request FILE: sends FILE's bytes to epserve as they are, prints the whole reply (until close).
raw_request() {
  python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(open(sys.argv[2], "rb").read())
while True:
    data = s.recv(65536)
    if not data:
        break
    sys.stdout.buffer.write(data)
PY
}
# status URL [CURL-ARGS...]: prints the status code only (000 when nothing answered).
status() {
  local url=$1
  shift
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

cat >"$WORK/status.lua" <<'EOF'
-- Counts responses outside 2xx in every thread (wrk's own summary lumps 3xx in with 2xx).
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status < 200 or status > 299 then bad = bad + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  io.write(string.format("non-2xx: %d\n", n))
end
EOF

# --- the upstreams. UPSTREAM_PID, UPSTREAM_LOG and UPSTREAM_URL describe the one running.
# start_uwsgi ADDRESS_LINE: uWSGI with the example's own uwsgi.ini, only its socket line replaced
# (the ini's /run/mysite path is for a real deployment).
start_uwsgi() {
  local ini="$APP/uwsgi-$VARIANT.ini"
  sed "s|^socket = .*|$1|" "$APP/uwsgi.ini" >"$ini"
  grep -qx "$1" "$ini" || fail "uwsgi.ini has no 'socket = ' line to replace"
  : >"$UPSTREAM_LOG"
  (cd "$APP" && exec uwsgi --ini "$ini") >>"$UPSTREAM_LOG" 2>&1 &
  UPSTREAM_PID=$!
  FIXTURE_PIDS+=("$UPSTREAM_PID")
  wait_until 150 0.1 uwsgi_ready || fail "uWSGI did not start: $(tail -n 30 "$UPSTREAM_LOG")"
}
uwsgi_ready() {
  pid_alive "$UPSTREAM_PID" || fail "uWSGI exited at startup: $(tail -n 30 "$UPSTREAM_LOG")"
  ! grep -q 'no python application found' "$UPSTREAM_LOG" ||
    fail "uWSGI could not load mysite: $(tail -n 30 "$UPSTREAM_LOG")"
  grep -q "WSGI app 0 (mountpoint='') ready" "$UPSTREAM_LOG" &&
    grep -q 'spawned uWSGI worker' "$UPSTREAM_LOG"
}
# start_gunicorn HOST:PORT: gunicorn with mysite.wsgi, as epserve's README shows it. --preload
# imports Django once before the workers fork, so no worker's first request waits for the import
# (that would outlast the 1 s read timeout the test gives epserve).
start_gunicorn() {
  : >"$UPSTREAM_LOG"
  (cd "$APP" && exec gunicorn --workers 4 --preload --bind "$1" --access-logfile - mysite.wsgi) \
    >>"$UPSTREAM_LOG" 2>&1 &
  UPSTREAM_PID=$!
  FIXTURE_PIDS+=("$UPSTREAM_PID")
  wait_until 150 0.1 gunicorn_ready "$1" || fail "gunicorn did not start: $(tail -n 30 "$UPSTREAM_LOG")"
}
gunicorn_ready() {
  pid_alive "$UPSTREAM_PID" || fail "gunicorn exited at startup: $(tail -n 30 "$UPSTREAM_LOG")"
  [ "$(status "http://$1/polls/hello/" --max-time 2)" = 200 ]
}
# start_upstream: (re)starts this variant's application server on its address.
start_upstream() {
  case $VARIANT in
    uwsgi-unix) start_uwsgi "socket = $APP_SOCK" ;;
    uwsgi-tcp) start_uwsgi "socket = 127.0.0.1:$APP_PORT" ;;
    uwsgi-unix-http) start_uwsgi "http-socket = $APP_SOCK" ;;
    uwsgi-tcp-http) start_uwsgi "http-socket = 127.0.0.1:$APP_PORT" ;;
    gunicorn) start_gunicorn "127.0.0.1:$APP_PORT" ;;
  esac
}

# --- the checks, through epserve, for one variant.
check_polls_and_vote() {
  local index q token choice before after code
  index=$("${CURL[@]}" "$BASE/polls/") || fail "GET /polls/"
  for text in "What&#x27;s new?" "Which server sits in front of Django?" "Unix socket or TCP?"; do
    grep -qF "$text" <<<"$index" || fail "/polls/ lacks '$text': $index"
  done
  grep -qF 'href="/static/polls/style.css"' <<<"$index" || fail "/polls/ lacks the stylesheet link"
  q=$(sed -n 's|.*href="/polls/\([0-9]*\)/">Unix socket or TCP?</a>.*|\1|p' <<<"$index")
  [ -n "$q" ] || fail "no link to the 'Unix socket or TCP?' poll in: $index"
  pass "$VARIANT: /polls/ lists the sample questions"

  local jar="$WORK/$VARIANT-vote.jar" detail="$WORK/$VARIANT-detail.html"
  "${CURL[@]}" -c "$jar" "$BASE/polls/$q/" >"$detail" || fail "GET /polls/$q/"
  token=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$detail")
  choice=$(sed -n 's/.*id="choice1" value="\([0-9]*\)".*/\1/p' "$detail")
  [ -n "$token" ] && [ -n "$choice" ] || fail "no CSRF token or choice in: $(cat "$detail")"
  grep -q 'csrftoken' "$jar" || fail "no csrftoken cookie was set: $(cat "$jar")"
  votes() {
    "${CURL[@]}" "$BASE/polls/$q/results/" |
      sed -n 's/.*<li>Unix socket -- \([0-9]*\) vote.*/\1/p'
  }
  before=$(votes)
  [ -n "$before" ] || fail "results page of poll $q has no count for 'Unix socket'"

  code=$(status "$BASE/polls/$q/vote/" -b "$jar" -d "choice=$choice")
  [ "$code" = 403 ] || fail "a vote without the CSRF token got $code, not 403"

  "${CURL[@]}" -b "$jar" -c "$jar" -D "$WORK/$VARIANT-vote.h" -o /dev/null \
    -d "csrfmiddlewaretoken=$token&choice=$choice" "$BASE/polls/$q/vote/" || fail "vote POST"
  grep -q '^HTTP/1.1 30[23] ' "$WORK/$VARIANT-vote.h" || fail "vote: $(cat "$WORK/$VARIANT-vote.h")"
  grep -qi "^location: http://127.0.0.1:$PORT/polls/$q/results/"$'\r'"\$" "$WORK/$VARIANT-vote.h" ||
    fail "vote: Location does not name the client's host and port: $(cat "$WORK/$VARIANT-vote.h")"
  # Behind a port mapping (docker -p 1234:80) the client's Host names the published port.
  "${CURL[@]}" -b "$jar" -H 'Host: 127.0.0.1:1234' -D "$WORK/$VARIANT-vote2.h" -o /dev/null \
    -d "csrfmiddlewaretoken=$token&choice=$choice" "$BASE/polls/$q/vote/" || fail "vote POST 2"
  grep -qi "^location: http://127.0.0.1:1234/polls/$q/results/"$'\r'"\$" "$WORK/$VARIANT-vote2.h" ||
    fail "vote with Host 127.0.0.1:1234: $(cat "$WORK/$VARIANT-vote2.h")"
  after=$(votes)
  [ "$after" = $((before + 2)) ] || fail "two votes took 'Unix socket' from $before to '$after'"
  pass "$VARIANT: votes with the CSRF cookie and token redirect to the client's host:port and count"
}

check_admin() {
  local jar="$WORK/$VARIANT-admin.jar" page token
  [ "$(status "$BASE/admin/")" = 302 ] || fail "/admin/ without a session should redirect to login"
  page=$("${CURL[@]}" -c "$jar" "$BASE/admin/login/?next=/admin/") || fail "GET /admin/login/"
  token=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' <<<"$page")
  [ -n "$token" ] || fail "no CSRF token on the admin login page: $page"
  "${CURL[@]}" -b "$jar" -c "$jar" -D "$WORK/$VARIANT-login.h" -o /dev/null \
    --data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "username=admin" \
    --data-urlencode "password=$ADMIN_PASSWORD" --data-urlencode "next=/admin/" \
    "$BASE/admin/login/?next=/admin/" || fail "login POST"
  grep -q '^HTTP/1.1 302 ' "$WORK/$VARIANT-login.h" || fail "login: $(cat "$WORK/$VARIANT-login.h")"
  grep -qi '^location: /admin/'$'\r''$' "$WORK/$VARIANT-login.h" ||
    fail "login should redirect to /admin/: $(cat "$WORK/$VARIANT-login.h")"
  # The session cookie and the rotated CSRF cookie: two fields, never folded into one.
  grep -qi '^set-cookie: sessionid=' "$WORK/$VARIANT-login.h" &&
    grep -qi '^set-cookie: csrftoken=' "$WORK/$VARIANT-login.h" ||
    fail "login: sessionid and csrftoken should be separate Set-Cookie fields: $(cat "$WORK/$VARIANT-login.h")"
  page=$("${CURL[@]}" -b "$jar" "$BASE/admin/polls/question/") || fail "GET the question list"
  grep -qF 'Unix socket or TCP?' <<<"$page" && grep -qF 'Log out' <<<"$page" ||
    fail "the admin's question list, logged in, lacks the polls: $page"
  pass "$VARIANT: admin login works and its session cookie carries on"
}

check_static() {
  local f
  for f in polls/style.css admin/css/base.css admin/js/core.js admin/img/icon-yes.svg; do
    "${CURL[@]}" -o "$WORK/$VARIANT-static" "$BASE/static/$f" || fail "GET /static/$f"
    cmp -s "$WORK/$VARIANT-static" "$WORK/static/$f" || fail "/static/$f differs from the collected file"
  done
  pass "$VARIANT: static files come byte-identical from the collected directory"
}

check_head() {
  local reply
  printf 'HEAD /polls/ HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$PORT" \
    >"$WORK/head.req"
  reply=$(raw_request "$WORK/head.req" | od -An -c | tr -d ' \n')
  [[ $reply == HTTP/1.1200OK* ]] || fail "HEAD /polls/: $reply"
  # The head ends with the first empty line; nothing may follow it before the close.
  [[ $reply == *'\r\n\r\n' ]] || fail "HEAD /polls/ carried a body: $reply"
  pass "$VARIANT: HEAD has no body"
}

check_bodies() {
  local want
  python3 -c 'import sys; sys.stdout.write("field=" + "x" * (1048576 - 6))' >"$WORK/form.txt"
  "${CURL[@]}" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$WORK/form.txt" \
    "$BASE/probe/form/" >"$WORK/form.json" || fail "1 MiB form POST: $(cat "$WORK/form.json")"
  want=$(printf '%s' "$(tail -c +7 "$WORK/form.txt")" | sha256sum | cut -d' ' -f1)
  [ "$(json_field length <"$WORK/form.json")" = 1048570 ] &&
    [ "$(json_field sha256 <"$WORK/form.json")" = "$want" ] ||
    fail "1 MiB form: Django got $(cat "$WORK/form.json")"

  head -c $((2 * 1024 * 1024)) /dev/urandom >"$WORK/upload.bin"
  want=$(sha256sum "$WORK/upload.bin" | cut -d' ' -f1)
  "${CURL[@]}" -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
    --data-binary @"$WORK/upload.bin" "$BASE/probe/body/" >"$WORK/chunked.json" ||
    fail "chunked upload: $(cat "$WORK/chunked.json")"
  [ "$(json_field length <"$WORK/chunked.json")" = 2097152 ] &&
    [ "$(json_field sha256 <"$WORK/chunked.json")" = "$want" ] &&
    [ "$(json_field content_length <"$WORK/chunked.json")" = 2097152 ] &&
    [ "$(json_field transfer_encoding <"$WORK/chunked.json")" = "" ] ||
    fail "chunked upload: Django got $(cat "$WORK/chunked.json")"
  pass "$VARIANT: a 1 MiB form POST and a 2 MiB chunked upload reach Django whole"
}

check_headers() {
  local big pad=() i code
  big=$(head -c 5120 /dev/zero | tr '\0' 'c')
  "${CURL[@]}" -D "$WORK/$VARIANT-cookies.h" -H "Cookie: big=$big" "$BASE/probe/cookies/" \
    >"$WORK/cookies.json" || fail "5 KiB cookie: $(cat "$WORK/cookies.json")"
  [ "$(json_field big <"$WORK/cookies.json")" = 5120 ] || fail "5 KiB cookie: $(cat "$WORK/cookies.json")"
  for i in first second third; do
    grep -qi "^set-cookie: $i=$i-value; HttpOnly; Path=/"$'\r''$' "$WORK/$VARIANT-cookies.h" ||
      fail "Set-Cookie $i missing or merged: $(cat "$WORK/$VARIANT-cookies.h")"
  done
  [ "$(grep -ci '^set-cookie:' "$WORK/$VARIANT-cookies.h")" = 3 ] ||
    fail "three Set-Cookie fields expected: $(cat "$WORK/$VARIANT-cookies.h")"
  pass "$VARIANT: a 5 KiB cookie reaches Django, three Set-Cookie fields stay separate"

  for i in 1 2 3 4 5 6 7 8; do pad+=(-H "X-Pad-$i: $(head -c 8192 /dev/zero | tr '\0' 'p')"); done
  code=$(status "$BASE/probe/cookies/" "${pad[@]}")
  [ "$code" = 431 ] || fail "64 KiB of header fields got $code, not 431"
  pass "$VARIANT: a 64 KiB header block gets 431"
}

# start_extra_server ERR-FILE EPSERVE-ARGS...: a second epserve beside the variant's own, for the
# checks that need other flags; sets EXTRA_PID and EXTRA_BASE.
start_extra_server() {
  local err=$1
  shift
  "$EPSERVE" -i 127.0.0.1 -p 0 -r "$ROOT" "$@" >/dev/null 2>"$err" &
  EXTRA_PID=$!
  FIXTURE_PIDS+=("$EXTRA_PID")
  wait_until 100 0.1 grep -q 'listening on 127\.0\.0\.1:' "$err" || fail "second epserve: $(cat "$err")"
  EXTRA_BASE="http://127.0.0.1:$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$err" | head -n 1)"
}

# uwsgi:// only: an epserve left at the default --uwsgi-buffer-size (4096, uWSGI's own default)
# answers a 5 KiB cookie itself with 431 and a log line naming the setting; uWSGI never sees it.
check_uwsgi_buffer() {
  local err="$WORK/$VARIANT-default-buffer.err" big
  start_extra_server "$err" --proxy "/=$UPSTREAM_URL"
  [ "$(status "$EXTRA_BASE/probe/cookies/" -H 'Cookie: small=1')" = 200 ] ||
    fail "default --uwsgi-buffer-size: a small request failed"
  big=$(head -c 5120 /dev/zero | tr '\0' 'c')
  [ "$(status "$EXTRA_BASE/probe/cookies/" -H "Cookie: big=$big")" = 431 ] ||
    fail "default --uwsgi-buffer-size: a 5 KiB cookie should get 431"
  grep -q 'uwsgi-buffer-size' "$err" || fail "no log line naming --uwsgi-buffer-size: $(cat "$err")"
  ! grep -q 'invalid request block size' "$UPSTREAM_LOG" || fail "uWSGI got a block it had to drop"
  stop_pid "$EXTRA_PID" 5 || fail "the second epserve needed SIGKILL to stop"
  pass "$VARIANT: with the default --uwsgi-buffer-size a 5 KiB cookie gets 431 and a log line, not a 502"
}

check_errors() {
  local body
  body=$("${CURL[@]}" -w '\n%{http_code}' "$BASE/polls/999999/") || fail "GET /polls/999999/"
  [ "${body##*$'\n'}" = 404 ] && grep -qF 'The requested resource was not found on this server.' <<<"$body" ||
    fail "Django's own 404 should pass through: $body"
  pass "$VARIANT: Django's 404 passes through"

  local h code
  for h in 'X-Forwarded-Proto: https' 'X_Forwarded_Proto: https'; do
    "${CURL[@]}" -H "$h" "$BASE/probe/secure/" >"$WORK/secure.json" || fail "GET /probe/secure/"
    [ "$(json_field is_secure <"$WORK/secure.json")" = False ] &&
      [ "$(json_field scheme <"$WORK/secure.json")" = http ] &&
      [ "$(json_field x_forwarded_proto <"$WORK/secure.json")" = http ] ||
      fail "'$h' from the client made Django believe the request is secure: $(cat "$WORK/secure.json")"
    [ "$(json_field absolute <"$WORK/secure.json")" = "http://127.0.0.1:$PORT/polls/" ] ||
      fail "absolute URL: $(cat "$WORK/secure.json")"
  done
  # epserve passes X-Forwarded-Ssl on; gunicorn (which trusts it from 127.0.0.1) then refuses the
  # request as contradicting epserve's X-Forwarded-Proto: http (400). Either way: never secure.
  code=$("${CURL[@]}" -o "$WORK/secure.json" -w '%{http_code}' -H 'X-Forwarded-Ssl: on' \
    "$BASE/probe/secure/") || fail "GET /probe/secure/ with X-Forwarded-Ssl"
  case $code in
    200) [ "$(json_field is_secure <"$WORK/secure.json")" = False ] ||
      fail "X-Forwarded-Ssl from the client made Django believe the request is secure" ;;
    400) grep -q 'Contradictory scheme headers' "$WORK/secure.json" || fail "X-Forwarded-Ssl: 400 $(cat "$WORK/secure.json")" ;;
    *) fail "X-Forwarded-Ssl: $code $(cat "$WORK/secure.json")" ;;
  esac
  pass "$VARIANT: a spoofed X-Forwarded-Proto does not make request.is_secure() true"

  # Its own epserve: the variant's keeps the default read timeout, so that no other check can
  # turn into a 504 on a loaded machine.
  local err="$WORK/$VARIANT-read-timeout.err"
  start_extra_server "$err" --proxy-read-timeout 1 --proxy "/=$UPSTREAM_URL" "${EXTRA[@]}"
  [ "$(status "$EXTRA_BASE/probe/slow/?seconds=3")" = 504 ] ||
    fail "a view slower than the read timeout should give 504"
  grep -q 'timed out waiting for the response' "$err" || fail "no warning about the upstream timeout: $(cat "$err")"
  [ "$(status "$EXTRA_BASE/polls/hello/")" = 200 ] || fail "after the 504 the next request failed"
  stop_pid "$EXTRA_PID" 5 || fail "the second epserve needed SIGKILL to stop"
  pass "$VARIANT: a view slower than --proxy-read-timeout 1 gives 504"
}

check_wrk() {
  local out="$WORK/$VARIANT-wrk.txt" requests
  wrk -t1 -c8 -d"${WRK_SECONDS}s" --timeout 5s -s "$WORK/status.lua" "$BASE/polls/hello/" \
    >"$out" 2>&1 || fail "wrk failed: $(cat "$out")"
  requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$out")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "wrk made no requests: $(cat "$out")"
  ! grep -q 'Socket errors' "$out" || fail "wrk saw socket errors: $(cat "$out")"
  ! grep -q 'Non-2xx' "$out" || fail "wrk saw error statuses: $(cat "$out")"
  grep -qx 'non-2xx: 0' "$out" || fail "wrk saw responses outside 2xx: $(cat "$out")"
  pass "$VARIANT: wrk ${WRK_SECONDS}s on /polls/hello/: $requests requests, no errors, all 2xx ($(sed -n 's/^Requests\/sec: *//p' "$out") req/s)"
}

check_restart() {
  stop_pid "$UPSTREAM_PID" 10 || fail "the upstream needed SIGKILL to stop"
  [ "$(status "$BASE/polls/hello/" --max-time 5)" = 502 ] || fail "with the upstream stopped: not a 502"
  start_upstream
  wait_until 50 0.1 test "$(status "$BASE/polls/hello/" --max-time 5)" = 200 ||
    fail "after the restart /polls/hello/ is not 200 again"
  pass "$VARIANT: upstream stopped gives 502, restarted gives 200 again"
}

check_no_static_upstream() {
  ! grep -q ' /static/' "$UPSTREAM_LOG" || fail "the upstream saw /static/ requests: $(grep ' /static/' "$UPSTREAM_LOG" | head -n 3)"
  grep -q ' /polls/' "$UPSTREAM_LOG" || fail "the upstream log shows no requests at all"
  pass "$VARIANT: the upstream's log shows no /static/ request"
}

for VARIANT in "${VARIANTS[@]}"; do
  UPSTREAM_LOG="$WORK/$VARIANT.log"
  APP_SOCK="$WORK/$VARIANT.sock"
  APP_PORT=$(free_port)
  EXTRA=()
  case $VARIANT in
    uwsgi-unix)
      UPSTREAM_URL="uwsgi://unix:$APP_SOCK"
      EXTRA=(--uwsgi-buffer-size "$UWSGI_BUFFER")
      ;;
    uwsgi-tcp)
      UPSTREAM_URL="uwsgi://127.0.0.1:$APP_PORT"
      EXTRA=(--uwsgi-buffer-size "$UWSGI_BUFFER")
      ;;
    uwsgi-unix-http) UPSTREAM_URL="http://unix:$APP_SOCK" ;;
    uwsgi-tcp-http | gunicorn) UPSTREAM_URL="http://127.0.0.1:$APP_PORT" ;;
  esac
  start_upstream
  start_server --max-body-size 8388608 "${EXTRA[@]}" \
    --static "/static/=$WORK/static" --proxy "/=$UPSTREAM_URL"
  echo "--- $VARIANT: epserve on $BASE, upstream $UPSTREAM_URL"
  check_polls_and_vote
  check_admin
  check_static
  check_head
  check_bodies
  check_headers
  check_errors
  case $VARIANT in uwsgi-unix | uwsgi-tcp) check_uwsgi_buffer ;; esac
  check_wrk
  check_no_static_upstream
  check_restart
  stop_pid "$SERVER_PID" 5 || fail "epserve needed SIGKILL to stop"
  cp "$ACCESS_LOG" "$WORK/$VARIANT-access.log"
  cp "$SERVER_ERR" "$WORK/$VARIANT-server.err"
  stop_pid "$UPSTREAM_PID" 10 || fail "the upstream needed SIGKILL to stop"
done
pass "variants run: ${VARIANTS[*]}"
