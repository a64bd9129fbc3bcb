#!/usr/bin/env bash
# Soak test: 10 million keep-alive GETs with wrk against a Release epserve on loopback; checks
# that RSS settles (within 1 MiB of RSS after the first 100,000) and descriptors return to baseline.
# Not part of `make test` (minutes long). Usage and knobs: bench/SOAK.md. Exit 0 = pass, 1 = fail.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$REPO/scripts/lib.sh"
cd "$REPO"

TOTAL=${TOTAL:-10000000}            # requests in all
WARM=${WARM:-100000}                # requests before the reference RSS reading
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
MAX_SECONDS=${MAX_SECONDS:-1200}    # bound on the long run; the soak fails if it is reached
RSS_SLACK_KIB=${RSS_SLACK_KIB:-1024}
BUILD=${BUILD:-build/soak}
HOST=127.0.0.1

log() { printf '[soak %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

for v in TOTAL WARM THREADS CONNECTIONS MAX_SECONDS RSS_SLACK_KIB; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[ "$WARM" -lt "$TOTAL" ] || die "WARM must be below TOTAL"
[ "$CONNECTIONS" -ge "$THREADS" ] || die "CONNECTIONS must be at least THREADS"

bash scripts/install-deps.sh build-essential cmake libspdlog-dev libcxxopts-dev wrk
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DEPSERVE_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target epserve >/dev/null

WORK=$(mktemp -d /tmp/epserve-soak-XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ]; then stop_pid "$PID" 5 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www"
cp www/index.html www/noIndex.html "$WORK/www/"

# Each wrk thread stops after its share of responses and says so in a marker file: wrk's main
# thread sleeps out the whole -d duration regardless, so the script wakes it with SIGINT once
# every thread has stopped. done() prints one parseable summary line.
cat >"$WORK/count.lua" <<'LUA'
local limit = tonumber(os.getenv("SOAK_PER_THREAD"))
local marker = os.getenv("SOAK_MARKER")
local seen = 0
function response(status, headers, body)
  seen = seen + 1
  if seen == limit then
    local f = io.open(marker, "a")
    f:write("stopped\n")
    f:close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d p99_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(99)))
end
LUA

"$BUILD/epserve" -i "$HOST" -p 0 -r "$WORK/www" --access-log off \
  >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
PORT=""
listening() {
  PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$WORK/stderr" | head -n1)
  [ -n "$PORT" ] && return 0
  pid_alive "$PID" || { cat "$WORK/stderr" >&2; die "epserve exited at startup"; }
  return 1
}
wait_until 100 0.1 listening || die "epserve is not listening after 10 s"
URL=http://$HOST:$PORT/index.html
curl -sf -o /dev/null --max-time 5 "$URL" || die "GET $URL failed before the soak"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
fds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# utime + stime: fields 14 and 15 of /proc/PID/stat, i.e. 12 and 13 after "pid (comm) ".
cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
    "/proc/$PID/stat"
}
# The descriptor count once wrk's connections are closed (stable for 0.5 s, at most 10 s).
settled_fds() {
  local last now
  last=$(fds)
  for _ in $(seq 1 20); do
    sleep 0.5
    now=$(fds)
    [ "$now" = "$last" ] && { echo "$now"; return; }
    last=$now
  done
  echo "$last"
}

# run_wrk REQUESTS SECONDS: prints the SOAK line; fails on errors or a short count.
run_wrk() {
  local want=$1 bound=$2 per marker wrk_pid line stopped=0
  per=$(( (want + THREADS - 1) / THREADS ))
  marker=$WORK/stopped.$want
  : >"$marker"
  SOAK_PER_THREAD=$per SOAK_MARKER=$marker wrk -t "$THREADS" -c "$CONNECTIONS" -d "${bound}s" \
    --timeout 5s -s "$WORK/count.lua" "$URL" >"$WORK/wrk.out" 2>&1 &
  wrk_pid=$!
  # Done when wrk has exited, or once every thread has stopped (then wrk is woken with SIGINT).
  # shellcheck disable=SC2317 # called through wait_until
  wrk_done() {
    pid_gone "$wrk_pid" && return 0
    [ "$(wc -l <"$marker")" -ge "$THREADS" ] || return 1
    stopped=1
    kill -INT "$wrk_pid"
  }
  wait_until $((bound * 10 + 100)) 0.1 wrk_done || true
  if ! wait_bounded "$wrk_pid" 30; then
    kill -KILL "$wrk_pid" 2>/dev/null || true
    die "wrk did not finish (stopped threads: $(wc -l <"$marker"))"
  fi
  [ "$stopped" = 1 ] || log "wrk ran out its ${bound}s bound before its threads stopped"
  line=$(grep '^SOAK ' "$WORK/wrk.out") || die "no summary from wrk: $(cat "$WORK/wrk.out")"
  echo "$line"
}
# wait_bounded PID SECONDS: waits for a child of this shell; false if it is still running.
wait_bounded() {
  wait_until $(($2 * 10)) 0.1 pid_gone "$1" || return 1
  wait "$1" 2>/dev/null || true
}
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }
check_run() {
  local line=$1 want=$2 k
  for k in connect read write timeout status; do
    [ "$(field "$line" "$k")" = 0 ] || die "wrk saw $k errors: $line"
  done
  [ "$(field "$line" requests)" -ge "$want" ] ||
    die "only $(field "$line" requests) of $want requests (MAX_SECONDS=$MAX_SECONDS reached?)"
}

FDS0=$(settled_fds)
RSS0=$(rss)
log "epserve pid $PID on port $PORT: RSS ${RSS0} KiB, $FDS0 fds before the soak"

log "warm-up: $WARM requests"
W=$(run_wrk "$WARM" 120)
check_run "$W" "$WARM"
FDS1=$(settled_fds)
RSS1=$(rss)
log "after $(field "$W" requests) requests: RSS ${RSS1} KiB, $FDS1 fds"

REST=$((TOTAL - WARM))
log "soak: $REST more requests ($THREADS threads, $CONNECTIONS connections, <= ${MAX_SECONDS}s)"
CPU_START=$(cpu)
S=$(run_wrk "$REST" "$MAX_SECONDS")
check_run "$S" "$REST"
CPU_END=$(cpu)
FDS2=$(settled_fds)
RSS2=$(rss)
kill -0 "$PID" 2>/dev/null || die "epserve died during the soak"
curl -sf -o /dev/null --max-time 5 "$URL" || die "GET $URL failed after the soak"

DONE=$(( $(field "$W" requests) + $(field "$S" requests) ))
N=$(field "$S" requests)
US=$(field "$S" duration_us)
SECS=$(awk -v us="$US" 'BEGIN { printf "%.1f", us / 1e6 }')
RATE=$(awk -v n="$N" -v us="$US" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
CPU=$(awk -v a="$CPU_START" -v b="$CPU_END" 'BEGIN { printf "%.1f", b - a }')
GROWTH=$((RSS2 - RSS1))
echo "requests        $DONE ($N in ${SECS}s = ${RATE}/s, p99 $(field "$S" p99_us) us)"
echo "server CPU      $CPU s during the soak"
echo "RSS (KiB)       start $RSS0, after $WARM $RSS1, after $DONE $RSS2 (growth $GROWTH," \
  "limit $RSS_SLACK_KIB)"
echo "descriptors     start $FDS0, after warm-up $FDS1, after soak $FDS2"

fail=0
[ "$GROWTH" -le "$RSS_SLACK_KIB" ] || { log "RSS grew by $GROWTH KiB (> $RSS_SLACK_KIB)"; fail=1; }
[ "$FDS2" -eq "$FDS0" ] || { log "descriptors: $FDS2 after the soak, $FDS0 before"; fail=1; }
[ "$fail" -eq 0 ] || die "soak failed"
log "PASS"
