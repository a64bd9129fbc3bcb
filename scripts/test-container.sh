#!/usr/bin/env bash
# Builds the Dockerfile and checks the container as a user runs it (`-p 1234:80`): 200 and 404
# over the mapped port with curl and epserve-get, the HEALTHCHECK, a user's site on a volume, stop;
# and the image itself: under MAX_IMAGE_MB, exactly the listed files, first answer within 100 ms.
#
# Usage: scripts/test-container.sh        (env: HOST_PORT=1234, IMAGE=epserve:test, KEEP_IMAGE=1,
#   EPSERVE_GET=host-built client; default build/release/epserve-get, else build/test/epserve-get)
# Uses docker when a Docker engine answers; otherwise rootful podman, set up by
# shared/container/podman-sandbox.sh found beside the repository (CI lays shared/ there).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
HOST_PORT=${HOST_PORT:-1234}
# The size bound: the scratch image holds about 7 MB (two binaries, nine libraries, the site).
MAX_IMAGE_MB=${MAX_IMAGE_MB:-15}
# From exec to the first answer, run from the image's own files.
MAX_START_MS=${MAX_START_MS:-100}
# The numeric user the image runs as (no /etc/passwd in it).
IMAGE_USER=65532:65532
IMAGE=${IMAGE:-epserve:test}
if [ -z "${EPSERVE_GET:-}" ]; then
  EPSERVE_GET=$REPO/build/release/epserve-get
  [ -x "$EPSERVE_GET" ] || [ ! -x "$REPO/build/test/epserve-get" ] || EPSERVE_GET=$REPO/build/test/epserve-get
fi
NAME="epserve-test-$$"
BASE="http://127.0.0.1:$HOST_PORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/epserve-container.XXXXXX")
CONTAINERS=()

log() { printf '[test-container] %s\n' "$*"; }
now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# On failure (die exits 1), the log of the container last started comes after the message.
cleanup() {
  local status=$? c
  set +e
  if [ "$status" = 1 ] && [ ${#CONTAINERS[@]} -gt 0 ]; then
    echo "--- container log (last 20 lines)" >&2
    timeout 20 "$ENGINE" logs "${CONTAINERS[-1]}" 2>&1 | tail -n 20 >&2
  fi
  [ -z "${CHROOT_PID:-}" ] || kill -KILL "$CHROOT_PID" 2>/dev/null
  for c in "${CONTAINERS[@]}"; do timeout 60 "$ENGINE" rm -f -t 0 "$c" >/dev/null 2>&1; done
  [ "${KEEP_IMAGE:-1}" = 1 ] || timeout 60 "$ENGINE" rmi -f "$IMAGE" >/dev/null 2>&1
  rm -rf "$TMP"
  exit "$status"
}
ENGINE=""
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v curl >/dev/null || die "curl is not installed"
[ -x "$EPSERVE_GET" ] || die "no epserve-get at $EPSERVE_GET (run make build, or set EPSERVE_GET)"
log "host client: $EPSERVE_GET"
if ss -Htln "( sport = :$HOST_PORT )" 2>/dev/null | grep -q .; then
  die "127.0.0.1:$HOST_PORT is already in use (set HOST_PORT)"
fi

# --- the engine: a real Docker engine if one answers, else podman through the sandbox script.
BUILD_FLAGS=()
if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
  ENGINE=docker
  # Docker runs the HEALTHCHECK on its own timer; a short interval lets the test see it.
  RUN_FLAGS=(--health-interval 1s --health-start-period 0s)
else
  log "no Docker engine: podman via the sandbox script beside the repository"
  use_podman_sandbox "$REPO"
  ENGINE=podman
  # --format docker keeps HEALTHCHECK (OCI images have none); no registry here: never pull.
  BUILD_FLAGS=(--format docker --pull=never)
  # No systemd for podman's health timer: the check is run by hand below.
  RUN_FLAGS=(--health-interval disable)
fi
log "engine: $ENGINE ($(timeout 20 "$ENGINE" --version | head -n 1))"

# --- build.
t0=$(now)
timeout 1800 "$ENGINE" build "${BUILD_FLAGS[@]}" -t "$IMAGE" "$REPO" >"$TMP/build.log" 2>&1 ||
  { tail -n 30 "$TMP/build.log" >&2; die "image build failed"; }
BUILD_TIME=$(secs_since "$t0")
IMAGE_BYTES=$(timeout 60 "$ENGINE" image inspect -f '{{.Size}}' "$IMAGE")
IMAGE_MB=$(awk -v b="$IMAGE_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
log "built $IMAGE in ${BUILD_TIME} s; image size $IMAGE_MB MB ($IMAGE_BYTES bytes)"
awk -v m="$IMAGE_MB" -v max="$MAX_IMAGE_MB" 'BEGIN { exit !(m < max) }' ||
  die "the image is $IMAGE_MB MB, over $MAX_IMAGE_MB MB"
[ "$(timeout 60 "$ENGINE" image inspect -f '{{.Config.User}}' "$IMAGE")" = "$IMAGE_USER" ] ||
  die "the image does not run as $IMAGE_USER"
timeout 60 "$ENGINE" image inspect -f '{{json .Config.Healthcheck}}' "$IMAGE" | grep -q epserve-get ||
  die "the image has no HEALTHCHECK (podman needs --format docker)"

# --- the image's files: exported from a created (never started) container, so nothing the engine
# adds at run time is there but the mount points it always makes (listed in RUNTIME_ENTRIES).
RUNTIME_ENTRIES='^(\.dockerenv|dev|dev/.+|proc|sys|run|etc|etc/(hosts|hostname|resolv\.conf|mtab)|run/\.containerenv)$'
# Everything the image may hold: the binaries, the loader and the libraries ldd named in the
# build stage, the site, /tmp, and the directories above them.
ALLOWED='^(usr/local/bin/epserve|usr/local/bin/epserve-get|lib64/ld-linux-x86-64\.so\.2|lib/x86_64-linux-gnu/(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libspdlog\.so\.1\.10|libfmt\.so\.9|libcares\.so\.2|libtomlplusplus\.so\.3)|srv/www/.+|tmp)$'
timeout 60 "$ENGINE" create --name "$NAME-files" "$IMAGE" >/dev/null || die "$ENGINE create failed"
CONTAINERS+=("$NAME-files")
mkdir -p "$TMP/rootfs"
timeout 120 "$ENGINE" export "$NAME-files" | tar -C "$TMP/rootfs" -xf - || die "$ENGINE export failed"
timeout 60 "$ENGINE" rm -f "$NAME-files" >/dev/null
(cd "$TMP/rootfs" && find . -mindepth 1 ! -type d -printf '%P\t%s\n' | sort) >"$TMP/files.tsv"
(cd "$TMP/rootfs" && find . -mindepth 1 -type d -printf '%P\n') >"$TMP/dirs.txt"
log "the image's files (bytes):"
sed 's/^/    /' "$TMP/files.tsv"
unexpected=$(cut -f1 "$TMP/files.tsv" | grep -Ev "$ALLOWED" | grep -Ev "$RUNTIME_ENTRIES" || true)
[ -z "$unexpected" ] || die "files the image must not hold: $(echo "$unexpected" | tr '\n' ' ')"
# A directory is fine only above an allowed file (or a runtime mount point).
while read -r d; do
  grep -q "^$d/" "$TMP/files.tsv" || [[ $d =~ $RUNTIME_ENTRIES ]] || [ "$d" = tmp ] ||
    [[ $d == srv/www* ]] || die "an unexpected directory in the image: $d"
done <"$TMP/dirs.txt"
for f in usr/local/bin/epserve usr/local/bin/epserve-get lib64/ld-linux-x86-64.so.2; do
  grep -q "^$f"$'\t' "$TMP/files.tsv" || die "the image lacks $f"
done
diff -r "$REPO/www" "$TMP/rootfs/srv/www" >/dev/null || die "/srv/www in the image differs from www/"
log "the image holds $(wc -l <"$TMP/files.tsv") files, all listed above and allowed"

# Start-up, from the image's own files alone (chroot, as the image's user): proves nothing
# outside them is needed and times exec to the first 200, without the engine's own start-up.
command -v chroot >/dev/null || die "chroot is not installed"
START_PORT=$(( 20000 + $$ % 20000 ))
t0=$(date +%s%N)
chroot --userspec="$IMAGE_USER" "$TMP/rootfs" /usr/local/bin/epserve -i 127.0.0.1 -p "$START_PORT" \
  -r /srv/www --access-log off >"$TMP/chroot.log" 2>&1 &
CHROOT_PID=$!
started=no
for _ in $(seq 1 1000); do
  if [ "$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$START_PORT/")" = 200 ]; then
    started=yes
    break
  fi
  kill -0 "$CHROOT_PID" 2>/dev/null || break
done
START_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -TERM "$CHROOT_PID" 2>/dev/null || true
wait "$CHROOT_PID" 2>/dev/null || true
CHROOT_PID=""
[ "$started" = yes ] || { cat "$TMP/chroot.log" >&2; die "epserve from the image's files did not answer"; }
(( START_MS < MAX_START_MS )) || die "first answer after $START_MS ms (want < $MAX_START_MS ms)"
log "start-up from the image's files: first 200 after $START_MS ms"

# run_container NAME [RUN-OPTIONS...] [-- COMMAND-ARGS...]: starts the image with the port published as a user does
# and waits until the server answers on it.
run_container() {
  local name=$1 opts=() args=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ $# -eq 0 ] || { shift; args=("$@"); }
  CONTAINERS+=("$name")
  local start
  start=$(now)
  timeout 120 "$ENGINE" run -d --name "$name" -p "127.0.0.1:$HOST_PORT:80" "${RUN_FLAGS[@]}" \
    "${opts[@]}" "$IMAGE" "${args[@]}" >/dev/null 2>"$TMP/run.err" ||
    die "$ENGINE run failed: $(cat "$TMP/run.err")"
  wait_until 150 0.2 curl -s -o /dev/null --max-time 2 "$BASE/" || die "nothing answers on $BASE within 30 s"
  READY_TIME=$(secs_since "$start")
}
status_of() { curl -s -o "$TMP/body" --max-time 10 -w '%{http_code}' "$BASE$1"; }

# --- the default site, over the mapped port.
run_container "$NAME"
FIRST_READY_TIME=$READY_TIME
log "container $NAME answering on $BASE ${READY_TIME} s after run"
[ "$(status_of /)" = 200 ] || die "GET / over the mapped port is not 200"
cmp -s "$TMP/body" "$REPO/www/index.html" || die "GET / body differs from www/index.html"
curl -sS -I --max-time 10 "$BASE/" | tr -d '\r' | grep -qx 'Server: epserve/0.1.0' || die "no Server header"
[ "$(status_of /no/such/page)" = 404 ] || die "GET /no/such/page is not 404"
cmp -s "$TMP/body" "$REPO/www/noIndex.html" || die "the 404 body differs from www/noIndex.html"
log "curl: GET / -> 200 (www/index.html), GET /no/such/page -> 404 (www/noIndex.html)"

timeout 30 "$EPSERVE_GET" -p "$HOST_PORT" --timeout 5 / /favicon.ico >"$TMP/get.out" ||
  die "epserve-get / /favicon.ico exited $?"
cmp -s "$TMP/get.out" <(cat "$REPO/www/index.html" "$REPO/www/favicon.ico") ||
  die "epserve-get bodies differ from www/index.html + www/favicon.ico"
rc=0
timeout 30 "$EPSERVE_GET" -p "$HOST_PORT" --timeout 5 /missing >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || die "epserve-get /missing exited $rc, expected 1 (4xx)"
log "epserve-get: / and /favicon.ico -> exit 0 with the files, /missing -> exit 1"

# The server runs as the unprivileged user, bound to port 80 inside.
uid=$(container_status "$ENGINE" "$NAME" Uid)
[ "$uid" = "${IMAGE_USER%%:*}" ] || die "the server runs as uid '$uid', not ${IMAGE_USER%%:*}"
log "server runs as uid $uid on port 80"

# --- the HEALTHCHECK (epserve-get --head / inside the container).
if [ "$ENGINE" = podman ]; then
  timeout 60 podman healthcheck run "$NAME" >"$TMP/health.out" 2>&1 ||
    die "podman healthcheck run: $(cat "$TMP/health.out")"
fi
health() { [ "$(timeout 30 "$ENGINE" inspect -f '{{.State.Health.Status}}' "$NAME")" = healthy ]; }
wait_until 150 0.2 health || die "container health is '$(timeout 30 "$ENGINE" inspect -f '{{.State.Health.Status}}' "$NAME")'"
timeout 30 "$ENGINE" logs "$NAME" >"$TMP/logs.out" 2>"$TMP/logs.err"
! grep -q 'healthz' "$TMP/logs.out" || die "the health checks are in the access log (--log-health is off)"
[ "$(status_of /healthz)" = 200 ] || die "GET /healthz is not 200"
[ "$(cat "$TMP/body")" = ok ] || die "GET /healthz's body is not ok"
grep -q '"GET /no/such/page HTTP/1.1" 404 ' "$TMP/logs.out" || die "the access log is not on stdout"
grep -q 'listening on 0.0.0.0:80' "$TMP/logs.err" || die "no 'listening on 0.0.0.0:80' on stderr"
log "healthcheck: healthy (HEAD /healthz -> 200 ok, kept out of the access log); access log on stdout, messages on stderr"

# --- stop: SIGTERM to PID 1, which must exit 0 by itself well before the 10 s grace period.
t0=$(now)
timeout 60 "$ENGINE" stop -t 10 "$NAME" >/dev/null || die "$ENGINE stop failed"
STOP_TIME=$(secs_since "$t0")
exit_code=$(timeout 30 "$ENGINE" inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$exit_code" = 0 ] || die "the container exited with $exit_code after SIGTERM"
awk -v t="$STOP_TIME" 'BEGIN { exit !(t < 2) }' || die "stop took $STOP_TIME s (want < 2 s)"
log "stop -t 10: exit code 0 in ${STOP_TIME} s"
timeout 60 "$ENGINE" rm -f "$NAME" >/dev/null

# --- a user's own site mounted on the document root.
mkdir -p "$TMP/site"
printf '<!DOCTYPE html>\n<title>my site</title>\n<p>mounted from the host</p>\n' >"$TMP/site/index.html"
chmod 0755 "$TMP" "$TMP/site"
chmod 0644 "$TMP/site/index.html"
run_container "$NAME-site" -v "$TMP/site:/srv/www:ro"
[ "$(status_of /)" = 200 ] || die "GET / with a site mounted on /srv/www is not 200"
cmp -s "$TMP/body" "$TMP/site/index.html" || die "a site mounted on /srv/www is not what / serves"
log "volume: a site mounted on /srv/www is served at /"
timeout 60 "$ENGINE" stop -t 10 "$NAME-site" >/dev/null || die "$ENGINE stop failed"
timeout 60 "$ENGINE" rm -f "$NAME-site" >/dev/null

# --- a proxied upstream named by a host name, as a compose or Kubernetes service is: a second
# container from the same image is the upstream, its name is in the front's /etc/hosts (which the
# engine writes, as it does for service names), and the front's c-ares resolver finds it there.
CONTAINERS+=("$NAME-upstream")
timeout 120 "$ENGINE" run -d --name "$NAME-upstream" "${RUN_FLAGS[@]}" "$IMAGE" >/dev/null 2>"$TMP/run.err" ||
  die "$ENGINE run (upstream) failed: $(cat "$TMP/run.err")"
UPSTREAM_IP=$(timeout 30 "$ENGINE" inspect -f '{{.NetworkSettings.IPAddress}}' "$NAME-upstream")
[ -n "$UPSTREAM_IP" ] || die "the upstream container has no IP address"
run_container "$NAME-front" --add-host "upstream.test:$UPSTREAM_IP" -- \
  -i 0.0.0.0 -p 80 -r /srv/www --health-path /healthz --proxy /up/=http://upstream.test:80/
[ "$(status_of /up/index.html)" = 200 ] || die "GET /up/index.html through the named upstream is not 200"
cmp -s "$TMP/body" "$REPO/www/index.html" || die "the proxied body differs from www/index.html"
timeout 30 "$ENGINE" logs "$NAME-upstream" 2>/dev/null | grep -q '"GET /index.html HTTP/1.1" 200 ' ||
  die "the upstream container did not serve the proxied request"
log "proxy: /up/ -> http://upstream.test:80/ (resolved from /etc/hosts in the image) -> 200 from the other container"
timeout 60 "$ENGINE" stop -t 10 "$NAME-front" "$NAME-upstream" >/dev/null || die "$ENGINE stop failed"

echo "container: engine=$ENGINE image=$IMAGE size=${IMAGE_MB}MB files=$(wc -l <"$TMP/files.tsv") start=${START_MS}ms build=${BUILD_TIME}s ready=${FIRST_READY_TIME}s stop=${STOP_TIME}s exit=0"
echo "container: all checks passed"
