#!/usr/bin/env bash
# Stack test: a real WebSocket echo server (Debian's python3-websockets) behind epserve, and a
# real WebSocket client through it: the handshake on both hops, text and binary messages, a
# burst sent before any answer, a ping, the closing handshake, and the 101 in the access log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../tools/fixture.bash
. "$(dirname "$0")/../tools/fixture.bash"
fixture_init "$@"
# Debian's interpreter, where Debian's package is installed (a python3 first on PATH may not
# have it).
PY=/usr/bin/python3
[ -x "$PY" ] || fail "no $PY"
"$PY" -c 'import websockets' 2>/dev/null ||
  fail "python3-websockets is not installed (make test installs the stack-test packages)"

"$PY" "$SRC/tests/stack/ws_echo.py" >"$WORK/ws.port" 2>"$WORK/ws.err" &
FIXTURE_PIDS+=($!)
wait_until 100 0.1 grep -qs '^[0-9]' "$WORK/ws.port" || fail "echo server did not start: $(cat "$WORK/ws.err")"
WS_PORT=$(head -n 1 "$WORK/ws.port")

start_server --tunnel-idle-timeout 10 --proxy "/ws/=http://127.0.0.1:$WS_PORT/echo/"

timeout 30 "$PY" - "ws://127.0.0.1:$PORT/ws/room?x=1" <<'PY' || fail "WebSocket session through epserve"
import asyncio, sys
import websockets

async def main(url):
    async with websockets.connect(url, open_timeout=5, close_timeout=5) as ws:
        async def recv():
            return await asyncio.wait_for(ws.recv(), 5)
        first = await recv()
        assert first == "path /echo/room?x=1", first
        for message in ["hello", "é" * 50000, bytes(range(256)) * 400]:
            await ws.send(message)
            got = await recv()
            assert got == message, (len(got), len(message))
        for i in range(200):  # a burst: the proxy relays bytes, not messages
            await ws.send(f"m{i}")
        for i in range(200):
            got = await recv()
            assert got == f"m{i}", got
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
    assert ws.close_code == 1000, ws.close_code

asyncio.run(main(sys.argv[1]))
PY
pass "text, binary, a burst of 200 and a ping echoed through epserve; clean close"

log_has 5 '"GET /ws/room\?x=1 HTTP/1.1" 101 [0-9]+ .* 127\.0\.0\.1:'"$WS_PORT" ||
  fail "no 101 access-log line for the tunnel"
pass "the tunnel's access-log line, written when it closed"
