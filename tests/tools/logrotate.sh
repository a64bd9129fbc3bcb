#!/usr/bin/env bash
# Tool test: Debian's real logrotate rotating epserve's access and error logs under load, its
# postrotate sending SIGUSR1 (with two workers, so the reopen travels through their wakeups).
# Every response the clients received is one line in the rotated files plus the new one, no
# line is torn (every access line parses as JSON), and the reopen is logged in the new error log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=fixture.bash
. "$(dirname "$0")/fixture.bash"
fixture_init "$@"
need_command logrotate python3

ROTATIONS=${ROTATIONS:-5}
LOGS="$WORK/logs"
mkdir -p "$LOGS"
ACCESS="$LOGS/access.log"
# The fixture's listening_port and fail() read SERVER_ERR: here it is the error log file.
SERVER_ERR="$LOGS/error.log"
: >"$SERVER_ERR" # epserve appends to it; it exists before the first look for "listening on"
"$EPSERVE" -i 127.0.0.1 -p 0 -r "$ROOT" --workers 2 --access-log "$ACCESS" --log-format json \
  --error-log "$SERVER_ERR" >"$WORK/stdout" 2>"$WORK/stderr" &
SERVER_PID=$!
wait_until 100 0.1 server_listening || fail "epserve did not log 'listening on' in 10 s"
PORT=$(listening_port)
echo "$SERVER_PID" >"$WORK/epserve.pid"

# What deploy/logrotate/epserve does, with this test's paths and a forced rotation each run.
cat >"$WORK/logrotate.conf" <<CONF
$ACCESS $SERVER_ERR {
    rotate 20
    missingok
    nocompress
    sharedscripts
    postrotate
        kill -USR1 \$(cat $WORK/epserve.pid)
    endscript
}
CONF

# The load: four keep-alive clients for a few seconds, counting the responses they read whole.
cat >"$WORK/load.py" <<'PY'
import http.client, sys, threading, time
port, seconds, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
counts, errors = [0] * 4, []
def client(i):
    end = time.monotonic() + seconds
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        n = 0
        while time.monotonic() < end:
            conn.request("GET", "/index.html?c=%d&n=%d" % (i, n), headers={"User-Agent": "load \"%d\"" % i})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append("status %d" % r.status)
                return
            n += 1
            counts[i] = n
    except Exception as e:
        errors.append(repr(e))
    finally:
        conn.close()
threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join(seconds + 30)
with open(out, "w") as f: f.write("%d\n" % sum(counts))
if errors: sys.exit("client errors: %s" % errors[:3])
PY
python3 "$WORK/load.py" "$PORT" $((ROTATIONS + 1)) "$WORK/served" &
LOAD_PID=$!
FIXTURE_PIDS+=("$LOAD_PID")
for ((i = 1; i <= ROTATIONS; i++)); do
  sleep 0.8
  logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" ||
    fail "logrotate run $i failed"
done
wait "$LOAD_PID" || fail "the load clients failed"
SERVED=$(cat "$WORK/served")
[ "$SERVED" -gt 100 ] || fail "only $SERVED requests served under load"

# Rotated files are access.log.1 (newest) .. access.log.$ROTATIONS; each worker writes its
# buffered lines at the end of its loop iteration, so the last lines follow within moments.
[ -f "$ACCESS.$ROTATIONS" ] || fail "logrotate left no $ACCESS.$ROTATIONS: $(cd "$LOGS" && echo *)"
# Each rotation's reopen created the next file, and the load ran through every interval.
[ -s "$ACCESS" ] || fail "no new $ACCESS after the last rotation: the reopen did not happen"
for ((i = 1; i <= ROTATIONS; i++)); do
  [ -s "$ACCESS.$i" ] || fail "$ACCESS.$i is missing or empty: a reopen did not happen"
done
logged() { cat "$ACCESS" "$ACCESS".* | wc -l; }
wait_until 50 0.1 test "$(logged)" -ge "$SERVED" || true
LOGGED=$(logged)
[ "$LOGGED" = "$SERVED" ] || fail "$LOGGED access lines in $(cd "$LOGS" && echo *), $SERVED responses served"
pass "$ROTATIONS rotations under load: $SERVED responses, $LOGGED lines in access.log + $ROTATIONS rotated files"

# Not torn: every file ends with a newline and every line is one JSON object of the request.
python3 - "$ACCESS" "$ACCESS".* <<'PY' || fail "an access log line does not parse"
import json, sys
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit("%s does not end with a newline" % name)
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            sys.exit("%s:%d: %s: %r" % (name, number, e, line[:200]))
        if o["method"] != "GET" or not o["target"].startswith("/index.html?c=") or o["status"] != 200 \
                or not o["user_agent"].startswith('load "'):
            sys.exit("%s:%d: unexpected line %r" % (name, number, line[:200]))
PY
pass "every access line in every file is one whole JSON object"

# Each reopen is logged in the then-new error log; the newest rotated one holds the previous.
grep -q 'received SIGUSR1, reopening the log files' "$SERVER_ERR" ||
  fail "the current error log has no reopen line"
grep -q 'listening on' "$SERVER_ERR.$ROTATIONS" || fail "the oldest error log lacks the start-up line"
[ ! -s "$WORK/stderr" ] || fail "epserve wrote to stderr with --error-log: $(head -3 "$WORK/stderr")"
[ ! -s "$WORK/stdout" ] || fail "epserve wrote to stdout with --access-log FILE"
pass "the error log rotates too, and stdout/stderr stay empty"
