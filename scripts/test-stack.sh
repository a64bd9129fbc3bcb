#!/usr/bin/env bash
# Runs examples/django/compose.yaml, the file `docker compose up` runs, with podman-compose on
# rootful podman: builds both images, starts `app` (mysite under uWSGI) and `web` (epserve,
# published on 127.0.0.1:1234), checks /polls/, a CSRF vote and its count, static files byte for
# byte, then stops both with SIGTERM and expects exit code 0 from each.
#
# Usage: scripts/test-stack.sh        (env: HOST_PORT=1234)
# Podman comes from shared/container/podman-sandbox.sh found beside the repository, as for
# scripts/test-container.sh (CI lays shared/ there); podman-compose is Debian's package.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
APP_DIR=$REPO/examples/django
HOST_PORT=${HOST_PORT:-1234}
# Everything this run creates carries the project name: containers, volumes and the network.
PROJECT="epserve-stack-$$"
BASE="http://127.0.0.1:$HOST_PORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/epserve-stack.XXXXXX")
CURL=(curl -sS --max-time 20)
# The file's own defaults are under test, not whatever the caller's shell holds.
unset DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS
# compose.yaml publishes ${EPSERVE_PUBLISH:-1234}:80; here only on loopback.
export EPSERVE_PUBLISH="127.0.0.1:$HOST_PORT"

log() { printf '[test-stack] %s\n' "$*"; }
now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T_START=$(now)

# compose SECONDS ARGS...: podman-compose on compose.yaml for this project, bounded.
compose() {
  local seconds=$1
  shift
  (cd "$APP_DIR" && exec timeout "$seconds" podman-compose -p "$PROJECT" "$@")
}
# ours LIST-COMMAND: the ids podman lists for this project's label.
ours() { timeout 60 podman "$@" --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null || true; }
# On failure (die exits 1) both containers' last log lines come after the message.
cleanup() {
  local status=$? id
  set +e
  if [ -n "${CONTAINERS_CONF:-}" ]; then
    if [ "$status" = 1 ]; then
      for id in $(ours ps -aq); do
        echo "--- $(timeout 20 podman inspect -f '{{.Name}}' "$id") log (last 15 lines)" >&2
        timeout 20 podman logs "$id" 2>&1 | tail -n 15 >&2
      done
    fi
    for id in $(ours ps -aq); do timeout 60 podman rm -f -t 0 "$id" >/dev/null 2>&1; done
    for id in $(ours volume ls -q); do timeout 60 podman volume rm -f "$id" >/dev/null 2>&1; done
    for id in $(ours network ls -q); do timeout 60 podman network rm -f "$id" >/dev/null 2>&1; done
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v curl >/dev/null || die "curl is not installed"
command -v podman-compose >/dev/null ||
  die "podman-compose is not installed (make test-stack installs it: apt-get install podman-compose)"
if ss -Htln "( sport = :$HOST_PORT )" 2>/dev/null | grep -q .; then
  die "127.0.0.1:$HOST_PORT is already in use (set HOST_PORT)"
fi
use_podman_sandbox "$REPO"
log "podman-compose $(podman-compose version 2>/dev/null | sed -n 's/^podman-composer* version *//p' | head -n 1) on $(timeout 20 podman --version)"

# podman-compose goes on after a failed step and exits 0: its "exit code: N" lines tell.
compose_ok() {
  local what=$1 out=$2
  ! grep -q '^exit code: [1-9]' "$out" || { tail -n 30 "$out" >&2; die "podman-compose $what failed"; }
}

# --- build, as `docker compose build`; --format docker keeps the epserve image's HEALTHCHECK
# and shares its layers with scripts/test-container.sh's build. No registry here: never pull.
t0=$(now)
compose 1500 --podman-build-args='--format docker --pull=never' build >"$TMP/build.log" 2>&1 ||
  { tail -n 30 "$TMP/build.log" >&2; die "podman-compose build failed"; }
compose_ok build "$TMP/build.log"
for image in epserve epserve-example-mysite; do
  timeout 60 podman image exists "localhost/$image:latest" || die "no image $image after the build"
done
BUILD_TIME=$(secs_since "$t0")
log "built the images epserve and epserve-example-mysite in ${BUILD_TIME} s"

# --- up, as `docker compose up -d`.
t0=$(now)
compose 300 up -d --no-build >"$TMP/up.log" 2>&1 || { tail -n 30 "$TMP/up.log" >&2; die "podman-compose up failed"; }
compose_ok up "$TMP/up.log"
APP="${PROJECT}_app_1" WEB="${PROJECT}_web_1"
for c in "$APP" "$WEB"; do
  [ "$(timeout 30 podman inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" = true ] || die "$c is not running"
done
polls_ready() { [ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/polls/" 2>/dev/null)" = 200 ]; }
wait_until 300 0.2 polls_ready || die "GET $BASE/polls/ is not 200 within 60 s"
READY_TIME=$(secs_since "$t0")
log "up: $APP and $WEB running, /polls/ answering ${READY_TIME} s after up"

for c in "$APP" "$WEB"; do
  uid=$(container_status podman "$c" Uid)
  if [ -z "$uid" ] || [ "$uid" = 0 ]; then die "PID 1 of $c runs as uid '$uid'"; fi
done
log "both run as non-root users (PID 1 of each)"

# --- /polls/ lists the sample questions.
"${CURL[@]}" -o "$TMP/index.html" "$BASE/polls/" || die "GET /polls/"
for q in "What&#x27;s new?" "Which server sits in front of Django?" "Unix socket or TCP?"; do
  grep -qF "$q" "$TMP/index.html" || die "/polls/ does not list '$q': $(cat "$TMP/index.html")"
done
QID=$(sed -n 's|.*<a href="/polls/\([0-9]*\)/">Unix socket or TCP?</a>.*|\1|p' "$TMP/index.html")
[ -n "$QID" ] || die "no link to 'Unix socket or TCP?' on /polls/"
log "GET /polls/ -> 200 with the three sample questions"

# --- a vote with the CSRF cookie and token: 303 to the results, whose count goes up by one.
JAR="$TMP/cookies"
"${CURL[@]}" -c "$JAR" -o "$TMP/detail.html" "$BASE/polls/$QID/" || die "GET /polls/$QID/"
TOKEN=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$TMP/detail.html")
CHOICE=$(sed -n 's/.*id="choice1" value="\([0-9]*\)".*/\1/p' "$TMP/detail.html")
if [ -z "$TOKEN" ] || [ -z "$CHOICE" ]; then die "no CSRF token or choice on /polls/$QID/: $(cat "$TMP/detail.html")"; fi
grep -q csrftoken "$JAR" || die "no csrftoken cookie was set"
votes() { "${CURL[@]}" "$BASE/polls/$QID/results/" | sed -n 's/.*<li>Unix socket -- \([0-9]*\) vote.*/\1/p'; }
BEFORE=$(votes)
[ -n "$BEFORE" ] || die "the results page has no count for 'Unix socket'"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -b "$JAR" -d "choice=$CHOICE" "$BASE/polls/$QID/vote/")
[ "$code" = 403 ] || die "a vote without the CSRF token got $code, not 403"
# The client's X-Forwarded-Proto is replaced by epserve's: Django's redirect stays http://.
"${CURL[@]}" -b "$JAR" -H 'X-Forwarded-Proto: https' -D "$TMP/vote.h" -o /dev/null \
  -d "csrfmiddlewaretoken=$TOKEN&choice=$CHOICE" "$BASE/polls/$QID/vote/" || die "vote POST"
tr -d '\r' <"$TMP/vote.h" >"$TMP/vote.txt"
grep -q '^HTTP/1.1 303 ' "$TMP/vote.txt" || die "the vote got: $(cat "$TMP/vote.txt")"
grep -qix "location: http://127.0.0.1:$HOST_PORT/polls/$QID/results/" "$TMP/vote.txt" ||
  die "the vote's Location is not http://127.0.0.1:$HOST_PORT/polls/$QID/results/: $(cat "$TMP/vote.txt")"
AFTER=$(votes)
[ "$AFTER" = $((BEFORE + 1)) ] || die "one vote took 'Unix socket' from $BEFORE to '$AFTER'"
log "vote: without the token 403; with cookie+token 303 to $BASE/polls/$QID/results/ (http despite a spoofed X-Forwarded-Proto), count $BEFORE -> $AFTER"

# --- static files from epserve, byte-identical to what collectstatic put in the app image, and
# never seen by uWSGI (its request log).
for f in polls/style.css admin/css/base.css admin/js/vendor/jquery/jquery.js; do
  "${CURL[@]}" -o "$TMP/got" "$BASE/static/$f" || die "GET /static/$f"
  timeout 30 podman exec "$APP" cat "/srv/mysite/static/$f" >"$TMP/collected" || die "no collected $f in $APP"
  [ -s "$TMP/collected" ] || die "the collected $f in $APP is empty"
  cmp -s "$TMP/got" "$TMP/collected" || die "/static/$f differs from the collected file"
done
cmp -s <("${CURL[@]}" "$BASE/static/polls/style.css") "$APP_DIR/polls/static/polls/style.css" ||
  die "/static/polls/style.css differs from examples/django/polls/static/polls/style.css"
timeout 30 podman logs "$APP" >"$TMP/app.log" 2>&1
grep -q 'GET /polls/' "$TMP/app.log" || die "uWSGI's log has no request line for /polls/"
! grep -q 'GET /static/' "$TMP/app.log" || die "a /static/ request reached uWSGI"
log "static: 3 files byte-identical to the collected ones, none seen by uWSGI"

# --- the image's health check (epserve-get --head /healthz; no systemd timer here: by hand).
timeout 60 podman healthcheck run "$WEB" >"$TMP/health.out" 2>&1 ||
  die "web's health check failed: $(cat "$TMP/health.out")"
log "web's health check (the image's: HEAD /healthz, answered by epserve): healthy"

# --- stop, as `docker compose stop`: SIGTERM to each PID 1, web first; each must exit 0 well
# inside the 10 s grace period (a SIGKILL would show as 137).
t0=$(now)
compose 120 stop >"$TMP/stop.log" 2>&1 || { tail -n 30 "$TMP/stop.log" >&2; die "podman-compose stop failed"; }
STOP_TIME=$(secs_since "$t0")
for c in "$WEB" "$APP"; do
  [ "$(timeout 30 podman inspect -f '{{.State.Running}}' "$c")" = false ] || die "$c still runs after stop"
  code=$(timeout 30 podman inspect -f '{{.State.ExitCode}}' "$c")
  [ "$code" = 0 ] || die "$c exited with $code after SIGTERM"
done
timeout 30 podman logs "$APP" 2>&1 | grep -q 'goodbye to uWSGI' || die "uWSGI did not say goodbye: not a clean stop"
awk -v t="$STOP_TIME" 'BEGIN { exit !(t < 10) }' || die "stop took $STOP_TIME s: something waited for the SIGKILL"
log "stop: web and app exited 0 after SIGTERM, both in ${STOP_TIME} s"

echo "stack: build=${BUILD_TIME}s ready=${READY_TIME}s stop=${STOP_TIME}s total=$(secs_since "$T_START")s exit=0,0"
echo "stack: all checks passed"
