#!/usr/bin/env bash
# Benchmarks epserve against nginx and lighttpd on loopback, as a static server and as a reverse
# proxy; writes bench/out/results.{tsv,md}. Called by `make bench`; scenarios, knobs (ROUNDS,
# SERVERS, FRONTS, ...), caveats: bench/README.md.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$REPO/scripts/lib.sh"
BENCH=$REPO/bench
cd "$REPO"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
SERVERS=${SERVERS:-epserve nginx lighttpd}
SCENARIOS=${SCENARIOS:-small notfound close large pipeline c10k callgrind file64k file256k file16m file64m large100 range proxy-small proxy-large proxy-pipeline proxy-callgrind django-hello django-polls}
# The proxy scenarios' fronts: epserve --proxy, nginx proxy_pass (uwsgi_pass for the Django ones),
# and wrk straight to the upstream (for Django: uWSGI's own --http-socket).
FRONTS=${FRONTS:-epserve nginx direct}
# uWSGI worker processes for the Django scenarios (the same processes serve every front).
DJANGO_PROCESSES=${DJANGO_PROCESSES:-2}
# 32 client connections: both proxies keep at most 32 idle upstream connections, so more clients
# would close and reopen upstream connections on every request and measure TCP setup instead.
PROXY_CONNS=${PROXY_CONNS:-32}
CALLGRIND_REQUESTS=${CALLGRIND_REQUESTS:-20000}
CALLGRIND_ROUNDS=${CALLGRIND_ROUNDS:-$ROUNDS}
QUIET_WAIT=${QUIET_WAIT:-20}
BASE_PORT=${BASE_PORT:-18080}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
OUT=${OUT:-$BENCH/out}
# EPSERVE=/path/to/epserve benchmarks a prebuilt binary (e.g. a baseline) instead of building one.
EPSERVE=${EPSERVE:-}

readonly ALL_SERVERS="epserve nginx lighttpd"
readonly ALL_FRONTS="epserve nginx direct"
readonly PROXY_WRK_SCENARIOS="proxy-small proxy-large proxy-pipeline"
readonly DJANGO_SCENARIOS="django-hello django-polls"
readonly ALL_SCENARIOS="small notfound close large pipeline c10k callgrind file4k file64k file256k file16m file64m large100 range $PROXY_WRK_SCENARIOS proxy-callgrind $DJANGO_SCENARIOS"
# `make bench` SCENARIOS=sweep: every file size against the peers (see bench/README.md).
readonly SWEEP_SCENARIOS="file64k file256k large file16m file64m large100 range"
# SCENARIOS=proxy: the reverse-proxy scenarios alone.
readonly PROXY_SCENARIOS="$PROXY_WRK_SCENARIOS proxy-callgrind"
readonly PACKAGES="wrk nginx lighttpd apache2-utils valgrind python3 curl"
readonly DJANGO_PACKAGES="uwsgi uwsgi-plugin-python3 python3-django"
readonly C10K_CONNECTIONS=10000
readonly HOST=127.0.0.1

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# A word list contains a word: used to validate SERVERS and SCENARIOS.
contains() { [[ " $1 " == *" $2 "* ]]; }

# wrk durations are "10", "10s", "2m" or "1h"; the script needs seconds to bound its own waits.
toSeconds() {
  local v=$1
  case $v in
    *h) echo $(( ${v%h} * 3600 )) ;;
    *m) echo $(( ${v%m} * 60 )) ;;
    *s) echo "${v%s}" ;;
    *) echo "$v" ;;
  esac
}

for s in $SERVERS; do
  contains "$ALL_SERVERS" "$s" || die "unknown server '$s' (known: $ALL_SERVERS)"
done
for s in $FRONTS; do
  contains "$ALL_FRONTS" "$s" || die "unknown front '$s' (known: $ALL_FRONTS)"
done
[[ $SCENARIOS == sweep ]] && SCENARIOS=$SWEEP_SCENARIOS
[[ $SCENARIOS == proxy ]] && SCENARIOS=$PROXY_SCENARIOS
# SCENARIOS=django: the Django application behind each front (issue 11's rows).
[[ $SCENARIOS == django ]] && SCENARIOS=$DJANGO_SCENARIOS
for s in $SCENARIOS; do
  contains "$ALL_SCENARIOS" "$s" || die "unknown scenario '$s' (known: $ALL_SCENARIOS)"
done
[[ $PROXY_CONNS =~ ^[1-9][0-9]*$ ]] || die "PROXY_CONNS must be a positive integer"

isProxyScenario() { [[ $1 == proxy-* ]]; }
isDjangoScenario() { [[ $1 == django-* ]]; }
# A scenario with fronts: the proxy ones (upstream nginx) and the Django ones (upstream uWSGI).
hasFronts() { isProxyScenario "$1" || isDjangoScenario "$1"; }
# upstreamOf SCENARIO: the PID_OF key of the upstream behind that scenario's fronts.
upstreamOf() { if isDjangoScenario "$1"; then echo uwsgi; else echo upstream; fi; }
# Which scenario kinds were asked for: servers and fronts are started only when needed.
WANT_STATIC=no WANT_PROXY=no WANT_DJANGO=no
for s in $SCENARIOS; do
  if isProxyScenario "$s"; then WANT_PROXY=yes
  elif isDjangoScenario "$s"; then WANT_DJANGO=yes
  else WANT_STATIC=yes; fi
done
NEED_EPSERVE=no
if { [[ $WANT_STATIC == yes ]] && contains "$SERVERS" epserve; } ||
   { [[ $WANT_PROXY$WANT_DJANGO == *yes* ]] && contains "$FRONTS" epserve; }; then
  NEED_EPSERVE=yes
fi
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $(toSeconds "$DURATION") =~ ^[1-9][0-9]*$ ]] || die "DURATION must look like 10s, 2m or 10"
[[ $(toSeconds "$WARMUP") =~ ^[0-9]+$ ]] || die "WARMUP must look like 2s or 0"
[[ $QUIET_WAIT =~ ^[0-9]+$ ]] || die "QUIET_WAIT must be a number of seconds"
DURATION_S=$(toSeconds "$DURATION")
WARMUP_S=$(toSeconds "$WARMUP")
if ! [[ $BASE_PORT =~ ^[1-9][0-9]*$ ]] || (( BASE_PORT + 50 > 65535 )); then
  die "BASE_PORT must be a port number below 65486"
fi
# Ports: BASE_PORT + 0..2 static servers, + 10..12 their callgrind instances, + 20 the proxy
# scenarios' upstream, + 21/22 the epserve and nginx fronts, + 30/31 the fronts under callgrind,
# + 40 uWSGI's http-socket (the Django scenarios' direct row), + 41/42 their epserve and nginx fronts.
UPSTREAM_PORT=$(( BASE_PORT + 20 ))
DJANGO_PORT=$(( BASE_PORT + 40 ))

# ---------------------------------------------------------------------------------------------
# Build and tools

WANT_PACKAGES=$PACKAGES
[[ $WANT_DJANGO == no ]] || WANT_PACKAGES+=" $DJANGO_PACKAGES"
log "installing missing packages: checking $WANT_PACKAGES"
# shellcheck disable=SC2086  # one argument per package
bash "$REPO/scripts/install-deps.sh" $WANT_PACKAGES

if [[ $NEED_EPSERVE == yes && -n $EPSERVE ]]; then
  [[ -x $EPSERVE ]] || die "EPSERVE=$EPSERVE is not an executable"
  log "benchmarking the prebuilt $EPSERVE"
elif [[ $NEED_EPSERVE == yes ]]; then
  EPSERVE=$REPO/build/bench/epserve
  log "building epserve (Release) in build/bench"
  cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DEPSERVE_TESTS=OFF >/dev/null
  cmake --build build/bench -j2 --target epserve >/dev/null
fi

# 10,000 connections need ~10k descriptors in wrk and in each server; raise the soft (and, as root,
# the hard) limit here so every process started below inherits it.
ulimit -Hn 65536 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)"
(( $(ulimit -n) >= 20000 )) || log "warning: ulimit -n is $(ulimit -n); the c10k scenario may fail"

rm -rf "$OUT/raw" "$OUT/conf" "$OUT/logs" "$OUT/callgrind" "$OUT/www" "$OUT/django" \
  "$OUT/results.tsv" "$OUT/results.md" "$OUT/meta.tsv"
mkdir -p "$OUT/raw" "$OUT/conf" "$OUT/logs" "$OUT/callgrind"
DOCROOT=$OUT/www

# ---------------------------------------------------------------------------------------------
# Document root: the same files for every server.

makeDocroot() {
  mkdir -p "$DOCROOT"
  # A typical small page (~600 bytes); its size is checked on every run, so it need not be exact.
  cat >"$DOCROOT/index.html" <<'HTML'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>epserve benchmark page</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>Benchmark page</h1>
<p>This page stands for the small static documents that most requests to a web server fetch:
a few hundred bytes of HTML, read from the page cache and sent in a single response.</p>
<p>The benchmark asks every server for this same file, from the same document root, so the
numbers compare request handling rather than content.</p>
</body>
</html>
HTML
  if [[ -f $REPO/www/noIndex.html ]]; then
    cp "$REPO/www/noIndex.html" "$DOCROOT/noIndex.html"
  else
    log "warning: www/noIndex.html does not exist yet; using a generated 404 page"
    printf '%s\n' '<!DOCTYPE html>' '<html><head><title>404 Not Found</title></head>' \
      '<body><h1>404 Not Found</h1><p>No such page.</p></body></html>' >"$DOCROOT/noIndex.html"
  fi
  head -c 4096 /dev/urandom >"$DOCROOT/4k.bin"
  head -c 65536 /dev/urandom >"$DOCROOT/64k.bin"
  head -c 262144 /dev/urandom >"$DOCROOT/256k.bin"
  head -c 1048576 /dev/urandom >"$DOCROOT/1m.bin"
  head -c 16777216 /dev/urandom >"$DOCROOT/16m.bin"
  head -c 67108864 /dev/urandom >"$DOCROOT/64m.bin"
}
makeDocroot
INDEX_BYTES=$(stat -c %s "$DOCROOT/index.html")
NOTFOUND_BYTES=$(stat -c %s "$DOCROOT/noIndex.html")

# The Django scenarios' application: a fresh copy of examples/django with a migrated SQLite
# database and the sample polls, run by Debian's python3 (Django is one of its modules).
DJANGO_APP=$OUT/django/mysite
DJANGO_SOCK=$OUT/django/mysite.sock
export DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=$HOST DJANGO_DB_PATH=$OUT/django/db.sqlite3 \
  DJANGO_STATIC_ROOT=$OUT/django/static DJANGO_SECRET_KEY="bench-$RANDOM-$RANDOM-$RANDOM-$RANDOM"
makeDjango() {
  mkdir -p "$OUT/django"
  cp -r "$REPO/examples/django" "$DJANGO_APP"
  rm -rf "$DJANGO_APP/db.sqlite3" "$DJANGO_APP/static"
  local step
  for step in "migrate --noinput" seed_polls; do
    # shellcheck disable=SC2086  # the step's words are manage.py arguments
    (cd "$DJANGO_APP" && timeout 120 /usr/bin/python3 manage.py $step) \
      >>"$OUT/logs/django-manage.log" 2>&1 || die "manage.py $step failed; see $OUT/logs/django-manage.log"
  done
}
[[ $WANT_DJANGO == no ]] || makeDjango

# ---------------------------------------------------------------------------------------------
# Servers. Every PID started lands in STARTED_PIDS; the EXIT trap stops exactly those. A PID leaves
# the list once reaped with wait: from then on the kernel may give that number to someone else.

STARTED_PIDS=()
declare -A PID_OF=() PORT_OF=()

# Running and still this script's child. bash reaps exited children by itself, so a PID number
# alone could by now name someone else's process; only signal PIDs that pass this test.
ours() {
  local stat f
  stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
  read -r -a f <<<"${stat##*) }"
  [[ ${f[0]} != Z && ${f[1]} == "$$" ]]
}

forget() {
  local p kept=()
  for p in "${STARTED_PIDS[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
}

# stopPid PID [GRACE_SECONDS]: stop_pid (SIGTERM, then SIGKILL after 5 s) for a PID that is ours.
stopPid() {
  local pid=$1 grace=${2:-5}
  if ours "$pid" && ! stop_pid "$pid" "$grace"; then
    log "pid $pid ignored SIGTERM for ${grace}s; sent SIGKILL"
  fi
  forget "$pid"
}

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do stopPid "$pid" 5; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# writeNginxConf DIR PORT [static|upstream|proxy|django]: the static peer, the proxy scenarios'
# upstream (the same root, plus a header that shows a response came from it), the proxy front, or
# the Django front (uwsgi_pass to the uWSGI socket with Debian's uwsgi_params, as in the tutorial).
writeNginxConf() {
  local dir=$1 port=$2 kind=${3:-static} httpExtra="" serverBody
  case $kind in
    static)
      serverBody="root $DOCROOT;
    index index.html;
    error_page 404 /noIndex.html;" ;;
    upstream)
      # Cached open files make the upstream cheap, so the shared core's time goes to the front.
      httpExtra="open_file_cache max=64 inactive=60s;
  open_file_cache_valid 60s;"
      serverBody="root $DOCROOT;
    index index.html;
    add_header X-Bench-Upstream nginx;" ;;
    proxy)
      # The issue's configuration: HTTP/1.1 to an upstream block keeping 32 idle connections, and
      # no Connection header, so they stay alive. No temp files: epserve streams through at most
      # 64 KiB of memory, nginx relays through its in-memory proxy_buffers alone then.
      httpExtra="upstream bench_upstream {
    server $HOST:$UPSTREAM_PORT;
    keepalive 32;
  }"
      serverBody="location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_max_temp_file_size 0;
    }" ;;
    django)
      # uWSGI closes after every response, so there is no keepalive pool to configure.
      httpExtra="upstream django {
    server unix:$DJANGO_SOCK;
  }"
      serverBody="location / {
      uwsgi_pass django;
      include /etc/nginx/uwsgi_params;
    }" ;;
  esac
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
# One process (no master), like epserve and lighttpd here; root needs no user directive then.
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events {
  worker_connections 20480;
}
http {
  access_log off;
  log_not_found off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 65;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  types {
    text/html html;
    application/octet-stream bin;
  }
  default_type application/octet-stream;
  charset utf-8;
  $httpExtra
  server {
    listen $HOST:$port backlog=4096;
    $serverBody
  }
}
EOF
}

writeLighttpdConf() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  # server.error-handler (not error-handler-404) keeps the 404 status while serving noIndex.html.
  # max-keep-alive-requests is a 16-bit setting in lighttpd 1.4: 65535 is its maximum.
  cat >"$dir/lighttpd.conf" <<EOF
server.modules = ()
server.document-root = "$DOCROOT"
server.bind = "$HOST"
server.port = $port
server.errorlog = "$dir/error.log"
server.pid-file = "$dir/lighttpd.pid"
server.error-handler = "/noIndex.html"
server.network-backend = "sendfile"
server.max-keep-alive-requests = 65535
server.max-keep-alive-idle = 65
server.max-fds = 32768
server.max-connections = 16384
server.listen-backlog = 4096
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html; charset=utf-8", ".bin" => "application/octet-stream" )
EOF
}

# startServer NAME PORT [callgrind]: starts one pinned server and waits (bounded) until it answers;
# its PID is left in STARTED_PID. NAME is a static server, `upstream` (nginx, for the proxy
# scenarios), `proxy-epserve` / `proxy-nginx` (fronts proxying everything to the upstream),
# `uwsgi` (the Django application, on a unix socket and PORT), or `django-epserve` /
# `django-nginx` (fronts passing everything to that socket with the uwsgi protocol).
startServer() {
  local name=$1 port=$2 mode=${3:-plain} dir cmd prefix pid waitLimit=100
  dir=$OUT/conf/$name-$port
  prefix=(taskset -c "$SERVER_CPU")
  if [[ $mode == callgrind ]]; then
    # Instrumentation starts off and is switched on after the warm-up (callgrind_control -i on).
    prefix+=(valgrind --tool=callgrind --instr-atstart=no
             "--callgrind-out-file=$OUT/callgrind/$name.%p.out")
    waitLimit=600
  fi
  case $name in
    epserve)
      cmd=("$EPSERVE" --access-log off --log-level warn -i "$HOST" -p "$port" -r "$DOCROOT"
           --max-connections 20000) ;;
    nginx | upstream | proxy-nginx | django-nginx)
      local kind=static
      [[ $name == upstream ]] && kind=upstream
      [[ $name == proxy-nginx ]] && kind=proxy
      [[ $name == django-nginx ]] && kind=django
      writeNginxConf "$dir" "$port" "$kind"
      cmd=(nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log") ;;
    proxy-epserve)
      # `/` is the shortest prefix: every path goes upstream, the target unchanged.
      cmd=("$EPSERVE" --access-log off --log-level warn -i "$HOST" -p "$port" -r "$DOCROOT"
           --max-connections 20000 --proxy "/=http://$HOST:$UPSTREAM_PORT") ;;
    django-epserve)
      # examples/django/uwsgi.ini's buffer-size, so both sides agree on the largest request head.
      cmd=("$EPSERVE" --access-log off --log-level warn -i "$HOST" -p "$port" -r "$DOCROOT"
           --max-connections 20000 --uwsgi-buffer-size 32768 --proxy "/=uwsgi://unix:$DJANGO_SOCK") ;;
    uwsgi)
      # examples/django/uwsgi.ini's settings, with the socket moved under OUT, uWSGI's own HTTP
      # parser on PORT for the direct row, and no request log (the fronts log nothing either).
      cmd=(uwsgi --plugins python3 --chdir "$DJANGO_APP" --module mysite.wsgi:application --master
           --processes "$DJANGO_PROCESSES" --socket "$DJANGO_SOCK" --chmod-socket=664
           --http-socket "$HOST:$port" --buffer-size 32768 --listen 128 --die-on-term
           --disable-logging) ;;
    lighttpd)
      writeLighttpdConf "$dir" "$port"
      cmd=(lighttpd -D -f "$dir/lighttpd.conf") ;;
  esac
  "${prefix[@]}" "${cmd[@]}" >"$OUT/logs/$name-$port.log" 2>&1 </dev/null &
  pid=$!
  STARTED_PIDS+=("$pid")
  # Done once it answers, or once it has exited (told apart below).
  answering() { ! ours "$pid" || curl -s -o /dev/null --max-time 2 "http://$HOST:$port/index.html"; }
  if wait_until "$waitLimit" 0.1 answering; then
    if ! ours "$pid"; then
      log "$name exited at startup; see $OUT/logs/$name-$port.log"
      return 1
    fi
    STARTED_PID=$pid
    return 0
  fi
  log "$name did not answer on port $port within $(( waitLimit / 10 )) s"
  stopPid "$pid"
  return 1
}

portFree() { ! ss -Htln "sport = :$1" | grep -q .; }

# ---------------------------------------------------------------------------------------------
# /proc readings. A server may fork (not in this configuration, but nginx can), so readings sum
# the PID and all its descendants.

pidTree() {
  local pid=$1 child
  [[ -d /proc/$pid ]] || return 0
  echo "$pid"
  # shellcheck disable=SC2013  # the children files are space-separated PID lists
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do pidTree "$child"; done
}

# utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat, counted after the comm field).
cpuTicks() {
  local total=0 p stat rest f
  for p in $(pidTree "$1"); do
    stat=$(cat /proc/"$p"/stat 2>/dev/null) || continue
    rest=${stat##*) }
    read -r -a f <<<"$rest"
    total=$(( total + f[11] + f[12] ))
  done
  echo "$total"
}

# statusKb PID FIELD: VmRSS or VmHWM in kB, summed over the process tree.
statusKb() {
  local total=0 p v
  for p in $(pidTree "$1"); do
    v=$(awk -v k="$2:" '$1 == k { print $2 }' /proc/"$p"/status 2>/dev/null)
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}

# Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the value read after
# a run is that run's peak. Prints "yes" when every process in the tree accepted it.
resetHwm() {
  local p ok=yes
  for p in $(pidTree "$1"); do echo 5 >/proc/"$p"/clear_refs 2>/dev/null || ok=no; done
  echo "$ok"
}

CLK_TCK=$(getconf CLK_TCK)

# Busy ticks of the whole machine (user nice system irq softirq steal over all CPUs).
# busy and total ticks of one CPU ("busy total"): where the work ran, kernel work included.
coreTicks() {
  awk -v c="cpu$1" '$1 == c { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit }' /proc/stat
}
machineBusy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# On a shared machine, wait (at most QUIET_WAIT s) for a second in which other work used less than
# 15% of one core, so a run does not start in the middle of someone's build.
waitQuiet() {
  local busy
  quietSecond() {
    local b0
    b0=$(machineBusy)
    sleep 1
    busy=$(( ($(machineBusy) - b0) * 100 / CLK_TCK ))
    (( busy < 15 ))
  }
  wait_until "$QUIET_WAIT" 0 quietSecond && return 0
  (( QUIET_WAIT == 0 )) ||
    log "machine still busy (${busy}% of a core) after ${QUIET_WAIT}s; running anyway"
}

# utime + stime of this shell's waited-for children (cutime, cstime): wrk's cost once it is reaped.
childTicks() {
  local stat f
  stat=$(cat /proc/$$/stat)
  read -r -a f <<<"${stat##*) }"
  echo $(( f[13] + f[14] ))
}

# ---------------------------------------------------------------------------------------------
# Scenarios

# scenarioParams NAME: sets CONNS, URLPATH, WANT_STATUS, WANT_BYTES, METRIC, WRK_ARGS, CURL_ARGS.
scenarioParams() {
  WRK_ARGS=(-s "$BENCH/report.lua")
  CURL_ARGS=()
  METRIC=req/s
  WANT_STATUS=200
  case $1 in
    small) CONNS=50; URLPATH=/index.html; WANT_BYTES=$INDEX_BYTES ;;
    notfound) CONNS=50; URLPATH=/no/such/page.html; WANT_STATUS=404; WANT_BYTES=$NOTFOUND_BYTES ;;
    close)
      CONNS=50; URLPATH=/index.html; WANT_BYTES=$INDEX_BYTES
      WRK_ARGS+=(-H 'Connection: close'); CURL_ARGS=(-H 'Connection: close') ;;
    large) CONNS=10; URLPATH=/1m.bin; WANT_BYTES=1048576; METRIC=MB/s ;;
    file4k) CONNS=10; URLPATH=/4k.bin; WANT_BYTES=4096; METRIC=MB/s ;;
    file64k) CONNS=10; URLPATH=/64k.bin; WANT_BYTES=65536; METRIC=MB/s ;;
    file256k) CONNS=10; URLPATH=/256k.bin; WANT_BYTES=262144; METRIC=MB/s ;;
    file16m) CONNS=10; URLPATH=/16m.bin; WANT_BYTES=16777216; METRIC=MB/s ;;
    range)
      # A 206 of 1 MiB from the middle of the 64 MiB file: the same sendfile path as a whole file.
      CONNS=10; URLPATH=/64m.bin; WANT_STATUS=206; WANT_BYTES=1048576; METRIC=MB/s
      WRK_ARGS+=(-H 'Range: bytes=33554432-34603007'); CURL_ARGS=(-H 'Range: bytes=33554432-34603007') ;;
    large100) CONNS=100; URLPATH=/1m.bin; WANT_BYTES=1048576; METRIC=MB/s ;;
    file64m) CONNS=10; URLPATH=/64m.bin; WANT_BYTES=67108864; METRIC=MB/s ;;
    pipeline)
      CONNS=50; URLPATH=/index.html; WANT_BYTES=$INDEX_BYTES
      WRK_ARGS=(-s "$BENCH/pipeline.lua") ;;
    c10k)
      CONNS=$C10K_CONNECTIONS; URLPATH=/index.html; WANT_BYTES=$INDEX_BYTES
      # One wrk thread cycling 10k sockets: the default 2 s timeout would count queueing as errors.
      WRK_ARGS+=(--timeout 10s) ;;
    proxy-small | proxy-callgrind) CONNS=$PROXY_CONNS; URLPATH=/index.html; WANT_BYTES=$INDEX_BYTES ;;
    proxy-large) CONNS=10; URLPATH=/1m.bin; WANT_BYTES=1048576; METRIC=MB/s ;;
    proxy-pipeline)
      CONNS=$PROXY_CONNS; URLPATH=/index.html; WANT_BYTES=$INDEX_BYTES
      WRK_ARGS=(-s "$BENCH/pipeline.lua") ;;
    # The page sizes are what uWSGI answers directly, read once it is up (djangoBytes).
    django-hello) CONNS=$PROXY_CONNS; URLPATH=/polls/hello/; WANT_BYTES=${DJANGO_BYTES[hello]:-?} ;;
    django-polls) CONNS=$PROXY_CONNS; URLPATH=/polls/; WANT_BYTES=${DJANGO_BYTES[polls]:-?} ;;
  esac
}

# client OUTFILE LIMIT_S CMD...: runs the load generator pinned to CLIENT_CPU, killed after LIMIT_S.
# It runs in the background and is waited for because bash runs traps only between commands: a
# SIGTERM to this script then stops it at once (the EXIT trap kills the client too).
client() {
  local out=$1 limit=$2 pid
  shift 2
  timeout -k 5 "$limit" taskset -c "$CLIENT_CPU" "$@" >"$out" 2>&1 </dev/null &
  pid=$!
  STARTED_PIDS+=("$pid")
  local rc=0
  wait "$pid" || rc=$?
  forget "$pid"
  return "$rc"
}

# checkAt NAME PORT SCENARIO: the response the scenario will hammer is the one it should be; in
# the proxy scenarios it must also carry the upstream's X-Bench-Upstream header (in the Django
# ones Django's X-Frame-Options), so a front that answered by itself (from its own root, or with an
# error page of the right size) fails.
checkAt() {
  local name=$1 port=$2 scen=$3 got heads
  scenarioParams "$scen"
  if [[ $scen == pipeline || $scen == proxy-pipeline ]]; then
    local probeArgs=()
    isProxyScenario "$scen" && probeArgs=(--want-header x-bench-upstream)
    got=$(timeout 20 python3 "$BENCH/probe.py" "${probeArgs[@]}" "$HOST" "$port" "$URLPATH" 16 \
            "$WANT_STATUS" "$WANT_BYTES" 2>&1) || { log "check $scen $name: $got"; return 1; }
    return 0
  fi
  heads=$OUT/raw/check-$name-$port.headers
  got=$(curl -s -o /dev/null -D "$heads" --max-time 20 -w '%{http_code} %{size_download}' \
          "${CURL_ARGS[@]}" "http://$HOST:$port$URLPATH" 2>/dev/null) || true
  if [[ $got != "$WANT_STATUS $WANT_BYTES" ]]; then
    log "check $scen $name: got '$got', want '$WANT_STATUS $WANT_BYTES'"
    return 1
  fi
  if isProxyScenario "$scen" && ! grep -qi '^x-bench-upstream:' "$heads"; then
    log "check $scen $name: the response did not come from the upstream (no X-Bench-Upstream)"
    return 1
  fi
  if isDjangoScenario "$scen" && ! grep -qi '^x-frame-options:' "$heads"; then
    log "check $scen $name: the response did not come from Django (no X-Frame-Options)"
    return 1
  fi
}

TSV=$OUT/results.tsv
TSV_COLUMNS=(round scenario server status metric value requests p50_ms p99_ms max_ms socket_errors
         non2xx3xx cpu_s cpu_us_per_req rss_before_kb hwm_during_kb rss_after_kb hwm_reset
         rss_per_conn_bytes ir_per_req other_cpu_pct srv_core_pct cli_core_pct
         srv_cpu_ms_per_mb wrk_cpu_ms_per_mb upstream_cpu_us_per_req)
(IFS=$'\t'; printf '%s\n' "${TSV_COLUMNS[*]}") >"$TSV"

# row FIELD=VALUE...: appends one line to results.tsv; unnamed fields are NA.
row() {
  declare -A r=()
  local kv col line=""
  for kv in "$@"; do r[${kv%%=*}]=${kv#*=}; done
  for col in "${TSV_COLUMNS[@]}"; do
    line+="${r[$col]:-NA}	"
  done
  printf '%s\n' "${line%	}" >>"$TSV"
}

FAILURES=0

# runWrk ROUND SCENARIO SERVER [PROCESS]: correctness check, warm-up, measured run; one
# results.tsv row for SERVER. PROCESS (default SERVER) names the entry of PID_OF/PORT_OF that wrk
# loads: the proxy scenarios' fronts are `proxy-epserve`, `proxy-nginx` and `upstream` (direct).
# The row's CPU is that process's alone; a front's upstream is read apart (upstream_cpu_us_per_req).
runWrk() {
  local round=$1 scen=$2 name=$3 key=${4:-$3} port pid raw t0 t1 rb ha ra hwmReset=NA
  local -A w=()
  if [[ -z ${PID_OF[$key]:-} ]] || ! ours "${PID_OF[$key]}"; then
    row round="$round" scenario="$scen" server="$name" status=server-down
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  local upid="" ukey
  ukey=$(upstreamOf "$scen")
  if hasFronts "$scen" && [[ $key != "$ukey" ]]; then
    if [[ -z ${PID_OF[$ukey]:-} ]] || ! ours "${PID_OF[$ukey]}"; then
      row round="$round" scenario="$scen" server="$name" status=upstream-down
      FAILURES=$(( FAILURES + 1 ))
      return 0
    fi
    upid=${PID_OF[$ukey]}
  fi
  port=${PORT_OF[$key]}
  if [[ $scen == c10k ]]; then
    # A fresh process, so its resident memory is not what earlier scenarios left in its heap.
    stopPid "${PID_OF[$name]}"
    unset "PID_OF[$name]"
    if ! startServer "$name" "$port"; then
      row round="$round" scenario="$scen" server="$name" status=server-down
      FAILURES=$(( FAILURES + 1 ))
      return 0
    fi
    PID_OF[$name]=$STARTED_PID
  fi
  pid=${PID_OF[$key]}
  if ! checkAt "$name" "$port" "$scen"; then
    row round="$round" scenario="$scen" server="$name" status=check-failed
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  scenarioParams "$scen"
  local url="http://$HOST:$port$URLPATH" bound=$(( DURATION_S + 60 ))
  raw=$OUT/raw/r$round-$scen-$name
  waitQuiet
  # c10k: baseline before its warm-up (which opens the same 10k connections); peak over both.
  if [[ $scen == c10k ]]; then
    rb=$(statusKb "$pid" VmRSS)
    hwmReset=$(resetHwm "$pid")
  fi
  if (( WARMUP_S > 0 )); then
    client "$raw.warmup.txt" $(( WARMUP_S + 60 )) \
      wrk -t1 -c"$CONNS" -d"$WARMUP" "${WRK_ARGS[@]}" "$url" || true
    sleep 1
  fi
  [[ $scen == c10k ]] || rb=$(statusKb "$pid" VmRSS)
  local b0 c0 ns0 sc0 cc0
  b0=$(machineBusy); c0=$(childTicks); ns0=$(date +%s%N)
  sc0=$(coreTicks "$SERVER_CPU"); cc0=$(coreTicks "$CLIENT_CPU")
  local u0=0 u1=0
  [[ -z $upid ]] || u0=$(cpuTicks "$upid")
  t0=$(cpuTicks "$pid")
  if ! client "$raw.txt" "$bound" wrk -t1 -c"$CONNS" -d"$DURATION" "${WRK_ARGS[@]}" "$url"; then
    log "wrk failed for $scen $name; see $raw.txt"
  fi
  t1=$(cpuTicks "$pid")
  [[ -z $upid ]] || u1=$(cpuTicks "$upid")
  # Each core's busy share over the run: on loopback the kernel's transmit work for the server's
  # bytes can run on the client's core (softirq on ACK), which the per-process times hide.
  local srvCore cliCore sc1 cc1
  sc1=$(coreTicks "$SERVER_CPU"); cc1=$(coreTicks "$CLIENT_CPU")
  srvCore=$(awk -v a="$sc0" -v b="$sc1" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[2] - x[2]; if (t > 0) printf "%.0f", (y[1] - x[1]) * 100 / t; else print "NA" }')
  cliCore=$(awk -v a="$cc0" -v b="$cc1" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[2] - x[2]; if (t > 0) printf "%.0f", (y[1] - x[1]) * 100 / t; else print "NA" }')
  # CPU spent by neither this server (nor its upstream) nor wrk (other jobs, ksoftirqd, kworkers),
  # in % of one core: a shared machine shows up here, and summarize.py flags the runs it may have
  # slowed.
  local otherPct
  otherPct=$(awk -v b=$(( $(machineBusy) - b0 )) -v s=$(( t1 - t0 + u1 - u0 )) \
               -v c=$(( $(childTicks) - c0 )) -v ns=$(( $(date +%s%N) - ns0 )) -v h="$CLK_TCK" \
               'BEGIN { o = (b - s - c) / h; if (o < 0) o = 0; printf "%.0f", o * 1e11 / ns }')
  ha=$(statusKb "$pid" VmHWM)
  ra=$(statusKb "$pid" VmRSS)
  local line kv
  line=$(grep -m1 '^WRK_RESULT ' "$raw.txt" || true)
  if [[ -z $line ]] || ! ours "$pid"; then
    row round="$round" scenario="$scen" server="$name" status=run-failed
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  for kv in ${line#WRK_RESULT }; do w[${kv%%=*}]=${kv#*=}; done
  local reqs=${w[requests]} value cpuS cpuUs perConn=NA sockErr srvPerMb=NA wrkPerMb=NA
  sockErr=$(( w[connect] + w[read] + w[write] + w[timeout] ))
  if [[ $METRIC == MB/s ]]; then
    value=$(awk -v b="${w[bytes]}" -v d="${w[duration_us]}" 'BEGIN { printf "%.1f", b / d }')
    # CPU milliseconds per MB (10^6 bytes) moved: the server's own and wrk's (a reaped child).
    srvPerMb=$(awk -v t=$(( t1 - t0 )) -v h="$CLK_TCK" -v b="${w[bytes]}" \
                 'BEGIN { if (b > 0) printf "%.3f", t * 1e3 / h / (b / 1e6); else print "NA" }')
    wrkPerMb=$(awk -v t=$(( $(childTicks) - c0 )) -v h="$CLK_TCK" -v b="${w[bytes]}" \
                 'BEGIN { if (b > 0) printf "%.3f", t * 1e3 / h / (b / 1e6); else print "NA" }')
  else
    value=$(awk -v n="$reqs" -v d="${w[duration_us]}" 'BEGIN { printf "%.0f", n * 1e6 / d }')
  fi
  cpuS=$(awk -v t=$(( t1 - t0 )) -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')
  cpuUs=$(awk -v t=$(( t1 - t0 )) -v h="$CLK_TCK" -v n="$reqs" \
            'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / h / n; else print "NA" }')
  local upUs=NA
  [[ -z $upid ]] || upUs=$(awk -v t=$(( u1 - u0 )) -v h="$CLK_TCK" -v n="$reqs" \
            'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / h / n; else print "NA" }')
  if [[ $scen == c10k ]]; then
    perConn=$(awk -v a="$ha" -v b="$rb" -v c="$CONNS" 'BEGIN { printf "%.0f", (a - b) * 1024 / c }')
  fi
  local ms='BEGIN { printf "%.3f", v / 1000 }'
  row round="$round" scenario="$scen" server="$name" status=ok metric="$METRIC" value="$value" \
      requests="$reqs" p50_ms="$(awk -v v="${w[p50_us]}" "$ms")" \
      p99_ms="$(awk -v v="${w[p99_us]}" "$ms")" max_ms="$(awk -v v="${w[max_us]}" "$ms")" \
      socket_errors="$sockErr" non2xx3xx="${w[status]}" cpu_s="$cpuS" cpu_us_per_req="$cpuUs" \
      rss_before_kb="$rb" hwm_during_kb="$ha" rss_after_kb="$ra" hwm_reset="$hwmReset" \
      rss_per_conn_bytes="$perConn" other_cpu_pct="$otherPct" srv_core_pct="$srvCore" \
      cli_core_pct="$cliCore" srv_cpu_ms_per_mb="$srvPerMb" wrk_cpu_ms_per_mb="$wrkPerMb" \
      upstream_cpu_us_per_req="$upUs"
  log "r$round $scen $name: $value $METRIC, p99 $(awk -v v="${w[p99_us]}" "$ms") ms," \
      "socket errors $sockErr, CPU ${cpuUs} us/req (upstream ${upUs}), other CPU ${otherPct}%," \
      "cores busy: server ${srvCore}% wrk ${cliCore}%"
  sleep 1
}

# runCallgrind ROUND SCENARIO SERVER PROCESS PORT: a fresh PROCESS (startServer's name) under
# callgrind on PORT, CALLGRIND_REQUESTS keep-alive GETs of /index.html counted (ab -k sends an exact
# number, wrk does not); Ir of that process / requests, in a SCENARIO row for SERVER. For
# proxy-callgrind the front runs under valgrind and the upstream natively, so only the front counts.
runCallgrind() {
  local round=$1 scen=$2 name=$3 key=$4 port=$5 pid raw total completed failed checkScen=small
  isProxyScenario "$scen" && checkScen=$scen
  if isProxyScenario "$scen" && { [[ -z ${PID_OF[upstream]:-} ]] || ! ours "${PID_OF[upstream]}"; }; then
    row round="$round" scenario="$scen" server="$name" status=upstream-down
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  if ! portFree "$port"; then
    log "port $port busy"
    row round="$round" scenario="$scen" server="$name" status=port-busy
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  rm -f "$OUT/callgrind/$key".*.out
  if ! startServer "$key" "$port" callgrind; then
    row round="$round" scenario="$scen" server="$name" status=server-down
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  pid=$STARTED_PID
  raw=$OUT/raw/r$round-$scen-$name
  local url="http://$HOST:$port/index.html" status=ok
  if ! checkAt "$name" "$port" "$checkScen"; then
    status=check-failed
  else
    client "$raw.warmup.txt" 300 ab -q -k -n 2000 -c 10 "$url" || true
    timeout 60 callgrind_control -z "$pid" >/dev/null 2>&1 || true
    if ! timeout 60 callgrind_control -i on "$pid" >"$raw.control.txt" 2>&1; then
      status=callgrind-control-failed
    elif ! client "$raw.txt" 1800 ab -q -k -n "$CALLGRIND_REQUESTS" -c 10 "$url"; then
      status=run-failed
    fi
    timeout 60 callgrind_control -i off "$pid" >>"$raw.control.txt" 2>&1 || true
  fi
  # The profile is written when the server exits, so it must exit normally (SIGTERM). Under
  # valgrind a signal that arrives during epoll_wait is only acted on once the call returns, so
  # each poll also opens a connection to wake the server up.
  kill -TERM "$pid" 2>/dev/null || true
  exited_or_woken() {
    ours "$pid" || return 0
    curl -s -o /dev/null --max-time 1 "$url" || true
    return 1
  }
  wait_until 120 0.5 exited_or_woken || true
  stopPid "$pid" 1
  if [[ $status != ok ]]; then
    row round="$round" scenario="$scen" server="$name" status="$status"
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  completed=$(awk '/^Complete requests:/ { print $3 }' "$raw.txt")
  local kept
  kept=$(awk '/^Keep-Alive requests:/ { print $3 }' "$raw.txt")
  # A server that closes keep-alive connections would be charged for TCP setup too.
  [[ ${kept:-0} == "${completed:-0}" ]] ||
    log "warning: $name kept ${kept:-0} of ${completed:-0} ab connections alive"
  failed=$(awk '/^Failed requests:/ { print $3 }' "$raw.txt")
  # "totals:" is a profile's whole Ir count ("summary:" in older valgrinds); one file per process.
  total=$(awk '/^totals:/ { t += $2; n++ } /^summary:/ { s += $2 } END { print n ? t : s }' \
            "$OUT/callgrind/$key".*.out 2>/dev/null || echo 0)
  if [[ -z $completed ]] || (( completed == 0 || total == 0 )); then
    row round="$round" scenario="$scen" server="$name" status=run-failed
    FAILURES=$(( FAILURES + 1 ))
    return 0
  fi
  local irPerReq
  irPerReq=$(awk -v t="$total" -v n="$completed" 'BEGIN { printf "%.0f", t / n }')
  row round="$round" scenario="$scen" server="$name" status=ok metric=Ir/req value="$irPerReq" \
      requests="$completed" socket_errors="${failed:-NA}" ir_per_req="$irPerReq"
  log "r$round $scen $name: $irPerReq instructions/request over $completed requests"
}

idxOf() {
  local i=0 s
  for s in $ALL_SERVERS; do [[ $s == "$1" ]] && { echo $i; return; }; i=$(( i + 1 )); done
}

# frontProcess FRONT [SCENARIO]: the startServer name (and PID_OF key) wrk loads for that front.
frontProcess() {
  local kind=proxy
  [[ -n ${2:-} ]] && isDjangoScenario "$2" && kind=django
  case $1 in
    epserve | nginx) echo "$kind-$1" ;;
    direct) upstreamOf "$kind-" ;;
  esac
}

# djangoBytes: the sizes of the pages the Django scenarios fetch, as uWSGI answers them itself.
declare -A DJANGO_BYTES=()
djangoBytes() {
  local page path got
  for page in hello polls; do
    path=/polls/; [[ $page == hello ]] && path=/polls/hello/
    got=$(curl -s -o /dev/null --max-time 20 -w '%{http_code} %{size_download}' \
            "http://$HOST:$DJANGO_PORT$path" 2>/dev/null) || true
    [[ $got == "200 "* ]] || die "uWSGI answered $path with '$got', not 200"
    DJANGO_BYTES[$page]=${got#200 }
  done
}

# ---------------------------------------------------------------------------------------------
# Header facts for results.md

versionOf() {
  case $1 in
    epserve) [[ -z $EPSERVE ]] || "$EPSERVE" --version 2>&1 | head -1 || true ;;
    nginx) nginx -v 2>&1 | awk '{ print $3; exit }' ;;
    lighttpd) lighttpd -v 2>&1 | awk '{ print $1; exit }' ;;
  esac
}

COMMAND="ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP SERVERS='$SERVERS' SCENARIOS='$SCENARIOS'"
[[ $WANT_PROXY$WANT_DJANGO == *yes* ]] && COMMAND+=" FRONTS='$FRONTS' PROXY_CONNS=$PROXY_CONNS"
[[ $WANT_DJANGO == no ]] || COMMAND+=" DJANGO_PROCESSES=$DJANGO_PROCESSES"
COMMAND+=" CALLGRIND_REQUESTS=$CALLGRIND_REQUESTS bash bench/run.sh"
{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'command\t%s\n' "$COMMAND"
  printf 'pinning\tservers on CPU %s, wrk -t1 / ab on CPU %s\n' "$SERVER_CPU" "$CLIENT_CPU"
  [[ $WANT_PROXY == no ]] ||
    printf 'proxy\tupstream nginx on CPU %s with the front, %s client connections\n' \
      "$SERVER_CPU" "$PROXY_CONNS"
  [[ $WANT_DJANGO == no ]] ||
    printf 'django\tuWSGI (%s processes, examples/django, SQLite) on CPU %s with the front, %s client connections\n' \
      "$DJANGO_PROCESSES" "$SERVER_CPU" "$PROXY_CONNS"
  versioned=""
  [[ $WANT_STATIC == no ]] || versioned=$SERVERS
  [[ $WANT_PROXY$WANT_DJANGO == *yes* ]] && versioned+=" nginx $FRONTS"
  for s in $ALL_SERVERS; do
    contains "$versioned" "$s" && printf 'version %s\t%s\n' "$s" "$(versionOf "$s")"
  done
  if [[ $WANT_DJANGO == yes ]]; then
    printf 'version uwsgi\t%s\n' "$(uwsgi --version 2>&1 | head -1)"
    printf 'version django\t%s\n' "$(/usr/bin/python3 -c 'import django; print(django.get_version())' 2>&1)"
  fi
  printf 'version wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1,2)"
  printf 'version ab\t%s\n' "$(ab -V 2>&1 | awk '{ print "ApacheBench", $5; exit }')"
  printf 'version valgrind\t%s\n' "$(valgrind --version)"
  printf 'index_bytes\t%s\n' "$INDEX_BYTES"
  printf 'notfound_bytes\t%s\n' "$NOTFOUND_BYTES"
  printf 'proxy_conns\t%s\n' "$PROXY_CONNS"
  printf 'duration\t%s\n' "${DURATION_S} s"
  printf 'rounds\t%s\n' "$ROUNDS"
} >"$OUT/meta.tsv"

# ---------------------------------------------------------------------------------------------
# Main: start the plain servers (and for the proxy scenarios the upstream and the fronts) once;
# each round runs every scenario on each server (or front) in turn.

WRK_SCENARIOS="" PROXY_WRK=""
for s in $SCENARIOS; do
  [[ $s == callgrind || $s == proxy-callgrind ]] && continue
  isDjangoScenario "$s" && continue
  if isProxyScenario "$s"; then PROXY_WRK+="$s "; else WRK_SCENARIOS+="$s "; fi
done

# startKept NAME PORT: starts NAME (startServer's) on PORT for the whole run and records it; one
# that does not start only costs its rows (they say server-down or upstream-down).
startKept() {
  local name=$1 port=$2
  portFree "$port" || die "port $port (for $name) is in use; set BASE_PORT"
  if startServer "$name" "$port"; then
    PID_OF[$name]=$STARTED_PID
    PORT_OF[$name]=$port
  else
    log "warning: $name is not running; its rows will say server-down or upstream-down"
  fi
}

if [[ -n $WRK_SCENARIOS ]]; then
  for name in $SERVERS; do startKept "$name" $(( BASE_PORT + $(idxOf "$name") )); done
fi

# One upstream for every front and for the whole run, pinned to the fronts' core like they are.
if [[ $WANT_PROXY == yes ]]; then
  procs=(upstream)
  if [[ -n $PROXY_WRK ]]; then
    for front in $FRONTS; do [[ $front == direct ]] || procs+=("$(frontProcess "$front")"); done
  fi
  for proc in "${procs[@]}"; do
    case $proc in
      upstream) port=$UPSTREAM_PORT ;;
      proxy-epserve) port=$(( UPSTREAM_PORT + 1 )) ;;
      proxy-nginx) port=$(( UPSTREAM_PORT + 2 )) ;;
    esac
    startKept "$proc" "$port"
  done
fi

# One uWSGI (the Django application) for every Django front, pinned with them like the upstream.
if [[ $WANT_DJANGO == yes ]]; then
  portFree "$DJANGO_PORT" || die "port $DJANGO_PORT (for uwsgi) is in use; set BASE_PORT"
  startServer uwsgi "$DJANGO_PORT" || die "uWSGI did not start; see $OUT/logs/uwsgi-$DJANGO_PORT.log"
  PID_OF[uwsgi]=$STARTED_PID
  PORT_OF[uwsgi]=$DJANGO_PORT
  djangoBytes
  printf 'django_bytes\t/polls/hello/ %s, /polls/ %s\n' "${DJANGO_BYTES[hello]}" \
    "${DJANGO_BYTES[polls]}" >>"$OUT/meta.tsv"
  for front in $FRONTS; do
    [[ $front == direct ]] && continue
    startKept "$(frontProcess "$front" django-hello)" $(( DJANGO_PORT + 1 + $(idxOf "$front") ))
  done
fi

for (( round = 1; round <= ROUNDS; round++ )); do
  for scen in $SCENARIOS; do
    if [[ $scen == proxy-callgrind ]]; then
      (( round <= CALLGRIND_ROUNDS )) || continue
      for front in $FRONTS; do
        # direct has no front to count: the upstream's own cost is nginx's static callgrind row.
        [[ $front == direct ]] && continue
        runCallgrind "$round" "$scen" "$front" "$(frontProcess "$front")" \
          $(( UPSTREAM_PORT + 10 + $(idxOf "$front") ))
      done
    elif hasFronts "$scen"; then
      for front in $FRONTS; do
        runWrk "$round" "$scen" "$front" "$(frontProcess "$front" "$scen")"
      done
    else
      for name in $SERVERS; do
        if [[ $scen == callgrind ]]; then
          (( round <= CALLGRIND_ROUNDS )) || continue
          runCallgrind "$round" callgrind "$name" "$name" $(( BASE_PORT + 10 + $(idxOf "$name") ))
        else
          runWrk "$round" "$scen" "$name"
        fi
      done
    fi
  done
done

python3 "$BENCH/summarize.py" "$OUT"
log "wrote $TSV and $OUT/results.md"
if (( FAILURES > 0 )); then
  log "$FAILURES run(s) did not produce a measurement (see the status column of results.tsv)"
  exit 3
fi
